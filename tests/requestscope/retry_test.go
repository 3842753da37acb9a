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
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

// retryGate holds the first n callers of pass until all n have arrived, so
// that their transactions overlap; later callers pass at once. A caller
// never waits more than 10s, so that a mistake cannot hang the test.
type retryGate struct {
	n       int32
	arrived atomic.Int32
	open    chan struct{}
}

func newRetryGate(n int32) *retryGate { return &retryGate{n: n, open: make(chan struct{})} }

func (g *retryGate) pass() {
	switch k := g.arrived.Add(1); {
	case k > g.n:
		return
	case k == g.n:
		close(g.open)
	}
	select {
	case <-g.open:
	case <-time.After(10 * time.Second):
	}
}

// counterRoute reads counters.n then writes n+1: two such SERIALIZABLE
// transactions that overlap cannot both commit.
type counterRoute struct {
	calls atomic.Int64
	gate  *retryGate
}

func (r *counterRoute) increment(c *gin.Context, q db.Querier) (gin.H, error) {
	r.calls.Add(1)
	ctx := c.Request.Context()
	id := idParam(c)
	var n int
	if err := q.GetContext(ctx, &n, q.Rebind("SELECT n FROM counters WHERE id = ?"), id); err != nil {
		return nil, err
	}
	// The first two calls both hold their snapshot before either writes:
	// a serialization failure is certain, not left to the scheduler.
	r.gate.pass()
	if _, err := q.ExecContext(ctx, q.Rebind("UPDATE counters SET n = ? WHERE id = ?"), n+1, id); err != nil {
		return nil, err
	}
	return gin.H{"n": n + 1}, nil
}

// fire sends n concurrent requests built by path(i) with body(i) and returns
// the responses in order.
func fire(t *testing.T, a *fasttest.App, n int, method string, path func(i int) string, body func(i int) any) []fasttest.Response {
	t.Helper()
	resps, err := fireErr(a, n, method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	return resps
}

// fireErr is fire returning the transport errors, for other goroutines.
func fireErr(a *fasttest.App, n int, method string, path func(i int) string, body func(i int) any) ([]fasttest.Response, error) {
	resps := make([]fasttest.Response, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var b any
			if body != nil {
				b = body(i)
			}
			resps[i], errs[i] = a.DoContext(context.Background(), method, path(i), b)
		})
	}
	wg.Wait()
	return resps, errors.Join(errs...)
}

