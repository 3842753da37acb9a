package requestscope_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
)

// migrations creates the tables of the scenarios, per dialect.
func migrations() fstest.MapFS {
	common := "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE);\n" +
		"CREATE TABLE counters (id INT PRIMARY KEY, n INT NOT NULL);\n" +
		"INSERT INTO counters (id, n) VALUES (1, 0);\n" +
		"CREATE TABLE parents (id INT PRIMARY KEY);\n"
	children := map[string]string{
		// A deferred foreign key fails at COMMIT, not at INSERT.
		"sqlite": "CREATE TABLE children (id INT PRIMARY KEY, parent_id INT NOT NULL REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED);\n",
		"postgres": "CREATE TABLE children (id INT PRIMARY KEY, parent_id INT NOT NULL REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED);\n" +
			// A deferred unique constraint fails at COMMIT too.
			"CREATE TABLE tags (id INT PRIMARY KEY, name TEXT NOT NULL, CONSTRAINT tags_name_key UNIQUE (name) DEFERRABLE INITIALLY DEFERRED);\n",
		// MySQL has no deferred constraints: its failed commit is forced
		// by killing the transaction's connection.
		"mysql": "CREATE TABLE children (id INT PRIMARY KEY, parent_id INT NOT NULL);\n",
	}
	fsys := fstest.MapFS{}
	for d, ch := range children {
		fsys[d+"/00001_scenarios.sql"] = &fstest.MapFile{Data: []byte("-- +goose Up\n" + common + ch)}
	}
	return fsys
}

// Svc is a scoped service numbered in creation order.
type Svc struct {
	N int64
	Q db.Querier
}

// Seq numbers Svc instances; a singleton.
type Seq struct{ n atomic.Int64 }

// Hooks records after-commit hooks that ran; a singleton.
type Hooks struct {
	mu  sync.Mutex
	ran []string
}

func (h *Hooks) add(s string) {
	h.mu.Lock()
	h.ran = append(h.ran, s)
	h.mu.Unlock()
}

func (h *Hooks) list() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.ran...)
}

// insert adds item id through q.
func insert(c *gin.Context, q db.Querier, id int) error {
	_, err := q.ExecContext(c.Request.Context(), q.Rebind("INSERT INTO items (id, name) VALUES (?, ?)"), id, "item-"+strconv.Itoa(id))
	return err
}

func idParam(c *gin.Context) int {
	id, _ := strconv.Atoi(c.Param("id"))
	return id
}

