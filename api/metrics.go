package api

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is an Observer that counts requests and transactions in
// Prometheus:
//
//	fasttrack_http_requests_total{route,method,status}
//	fasttrack_http_request_duration_seconds{route,method}   (histogram)
//	fasttrack_transactions_total{outcome}   committed, rolled_back, none, retried
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	txs      *prometheus.CounterVec
}

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fasttrack_http_requests_total",
			Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fasttrack_http_request_duration_seconds",
			Help:    "Time from the request's arrival to its response, commit included.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		txs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fasttrack_transactions_total",
			Help: "Request transactions by outcome: committed, rolled_back, none (no database work), retried (extra attempts).",
		}, []string{"outcome"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.txs} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Observe counts one finished request.
func (m *Metrics) Observe(r Report) {
	route := r.Route
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, r.Method, strconv.Itoa(r.Status)).Inc()
	m.duration.WithLabelValues(route, r.Method).Observe(r.Duration.Seconds())
	m.txs.WithLabelValues(r.Tx.String()).Inc()
	if r.Attempts > 1 {
		m.txs.WithLabelValues("retried").Add(float64(r.Attempts - 1))
	}
}
