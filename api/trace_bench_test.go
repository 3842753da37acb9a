package api_test

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// benchTraceEngine serves GET /items/:id, one read of one row by key in a
// read-only transaction on SQLite, with tracing wired to tp as fxmodules
// wires it (nil: no tracing code installed at all).
func benchTraceEngine(b *testing.B, tp trace.TracerProvider) *gin.Engine {
	x, d, err := db.Open("sqlite:"+b.TempDir()+"/b.db", db.Pool{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { x.Close() })
	x.MustExec("CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT)")
	x.MustExec("INSERT INTO items (id, v) VALUES (1, 'one')")
	stmts := db.NewStatements(x, d, 64)
	b.Cleanup(func() { stmts.Close() })
	reg := scope.NewRegistry()
	for _, p := range api.TxProviders(db.PrimaryOnly(x, d), stmts, nil) {
		if err := reg.Add(p); err != nil {
			b.Fatal(err)
		}
	}
	if err := reg.Compile(map[reflect.Type]any{}); err != nil {
		b.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	cfg := api.MiddlewareConfig{}
	if tp != nil {
		if h := api.Trace(tp, nil, ""); h != nil {
			e.Use(h)
		}
		cfg.Tracer = db.NewTracer(tp, d)
	}
	e.Use(api.NewMiddleware(reg, cfg).HandlerFunc())
	e.GET("/items/:id", api.Handle(func(c *gin.Context, q db.Querier) (string, error) {
		var v string
		return v, q.GetContext(c, &v, "SELECT v FROM items WHERE id = ?", c.Param("id"))
	}, api.WithReadOnly()))
	return e
}

// BenchmarkTracePaired serves the same request through an engine without
// tracing code and one wired to the no-op provider, alternately in one
// loop, and reports each one's time per request and the no-op's overhead
// in percent (and, for scale, an SDK provider that samples every span
// and exports none).
func BenchmarkTracePaired(b *testing.B) {
	engines := []*gin.Engine{
		benchTraceEngine(b, nil),
		benchTraceEngine(b, noop.NewTracerProvider()),
		benchTraceEngine(b, sdktrace.NewTracerProvider()),
	}
	req := httptest.NewRequest(http.MethodGet, "/items/1", nil)
	w := httptest.NewRecorder()
	for _, e := range engines { // warm the statement caches and pools
		for range 200 {
			e.ServeHTTP(w, req)
		}
	}
	var spent [3]time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for k := range engines {
			// Rotate the order, so that no variant always runs first.
			j := (i + k) % len(engines)
			w.Body.Reset()
			start := time.Now()
			engines[j].ServeHTTP(w, req)
			spent[j] += time.Since(start)
		}
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
	n := float64(b.N)
	absent, off, on := float64(spent[0])/n, float64(spent[1])/n, float64(spent[2])/n
	b.ReportMetric(absent, "ns/absent")
	b.ReportMetric(off, "ns/noop")
	b.ReportMetric(on, "ns/sdk")
	b.ReportMetric(100*(off-absent)/absent, "%noop-overhead")
}
