package fxmodules_test

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/gin-gonic/gin"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// The TracerProvider that Tracing builds from OTEL_* shuts down last: its
// stop hook runs after the HTTP server's drain and every other hook.
func TestTracingShutsDownLast(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "console")
	var logs lockedBuffer
	var srv *http.Server
	app := fxtest.New(t, appOptions(testConfig(testdb.New(t, db.SQLite)), &logs, &srv))
	app.RequireStart()
	app.RequireStop()
	var stops []string
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		if l := sc.Text(); strings.Contains(l, `msg="OnStop hook executed"`) || strings.Contains(l, `msg="http server shut down"`) || strings.Contains(l, `msg="tracing shut down"`) {
			stops = append(stops, l)
		}
	}
	if len(stops) < 3 {
		t.Fatalf("stop logs: %q", stops)
	}
	last, beforeLast := stops[len(stops)-1], stops[len(stops)-2]
	if !strings.Contains(last, "OnStop hook executed") || !strings.Contains(last, "newTracing") || !strings.Contains(beforeLast, "tracing shut down") {
		t.Errorf("the tracing hook is not the last to stop: %q", stops)
	}
	if i := strings.Index(logs.String(), "http server shut down"); i < 0 || i > strings.Index(logs.String(), "tracing shut down") {
		t.Error("tracing shut down before the HTTP server")
	}
}

// An application's own trace.TracerProvider receives FastTrack's spans: the
// request's server span, its db.tx span and its statements'.
func TestTracingUsesTheAppProvider(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	var srv *http.Server
	app := fxtest.New(t,
		appOptions(testConfig(testdb.New(t, db.SQLite)), io.Discard, &srv),
		fx.Provide(func() trace.TracerProvider { return tp }),
		fx.Invoke(func(e *gin.Engine) {
			e.GET("/count/:n", api.Handle(func(c *gin.Context, q db.Querier) (int, error) {
				var n int
				return n, q.GetContext(c, &n, "SELECT 1")
			}, api.WithReadOnly()))
		}),
	)
	app.RequireStart()
	defer app.RequireStop()
	resp, err := http.Get("http://" + srv.Addr + "/count/3")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	names := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range sr.Ended() {
		names[s.Name()] = s
	}
	server, tx, stmt := names["GET /count/:n"], names[db.TxSpanName], names["SELECT"]
	if server == nil || tx == nil || stmt == nil {
		t.Fatalf("spans %v", names)
	}
	if tx.Parent().SpanID() != server.SpanContext().SpanID() || stmt.Parent().SpanID() != tx.SpanContext().SpanID() {
		t.Error("the spans are not one tree: server → db.tx → SELECT")
	}
}

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
