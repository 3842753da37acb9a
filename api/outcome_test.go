package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
)

// outbox is a scoped unit of work other than the transaction: a
// scope.Finisher, optionally a scope.Idler.
type outbox struct {
	mu       sync.Mutex
	pending  *bool // nil: not a Idler
	finished []bool
}

func (o *outbox) Finish(_ context.Context, commit bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.finished = append(o.finished, commit)
	return nil
}

// idlerOutbox is an outbox that says whether it held work.
type idlerOutbox struct{ *outbox }

func (p idlerOutbox) Idle() bool { return !*p.pending }

// A request whose unit of work was rolled back never answers success, for
// any scope.Finisher in its scope, not only the transaction; a Finisher that
// says it holds nothing (scope.Idler) lost nothing, and the answer stands.
func TestRolledBackFinisherNeverAnswersSuccess(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		name    string
		pending *bool
		err     error
		want    int
	}{
		{"plain Finisher, plain error", nil, errors.New("failed after writing"), http.StatusInternalServerError},
		{"plain Finisher, an api.Error", nil, api.NewError(http.StatusUnprocessableEntity, "refused"), http.StatusUnprocessableEntity},
		{"Idler with work", &yes, errors.New("failed after writing"), http.StatusInternalServerError},
		{"Idler without work", &no, errors.New("failed after writing"), http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &outbox{pending: tc.pending}
			var provided any = o
			typ := reflect.TypeFor[*outbox]()
			if tc.pending != nil {
				provided, typ = idlerOutbox{o}, reflect.TypeFor[idlerOutbox]()
			}
			gin.SetMode(gin.TestMode)
			reg := compiledRegistry(t, scope.NewFuncProvider(scope.Scoped, typ, nil, "outbox",
				func(context.Context, []any) (any, func() error, error) { return provided, nil, nil }))
			e := gin.New()
			e.Use(api.NewMiddleware(reg, api.MiddlewareConfig{}).HandlerFunc())
			e.POST("/send", func(c *gin.Context) {
				s, err := api.Scope(c)
				if err == nil {
					_, err = s.Resolve(typ)
				}
				if err != nil {
					t.Error(err)
				}
				c.JSON(http.StatusCreated, gin.H{"sent": true})
				_ = c.Error(tc.err)
			})
			w := serve(e, http.MethodPost, "/send")
			if w.Code != tc.want {
				t.Fatalf("answered %d %s, want %d", w.Code, w.Body, tc.want)
			}
			if tc.want != http.StatusCreated && strings.Contains(w.Body.String(), "sent") {
				t.Fatalf("the handler's body reached the client: %s", w.Body)
			}
			o.mu.Lock()
			defer o.mu.Unlock()
			if len(o.finished) != 1 || o.finished[0] {
				t.Fatalf("finished %v, want one rollback", o.finished)
			}
		})
	}
}

// A goroutine that reaches the request scope through the *gin.Context after
// its request ended gets scope.ErrReleased, not another request's scope;
// the scope taken in the handler also answers ErrReleased.
func TestLateScopeThroughTheContextIsReleased(t *testing.T) {
	type late struct {
		viaContext, viaResolve, viaScope error
	}
	result := make(chan late, 1)
	ended := make(chan struct{})
	e, _, _ := txEngine(t, func(e *gin.Engine) {
		e.GET("/spawn", func(c *gin.Context) {
			s, err := api.Scope(c)
			if err != nil {
				t.Error(err)
				return
			}
			go func() {
				<-ended
				var l late
				_, l.viaContext = api.Scope(c)
				_, l.viaResolve = api.Resolve[*db.Tx](c)
				_, l.viaScope = scope.Get[*db.Tx](s)
				result <- l
			}()
			c.Status(http.StatusOK)
		})
	})
	if w := serve(e, http.MethodGet, "/spawn"); w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	close(ended)
	l := <-result
	for name, err := range map[string]error{"api.Scope(c)": l.viaContext, "api.Resolve(c)": l.viaResolve, "scope.Get(s)": l.viaScope} {
		if !errors.Is(err, scope.ErrReleased) {
			t.Errorf("%s after the request = %v, want scope.ErrReleased", name, err)
		}
	}
}

