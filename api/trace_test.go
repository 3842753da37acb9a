package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Values bound by the traced routes: none may appear in any span.
const (
	secretText = "secret-text-5b1f"
	secretID   = 918273
)

// A remote parent sent in traceparent.
const (
	remoteTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	remoteSpan  = "00f067aa0ba902b7"
)

// tracedEngine serves routes over databaseURL with a recorder behind the
// server span and the request-scope middleware.
func tracedEngine(t *testing.T, databaseURL string) (*gin.Engine, *tracetest.SpanRecorder) {
	t.Helper()
	x, d := testdb.Open(t, databaseURL)
	x.MustExec("CREATE TABLE trace_t (id INT, v VARCHAR(64))")
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	reg := compiledRegistry(t, api.TxProviders(db.PrimaryOnly(x, d), nil, nil)...)
	gin.SetMode(gin.TestMode)
	e := gin.New()
	e.Use(api.Trace(tp, nil, ""), api.NewMiddleware(reg, api.MiddlewareConfig{Tracer: db.NewTracer(tp, d)}).HandlerFunc())
	insert := func(c *gin.Context, q db.Querier) error {
		_, err := q.ExecContext(c, q.Rebind("INSERT INTO trace_t (id, v) VALUES (?, ?)"), secretID, secretText)
		return err
	}
	e.GET("/items/:id", api.Handle(func(c *gin.Context, q db.Querier) (int, error) {
		var n int
		err := q.GetContext(c, &n, q.Rebind("SELECT COUNT(*) FROM trace_t WHERE id = ? AND v <> ?"), secretID, secretText)
		return n, err
	}, api.WithReadOnly()))
	e.POST("/items", api.Handle(func(c *gin.Context, q db.Querier) error {
		if err := insert(c, q); err != nil {
			return err
		}
		c.Status(http.StatusCreated)
		return nil
	}))
	e.POST("/fail", api.Handle(func(c *gin.Context, q db.Querier) error {
		if err := insert(c, q); err != nil {
			return err
		}
		return api.NewError(http.StatusConflict, "no")
	}))
	attempt := 0
	e.POST("/retry", api.Handle(func(c *gin.Context, q db.Querier) error {
		attempt++
		if err := insert(c, q); err != nil {
			return err
		}
		if attempt == 1 {
			return fmt.Errorf("attempt 1: %w", db.ErrRetryable)
		}
		return nil
	}, api.WithRetry(3)))
	return e, sr
}

// spanTree is what a request's spans were, by role.
type spanTree struct {
	server trace.SpanContext
	txs    []sdktrace.ReadOnlySpan
	stmts  []sdktrace.ReadOnlySpan
}

// checkTree checks the spans of one request: one server span named name,
// child of the remote parent; each db.tx span its child; each statement a
// child of a db.tx span; no bound value anywhere.
func checkTree(t *testing.T, spans []sdktrace.ReadOnlySpan, name string, system string) spanTree {
	t.Helper()
	var tree spanTree
	txIDs := map[trace.SpanID]bool{}
	for _, s := range spans {
		if s.SpanContext().TraceID().String() != remoteTrace {
			t.Errorf("span %q is in trace %s, not the remote one", s.Name(), s.SpanContext().TraceID())
		}
		for _, kv := range append(s.Attributes(), resourceAttrs(s)...) {
			if v := kv.Value.Emit(); strings.Contains(v, secretText) || strings.Contains(v, fmt.Sprint(secretID)) {
				t.Errorf("span %q attribute %s holds a bound value: %q", s.Name(), kv.Key, v)
			}
		}
		for _, ev := range s.Events() {
			for _, kv := range ev.Attributes {
				if v := kv.Value.Emit(); strings.Contains(v, secretText) || strings.Contains(v, fmt.Sprint(secretID)) {
					t.Errorf("span %q event %q holds a bound value", s.Name(), ev.Name)
				}
			}
		}
		if strings.Contains(s.Status().Description, secretText) {
			t.Errorf("span %q status holds a bound value", s.Name())
		}
		switch {
		case s.SpanKind() == trace.SpanKindServer:
			if s.Name() != name {
				t.Errorf("server span %q, want %q", s.Name(), name)
			}
			if s.Parent().SpanID().String() != remoteSpan || !s.Parent().IsRemote() {
				t.Errorf("server span's parent %v, want the remote %s", s.Parent(), remoteSpan)
			}
			tree.server = s.SpanContext()
		case s.Name() == db.TxSpanName:
			tree.txs = append(tree.txs, s)
			txIDs[s.SpanContext().SpanID()] = true
		default:
			tree.stmts = append(tree.stmts, s)
		}
	}
	if !tree.server.IsValid() {
		t.Fatalf("no server span among %d", len(spans))
	}
	for _, s := range tree.txs {
		if s.Parent().SpanID() != tree.server.SpanID() {
			t.Errorf("db.tx span's parent %s, want the server span %s", s.Parent().SpanID(), tree.server.SpanID())
		}
		if got := attr(s, "db.system.name"); got != system {
			t.Errorf("db.tx db.system.name %q, want %q", got, system)
		}
		if got := attr(s, string(db.AttrServerRole)); got != db.RolePrimary {
			t.Errorf("db.tx role %q, want primary", got)
		}
	}
	for _, s := range tree.stmts {
		if !s.Parent().IsValid() || !txIDs[s.Parent().SpanID()] {
			t.Errorf("statement span %q has parent %s, not a db.tx span", s.Name(), s.Parent().SpanID())
		}
		if s.SpanKind() != trace.SpanKindClient || attr(s, "db.query.text") == "" {
			t.Errorf("statement span %q: kind %v, text %q", s.Name(), s.SpanKind(), attr(s, "db.query.text"))
		}
		if got := attr(s, "db.system.name"); got != system {
			t.Errorf("statement db.system.name %q, want %q", got, system)
		}
	}
	return tree
}

