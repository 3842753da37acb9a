package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/gin-gonic/gin"
)

// On a user's own engine with no NoRoute or NoMethod handler, Gin's own 404
// and 405 reach the client through the middleware, with Gin's bodies.
func TestGinNotFoundAndMethodNotAllowedKept(t *testing.T) {
	for _, handle405 := range []bool{false, true} {
		t.Run(fmt.Sprintf("HandleMethodNotAllowed=%v", handle405), func(t *testing.T) {
			e, _, _ := txEngine(t, func(e *gin.Engine) {
				e.GET("/items", api.Handle(func(c *gin.Context) (gin.H, error) { return gin.H{"ok": true}, nil }))
			})
			e.HandleMethodNotAllowed = handle405
			w := serve(e, http.MethodGet, "/nowhere")
			if w.Code != http.StatusNotFound || w.Body.String() != "404 page not found" {
				t.Errorf("unknown path: %d %q, want Gin's 404", w.Code, w.Body)
			}
			w = serve(e, http.MethodDelete, "/items")
			want, body := http.StatusNotFound, "404 page not found"
			if handle405 {
				want, body = http.StatusMethodNotAllowed, "405 method not allowed"
			}
			if w.Code != want || w.Body.String() != body {
				t.Errorf("wrong method: %d %q, want %d %q", w.Code, w.Body, want, body)
			}
			if w := serve(e, http.MethodGet, "/items"); w.Code != http.StatusOK {
				t.Errorf("the route itself: %d %s", w.Code, w.Body)
			}
		})
	}
}

// A handler that writes nothing answers the status it set (Gin writes the
// header after the chain), as it would without the middleware.
func TestStatusWithoutBodyIsKept(t *testing.T) {
	e, _, _ := txEngine(t, func(e *gin.Engine) {
		e.POST("/accepted", func(c *gin.Context) { c.Status(http.StatusAccepted) })
	})
	if w := serve(e, http.MethodPost, "/accepted"); w.Code != http.StatusAccepted || w.Body.Len() != 0 {
		t.Fatalf("%d %q", w.Code, w.Body)
	}
}

// retryModes are the two ways to allow retries: per route and globally.
var retryModes = []struct {
	name  string
	opts  api.MiddlewareConfig
	route []api.Option
}{
	{"WithRetry", api.MiddlewareConfig{}, []api.Option{api.WithRetry(3)}},
	{"Options.RetryAttempts", api.MiddlewareConfig{RetryAttempts: 3}, nil},
	{"no retry", api.MiddlewareConfig{}, nil},
}

// With or without retries, the commit waits for the whole chain: a
// middleware between the request scope and the handler that records an
// error after c.Next rolls back, and one that panics there answers 500
// with nothing committed.
func TestRetryKeepsTheCommitAfterInnerMiddlewares(t *testing.T) {
	for _, mode := range retryModes {
		t.Run(mode.name, func(t *testing.T) {
			calls := 0
			e, x, _ := txEngineWith(t, mode.opts, nil, func(e *gin.Engine) {
				handler := api.Handle(func(c *gin.Context, q db.Querier) (gin.H, error) {
					calls++
					return gin.H{"ok": true}, insertV(c, q)
				}, mode.route...)
				veto := func(c *gin.Context) {
					c.Next()
					_ = c.Error(api.NewError(http.StatusConflict, "vetoed after the handler"))
				}
				panics := func(c *gin.Context) {
					c.Next()
					panic("after the handler")
				}
				e.POST("/veto", veto, handler)
				e.POST("/panic", panics, handler)
			})
			if w := serve(e, http.MethodPost, "/veto"); w.Code != http.StatusConflict || rows(t, x) != 0 || calls != 1 {
				t.Fatalf("veto: %d %s, rows %d, calls %d", w.Code, w.Body, rows(t, x), calls)
			}
			if w := serve(e, http.MethodPost, "/panic"); w.Code != http.StatusInternalServerError || rows(t, x) != 0 || calls != 2 {
				t.Fatalf("panic: %d %s, rows %d, calls %d", w.Code, w.Body, rows(t, x), calls)
			}
			if n := x.Stats().InUse; n != 0 {
				t.Fatalf("%d connections in use", n)
			}
		})
	}
}