// routes are the scenarios' handlers.
func routes(e *gin.Engine, hooks *Hooks, pool *poolRef) {
	e.POST("/items/:id", api.Handle(func(c *gin.Context, q db.Querier) (gin.H, error) {
		if err := insert(c, q, idParam(c)); err != nil {
			return nil, err
		}
		c.Status(http.StatusCreated)
		return gin.H{"id": idParam(c)}, nil
	}))
	e.GET("/items/:id", api.Handle(func(c *gin.Context, q db.Querier) (gin.H, error) {
		var name string
		err := q.GetContext(c.Request.Context(), &name, q.Rebind("SELECT name FROM items WHERE id = ?"), idParam(c))
		return gin.H{"name": name}, err
	}, api.WithReadOnly()))
	e.POST("/items/:id/error", api.Handle(func(c *gin.Context, q db.Querier) error {
		if err := insert(c, q, idParam(c)); err != nil {
			return err
		}
		return errors.New("handler failed after writing")
	}))
	e.POST("/items/:id/c-error", func(c *gin.Context) {
		q, err := api.Resolve[db.Querier](c)
		if err == nil {
			err = insert(c, q, idParam(c))
		}
		_ = c.Error(errors.New("recorded with c.Error"))
		c.JSON(http.StatusOK, gin.H{"ok": true, "err": err})
	})
	e.POST("/items/:id/status/:code", func(c *gin.Context) {
		q, _ := api.Resolve[db.Querier](c)
		if err := insert(c, q, idParam(c)); err != nil {
			c.Status(599)
			return
		}
		code, _ := strconv.Atoi(c.Param("code"))
		c.JSON(code, gin.H{"status": code})
	})
	e.POST("/items/:id/panic", api.Handle(func(c *gin.Context, q db.Querier) error {
		if err := insert(c, q, idParam(c)); err != nil {
			return err
		}
		panic("boom")
	}))
	e.POST("/items/:id/rollback-only", api.Handle(func(c *gin.Context, tx *db.Tx) (gin.H, error) {
		if err := insert(c, tx, idParam(c)); err != nil {
			return nil, err
		}
		tx.SetRollbackOnly()
		return gin.H{"ok": true}, nil
	}))
	e.POST("/items/:id/wait", api.Handle(func(c *gin.Context, q db.Querier) error {
		if err := insert(c, q, idParam(c)); err != nil {
			return err
		}
		<-c.Request.Context().Done() // until the client goes away
		return nil
	}))
	// Two tags of one name: on PostgreSQL the deferred unique constraint
	// fails at COMMIT. ?stream=1 flushes first, so the commit runs there.
	e.POST("/tags/:name", api.Handle(func(c *gin.Context, tx *db.Tx) (gin.H, error) {
		for id := 1; id <= 2; id++ {
			if _, err := tx.ExecContext(c.Request.Context(), "INSERT INTO tags (id, name) VALUES ($1, $2)", id, c.Param("name")); err != nil {
				return nil, err
			}
		}
		c.JSON(http.StatusCreated, gin.H{"created": true})
		if c.Query("stream") != "" {
			c.Writer.Flush()
		}
		return nil, nil
	}))
	e.POST("/orphans/:id", api.Handle(func(c *gin.Context, tx *db.Tx) (gin.H, error) {
		ctx := c.Request.Context()
		if err := insert(c, tx, idParam(c)); err != nil {
			return nil, err
		}
		if tx.Dialect() == db.MySQL {
			var id int64
			if err := tx.GetContext(ctx, &id, "SELECT CONNECTION_ID()"); err != nil {
				return nil, err
			}
			if _, err := pool.x().ExecContext(ctx, fmt.Sprintf("KILL %d", id)); err != nil {
				return nil, err
			}
		} else if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO children (id, parent_id) VALUES (?, ?)"), idParam(c), 999999); err != nil {
			return nil, err
		}
		return gin.H{"created": true}, nil
	}))
	e.GET("/no-db", api.Handle(func(c *gin.Context, s *Svc) (gin.H, error) {
		return gin.H{"svc": s.N}, nil
	}))
	e.GET("/scoped", api.Handle(func(c *gin.Context, a *Svc, tx *db.Tx) (gin.H, error) {
		b, err := api.Resolve[*Svc](c)
		if err != nil {
			return nil, err
		}
		q, err := api.Resolve[db.Querier](c)
		if err != nil {
			return nil, err
		}
		return gin.H{"a": a.N, "b": b.N, "same_svc": a == b, "same_tx": q == db.Querier(tx) && a.Q == q}, nil
	}))
	e.POST("/items/:id/after-commit", api.Handle(func(c *gin.Context, tx *db.Tx) (gin.H, error) {
		id := idParam(c)
		if err := insert(c, tx, id); err != nil {
			return nil, err
		}
		tx.AfterCommit(func(ctx context.Context) {
			// Runs outside the transaction: the pool sees the row.
			var n int
			_ = pool.x().GetContext(ctx, &n, tx.Rebind("SELECT COUNT(*) FROM items WHERE id = ?"), id)
			hooks.add(fmt.Sprintf("%d:%d", id, n))
		})
		if c.Query("fail") != "" {
			return nil, errors.New("fail after registering the hook")
		}
		return gin.H{"ok": true}, nil
	}))
	e.POST("/items/:id/savepoints", api.Handle(func(c *gin.Context, tx *db.Tx) (gin.H, error) {
		ctx := c.Request.Context()
		id := idParam(c)
		if err := insert(c, tx, id); err != nil {
			return nil, err
		}
		inner := tx.Savepoint(ctx, func(ctx context.Context) error {
			if err := insert(c, tx, id+1000); err != nil {
				return err
			}
			return errors.New("undo this savepoint only")
		})
		if inner == nil {
			return nil, errors.New("the failing savepoint reported no error")
		}
		if err := tx.Savepoint(ctx, func(ctx context.Context) error { return insert(c, tx, id+2000) }); err != nil {
			return nil, err
		}
		return gin.H{"ok": true}, nil
	}))
}

// poolRef hands handlers the app's pool, for work outside the request's
// transaction.
type poolRef struct{ db *sqlx.DB }

func (p *poolRef) x() *sqlx.DB { return p.db }

// start starts the scenario app on databaseURL.
func start(t *testing.T, databaseURL string, extra ...fx.Option) (*fasttest.App, *Hooks) {
	t.Helper()
	return startWith(t, fasttest.Config(databaseURL), extra...)
}

func startWith(t *testing.T, cfg config.Config, extra ...fx.Option) (*fasttest.App, *Hooks) {
	t.Helper()
	hooks := &Hooks{}
	pool := &poolRef{}
	opts := append([]fx.Option{
		fx.Supply(hooks, pool, &Seq{}),
		fxmodules.Scoped(func(q db.Querier, seq *Seq) *Svc { return &Svc{N: seq.n.Add(1), Q: q} }),
		fx.Invoke(routes),
	}, extra...)
	a := fasttest.StartWith(t, cfg, migrations(), opts...)
	pool.db = a.DB
	return a, hooks
}
