package requestscope_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

// readOnlyRoutes write through a read-only route's transaction, from an
// api.Handle handler and from a plain gin handler given the option by
// api.Wrap.
func readOnlyRoutes(e *gin.Engine) {
	write := func(c *gin.Context, q db.Querier) error { return insert(c, q, idParam(c)) }
	plain := func(c *gin.Context) {
		q, err := api.Resolve[db.Querier](c)
		if err == nil {
			err = write(c, q)
		}
		if err != nil {
			_ = c.Error(err)
			c.Status(http.StatusInternalServerError)
			return
		}
		c.Status(http.StatusCreated)
	}
	e.POST("/read-only-option/:id", api.Handle(write, api.WithReadOnly()))
	e.POST("/read-only-wrap/:id", api.Wrap(plain, api.WithReadOnly()))
}

// A read-only route's transaction is read-only in the database: PostgreSQL
// and MySQL refuse its write (nothing is committed); on SQLite, which does
// not refuse writes in a read-only transaction, it begins deferred and
// takes no write lock, so it reads while another connection holds the lock.
func TestReadOnlyRouteReachesTheDatabase(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		if d == db.SQLite {
			u += "?_pragma=busy_timeout(1)"
		}
		a, _ := start(t, u, fx.Invoke(readOnlyRoutes))
		if d == db.SQLite {
			if resp := a.Do(t, http.MethodPost, "/items/1", nil); resp.Status != http.StatusCreated {
				t.Fatalf("POST /items/1: %d %s", resp.Status, resp.Body)
			}
			commit := holdSQLiteWriteLock(t, u, 500)
			defer commit()
			if resp := a.Do(t, http.MethodGet, "/items/1", nil); resp.Status != http.StatusOK {
				t.Fatalf("a read-only route waited on the write lock: %d %s", resp.Status, resp.Body)
			}
			if resp := a.Do(t, http.MethodPost, "/items/2", nil); resp.Status != http.StatusServiceUnavailable {
				t.Fatalf("a read-write route did not meet the write lock: %d %s", resp.Status, resp.Body)
			}
			a.RequireNoConnInUse(t)
			return
		}
		for i, path := range []string{"/read-only-option/", "/read-only-wrap/"} {
			id := 10 + i
			resp := a.Do(t, http.MethodPost, path+strconv.Itoa(id), nil)
			if resp.Status < http.StatusInternalServerError || rowExists(t, a, id) {
				t.Errorf("%s: a write in a read-only transaction answered %d %s (row kept: %v)", path, resp.Status, resp.Body, rowExists(t, a, id))
			}
		}
		a.RequireNoConnInUse(t)
	})
}

// innerMiddlewareRoutes write through an api.Handle handler that allows
// retries, behind a middleware that vetoes, or panics, after c.Next.
func innerMiddlewareRoutes(e *gin.Engine) {
	write := api.Handle(func(c *gin.Context, q db.Querier) (gin.H, error) {
		return gin.H{"id": idParam(c)}, insert(c, q, idParam(c))
	}, api.WithRetry(3))
	veto := func(c *gin.Context) {
		c.Next()
		_ = c.Error(api.NewError(http.StatusConflict, "vetoed after the handler"))
	}
	panics := func(c *gin.Context) {
		c.Next()
		panic("after the handler")
	}
	e.POST("/veto/:id", veto, write)
	e.POST("/panic-after/:id", panics, write)
}

// With retries allowed, the commit still waits for the middlewares between
// the request scope and the handler: a veto after c.Next rolls back, and a
// panic there answers 500 with nothing committed.
func TestRetryingRouteCommitsAfterInnerMiddlewares(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		a, _ := start(t, u, fx.Invoke(innerMiddlewareRoutes))
		if resp := a.Do(t, http.MethodPost, "/veto/41", nil); resp.Status != http.StatusConflict || rowExists(t, a, 41) {
			t.Errorf("veto: %d %s, row kept %v", resp.Status, resp.Body, rowExists(t, a, 41))
		}
		if resp := a.Do(t, http.MethodPost, "/panic-after/42", nil); resp.Status != http.StatusInternalServerError || rowExists(t, a, 42) {
			t.Errorf("panic: %d %s, row kept %v", resp.Status, resp.Body, rowExists(t, a, 42))
		}
		a.RequireNoConnInUse(t)
	})
}
