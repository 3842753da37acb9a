package api_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
)

// probe is a handler result that records, when it is encoded, how the
// request's transaction stands and how many connections are in use.
type probe struct {
	tx      *db.Tx
	x       *sqlx.DB
	outcome db.Outcome
	inUse   int
	encoded bool
}

func (p *probe) MarshalJSON() ([]byte, error) {
	p.outcome, p.inUse, p.encoded = p.tx.Outcome(), p.x.Stats().InUse, true
	return []byte(`{"probed":true}`), nil
}

// The last handler of a checked route commits as soon as it returns, before
// its result is encoded: the connection is back in the pool by then. An
// unchecked engine commits at the end of the chain, as before.
func TestFinalHandleCommitsBeforeEncoding(t *testing.T) {
	for _, checked := range []bool{true, false} {
		t.Run(fmt.Sprintf("checked=%v", checked), func(t *testing.T) {
			p := &probe{}
			var x *sqlx.DB
			e, x0, reg := txEngine(t, func(e *gin.Engine) {
				e.POST("/p", api.Handle(func(c *gin.Context, tx *db.Tx) (*probe, error) {
					p.tx, p.x = tx, x
					c.Status(http.StatusCreated)
					return p, insertV(c, tx)
				}))
			})
			x = x0
			if checked {
				if err := api.CheckRoutes(e, reg); err != nil {
					t.Fatal(err)
				}
			}
			w := serve(e, http.MethodPost, "/p")
			if w.Code != http.StatusCreated || w.Body.String() != `{"probed":true}` || rows(t, x) != 1 {
				t.Fatalf("%d %s, rows %d", w.Code, w.Body, rows(t, x))
			}
			want, wantInUse := db.OutcomeCommitted, 0
			if !checked {
				want, wantInUse = db.OutcomeOpen, 1
			}
			if p.outcome != want || p.inUse != wantInUse {
				t.Errorf("at encoding: outcome %v, in use %d; want %v, %d", p.outcome, p.inUse, want, wantInUse)
			}
		})
	}
}

