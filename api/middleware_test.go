package api_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
)

// unit is a scoped Finisher standing in for a transaction: it records how
// it was finished and can be told to fail its commit.
type unit struct {
	failCommit error
	mu         sync.Mutex
	finished   []bool
}

func (u *unit) Finish(_ context.Context, commit bool) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.finished = append(u.finished, commit)
	if commit {
		return u.failCommit
	}
	return nil
}

func (u *unit) outcomes() []bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]bool(nil), u.finished...)
}

// engine builds a gin engine with the middleware over a registry whose
// scoped *unit is u.
func engine(t *testing.T, u *unit, opts api.MiddlewareConfig, routes func(e *gin.Engine)) *gin.Engine {
	t.Helper()
	gin.SetMode(gin.TestMode)
	reg := compiledRegistry(t, scope.NewFuncProvider(scope.Scoped, reflect.TypeFor[*unit](), nil, "unit",
		func(context.Context, []any) (any, func() error, error) { return u, nil, nil }))
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.NoMethod(api.MethodNotAllowed)
	e.Use(api.NewMiddleware(reg, opts).HandlerFunc())
	routes(e)
	if err := api.CheckRoutes(e, reg); err != nil {
		t.Fatal(err)
	}
	return e
}

func serve(e *gin.Engine, method, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	return w
}

func TestEarlyReleaseWithAFailedCommitAnswersAnError(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(c *gin.Context) error
	}{
		{"response over the hold limit", func(c *gin.Context) error {
			_, err := c.Writer.Write([]byte(strings.Repeat("x", 100)))
			return err
		}},
		{"flush", func(c *gin.Context) error {
			_, _ = c.Writer.Write([]byte("first"))
			c.Writer.Flush()
			_, err := c.Writer.Write([]byte("second"))
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := &unit{failCommit: fmt.Errorf("commit: %w", db.ErrRetryable)}
			var writeErr error
			e := engine(t, u, api.MiddlewareConfig{HoldLimit: 10}, func(e *gin.Engine) {
				e.GET("/", api.Handle(func(c *gin.Context, _ *unit) error {
					c.Header("X-Handler", "set")
					writeErr = tc.write(c)
					return nil
				}))
			})
			w := serve(e, http.MethodGet, "/")
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Content-Type") != api.ProblemContentType {
				t.Fatalf("answer %d %q: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
			}
			if strings.Contains(w.Body.String(), "x") || strings.Contains(w.Body.String(), "first") || w.Header().Get("X-Handler") != "" {
				t.Fatalf("the handler's response leaked: %v %s", w.Header(), w.Body)
			}
			if w.Header().Get("Retry-After") == "" {
				t.Error("no Retry-After on a retryable commit failure")
			}
			if writeErr == nil {
				t.Error("the handler's write after the failed commit reported no error")
			}
			if got := u.outcomes(); len(got) != 1 || !got[0] {
				t.Fatalf("finished %v, want one commit attempt", got)
			}
		})
	}
}

// hijackRecorder is a recorder that can be hijacked.
type hijackRecorder struct {
	*httptest.ResponseRecorder
	hijacked bool
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h.hijacked = true
	c1, c2 := net.Pipe()
	c2.Close()
	return c1, bufio.NewReadWriter(bufio.NewReader(c1), bufio.NewWriter(c1)), nil
}

func TestHijackCommitsFirst(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprintf("commit fails %v", fail), func(t *testing.T) {
			u := &unit{}
			if fail {
				u.failCommit = errors.New("constraint")
			}
			var hijackErr error
			e := engine(t, u, api.MiddlewareConfig{}, func(e *gin.Engine) {
				e.GET("/ws", api.Handle(func(c *gin.Context, _ *unit) error {
					conn, _, err := c.Writer.Hijack()
					hijackErr = err
					if conn != nil {
						conn.Close()
					}
					return nil
				}))
			})
			w := &hijackRecorder{ResponseRecorder: httptest.NewRecorder()}
			e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/ws", nil))
			if got := u.outcomes(); len(got) != 1 || !got[0] {
				t.Fatalf("finished %v, want a commit before the hijack", got)
			}
			if fail != (hijackErr != nil) || fail == w.hijacked {
				t.Fatalf("commit fails %v: hijack error %v, hijacked %v", fail, hijackErr, w.hijacked)
			}
			if fail && w.Code != http.StatusInternalServerError {
				t.Fatalf("a failed commit before a hijack answered %d", w.Code)
			}
		})
	}
}