// recordLog is a slog handler that keeps its records.
type recordLog struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *recordLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *recordLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r)
	return nil
}
func (l *recordLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *recordLog) WithGroup(string) slog.Handler      { return l }

// atLeast returns the messages logged at level or above.
func (l *recordLog) atLeast(level slog.Level) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.records {
		if r.Level >= level {
			out = append(out, r.Message)
		}
	}
	return out
}

// observed keeps the middleware's reports.
type observed struct {
	mu      sync.Mutex
	reports []api.Report
}

func (o *observed) Observe(r api.Report) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reports = append(o.reports, r)
}

// A client that goes away is reported as 499 (client closed request), logged
// below ERROR, and its transaction rolls back.
func TestClientGoneIsReported499(t *testing.T) {
	for _, when := range []string{"during the handler", "before the commit"} {
		t.Run(when, func(t *testing.T) {
			logs, access := &recordLog{}, &recordLog{}
			obs := &observed{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opts := api.MiddlewareConfig{Logger: slog.New(logs), AccessLog: slog.New(access), Observer: obs}
			e, x, _ := txEngineWith(t, opts, nil, func(e *gin.Engine) {
				e.POST("/r", api.Handle(func(c *gin.Context, q db.Querier) (gin.H, error) {
					if err := insertV(c, q); err != nil {
						return nil, err
					}
					cancel()
					if when == "during the handler" {
						return nil, insertV(c, q) // fails: the context is cancelled
					}
					return gin.H{"ok": true}, nil
				}))
			})
			w := httptest.NewRecorder()
			e.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/r", nil).WithContext(ctx))
			if rows(t, x) != 0 || x.Stats().InUse != 0 {
				t.Fatalf("rows %d, in use %d", rows(t, x), x.Stats().InUse)
			}
			if len(obs.reports) != 1 || obs.reports[0].Status != api.StatusClientClosedRequest {
				t.Fatalf("reports %+v, want status 499", obs.reports)
			}
			if errs := logs.atLeast(slog.LevelError); len(errs) != 0 {
				t.Fatalf("logged at ERROR: %q", errs)
			}
			access.mu.Lock()
			defer access.mu.Unlock()
			if len(access.records) != 1 {
				t.Fatalf("%d access log lines", len(access.records))
			}
			status := 0
			access.records[0].Attrs(func(a slog.Attr) bool {
				if a.Key == "status" {
					status = int(a.Value.Int64())
				}
				return true
			})
			if status != 499 {
				t.Fatalf("access log status %d, want 499", status)
			}
		})
	}
}

// A failed commit is answered by its error's class, held or streamed, and
// Options.CommitProblem can name it.
func TestCommitFailureIsClassified(t *testing.T) {
	hook := func(err error) (api.Problem, bool) {
		if errors.Is(err, db.ErrUniqueViolation) {
			return api.NewProblem(http.StatusConflict, "that name is taken"), true
		}
		return api.Problem{}, false
	}
	for _, tc := range []struct {
		name       string
		err        error
		hook       func(error) (api.Problem, bool)
		status     int
		detail     string
		retryAfter bool
	}{
		{"unique", fmt.Errorf("commit: %w", db.ErrUniqueViolation), nil, http.StatusConflict, "the transaction could not be committed: the request conflicts with existing data", false},
		{"foreign key", fmt.Errorf("commit: %w", db.ErrForeignKeyViolation), nil, http.StatusConflict, "the transaction could not be committed: the request conflicts with existing data", false},
		{"retryable", fmt.Errorf("commit: %w", db.ErrRetryable), nil, http.StatusServiceUnavailable, "the transaction could not be committed; try again", true},
		{"connection lost", fmt.Errorf("commit: %w", db.ErrConnLost), nil, http.StatusServiceUnavailable, "the transaction could not be committed; try again", true},
		{"other", errors.New("commit: disk full"), nil, http.StatusInternalServerError, "the transaction could not be committed", false},
		{"hook", fmt.Errorf("commit: %w", db.ErrUniqueViolation), hook, http.StatusConflict, "that name is taken", false},
		{"hook declines", errors.New("commit: disk full"), hook, http.StatusInternalServerError, "the transaction could not be committed", false},
	} {
		for _, streamed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/streamed=%v", tc.name, streamed), func(t *testing.T) {
				u := &unit{failCommit: tc.err}
				e := engine(t, u, api.MiddlewareConfig{CommitProblem: tc.hook}, func(e *gin.Engine) {
					e.POST("/r", api.Handle(func(c *gin.Context, _ *unit) error {
						c.JSON(http.StatusCreated, gin.H{"handler": true})
						if streamed {
							c.Writer.Flush()
						}
						return nil
					}))
				})
				w := serve(e, http.MethodPost, "/r")
				var p api.Problem
				if err := jsonDecode(w.Body.Bytes(), &p); err != nil {
					t.Fatalf("%d %s: %v", w.Code, w.Body, err)
				}
				if w.Code != tc.status || p.Detail != tc.detail || strings.Contains(w.Body.String(), "handler") {
					t.Fatalf("answered %d %s, want %d %q", w.Code, w.Body, tc.status, tc.detail)
				}
				if got := w.Header().Get("Retry-After") != ""; got != tc.retryAfter {
					t.Fatalf("Retry-After present %v, want %v", got, tc.retryAfter)
				}
			})
		}
	}
}

