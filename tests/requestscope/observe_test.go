package requestscope_test

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

// flaky fails retryably on its first call, for the retried-count metric.
func flakyRoute(calls *atomic.Int64) fx.Option {
	return fx.Invoke(func(e *gin.Engine) {
		e.POST("/flaky/:id", api.Handle(func(c *gin.Context, q db.Querier) (gin.H, error) {
			if calls.Add(1) == 1 {
				return nil, fmt.Errorf("first call: %w", db.ErrRetryable)
			}
			return gin.H{"ok": true}, insert(c, q, idParam(c))
		}, api.WithRetry(3)))
	})
}

func TestRequestIDsAndAccessLog(t *testing.T) {
	a, _ := start(t, testdb.New(t, db.SQLite))
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/items/70", nil)
	req.Header.Set(api.RequestIDHeader, "client-id-123")
	resp, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get(api.RequestIDHeader); got != "client-id-123" {
		t.Fatalf("a valid client request id is not echoed: %q", got)
	}
	seen := map[string]bool{}
	for _, bad := range []string{"", "has space", strings.Repeat("x", 129)} {
		req, _ := http.NewRequest(http.MethodGet, a.URL+"/no-db", nil)
		if bad != "" {
			req.Header.Set(api.RequestIDHeader, bad)
		}
		resp, err := a.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get(api.RequestIDHeader)
		if !regexp.MustCompile(`^[0-9a-f]{12}-[0-9a-f]+$`).MatchString(got) || seen[got] {
			t.Fatalf("request id sent %q: answered %q, want a new generated one", bad, got)
		}
		seen[got] = true
	}
	// A failed commit keeps the id on its problem answer.
	req, _ = http.NewRequest(http.MethodPost, a.URL+"/orphans/71", nil)
	req.Header.Set(api.RequestIDHeader, "orphan-id")
	resp, err = a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || resp.Header.Get(api.RequestIDHeader) != "orphan-id" {
		t.Fatalf("failed commit: %d, id %q", resp.StatusCode, resp.Header.Get(api.RequestIDHeader))
	}
	logs := a.Logs.String()
	for _, want := range []string{
		`msg=request component=http request_id=client-id-123 method=POST route=/items/:id path=/items/70 status=201`,
		`tx=committed attempts=1`,
		`msg=request component=http request_id=orphan-id method=POST route=/orphans/:id path=/orphans/71 status=409`,
		`tx=rolled_back`,
		`route=/no-db path=/no-db status=200`,
		`tx=none`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the access log lacks %q:\n%s", want, logs)
		}
	}
	if n := strings.Count(logs, "msg=request "); n != 5 {
		t.Errorf("%d access-log lines for 5 requests", n)
	}
}

func TestMetrics(t *testing.T) {
	var calls atomic.Int64
	a, _ := start(t, testdb.New(t, db.SQLite), flakyRoute(&calls))
	a.Do(t, http.MethodPost, "/items/80", nil)
	a.Do(t, http.MethodPost, "/items/81/error", nil)
	a.Do(t, http.MethodGet, "/no-db", nil)
	a.Do(t, http.MethodGet, "/nowhere", nil)
	if r := a.Do(t, http.MethodPost, "/flaky/82", nil); r.Status != http.StatusOK {
		t.Fatalf("flaky: %d %s", r.Status, r.Body)
	}
	resp, err := a.Client.Get(a.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(b)
	for _, want := range []string{
		`fasttrack_http_requests_total{method="POST",route="/items/:id",status="201"} 1`,
		`fasttrack_http_requests_total{method="POST",route="/items/:id/error",status="500"} 1`,
		`fasttrack_http_requests_total{method="GET",route="/no-db",status="200"} 1`,
		`fasttrack_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`fasttrack_http_request_duration_seconds_count{method="POST",route="/items/:id"} 1`,
		`fasttrack_transactions_total{outcome="committed"} 2`,
		`fasttrack_transactions_total{outcome="rolled_back"} 1`,
		`fasttrack_transactions_total{outcome="retried"} 1`,
		`go_sql_max_open_connections{db_name="app"}`,
		`go_sql_in_use_connections{db_name="app"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", text)
	}
}
