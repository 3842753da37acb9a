package fxmodules

import (
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/prometheus/client_golang/prometheus"
)

// replicaCollector reports a db.Cluster's replicas: whether each is in
// rotation, its replay lag and its pool's connections, and how many read
// units of work ran on a replica and on the primary.
type replicaCollector struct {
	c                          *db.Cluster
	up, lag, inUse, open, read *prometheus.Desc
}

// newReplicaCollector returns the collector of c's replicas.
func newReplicaCollector(c *db.Cluster) *replicaCollector {
	label := []string{"replica"}
	return &replicaCollector{
		c:     c,
		up:    prometheus.NewDesc("fasttrack_db_replica_up", "1 while the replica is in rotation, 0 while it is out.", label, nil),
		lag:   prometheus.NewDesc("fasttrack_db_replica_lag_seconds", "The replica's replay lag at its last probe; -1 when unknown.", label, nil),
		inUse: prometheus.NewDesc("fasttrack_db_replica_connections_in_use", "The connections of the replica's pool in use.", label, nil),
		open:  prometheus.NewDesc("fasttrack_db_replica_connections_open", "The open connections of the replica's pool.", label, nil),
		read: prometheus.NewDesc("fasttrack_db_read_units_total",
			"Read-only units of work, by the server they ran on: a replica, or the primary for want of one in rotation that had replayed their position.",
			[]string{"server"}, nil),
	}
}

// Describe sends the descriptors of the metrics.
func (rc *replicaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{rc.up, rc.lag, rc.inUse, rc.open, rc.read} {
		ch <- d
	}
}

// Collect sends the replicas' current state.
func (rc *replicaCollector) Collect(ch chan<- prometheus.Metric) {
	for _, r := range rc.c.Replicas() {
		up := 0.0
		if r.Up {
			up = 1
		}
		lag := r.Lag.Seconds()
		if r.Lag < 0 {
			lag = -1
		}
		ch <- prometheus.MustNewConstMetric(rc.up, prometheus.GaugeValue, up, r.Name)
		ch <- prometheus.MustNewConstMetric(rc.lag, prometheus.GaugeValue, lag, r.Name)
		ch <- prometheus.MustNewConstMetric(rc.inUse, prometheus.GaugeValue, float64(r.InUse), r.Name)
		ch <- prometheus.MustNewConstMetric(rc.open, prometheus.GaugeValue, float64(r.Open), r.Name)
	}
	replica, primary := rc.c.Routed()
	ch <- prometheus.MustNewConstMetric(rc.read, prometheus.CounterValue, float64(replica), db.RoleReplica)
	ch <- prometheus.MustNewConstMetric(rc.read, prometheus.CounterValue, float64(primary), db.RolePrimary)
}