// A commit that fails on that early path answers the failure, and the
// result is never encoded.
func TestFinalHandleFailedCommitIsNotEncoded(t *testing.T) {
	p := &probe{}
	var x *sqlx.DB
	e, x0, reg := txEngine(t, func(e *gin.Engine) {
		e.POST("/p", api.Handle(func(c *gin.Context, tx *db.Tx) (*probe, error) {
			p.tx, p.x = tx, x
			if err := insertV(c, tx); err != nil {
				return nil, err
			}
			// Make the commit fail: the row violates a deferred check
			// that SQLite runs at COMMIT.
			_, err := tx.ExecContext(c, "PRAGMA defer_foreign_keys = ON")
			if err == nil {
				_, err = tx.ExecContext(c, "INSERT INTO child (parent_id) VALUES (999)")
			}
			return p, err
		}))
	})
	x = x0
	x.MustExec("PRAGMA foreign_keys = ON")
	x.MustExec("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
	x.MustExec("CREATE TABLE child (parent_id INTEGER REFERENCES parent(id))")
	if err := api.CheckRoutes(e, reg); err != nil {
		t.Fatal(err)
	}
	w := serve(e, http.MethodPost, "/p")
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Header().Get("Content-Type"), "problem+json") {
		t.Fatalf("%d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	var prob api.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &prob); err != nil || !strings.Contains(prob.Detail, "could not be committed") {
		t.Fatalf("body %s (%v): want the commit failure, not the handler's", w.Body, err)
	}
	if p.encoded {
		t.Error("the result of a request whose commit failed was encoded")
	}
	if rows(t, x) != 0 || x.Stats().InUse != 0 {
		t.Errorf("rows %d, in use %d", rows(t, x), x.Stats().InUse)
	}
}

// An api.Handle that is not the last handler of its route does not commit
// early: the handler after it still works in the same transaction, and
// its error still rolls everything back.
func TestHandleBeforeAnotherHandlerDoesNotCommitEarly(t *testing.T) {
	e, x, reg := txEngine(t, func(e *gin.Engine) {
		first := api.Handle(func(c *gin.Context, q db.Querier) error { return insertV(c, q) })
		e.POST("/both", first, api.Handle(func(c *gin.Context, q db.Querier) (gin.H, error) {
			return gin.H{"ok": true}, insertV(c, q)
		}))
		e.POST("/then-fail", first, func(c *gin.Context) {
			q, err := api.Resolve[db.Querier](c)
			if err == nil {
				err = insertV(c, q)
			}
			if err == nil {
				err = errors.New("the second handler failed")
			}
			_ = c.Error(err)
			c.Status(http.StatusInternalServerError)
		})
	})
	if err := api.CheckRoutes(e, reg); err != nil {
		t.Fatal(err)
	}
	if w := serve(e, http.MethodPost, "/both"); w.Code != http.StatusOK || rows(t, x) != 2 {
		t.Fatalf("/both: %d %s, rows %d", w.Code, w.Body, rows(t, x))
	}
	if w := serve(e, http.MethodPost, "/then-fail"); w.Code != http.StatusInternalServerError || rows(t, x) != 2 {
		t.Fatalf("/then-fail: %d %s, rows %d (the first handler's insert must roll back)", w.Code, w.Body, rows(t, x))
	}
}

// On a checked route, a middleware between the request-scope middleware and
// the final api.Handle runs its after-c.Next code once the work is
// committed: an error it records then no longer rolls back, while one
// recorded before the handler ran still does.
func TestFinalHandleCommitsBeforeInnerMiddlewareReturns(t *testing.T) {
	var outcomeAfter db.Outcome
	e, x, reg := txEngine(t, func(e *gin.Engine) {
		after := func(c *gin.Context) {
			c.Next()
			tx, _ := api.Resolve[*db.Tx](c)
			outcomeAfter = tx.Outcome()
			_ = c.Error(errors.New("too late to veto"))
		}
		before := func(c *gin.Context) { _ = c.Error(errors.New("vetoed before the handler")) }
		h := func(c *gin.Context, q db.Querier) (gin.H, error) { return gin.H{"ok": true}, insertV(c, q) }
		e.POST("/after", after, api.Handle(h))
		e.POST("/before", before, api.Handle(h))
	})
	if err := api.CheckRoutes(e, reg); err != nil {
		t.Fatal(err)
	}
	if w := serve(e, http.MethodPost, "/after"); w.Code != http.StatusOK || rows(t, x) != 1 || outcomeAfter != db.OutcomeCommitted {
		t.Fatalf("/after: %d %s, rows %d, outcome after c.Next %v", w.Code, w.Body, rows(t, x), outcomeAfter)
	}
	if w := serve(e, http.MethodPost, "/before"); w.Code == http.StatusOK || rows(t, x) != 1 {
		t.Fatalf("/before: %d %s, rows %d", w.Code, w.Body, rows(t, x))
	}
}

// A handler that streams before it touches the database has settled its
// request: the transaction it asks for afterwards is refused, rather than
// begun and silently rolled back at the end. A request that resolves
// nothing never opens its scope, and still answers.
func TestTransactionAfterStreamingIsRefused(t *testing.T) {
	var resolveErr error
	e, x, _ := txEngine(t, func(e *gin.Engine) {
		e.POST("/stream-then-db", func(c *gin.Context) {
			c.String(http.StatusOK, "first")
			c.Writer.Flush()
			var q db.Querier
			if q, resolveErr = api.Resolve[db.Querier](c); resolveErr == nil {
				_ = insertV(c, q)
			}
		})
		e.GET("/nothing", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	})
	if w := serve(e, http.MethodPost, "/stream-then-db"); w.Code != http.StatusOK || w.Body.String() != "first" {
		t.Fatalf("%d %q", w.Code, w.Body)
	}
	if !errors.Is(resolveErr, scope.ErrEnded) || rows(t, x) != 0 {
		t.Errorf("Resolve after the flush = %v (want scope.ErrEnded), rows %d", resolveErr, rows(t, x))
	}
	if w := serve(e, http.MethodGet, "/nothing"); w.Code != http.StatusOK || w.Body.String() != "ok" {
		t.Fatalf("/nothing: %d %q", w.Code, w.Body)
	}
	if n := x.Stats().InUse; n != 0 {
		t.Errorf("InUse = %d", n)
	}
}