func resourceAttrs(s sdktrace.ReadOnlySpan) []attribute.KeyValue {
	if s.Resource() == nil {
		return nil
	}
	return s.Resource().Attributes()
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

var systemOf = map[db.Dialect]string{db.SQLite: "sqlite", db.Postgres: "postgresql", db.MySQL: "mysql"}

// Each request is one trace: the server span, under the caller's remote
// span, holds one db.tx span per attempt that began a transaction, which
// holds one span per statement; no bound value is in any span.
func TestTraceRequestSpanTree(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		e, sr := tracedEngine(t, u)
		cases := []struct {
			method, path, name string
			status             int
			// per db.tx span: outcome, attempt, read-only
			txs   [][3]string
			stmts []string // statement span names
		}{
			{"POST", "/items", "POST /items", 201, [][3]string{{"committed", "1", "false"}}, []string{"INSERT"}},
			{"GET", "/items/7", "GET /items/:id", 200, [][3]string{{"committed", "1", "true"}}, []string{"SELECT"}},
			{"POST", "/fail", "POST /fail", 409, [][3]string{{"rolled_back", "1", "false"}}, []string{"INSERT"}},
			{"POST", "/retry", "POST /retry", 200, [][3]string{{"retried", "1", "false"}, {"committed", "2", "false"}}, []string{"INSERT", "INSERT"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				sr.Reset()
				req := httptest.NewRequest(tc.method, tc.path, nil)
				req.Header.Set("traceparent", "00-"+remoteTrace+"-"+remoteSpan+"-01")
				w := httptest.NewRecorder()
				e.ServeHTTP(w, req)
				if w.Code != tc.status {
					t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
				}
				tree := checkTree(t, sr.Ended(), tc.name, systemOf[d])
				if len(tree.txs) != len(tc.txs) {
					t.Fatalf("%d db.tx spans, want %d", len(tree.txs), len(tc.txs))
				}
				for i, want := range tc.txs {
					s := tree.txs[i]
					got := [3]string{attr(s, string(db.AttrTxOutcome)), attr(s, string(db.AttrTxAttempt)), attr(s, string(db.AttrTxReadOnly))}
					if got != want {
						t.Errorf("db.tx span %d: outcome, attempt, read-only = %v, want %v", i, got, want)
					}
				}
				var names []string
				for _, s := range tree.stmts {
					names = append(names, s.Name())
				}
				if fmt.Sprint(names) != fmt.Sprint(tc.stmts) {
					t.Errorf("statement spans %v, want %v", names, tc.stmts)
				}
			})
		}
	})
}

// A request that never touches the database has no db.tx span; a provider
// that records nothing (noop) installs no middleware and no tracer.
func TestTraceOffAndUntouched(t *testing.T) {
	if api.Trace(nil, nil, "") != nil || api.Trace(noop.NewTracerProvider(), nil, "") != nil {
		t.Error("Trace with no provider, or the no-op one, returned a middleware")
	}
	if db.NewTracer(noop.NewTracerProvider(), db.SQLite) != nil {
		t.Error("NewTracer(noop) is not nil")
	}
	e, sr := tracedEngine(t, testdb.New(t, db.SQLite))
	e.GET("/none", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	req := httptest.NewRequestWithContext(context.Background(), "GET", "/none", nil)
	e.ServeHTTP(httptest.NewRecorder(), req)
	spans := sr.Ended()
	if len(spans) != 1 || spans[0].Name() != "GET /none" || spans[0].Parent().IsValid() {
		t.Fatalf("spans %v, want one root server span", spans)
	}
}