// A retryable commit failure runs the whole chain after the middleware
// again, inner middlewares included, on a fresh scope; each attempt starts
// from the request as it reached the middleware.
func TestRetryRunsTheChainAgainFromTheRequestAsItArrived(t *testing.T) {
	type depthKey struct{}
	outer := func(c *gin.Context) { c.Set("outer", "kept") }
	var seen []string
	inner := func(c *gin.Context) {
		depth, _ := c.Request.Context().Value(depthKey{}).(int)
		c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), depthKey{}, depth+1))
		c.Next()
	}
	e, x, _ := txEngineWith(t, api.MiddlewareConfig{}, []gin.HandlerFunc{outer}, func(e *gin.Engine) {
		e.POST("/r", inner, api.Handle(func(c *gin.Context, q db.Querier) (gin.H, error) {
			_, stale := c.Get("attempt")
			depth, _ := c.Request.Context().Value(depthKey{}).(int)
			seen = append(seen, fmt.Sprintf("outer=%v stale=%v depth=%d errors=%d", c.GetString("outer"), stale, depth, len(c.Errors)))
			c.Set("attempt", len(seen))
			_ = c.Error(errors.New("recorded by a failed attempt")).SetType(gin.ErrorTypePrivate)
			if err := insertV(c, q); err != nil {
				return nil, err
			}
			if len(seen) < 3 {
				return nil, fmt.Errorf("attempt %d: %w", len(seen), db.ErrRetryable)
			}
			c.Errors = c.Errors[:0] // the last attempt succeeds
			return gin.H{"ok": true}, nil
		}, api.WithRetry(3)))
	})
	w := serve(e, http.MethodPost, "/r")
	if w.Code != http.StatusOK || rows(t, x) != 1 {
		t.Fatalf("%d %s, rows %d", w.Code, w.Body, rows(t, x))
	}
	want := "outer=kept stale=false depth=1 errors=0"
	if len(seen) != 3 {
		t.Fatalf("attempts %q, want 3", seen)
	}
	for i, s := range seen {
		if s != want {
			t.Errorf("attempt %d saw %q, want %q", i+1, s, want)
		}
	}
}

