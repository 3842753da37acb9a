package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/gin-gonic/gin"
)

// TestRouteTimeoutAnswers503 runs a handler that outlives its route's
// transaction timeout, enforced by the transaction's timer: the request
// answers 503 problem+json, nothing is committed, and the connection is
// back in the pool. A handler within its timeout commits.
func TestRouteTimeoutAnswers503(t *testing.T) {
	e, x, _ := txEngine(t, func(e *gin.Engine) {
		slow := func(c *gin.Context, q db.Querier) error {
			if err := insertV(c, q); err != nil {
				return err
			}
			time.Sleep(300 * time.Millisecond)
			return insertV(c, q)
		}
		e.POST("/slow", api.Handle(slow, api.WithTx(db.TxOptions{Timeout: 50 * time.Millisecond})))
		e.POST("/fast", api.Handle(insertV, api.WithTx(db.TxOptions{Timeout: time.Minute})))
	})
	w := serve(e, http.MethodPost, "/slow")
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Header().Get("Content-Type"), "problem+json") {
		t.Fatalf("a transaction past its timeout answered %d %s", w.Code, w.Body)
	}
	if n := rows(t, x); n != 0 {
		t.Fatalf("%d rows after a timed-out request", n)
	}
	if w := serve(e, http.MethodPost, "/fast"); w.Code != http.StatusNoContent && w.Code != http.StatusOK {
		t.Fatalf("a request within its timeout answered %d %s", w.Code, w.Body)
	}
	if n := rows(t, x); n != 1 {
		t.Fatalf("%d rows after a request within its timeout, want 1", n)
	}
	if in := x.Stats().InUse; in != 0 {
		t.Fatalf("%d connections in use", in)
	}
}

// TestRouteTimeoutInterruptsAStatement runs a statement that would take
// minutes, given c.Request.Context() or the *gin.Context, on a route with a
// short transaction timeout: the timeout interrupts it, the request answers
// 503 problem+json, nothing is committed, and the connection goes back to
// the pool.
func TestRouteTimeoutInterruptsAStatement(t *testing.T) {
	const forever = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000000) SELECT COUNT(*) FROM c"
	e, x, _ := txEngine(t, func(e *gin.Engine) {
		long := func(ctx func(c *gin.Context) context.Context) func(c *gin.Context, q db.Querier) error {
			return func(c *gin.Context, q db.Querier) error {
				if err := insertV(c, q); err != nil {
					return err
				}
				var n int64
				return q.GetContext(ctx(c), &n, forever)
			}
		}
		opt := api.WithTx(db.TxOptions{Timeout: 100 * time.Millisecond})
		e.POST("/request-context", api.Handle(long(func(c *gin.Context) context.Context { return c.Request.Context() }), opt))
		e.POST("/gin-context", api.Handle(long(func(c *gin.Context) context.Context { return c }), opt))
	})
	for _, path := range []string{"/request-context", "/gin-context"} {
		start := time.Now()
		w := serve(e, http.MethodPost, path)
		if took := time.Since(start); took > 20*time.Second {
			t.Fatalf("%s ran %v, past its 100ms timeout", path, took)
		}
		if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Header().Get("Content-Type"), "problem+json") {
			t.Errorf("%s: a statement interrupted by the timeout answered %d %s", path, w.Code, w.Body)
		}
		if n := rows(t, x); n != 0 {
			t.Errorf("%s: %d rows after a timed-out request", path, n)
		}
		// database/sql gives an interrupted transaction's connection back
		// on its own goroutine, a moment after the request ends.
		deadline := time.Now().Add(5 * time.Second)
		for x.Stats().InUse != 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if in := x.Stats().InUse; in != 0 {
			t.Errorf("%s: %d connections in use", path, in)
		}
	}
}
