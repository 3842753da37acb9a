package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newMetrics(t *testing.T) (*api.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := api.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

func TestMetricsCount(t *testing.T) {
	m, reg := newMetrics(t)
	get := api.Report{Method: http.MethodGet, Route: "/users/:id", Status: 200, Duration: 3 * time.Millisecond, Tx: db.OutcomeCommitted, Attempts: 1}
	for range 3 {
		m.Observe(get)
	}
	m.Observe(api.Report{Method: http.MethodPost, Route: "/users", Status: 503, Tx: db.OutcomeRolledBack, Attempts: 3})
	m.Observe(api.Report{Method: http.MethodGet, Status: 404, Tx: db.OutcomeNone, Attempts: 1})
	m.Observe(api.Report{Method: http.MethodGet, Route: "/ping", Status: 200, Tx: db.OutcomeOpen, Attempts: 1})
	want := `
# HELP fasttrack_http_requests_total HTTP requests by route, method and status.
# TYPE fasttrack_http_requests_total counter
fasttrack_http_requests_total{method="GET",route="/ping",status="200"} 1
fasttrack_http_requests_total{method="GET",route="/users/:id",status="200"} 3
fasttrack_http_requests_total{method="GET",route="unmatched",status="404"} 1
fasttrack_http_requests_total{method="POST",route="/users",status="503"} 1
# HELP fasttrack_transactions_total Request transactions by outcome: committed, rolled_back, none (no database work), retried (extra attempts).
# TYPE fasttrack_transactions_total counter
fasttrack_transactions_total{outcome="committed"} 3
fasttrack_transactions_total{outcome="none"} 1
fasttrack_transactions_total{outcome="retried"} 2
fasttrack_transactions_total{outcome="rolled_back"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "fasttrack_http_requests_total", "fasttrack_transactions_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "fasttrack_http_request_duration_seconds"); n != 4 {
		t.Errorf("%d duration series, want 4", n)
	}
}

// A client choosing the method cannot create series: unknown methods are
// all counted as OTHER.
func TestMetricsMethodsAreBounded(t *testing.T) {
	m, reg := newMetrics(t)
	for i := range 500 {
		m.Observe(api.Report{Method: "X" + strings.Repeat("A", i%50) + string(rune('A'+i%26)), Status: 405, Tx: db.OutcomeNone, Attempts: 1})
	}
	m.Observe(api.Report{Method: http.MethodPatch, Route: "/users/:id", Status: 200, Tx: db.OutcomeCommitted, Attempts: 1})
	if n := testutil.CollectAndCount(reg, "fasttrack_http_requests_total"); n != 2 {
		t.Errorf("%d request series, want 2 (OTHER and PATCH)", n)
	}
	want := `
# HELP fasttrack_http_requests_total HTTP requests by route, method and status.
# TYPE fasttrack_http_requests_total counter
fasttrack_http_requests_total{method="OTHER",route="unmatched",status="405"} 500
fasttrack_http_requests_total{method="PATCH",route="/users/:id",status="200"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "fasttrack_http_requests_total"); err != nil {
		t.Error(err)
	}
}

// Observing a request of a known route, method and status allocates
// nothing.
func TestMetricsObserveAllocatesNothing(t *testing.T) {
	m, _ := newMetrics(t)
	r := api.Report{Method: http.MethodGet, Route: "/users/:id", Status: 200, Duration: time.Millisecond, Tx: db.OutcomeCommitted, Attempts: 1}
	m.Observe(r)
	if n := testing.AllocsPerRun(100, func() { m.Observe(r) }); n != 0 {
		t.Errorf("Observe allocates %v times per call", n)
	}
}

// BenchmarkMetricsObserve times counting one request.
func BenchmarkMetricsObserve(b *testing.B) {
	reg := prometheus.NewRegistry()
	m, err := api.NewMetrics(reg)
	if err != nil {
		b.Fatal(err)
	}
	r := api.Report{Method: http.MethodGet, Route: "/users/:id", Status: 200, Duration: time.Millisecond, Tx: db.OutcomeCommitted, Attempts: 1}
	b.ReportAllocs()
	for b.Loop() {
		m.Observe(r)
	}
}
