package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/gin-gonic/gin"
)

// TestRouteTimeoutAnswers503 runs a handler that outlives its route's
// transaction timeout, enforced by the middleware's watchdog: the request
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
