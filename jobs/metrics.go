package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the job metrics a Client registers (Options.Metrics):
//
//	fasttrack_jobs_total{kind,outcome}              attempts ended, by outcome (OutcomeCompleted, …)
//	fasttrack_jobs_duration_seconds{kind}           attempts' run time, commit included (histogram)
//	fasttrack_jobs_queue_depth{queue}               jobs available to work, read when scraped
type metrics struct {
	total    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// depthTimeout bounds the query of the queue depth at each scrape.
const depthTimeout = 5 * time.Second

// newMetrics registers the job metrics on reg; the queue depth is counted
// in table (River's job table) on pool, with the queues of queues reported
// even when empty.
func newMetrics(reg prometheus.Registerer, pool *sql.DB, table string, queues []string, log *slog.Logger) (*metrics, error) {
	m := &metrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fasttrack_jobs_total",
			Help: "Job attempts by kind and outcome: completed, failed (retried later), discarded (failed on the last attempt), cancelled, snoozed, interrupted (by a stop, run again).",
		}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fasttrack_jobs_duration_seconds",
			Help:    "Time a job attempt ran, its transaction's commit included, by kind.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"kind"}),
	}
	depth := &depthCollector{
		pool:   pool,
		query:  "SELECT queue, COUNT(*) FROM " + table + " WHERE state = 'available' GROUP BY queue",
		queues: queues,
		log:    log,
		desc: prometheus.NewDesc("fasttrack_jobs_queue_depth",
			"Jobs available to work now, by queue (River's state available), read when scraped.", []string{"queue"}, nil),
	}
	for _, c := range []prometheus.Collector{m.total, m.duration, depth} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("jobs: registering the job metrics: %w", err)
		}
	}
	return m, nil
}

// observe counts one attempt of a job of kind.
func (m *metrics) observe(kind, outcome string, d time.Duration) {
	m.total.WithLabelValues(kind, outcome).Inc()
	m.duration.WithLabelValues(kind).Observe(d.Seconds())
}

// depthCollector reports the available jobs of each queue, counted by one
// query (on River's index of state and queue) when scraped.
type depthCollector struct {
	pool   *sql.DB
	query  string // counts the available jobs of River's table, by queue
	queues []string
	log    *slog.Logger
	desc   *prometheus.Desc
}

// Describe sends the queue depth's description.
func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect counts the available jobs per queue. When the query fails (River's
// tables not migrated, the database away), it logs a warning and reports
// nothing, so that the rest of the scrape still answers.
func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	counts, err := c.count()
	if err != nil {
		c.log.Warn("jobs: queue depth not collected", "error", err)
		return
	}
	for _, q := range c.queues {
		if _, ok := counts[q]; !ok {
			counts[q] = 0
		}
	}
	for q, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), q)
	}
}

func (c *depthCollector) count() (map[string]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), depthTimeout)
	defer cancel()
	rows, err := c.pool.QueryContext(ctx, c.query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[string]int64{}
	for rows.Next() {
		var (
			q string
			n int64
		)
		if err := rows.Scan(&q, &n); err != nil {
			return nil, err
		}
		counts[q] = n
	}
	return counts, rows.Err()
}