func TestHandleWithoutTheMiddlewareAnswers500(t *testing.T) {
	gin.SetMode(gin.TestMode)
	e := gin.New()
	e.GET("/", api.Handle(func(c *gin.Context) error { return nil }))
	if w := serve(e, http.MethodGet, "/"); w.Code != http.StatusInternalServerError {
		t.Fatalf("answered %d", w.Code)
	}
}

func TestMethodNotAllowedIsAProblem(t *testing.T) {
	e := engine(t, &unit{}, api.MiddlewareConfig{}, func(e *gin.Engine) {
		e.GET("/x", func(c *gin.Context) { c.String(200, "ok") })
	})
	w := serve(e, http.MethodDelete, "/x")
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Content-Type") != api.ProblemContentType {
		t.Fatalf("answered %d %q", w.Code, w.Header().Get("Content-Type"))
	}
}

func TestResultShapes(t *testing.T) {
	type out struct{ A int }
	e := engine(t, &unit{}, api.MiddlewareConfig{}, func(e *gin.Engine) {
		e.GET("/value", api.Handle(func(c *gin.Context) (out, error) { return out{A: 1}, nil }))
		e.GET("/nil", api.Handle(func(c *gin.Context) (*out, error) { return nil, nil }))
		e.GET("/created", api.Handle(func(c *gin.Context) (*out, error) {
			c.Status(http.StatusCreated)
			return &out{A: 2}, nil
		}))
		e.GET("/written", api.Handle(func(c *gin.Context) (*out, error) {
			c.String(http.StatusAccepted, "own")
			return &out{A: 3}, nil
		}))
	})
	for path, want := range map[string]struct {
		code int
		body string
	}{
		"/value":   {200, `{"A":1}`},
		"/nil":     {204, ""},
		"/created": {201, `{"A":2}`},
		"/written": {202, "own"},
	} {
		w := serve(e, http.MethodGet, path)
		if w.Code != want.code || w.Body.String() != want.body {
			t.Errorf("%s: %d %q, want %d %q", path, w.Code, w.Body, want.code, want.body)
		}
	}
}

func TestProblemFor(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{api.NewError(http.StatusTeapot, "short and stout"), http.StatusTeapot},
		{&http.MaxBytesError{Limit: 1}, http.StatusRequestEntityTooLarge},
		{fmt.Errorf("x: %w", repo.ErrInvalidQuery), http.StatusBadRequest},
		{fmt.Errorf("x: %w", repo.ErrNotFound), http.StatusNotFound},
		{sql.ErrNoRows, http.StatusNotFound},
		{fmt.Errorf("x: %w", repo.ErrConflict), http.StatusConflict},
		{fmt.Errorf("x: %w", db.ErrUniqueViolation), http.StatusConflict},
		{fmt.Errorf("x: %w", db.ErrForeignKeyViolation), http.StatusConflict},
		{fmt.Errorf("x: %w", db.ErrRetryable), http.StatusServiceUnavailable},
		{fmt.Errorf("x: %w", db.ErrConnLost), http.StatusServiceUnavailable},
		{context.DeadlineExceeded, http.StatusServiceUnavailable},
		{errors.New(`pq: relation "users" does not exist`), http.StatusInternalServerError},
	} {
		p := api.ProblemFor(tc.err)
		if p.Status != tc.code {
			t.Errorf("ProblemFor(%v) = %d, want %d", tc.err, p.Status, tc.code)
		}
		if strings.Contains(p.Detail, "relation") || strings.Contains(p.Detail, "pq:") {
			t.Errorf("ProblemFor(%v) leaks driver text: %q", tc.err, p.Detail)
		}
	}
}

// A rejected query's client sentence reaches the client; its Go error, with
// the package and the table, does not.
func TestProblemForQueryError(t *testing.T) {
	err := fmt.Errorf("listing: %w", &repo.QueryError{Op: "sort", Table: "users", Column: "password",
		Allowed: []string{"id", "name"}, Detail: `unknown sort column "password"; sortable: id, name`})
	p := api.ProblemFor(err)
	if p.Status != http.StatusBadRequest || p.Detail != `unknown sort column "password"; sortable: id, name` {
		t.Fatalf("ProblemFor = %d %q", p.Status, p.Detail)
	}
	if !errors.Is(err, repo.ErrInvalidQuery) {
		t.Fatal("a QueryError is no longer repo.ErrInvalidQuery")
	}
}
