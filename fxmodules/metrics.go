package fxmodules

import (
	"github.com/fasttrack-go/fasttrack/api"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/fx"
)

// Metrics provides the application's *prometheus.Registry — with the Go
// runtime, the process and the pool's statistics (go_sql_*) — and the
// request metrics of api.Metrics, which the request-scope middleware feeds.
// The HTTP module serves the registry at /metrics. Applications register
// their own collectors on the same registry.
func Metrics() fx.Option {
	return fx.Module("metrics", fx.Provide(newPromRegistry, newRequestMetrics))
}

func newPromRegistry(x *sqlx.DB) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(x.DB, "app"),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

func newRequestMetrics(reg *prometheus.Registry) (*api.Metrics, error) {
	return api.NewMetrics(reg)
}