// firstByteCheck is a response writer that, when the first byte of the
// response reaches it, counts the committed rows from another connection.
type firstByteCheck struct {
	*httptest.ResponseRecorder
	x       *sqlx.DB
	checked bool
	rows    int
	err     error
}

func (f *firstByteCheck) check() {
	if !f.checked {
		f.checked = true
		f.err = f.x.Get(&f.rows, "SELECT COUNT(*) FROM t")
	}
}

func (f *firstByteCheck) WriteHeader(code int) { f.check(); f.ResponseRecorder.WriteHeader(code) }
func (f *firstByteCheck) Write(p []byte) (int, error) {
	f.check()
	return f.ResponseRecorder.Write(p)
}

// When a response leaves early (a flush, a body over the hold limit), its
// transaction is committed before the first byte reaches the client; a
// rolled-back one sends an error and none of the handler's bytes.
func TestEarlyReleaseCommitsBeforeTheFirstByte(t *testing.T) {
	big := strings.Repeat("x", 100)
	for _, tc := range []struct {
		name  string
		write func(c *gin.Context)
	}{
		{"flush", func(c *gin.Context) {
			c.String(http.StatusOK, "first")
			c.Writer.Flush()
			c.String(http.StatusOK, "second")
		}},
		{"hold limit", func(c *gin.Context) { c.String(http.StatusOK, big) }},
	} {
		for _, rollback := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/rollback=%v", tc.name, rollback), func(t *testing.T) {
				e, x, _ := txEngineWith(t, api.MiddlewareConfig{HoldLimit: 10}, nil, func(e *gin.Engine) {
					e.POST("/r", func(c *gin.Context) {
						q, err := api.Resolve[db.Querier](c)
						if err == nil {
							err = insertV(c, q)
						}
						if err != nil {
							t.Error(err)
						}
						if rollback {
							_ = c.Error(api.NewError(http.StatusConflict, "refused"))
						}
						tc.write(c)
					})
				})
				w := &firstByteCheck{ResponseRecorder: httptest.NewRecorder(), x: x}
				e.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/r", nil))
				if w.err != nil || !w.checked {
					t.Fatalf("checked %v: %v", w.checked, w.err)
				}
				body := w.Body.String()
				if !rollback {
					if w.rows != 1 || w.Code != http.StatusOK || !strings.HasPrefix(body, "first") && !strings.HasPrefix(body, "xxx") {
						t.Fatalf("%d rows committed when the first byte left; answered %d %q", w.rows, w.Code, body)
					}
					return
				}
				if w.rows != 0 || rows(t, x) != 0 || w.Code != http.StatusConflict || strings.Contains(body, "first") || strings.Contains(body, "xxx") {
					t.Fatalf("rolled back: rows %d/%d, answered %d %q", w.rows, rows(t, x), w.Code, body)
				}
			})
		}
	}
}

// jsonDecode decodes a problem body.
func jsonDecode(b []byte, v any) error { return json.Unmarshal(b, v) }