func counterValue(t *testing.T, a *fasttest.App, id int) int {
	t.Helper()
	var n int
	if err := a.DB.Get(&n, a.DB.Rebind("SELECT n FROM counters WHERE id = ?"), id); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRetrySerializationFailure(t *testing.T) {
	u := testdb.New(t, db.Postgres)
	withRetry := &counterRoute{gate: newRetryGate(2)}
	without := &counterRoute{gate: newRetryGate(2)}
	a, _ := start(t, u, fx.Invoke(func(e *gin.Engine) {
		e.POST("/counters/:id/increment", api.Handle(withRetry.increment, api.WithSerializable(), api.WithRetry(30)))
		e.POST("/counters/:id/increment-once", api.Handle(without.increment, api.WithSerializable()))
	}))
	const n = 16

	t.Run("with api.Retry every request succeeds", func(t *testing.T) {
		begins := a.Count.Begins.Load()
		resps := fire(t, a, n, http.MethodPost, func(int) string { return "/counters/1/increment" }, nil)
		for i, r := range resps {
			if r.Status != http.StatusOK {
				t.Errorf("request %d: %d %s", i, r.Status, r.Body)
			}
		}
		if got := counterValue(t, a, 1); got != n {
			t.Errorf("counter is %d after %d increments", got, n)
		}
		calls := withRetry.calls.Load()
		if calls <= n {
			t.Errorf("the handler ran %d times for %d requests: no retry happened", calls, n)
		}
		if got := a.Count.Begins.Load() - begins; got != calls {
			t.Errorf("%d BEGINs for %d handler calls: each attempt should run in a fresh transaction", got, calls)
		}
		t.Logf("%d requests, %d handler calls", n, calls)
		a.RequireNoConnInUse(t)
	})

	t.Run("without api.Retry a conflict answers 503", func(t *testing.T) {
		if _, err := a.DB.Exec("INSERT INTO counters (id, n) VALUES (2, 0)"); err != nil {
			t.Fatal(err)
		}
		resps := fire(t, a, n, http.MethodPost, func(int) string { return "/counters/2/increment-once" }, nil)
		ok, unavailable := 0, 0
		for i, r := range resps {
			switch r.Status {
			case http.StatusOK:
				ok++
			case http.StatusServiceUnavailable:
				unavailable++
				if ct := r.Header.Get("Content-Type"); ct != api.ProblemContentType {
					t.Errorf("request %d: 503 answered %q", i, ct)
				}
			default:
				t.Errorf("request %d: %d %s", i, r.Status, r.Body)
			}
		}
		if unavailable == 0 {
			t.Errorf("no 503 among %d conflicting requests without retry", n)
		}
		if calls := without.calls.Load(); calls != n {
			t.Errorf("the handler ran %d times for %d requests without retry", calls, n)
		}
		// Each 200 committed exactly one increment; each 503 none.
		if got := counterValue(t, a, 2); got != ok {
			t.Errorf("counter is %d, but %d requests answered 200", got, ok)
		}
		t.Logf("%d answered 200, %d answered 503", ok, unavailable)
		a.RequireNoConnInUse(t)
	})
}

// replayRoute binds the JSON body on every call, inserts an item named
// after it, and fails retryably on its first call.
type replayRoute struct {
	calls atomic.Int64
	mu    sync.Mutex
	seen  []string
}

func (r *replayRoute) handle(c *gin.Context, q db.Querier) (gin.H, error) {
	var body struct {
		Name string `json:"name" binding:"required"`
	}
	err := c.ShouldBindJSON(&body)
	r.mu.Lock()
	r.seen = append(r.seen, body.Name)
	r.mu.Unlock()
	if err != nil {
		return nil, api.NewError(http.StatusBadRequest, "bad body: "+err.Error())
	}
	if _, err := q.ExecContext(c.Request.Context(), q.Rebind("INSERT INTO items (id, name) VALUES (?, ?)"), idParam(c), body.Name); err != nil {
		return nil, err
	}
	if r.calls.Add(1) == 1 {
		return nil, fmt.Errorf("first attempt: %w", db.ErrRetryable)
	}
	return gin.H{"name": body.Name}, nil
}

func (r *replayRoute) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

func itemNames(t *testing.T, a *fasttest.App) []string {
	t.Helper()
	var names []string
	if err := a.DB.Select(&names, "SELECT name FROM items ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	return names
}

func TestRetryReplaysTheBody(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		route := &replayRoute{}
		a, _ := start(t, u, fx.Invoke(func(e *gin.Engine) {
			e.POST("/replay/:id", api.Handle(route.handle, api.WithRetry(3)))
		}))
		name := "replayed-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		resp := a.Do(t, http.MethodPost, "/replay/1", map[string]string{"name": name})
		if resp.Status != http.StatusOK || resp.JSON(t)["name"] != name {
			t.Fatalf("status %d: %s", resp.Status, resp.Body)
		}
		if got := route.calls.Load(); got != 2 {
			t.Errorf("the handler ran %d times, want 2", got)
		}
		if got := route.names(); len(got) != 2 || got[0] != name || got[1] != name {
			t.Errorf("the attempts bound %q, want %q twice", got, name)
		}
		// The first attempt's insert was rolled back, the second's committed.
		if got := itemNames(t, a); len(got) != 1 || got[0] != name {
			t.Errorf("items %q, want exactly [%s]", got, name)
		}
		a.RequireNoConnInUse(t)
	})
}

func TestRetrySkippedForABodyOverTheReplayLimit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		cfg := fasttest.Config(u)
		cfg.RetryReplayLimit = 16
		route := &replayRoute{}
		a, _ := startWith(t, cfg, fx.Invoke(func(e *gin.Engine) {
			e.POST("/replay/:id", api.Handle(route.handle, api.WithRetry(3)))
		}))
		name := "a body longer than the replay limit of sixteen bytes"
		resp := a.Do(t, http.MethodPost, "/replay/1", map[string]string{"name": name})
		if resp.Status != http.StatusServiceUnavailable || resp.Header.Get("Content-Type") != api.ProblemContentType {
			t.Fatalf("status %d %q: %s", resp.Status, resp.Header.Get("Content-Type"), resp.Body)
		}
		if got := route.calls.Load(); got != 1 {
			t.Errorf("the handler ran %d times, want 1 (no retry)", got)
		}
		// The bytes read ahead to measure the body still reached the handler.
		if got := route.names(); len(got) != 1 || got[0] != name {
			t.Errorf("the handler bound %q, want [%q]", got, name)
		}
		if got := itemNames(t, a); len(got) != 0 {
			t.Errorf("items %q after a failed request", got)
		}
		a.RequireNoConnInUse(t)
	})
}

func TestNoRetryAfterBytesWereSent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		var calls atomic.Int64
		a, _ := start(t, u, fx.Invoke(func(e *gin.Engine) {
			e.POST("/flush-then-fail", api.Handle(func(c *gin.Context, q db.Querier) error {
				calls.Add(1)
				c.Writer.WriteHeader(http.StatusOK)
				_, _ = c.Writer.WriteString("partial")
				c.Writer.Flush()
				return fmt.Errorf("after the flush: %w", db.ErrRetryable)
			}, api.WithRetry(5)))
		}))
		resp := a.Do(t, http.MethodPost, "/flush-then-fail", nil)
		if got := calls.Load(); got != 1 {
			t.Fatalf("the handler ran %d times after sending bytes, want 1", got)
		}
		// What was sent stays sent: the status and the flushed bytes.
		if resp.Status != http.StatusOK || string(resp.Body) != "partial" {
			t.Errorf("status %d body %q", resp.Status, resp.Body)
		}
		a.RequireNoConnInUse(t)
	})
}

