// Package replicas_test runs an app on a PostgreSQL primary and its
// streaming replica (.ci/pg-replica) and checks what its clients see:
// read-only routes on the replica, their own writes wherever they read,
// and no error when the replica lags or dies.
package replicas_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/replicatest"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// app is a running test app on the replication pair.
type app struct {
	base       string
	cluster    *db.Cluster
	primaryURL string
	replicaURL string
	primary    *sqlx.DB
}

// item is a row of replica_items, as the app answers it.
type item struct {
	Found  bool   `json:"found"`
	Name   string `json:"name"`
	Server string `json:"server"`
}

// start runs the app with the pair's URLs, a fresh replica_items table on
// the primary, replayed on the replica, and cfg changed by mutate.
func start(t *testing.T, mutate func(*config.Config)) *app {
	t.Helper()
	primaryURL, replicaURL := replicatest.URLs(t)
	x, err := sqlx.Open("pgx", primaryURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	for _, q := range []string{"DROP TABLE IF EXISTS replica_items",
		"CREATE TABLE replica_items (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL)"} {
		if _, err := x.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	replicatest.WaitReplayed(t, primaryURL, replicaURL)

	cfg := config.Default()
	cfg.DatabaseURL = primaryURL
	cfg.DatabaseReplicaURLs = replicaURL
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.StartTimeout = 10 * time.Second
	cfg.StopTimeout = 10 * time.Second
	cfg.ReplicaProbeInterval = 20 * time.Millisecond
	cfg.ReplicaPositionKey = "a test key of sixteen bytes or more"
	if mutate != nil {
		mutate(&cfg)
	}
	var srv *http.Server
	a := &app{primaryURL: primaryURL, replicaURL: replicaURL, primary: x}
	fxa := fxtest.New(t,
		fxmodules.Framework(nil),
		fx.Replace(cfg),
		fx.Decorate(func() *slog.Logger { return slog.New(slog.DiscardHandler) }),
		fx.Invoke(routes),
		fx.Populate(&srv, &a.cluster),
	)
	fxa.RequireStart()
	t.Cleanup(fxa.RequireStop)
	a.base = "http://" + srv.Addr
	a.waitInRotation(t, true)
	return a
}

// routes are the test app's: a write, a write that reads its row back, and
// a read-only read.
func routes(e *gin.Engine) {
	e.POST("/items", api.Handle(func(c *gin.Context, q db.Querier) (gin.H, error) {
		var id int64
		err := q.GetContext(c, &id, "INSERT INTO replica_items (name) VALUES ($1) RETURNING id", c.Query("name"))
		return gin.H{"id": id}, err
	}))
	e.POST("/items/then-read", api.Handle(func(c *gin.Context, tx *db.Tx) (item, error) {
		var id int64
		if err := tx.GetContext(c, &id, "INSERT INTO replica_items (name) VALUES ($1) RETURNING id", c.Query("name")); err != nil {
			return item{}, err
		}
		return readItem(c, tx, id)
	}))
	e.GET("/items/:id", api.Handle(func(c *gin.Context, tx *db.Tx) (item, error) {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return item{}, err
		}
		return readItem(c, tx, id)
	}, api.WithReadOnly()))
}

// readItem reads item id on tx, and names the server it ran on.
func readItem(ctx context.Context, tx *db.Tx, id int64) (item, error) {
	var it item
	err := tx.GetContext(ctx, &it.Name, "SELECT name FROM replica_items WHERE id = $1", id)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	} else if err == nil {
		it.Found = true
	}
	it.Server = tx.Server()
	return it, err
}

// client is an HTTP client; with a cookie jar, it carries the position of
// its writes as a browser would.
func client(t *testing.T, jar bool) *http.Client {
	c := &http.Client{Timeout: 30 * time.Second}
	if jar {
		j, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Jar = j
	}
	return c
}

// create creates an item named name and returns its id and the response.
func (a *app) create(t *testing.T, c *http.Client, name string) (int64, *http.Response) {
	t.Helper()
	resp, err := c.Post(a.base+"/items?name="+name, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ ID int64 }
	decode(t, resp, &out)
	return out.ID, resp
}

// get reads item id through the read-only route, with header set on the
// request if given.
func (a *app) get(t *testing.T, c *http.Client, id int64, header ...string) item {
	t.Helper()
	it, err := a.tryGet(c, id, header...)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// tryGet is get, returning its error.
func (a *app) tryGet(c *http.Client, id int64, header ...string) (item, error) {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/items/%d", a.base, id), nil)
	if err != nil {
		return item{}, err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return item{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return item{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return item{}, fmt.Errorf("GET /items/%d: %d %s", id, resp.StatusCode, body)
	}
	var it item
	return it, jsonUnmarshal(body, &it)
}

// waitInRotation waits until the replica is in rotation (up) or out of it.
func (a *app) waitInRotation(t *testing.T, up bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := a.cluster.Replicas()
		if len(st) == 1 && st[0].Up == up {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica's rotation is %+v after 30s, want up=%v", st, up)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitReplayed waits until the replica has replayed the primary's writes
// and the Cluster's probe has seen it.
func (a *app) waitReplayed(t *testing.T) {
	t.Helper()
	replicatest.WaitReplayed(t, a.primaryURL, a.replicaURL)
	var s string
	if err := a.primary.Get(&s, "SELECT pg_current_wal_lsn()::text"); err != nil {
		t.Fatal(err)
	}
	want, err := db.ParsePosition(s)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for a.cluster.Replicas()[0].Replayed < want {
		if time.Now().After(deadline) {
			t.Fatalf("the probe saw %v replayed after 30s, want %v", a.cluster.Replicas()[0].Replayed, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
