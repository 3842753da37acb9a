package api

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is an Observer that counts requests and transactions in
// Prometheus:
//
//	fasttrack_http_requests_total{route,method,status}
//	fasttrack_http_request_duration_seconds{route,method}   (histogram)
//	fasttrack_transactions_total{outcome}   committed, rolled_back, none, retried
//
// route is the route's pattern ("/users/:id"), or "unmatched"; a method
// other than the standard ones is counted as "OTHER", so that clients
// cannot create series at will. The series of a route, method and status
// are looked up once and kept: observing a request takes no lock and
// allocates nothing.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	txs      *prometheus.CounterVec
	outcomes [db.OutcomeRolledBack + 1]prometheus.Counter // by outcome; open is not counted
	retried  prometheus.Counter
	series   sync.Map // seriesKey → *series
}

// seriesKey names the request series of one route, method and status.
type seriesKey struct {
	route, method string
	status        int
}

// series holds the request series of one seriesKey.
type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
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
	for _, o := range []db.Outcome{db.OutcomeNone, db.OutcomeCommitted, db.OutcomeRolledBack} {
		m.outcomes[o] = m.txs.WithLabelValues(o.String())
	}
	m.retried = m.txs.WithLabelValues("retried")
	return m, nil
}

// Observe counts one finished request.
func (m *Metrics) Observe(r Report) {
	s := m.seriesOf(r.Route, r.Method, r.Status)
	s.requests.Inc()
	s.duration.Observe(r.Duration.Seconds())
	if r.Tx >= 0 && int(r.Tx) < len(m.outcomes) && m.outcomes[r.Tx] != nil {
		m.outcomes[r.Tx].Inc()
	}
	if r.Attempts > 1 {
		m.retried.Add(float64(r.Attempts - 1))
	}
}

// seriesOf returns the series of a request, creating them on first use.
func (m *Metrics) seriesOf(route, method string, status int) *series {
	if route == "" {
		route = "unmatched"
	}
	method = metricMethod(method)
	k := seriesKey{route, method, status}
	if s, ok := m.series.Load(k); ok {
		return s.(*series)
	}
	s := &series{
		requests: m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
		duration: m.duration.WithLabelValues(route, method),
	}
	v, _ := m.series.LoadOrStore(k, s)
	return v.(*series)
}

// metricMethod returns method if it is a standard one, else "OTHER".
func metricMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}