// holdSQLiteWriteLock takes the write lock of the SQLite database at u
// through a pool of its own, and returns the func that commits it.
func holdSQLiteWriteLock(t *testing.T, u string, id int) (commit func()) {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = u
	x, _, err := db.Open(cfg.DatabaseURL, db.Pool{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	tx, err := x.Beginx() // BEGIN IMMEDIATE: the URL asks for it
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO items (id, name) VALUES (?, ?)", id, "outside-"+strconv.Itoa(id)); err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	var once sync.Once
	commit = func() {
		once.Do(func() {
			if err := tx.Commit(); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(commit)
	return commit
}

// lockProgress is what whileLocked waits for before it releases the lock,
// given how many BEGINs were tried and how many requests were answered
// since the lock was taken.
type lockProgress func(begins int64, answered int32) bool

// whileLocked holds the SQLite write lock from outside, fires n requests at
// path(i), waits until until reports that the requests met the lock, and
// releases it.
func whileLocked(t *testing.T, a *fasttest.App, u string, lockID, n int, path func(i int) string, until lockProgress) []fasttest.Response {
	t.Helper()
	commit := holdSQLiteWriteLock(t, u, lockID)
	begins := a.Count.Begins.Load()
	resps := make([]fasttest.Response, n)
	errs := make([]error, n)
	var answered atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resps[i], errs[i] = a.DoContext(context.Background(), http.MethodPost, path(i), nil)
			answered.Add(1)
		})
	}
	met := func() bool { return until(a.Count.Begins.Load()-begins, answered.Load()) }
	for deadline := time.Now().Add(20 * time.Second); !met() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // polling the condition
	}
	if !met() {
		t.Error("the requests never met the write lock")
	}
	commit()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return resps
}

func TestRetrySQLiteBusy(t *testing.T) {
	// A 1 ms busy timeout: a BEGIN IMMEDIATE that meets the write lock fails
	// with SQLITE_BUSY almost at once instead of waiting.
	u := testdb.New(t, db.SQLite) + "?_pragma=busy_timeout(1)"
	a, _ := start(t, u, fx.Invoke(func(e *gin.Engine) {
		e.POST("/busy/:id", api.Handle(func(c *gin.Context, q db.Querier) error {
			return insert(c, q, idParam(c))
		}, api.WithRetry(50)))
		e.POST("/busy-once/:id", api.Handle(func(c *gin.Context, q db.Querier) error {
			return insert(c, q, idParam(c))
		}))
	}))
	const n = 8

	t.Run("with api.Retry every request succeeds", func(t *testing.T) {
		begins := a.Count.Begins.Load()
		// Released once some request has begun a second time: it met
		// the lock and is being retried.
		retried := func(begins int64, _ int32) bool { return begins > n }
		resps := whileLocked(t, a, u, 1000, n, func(i int) string { return "/busy/" + strconv.Itoa(i+1) }, retried)
		for i, r := range resps {
			if r.Status != http.StatusOK {
				t.Errorf("request %d: %d %s", i, r.Status, r.Body)
			}
			if !rowExists(t, a, i+1) {
				t.Errorf("row %d missing", i+1)
			}
		}
		if got := a.Count.Begins.Load() - begins; got <= n {
			t.Errorf("%d BEGINs for %d requests: none was retried", got, n)
		}
		a.RequireNoConnInUse(t)
	})

	t.Run("without api.Retry a busy database answers 503", func(t *testing.T) {
		// Released once some request has been answered: it met the lock.
		answered := func(_ int64, answered int32) bool { return answered > 0 }
		resps := whileLocked(t, a, u, 2000, n, func(i int) string { return "/busy-once/" + strconv.Itoa(i+101) }, answered)
		unavailable := 0
		for i, r := range resps {
			switch r.Status {
			case http.StatusOK:
				if !rowExists(t, a, i+101) {
					t.Errorf("request %d answered 200 but row %d is missing", i, i+101)
				}
			case http.StatusServiceUnavailable:
				unavailable++
				if rowExists(t, a, i+101) {
					t.Errorf("request %d answered 503 but row %d exists", i, i+101)
				}
			default:
				t.Errorf("request %d: %d %s", i, r.Status, r.Body)
			}
		}
		if unavailable == 0 {
			t.Errorf("no 503 among %d requests sent while the database was locked", n)
		}
		a.RequireNoConnInUse(t)
	})
}
