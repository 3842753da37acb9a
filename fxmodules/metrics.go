package fxmodules

import (
	"fmt"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/fx"
)

// Metrics registers the pool's statistics (go_sql_*) and the request
// metrics of api.Metrics, which the request-scope middleware feeds, on the
// application's *prometheus.Registry, and provides the *api.Metrics. The
// registry is Metrics' own — with the Go runtime and process collectors
// too — unless opts include WithAppPrometheus, in which case it is the one
// the application provides. FastTrack's engine serves the registry at
// /metrics. Applications register their own collectors on the same
// registry.
func Metrics(opts ...Option) fx.Option {
	provides := []any{newRequestMetrics}
	if !newOptions(opts).appPrometheus {
		provides = append(provides, newPromRegistry)
	}
	return fx.Module("metrics",
		fx.Provide(provides...),
		fx.Invoke(func(*api.Metrics) {}), // registered even if nothing observes
	)
}

func newPromRegistry() (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("fxmodules: registering the runtime metrics: %w", err)
		}
	}
	return reg, nil
}

func newRequestMetrics(reg *prometheus.Registry, x *sqlx.DB, c *db.Cluster) (*api.Metrics, error) {
	if err := reg.Register(collectors.NewDBStatsCollector(x.DB, "app")); err != nil {
		return nil, fmt.Errorf("fxmodules: registering the pool's metrics: %w", err)
	}
	if c.HasReplicas() {
		if err := reg.Register(newReplicaCollector(c)); err != nil {
			return nil, fmt.Errorf("fxmodules: registering the replicas' metrics: %w", err)
		}
	}
	m, err := api.NewMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("fxmodules: registering the request metrics: %w", err)
	}
	return m, nil
}
