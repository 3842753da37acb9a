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
			// Work on until the timeout refuses a statement; a timeout
			// that never fires fails the request after 10s.
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
				var one int
				if err := q.GetContext(c, &one, "SELECT 1"); err != nil {
					return err
				}
			}
			return nil
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

// TestRouteTimeoutInterruptsAStatement runs a statement that takes
// seconds, given c.Request.Context() or the *gin.Context, on a route with a
// short transaction timeout: the timeout interrupts it, the request answers
// 503 problem+json, nothing is committed, and the connection goes back to
// the pool.
func TestRouteTimeoutInterruptsAStatement(t *testing.T) {
	// Seconds of work, far past the 100ms timeout, but bounded: a timeout
	// that does not interrupt it fails the test (the statement ends and
	// the request commits) instead of hanging the suite.
	const long = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) SELECT COUNT(*) FROM c"
	e, x, _ := txEngine(t, func(e *gin.Engine) {
		run := func(ctx func(c *gin.Context) context.Context) func(c *gin.Context, q db.Querier) error {
			return func(c *gin.Context, q db.Querier) error {
				if err := insertV(c, q); err != nil {
					return err
				}
				var n int64
				return q.GetContext(ctx(c), &n, long)
			}
		}
		opt := api.WithTx(db.TxOptions{Timeout: 100 * time.Millisecond})
		e.POST("/request-context", api.Handle(run(func(c *gin.Context) context.Context { return c.Request.Context() }), opt))
		e.POST("/gin-context", api.Handle(run(func(c *gin.Context) context.Context { return c }), opt))
	})
	for _, path := range []string{"/request-context", "/gin-context"} {
		w := serve(e, http.MethodPost, path)
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
