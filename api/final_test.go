package api_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
)

// probe is a handler result that records, when it is encoded, how the
// request's transaction stands; with fail or boom set, encoding it fails.
type probe struct {
	tx      *db.Tx
	outcome db.Outcome
	encoded bool
	fail    bool
	boom    bool
}

func (p *probe) MarshalJSON() ([]byte, error) {
	p.outcome, p.encoded = p.tx.Outcome(), true
	if p.boom {
		panic("cannot encode")
	}
	if p.fail {
		return nil, errors.New("cannot encode")
	}
	return []byte(`{"probed":true}`), nil
}

// probeEngine serves POST /p: insert a row, return p. With check, the routes
// are checked as the HTTP module does at start; with retry, the route may run
// twice.
func probeEngine(t *testing.T, p *probe, check, retry bool) (*gin.Engine, *sqlx.DB) {
	t.Helper()
	var opts []api.Option
	if retry {
		opts = append(opts, api.WithRetry(2))
	}
	e, x, reg := txEngine(t, func(e *gin.Engine) {
		e.POST("/p", api.Handle(func(c *gin.Context, tx *db.Tx) (*probe, error) {
			p.tx = tx
			c.Status(http.StatusCreated)
			return p, insertV(c, tx)
		}, opts...))
	})
	if check {
		if err := api.CheckRoutes(e, reg); err != nil {
			t.Fatal(err)
		}
	}
	return e, x
}

// A handler's result is encoded before its transaction commits, so that a
// result that cannot be encoded rolls the work back and answers 500,
// whether it fails or panics, on a checked route or not, with retries or
// without.
func TestResultIsEncodedBeforeTheCommit(t *testing.T) {
	for _, check := range []bool{true, false} {
		for _, retry := range []bool{true, false} {
			t.Run(fmt.Sprintf("check=%v,retry=%v", check, retry), func(t *testing.T) {
				p := &probe{}
				e, x := probeEngine(t, p, check, retry)
				if w := serve(e, http.MethodPost, "/p"); w.Code != http.StatusCreated || rows(t, x) != 1 {
					t.Fatalf("%d %s, rows %d", w.Code, w.Body, rows(t, x))
				}
				if p.outcome != db.OutcomeOpen {
					t.Errorf("at encoding the transaction was %v, want open", p.outcome)
				}
				for name, bad := range map[string]*probe{"error": {fail: true}, "panic": {boom: true}} {
					e, x := probeEngine(t, bad, check, retry)
					w := serve(e, http.MethodPost, "/p")
					if w.Code != http.StatusInternalServerError || rows(t, x) != 0 || !bad.encoded {
						t.Errorf("%s while encoding: %d %s, rows %d (want 500 and nothing kept)", name, w.Code, w.Body, rows(t, x))
					}
					if n := x.Stats().InUse; n != 0 {
						t.Errorf("%s: InUse = %d", name, n)
					}
				}
			})
		}
	}
}

// A route's handlers share one transaction however they are arranged: an
// api.Handle that ends one route and sits in the middle of another commits
// nothing early on the second, whose later error rolls back both inserts.
func TestHandleChainIsOneTransaction(t *testing.T) {
	e, x, reg := txEngine(t, func(e *gin.Engine) {
		shared := api.Handle(func(c *gin.Context, q db.Querier) error { return insertV(c, q) })
		e.POST("/a", shared)
		e.POST("/b", shared, api.Handle(func(c *gin.Context, q db.Querier) error {
			if err := insertV(c, q); err != nil {
				return err
			}
			return errors.New("the second handler failed")
		}))
		e.POST("/c", shared, api.Handle(func(c *gin.Context, q db.Querier) (gin.H, error) {
			return gin.H{"ok": true}, insertV(c, q)
		}))
	})
	if err := api.CheckRoutes(e, reg); err != nil {
		t.Fatal(err)
	}
	if w := serve(e, http.MethodPost, "/b"); w.Code != http.StatusInternalServerError || rows(t, x) != 0 {
		t.Fatalf("/b: %d %s, rows %d (the first handler's insert must roll back)", w.Code, w.Body, rows(t, x))
	}
	if w := serve(e, http.MethodPost, "/c"); w.Code != http.StatusOK || rows(t, x) != 2 {
		t.Fatalf("/c: %d %s, rows %d", w.Code, w.Body, rows(t, x))
	}
	if w := serve(e, http.MethodPost, "/a"); w.Code != http.StatusOK || rows(t, x) != 3 {
		t.Fatalf("/a: %d %s, rows %d", w.Code, w.Body, rows(t, x))
	}
}

// A middleware between the request-scope middleware and the handler can
// still veto the commit after c.Next: its error rolls back.
func TestInnerMiddlewareVetoesAfterNext(t *testing.T) {
	e, x, reg := txEngine(t, func(e *gin.Engine) {
		veto := func(c *gin.Context) {
			c.Next()
			_ = c.Error(api.NewError(http.StatusConflict, "vetoed after the handler"))
		}
		e.POST("/veto", veto, api.Handle(func(c *gin.Context, q db.Querier) (gin.H, error) {
			return gin.H{"ok": true}, insertV(c, q)
		}))
	})
	if err := api.CheckRoutes(e, reg); err != nil {
		t.Fatal(err)
	}
	if w := serve(e, http.MethodPost, "/veto"); w.Code != http.StatusConflict || rows(t, x) != 0 {
		t.Fatalf("%d %s, rows %d", w.Code, w.Body, rows(t, x))
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
