package requestscope_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"go.uber.org/goleak"
)

// rowExists reports whether item id was committed.
func rowExists(t *testing.T, a *fasttest.App, id int) bool {
	t.Helper()
	var n int
	if err := a.DB.Get(&n, a.DB.Rebind("SELECT COUNT(*) FROM items WHERE id = ?"), id); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestCommitOrRollback(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		leaks := goleak.IgnoreCurrent()
		t.Cleanup(func() { goleak.VerifyNone(t, leaks) })
		a, _ := start(t, u)
		tests := []struct {
			name       string
			path       string
			wantStatus int
			committed  bool
		}{
			{"2xx commits", "/items/1", http.StatusCreated, true},
			{"returned error rolls back", "/items/2/error", http.StatusInternalServerError, false},
			{"c.Error rolls back and the 200 becomes a problem", "/items/3/c-error", http.StatusInternalServerError, false},
			{"4xx rolls back", "/items/4/status/400", http.StatusBadRequest, false},
			{"422 rolls back", "/items/5/status/422", http.StatusUnprocessableEntity, false},
			{"5xx rolls back", "/items/6/status/503", http.StatusServiceUnavailable, false},
			{"3xx commits", "/items/7/status/303", http.StatusSeeOther, true},
			{"panic rolls back and answers 500", "/items/8/panic", http.StatusInternalServerError, false},
			{"SetRollbackOnly rolls back", "/items/9/rollback-only", http.StatusOK, false},
			{"failed commit answers 500, not the handler's 2xx", "/orphans/10", commitFailureStatus(d), false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp := a.Do(t, http.MethodPost, tt.path, nil)
				if resp.Status != tt.wantStatus {
					t.Fatalf("status %d, want %d; body %s", resp.Status, tt.wantStatus, resp.Body)
				}
				id, _ := strconv.Atoi(pathID(tt.path))
				if got := rowExists(t, a, id); got != tt.committed {
					t.Fatalf("row committed = %v, want %v", got, tt.committed)
				}
				framework := strings.Contains(tt.path, "error") || strings.Contains(tt.path, "panic") || strings.Contains(tt.path, "orphans")
				if framework && resp.Status >= 500 && resp.Header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("a %d is answered %q, not problem+json", resp.Status, resp.Header.Get("Content-Type"))
				}
				a.RequireNoConnInUse(t)
			})
		}
		// The server keeps serving after the panic, and after the failed commit.
		if resp := a.Do(t, http.MethodGet, "/items/1", nil); resp.Status != http.StatusOK || resp.JSON(t)["name"] != "item-1" {
			t.Fatalf("GET after the failures: %d %s", resp.Status, resp.Body)
		}
		a.RequireNoConnInUse(t)
	})
}

// commitFailureStatus is the answer to the forced commit failure: a
// deferred foreign key broken at COMMIT (409, as at a statement), or on
// MySQL a killed connection (503: try again).
func commitFailureStatus(d db.Dialect) int {
	if d == db.MySQL {
		return http.StatusServiceUnavailable
	}
	return http.StatusConflict
}

func pathID(p string) string {
	for i := len("/items/"); i < len(p); i++ {
		if p[i] == '/' {
			return p[len("/items/"):i]
		}
	}
	return p[len("/items/"):]
}

func TestFailedCommitNeverSendsTheHandlersResponse(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		a, _ := start(t, u)
		resp := a.Do(t, http.MethodPost, "/orphans/20", nil)
		if resp.Status != commitFailureStatus(d) {
			t.Fatalf("status %d: %s", resp.Status, resp.Body)
		}
		body := resp.JSON(t)
		if _, leaked := body["created"]; leaked {
			t.Fatalf("the handler's body reached the client: %s", resp.Body)
		}
		if detail, _ := body["detail"].(string); !strings.HasPrefix(detail, "the transaction could not be committed") {
			t.Fatalf("problem: %s", resp.Body)
		}
		if rowExists(t, a, 20) {
			t.Fatal("the row of a failed commit exists")
		}
		a.RequireNoConnInUse(t)
	})
}

func TestCancelledRequestRollsBack(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		a, _ := start(t, u)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := a.DoContext(ctx, http.MethodPost, "/items/30/wait", nil)
			done <- err
		}()
		// Wait until the handler has inserted (the transaction holds a
		// connection), then walk away.
		for a.DB.Stats().InUse == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		if err := <-done; err == nil {
			t.Fatal("the cancelled request succeeded")
		}
		a.RequireNoConnInUse(t)
		if rowExists(t, a, 30) {
			t.Fatal("a cancelled request committed")
		}
	})
}

func TestNoBeginWithoutDatabaseWork(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		a, _ := start(t, u)
		begins, stmts := a.Count.Begins.Load(), a.Count.Statements.Load()
		for _, path := range []string{"/no-db", "/healthz", "/no-such-route"} {
			a.Do(t, http.MethodGet, path, nil)
		}
		if got := a.Count.Begins.Load() - begins; got != 0 {
			t.Fatalf("%d BEGINs for requests that touch no database", got)
		}
		if got := a.Count.Statements.Load() - stmts; got != 0 {
			t.Fatalf("%d statements for requests that touch no database", got)
		}
		// And one BEGIN for one that does.
		a.Do(t, http.MethodPost, "/items/40", nil)
		if got := a.Count.Begins.Load() - begins; got != 1 {
			t.Fatalf("%d BEGINs for one writing request", got)
		}
	})
}

func TestScopedInstances(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		a, _ := start(t, u)
		first := a.Do(t, http.MethodGet, "/scoped", nil).JSON(t)
		second := a.Do(t, http.MethodGet, "/scoped", nil).JSON(t)
		if first["same_svc"] != true || first["same_tx"] != true {
			t.Fatalf("within one request: %v", first)
		}
		if first["a"] == second["a"] {
			t.Fatalf("two requests share a scoped instance: %v %v", first, second)
		}
	})
}

func TestAfterCommitHooks(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		a, hooks := start(t, u)
		if resp := a.Do(t, http.MethodPost, "/items/50/after-commit", nil); resp.Status != http.StatusOK {
			t.Fatalf("status %d %s", resp.Status, resp.Body)
		}
		if resp := a.Do(t, http.MethodPost, "/items/51/after-commit?fail=1", nil); resp.Status != http.StatusInternalServerError {
			t.Fatalf("status %d %s", resp.Status, resp.Body)
		}
		// The hook ran after the commit (the pool saw the row) and the
		// rolled-back request's hook was dropped.
		if got := hooks.list(); !slices.Equal(got, []string{"50:1"}) {
			t.Fatalf("hooks ran: %v, want [50:1]", got)
		}
		a.RequireNoConnInUse(t)
	})
}

func TestSavepoints(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		a, _ := start(t, u)
		if resp := a.Do(t, http.MethodPost, "/items/60/savepoints", nil); resp.Status != http.StatusOK {
			t.Fatalf("status %d %s", resp.Status, resp.Body)
		}
		for id, want := range map[int]bool{60: true, 1060: false, 2060: true} {
			if got := rowExists(t, a, id); got != want {
				t.Errorf("row %d exists = %v, want %v", id, got, want)
			}
		}
		a.RequireNoConnInUse(t)
	})
}
