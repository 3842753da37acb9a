package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
)

// txEngine is an engine over a real SQLite file with the framework's
// transaction providers and a table t(v).
func txEngine(t *testing.T, routes func(e *gin.Engine)) (*gin.Engine, *sqlx.DB, *scope.Registry) {
	t.Helper()
	return txEngineWith(t, api.MiddlewareConfig{}, nil, routes)
}

// txEngineWith is txEngine with the middleware's options, and outer
// middlewares installed before it.
func txEngineWith(t *testing.T, opts api.MiddlewareConfig, outer []gin.HandlerFunc, routes func(e *gin.Engine)) (*gin.Engine, *sqlx.DB, *scope.Registry) {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite:" + t.TempDir() + "/t.db"
	x, d, err := db.Open(cfg.DatabaseURL, db.Pool{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	x.MustExec("CREATE TABLE t (v INT)")
	reg := compiledRegistry(t, api.TxProviders(db.PrimaryOnly(x, d), nil, nil)...)
	gin.SetMode(gin.TestMode)
	e := gin.New()
	e.Use(outer...)
	e.Use(api.NewMiddleware(reg, opts).HandlerFunc())
	routes(e)
	if err := api.CheckRoutes(e, reg); err != nil {
		t.Fatal(err)
	}
	return e, x, reg
}

func rows(t *testing.T, x *sqlx.DB) int {
	t.Helper()
	var n int
	if err := x.Get(&n, "SELECT COUNT(*) FROM t"); err != nil {
		t.Fatal(err)
	}
	return n
}

func insertV(c *gin.Context, q db.Querier) error {
	_, err := q.ExecContext(c.Request.Context(), "INSERT INTO t (v) VALUES (1)")
	return err
}

// A request whose transaction rolled back never answers success, even when
// its handler wrote one before failing.
func TestRolledBackRequestNeverAnswersSuccess(t *testing.T) {
	e, x, _ := txEngine(t, func(e *gin.Engine) {
		e.POST("/written-then-error", api.Handle(func(c *gin.Context, q db.Querier) error {
			if err := insertV(c, q); err != nil {
				return err
			}
			c.JSON(http.StatusCreated, gin.H{"ok": true})
			return api.NewError(http.StatusConflict, "changed my mind")
		}))
		e.POST("/c-error", func(c *gin.Context) {
			q, _ := api.Resolve[db.Querier](c)
			_ = insertV(c, q)
			_ = c.Error(errors.New("recorded"))
			c.JSON(http.StatusOK, gin.H{"ok": true})
		})
		e.POST("/rollback-only", api.Handle(func(c *gin.Context, tx *db.Tx) (gin.H, error) {
			tx.SetRollbackOnly()
			return gin.H{"dry_run": true}, insertV(c, tx)
		}))
		e.GET("/no-db", func(c *gin.Context) {
			_ = c.Error(errors.New("logged, not fatal"))
			c.String(http.StatusOK, "fine")
		})
	})
	for path, want := range map[string]int{
		"/written-then-error": http.StatusConflict,
		"/c-error":            http.StatusInternalServerError,
		"/rollback-only":      http.StatusOK, // the handler chose the rollback
	} {
		w := serve(e, http.MethodPost, path)
		if w.Code != want {
			t.Errorf("%s: %d %s, want %d", path, w.Code, w.Body, want)
		}
	}
	if n := rows(t, x); n != 0 {
		t.Fatalf("%d rows kept", n)
	}
	// Without database work, c.Error alone leaves the handler's answer.
	if w := serve(e, http.MethodGet, "/no-db"); w.Code != http.StatusOK {
		t.Fatalf("/no-db: %d", w.Code)
	}
}

// A retry keeps the errors recorded before the handler: the request still
// rolls back.
func TestRetryKeepsEarlierErrors(t *testing.T) {
	calls := 0
	e, x, _ := txEngine(t, func(e *gin.Engine) {
		e.POST("/r", func(c *gin.Context) { _ = c.Error(errors.New("from a middleware")) },
			api.Handle(func(c *gin.Context, q db.Querier) (gin.H, error) {
				calls++
				if err := insertV(c, q); err != nil {
					return nil, err
				}
				if calls == 1 {
					return nil, fmt.Errorf("first: %w", db.ErrRetryable)
				}
				return gin.H{"ok": true}, nil
			}, api.WithRetry(3)))
	})
	w := serve(e, http.MethodPost, "/r")
	if calls != 2 || w.Code < 400 || rows(t, x) != 0 {
		t.Fatalf("calls %d, answer %d, rows %d: the middleware's error was forgotten", calls, w.Code, rows(t, x))
	}
}

// A client gone during a retry's backoff ends the request cleanly.
func TestRetryBackoffCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, x, _ := txEngine(t, func(e *gin.Engine) {
		e.POST("/r", api.Handle(func(c *gin.Context, q db.Querier) error {
			if err := insertV(c, q); err != nil {
				return err
			}
			cancel() // the client goes away before the retry
			return fmt.Errorf("busy: %w", db.ErrRetryable)
		}, api.WithRetry(5)))
	})
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/r", nil).WithContext(ctx))
	if w.Code != http.StatusServiceUnavailable || rows(t, x) != 0 || x.Stats().InUse != 0 {
		t.Fatalf("answer %d, rows %d, in use %d", w.Code, rows(t, x), x.Stats().InUse)
	}
}

// A context kept past its request does not reach the next request's state.
func TestKeptContextDoesNotReachTheNextRequest(t *testing.T) {
	var kept context.Context
	e, _, reg := txEngine(t, func(e *gin.Engine) {
		e.GET("/keep", api.Handle(func(c *gin.Context, tx *db.Tx) error {
			kept = tx.Context()
			return nil
		}, api.WithReadOnly()))
	})
	if w := serve(e, http.MethodGet, "/keep"); w.Code != http.StatusOK {
		t.Fatalf("/keep: %d %s", w.Code, w.Body)
	}
	if kept == nil {
		t.Fatal("the handler kept no context")
	}
	var opts db.TxOptions
	err := reg.Run(kept, func(s *scope.Scope) error {
		tx, err := scope.Get[*db.Tx](s)
		if err != nil {
			return err
		}
		opts = tx.Options()
		return nil
	})
	if err != nil || opts.ReadOnly {
		t.Fatalf("a job on a kept request context got %+v (%v): the ended request's policy", opts, err)
	}
}

// An error answer keeps the headers set before the middleware (CORS) and
// drops the handler's.
func TestErrorAnswersKeepEarlierHeaders(t *testing.T) {
	e, _, _ := txEngine(t, func(e *gin.Engine) {})
	cors := func(c *gin.Context) { c.Header("Access-Control-Allow-Origin", "*") }
	e2 := gin.New()
	e2.Use(cors)
	e2.Use(e.Handlers...)
	e2.POST("/x", api.Handle(func(c *gin.Context, q db.Querier) error {
		c.Header("X-Handler", "set")
		if err := insertV(c, q); err != nil {
			return err
		}
		c.JSON(http.StatusCreated, gin.H{"ok": true})
		return errors.New("failed")
	}))
	w := serve(e2, http.MethodPost, "/x")
	if w.Code != http.StatusInternalServerError || w.Header().Get("Access-Control-Allow-Origin") != "*" || w.Header().Get("X-Handler") != "" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
}