// A commit that fails with a retryable error runs the chain again, the
// middlewares between the request scope and the handler included.
func TestRetryableCommitFailureRunsTheChainAgain(t *testing.T) {
	u := &unit{}
	innerCalls, handlerCalls := 0, 0
	e := engine(t, u, api.MiddlewareConfig{}, func(e *gin.Engine) {
		inner := func(c *gin.Context) { innerCalls++; c.Next() }
		e.POST("/r", inner, api.Handle(func(c *gin.Context, _ *unit) (gin.H, error) {
			handlerCalls++
			u.mu.Lock()
			u.failCommit = nil
			if handlerCalls == 1 {
				u.failCommit = fmt.Errorf("commit: %w", db.ErrRetryable)
			}
			u.mu.Unlock()
			return gin.H{"attempt": handlerCalls}, nil
		}, api.WithRetry(3)))
	})
	w := serve(e, http.MethodPost, "/r")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"attempt":2`) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if innerCalls != 2 || handlerCalls != 2 {
		t.Fatalf("inner middleware ran %d times, handler %d, want 2 and 2", innerCalls, handlerCalls)
	}
	if got := u.outcomes(); len(got) != 2 || !got[0] || !got[1] {
		t.Fatalf("finished %v, want two commits, the first failing", got)
	}
}

// An error that is not retryable is never retried, whether the handler
// returns it or answers it itself.
func TestNonRetryableErrorsRunOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		fail   func(c *gin.Context) error
	}{
		{"conflict", http.StatusConflict, func(*gin.Context) error { return fmt.Errorf("dup: %w", db.ErrUniqueViolation) }},
		{"unprocessable", http.StatusUnprocessableEntity, func(*gin.Context) error {
			return api.NewError(http.StatusUnprocessableEntity, "bad")
		}},
		{"answered 422", http.StatusUnprocessableEntity, func(c *gin.Context) error {
			c.JSON(http.StatusUnprocessableEntity, gin.H{"error": "bad"})
			return nil
		}},
		{"plain error", http.StatusInternalServerError, func(*gin.Context) error { return errors.New("broken") }},
	} {
		for _, mode := range retryModes[:2] {
			t.Run(tc.name+"/"+mode.name, func(t *testing.T) {
				calls := 0
				e, x, _ := txEngineWith(t, mode.opts, nil, func(e *gin.Engine) {
					e.POST("/r", api.Handle(func(c *gin.Context, q db.Querier) error {
						calls++
						if err := insertV(c, q); err != nil {
							return err
						}
						return tc.fail(c)
					}, mode.route...))
				})
				w := serve(e, http.MethodPost, "/r")
				if w.Code != tc.status || calls != 1 || rows(t, x) != 0 {
					t.Fatalf("%d %s, calls %d, rows %d", w.Code, w.Body, calls, rows(t, x))
				}
			})
		}
	}
}

// The commit rule, by status: below 400 commits, 400 and above rolls back,
// and Options.CommitStatus replaces the rule.
func TestCommitRuleByStatus(t *testing.T) {
	for _, tc := range []struct {
		status int
		rule   func(int) bool
		rows   int
	}{
		{http.StatusOK, nil, 1},
		{http.StatusCreated, nil, 1},
		{http.StatusFound, nil, 1},
		{http.StatusBadRequest, nil, 0},
		{http.StatusNotFound, nil, 0},
		{http.StatusInternalServerError, nil, 0},
		{http.StatusNotFound, func(s int) bool { return s < 500 }, 1},
		{http.StatusCreated, func(s int) bool { return s == http.StatusOK }, 0},
	} {
		t.Run(fmt.Sprintf("%d custom=%v", tc.status, tc.rule != nil), func(t *testing.T) {
			e, x, _ := txEngineWith(t, api.MiddlewareConfig{CommitStatus: tc.rule}, nil, func(e *gin.Engine) {
				e.POST("/r", func(c *gin.Context) {
					q, err := api.Resolve[db.Querier](c)
					if err != nil {
						t.Error(err)
						return
					}
					if err := insertV(c, q); err != nil {
						t.Error(err)
					}
					c.String(tc.status, "answered")
				})
			})
			w := serve(e, http.MethodPost, "/r")
			if got := rows(t, x); got != tc.rows {
				t.Fatalf("status %d left %d rows, want %d (answer %d %s)", tc.status, got, tc.rows, w.Code, w.Body)
			}
			if tc.rows == 1 && w.Code != tc.status {
				t.Fatalf("a committed %d answered %d", tc.status, w.Code)
			}
		})
	}
}

// wrappedExport is a plain gin handler given a policy by api.Wrap.
func wrappedExport(c *gin.Context) {
	tx, err := api.Resolve[*db.Tx](c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"readOnly": tx.Options().ReadOnly})
}

// api.Wrap gives a plain gin handler the route policy of Handle's options:
// applied to its transaction, listed by DescribeRoutes, and retried on a
// retryable error it records.
func TestWrapGivesAPlainHandlerThePolicy(t *testing.T) {
	calls := 0
	e, x, reg := txEngine(t, func(e *gin.Engine) {
		e.GET("/export", api.Wrap(wrappedExport, api.WithReadOnly()))
		e.POST("/flaky", api.Wrap(func(c *gin.Context) {
			calls++
			q, err := api.Resolve[db.Querier](c)
			if err == nil {
				err = insertV(c, q)
			}
			if err == nil && calls == 1 {
				err = fmt.Errorf("first call: %w", db.ErrRetryable)
			}
			if err != nil {
				_ = c.Error(err)
				c.Status(http.StatusServiceUnavailable)
				return
			}
			c.Status(http.StatusCreated)
		}, api.WithRetry(3)))
	})
	if w := serve(e, http.MethodGet, "/export"); w.Code != http.StatusOK || w.Body.String() != `{"readOnly":true}` {
		t.Fatalf("/export: %d %s", w.Code, w.Body)
	}
	if w := serve(e, http.MethodPost, "/flaky"); w.Code != http.StatusCreated || calls != 2 || rows(t, x) != 1 {
		t.Fatalf("/flaky: %d, %d calls, %d rows", w.Code, calls, rows(t, x))
	}
	routes := api.DescribeRoutes(e)
	if got := routes["GET /export"]; got.Policy != "read-only" || !strings.HasSuffix(got.Handler, "api_test.wrappedExport") {
		t.Fatalf("GET /export described as %+v", got)
	}
	if got := routes["POST /flaky"]; got.Policy != "retry 3" {
		t.Fatalf("POST /flaky described as %+v", got)
	}
	e.GET("/nil", api.Wrap(nil))
	if err := api.CheckRoutes(e, reg); err == nil || !strings.Contains(err.Error(), "Wrap needs a non-nil") {
		t.Fatalf("CheckRoutes with Wrap(nil) = %v", err)
	}
}
