package requestscope_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

// The app's request transactions run a statement they have seen as a
// prepared statement (DB_STMT_CACHE), except on PostgreSQL, whose driver
// caches statements itself; with DB_STMT_CACHE=0 nothing is prepared.
func TestRequestsUsePreparedStatements(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		for _, size := range []int{256, 0} {
			t.Run("DB_STMT_CACHE="+strconv.Itoa(size), func(t *testing.T) {
				cfg := fasttest.Config(testdb.New(t, d))
				cfg.DBStmtCache = size
				a, _ := startWith(t, cfg)
				for id := 1; id <= 3; id++ {
					if r := a.Do(t, http.MethodPost, "/items/"+strconv.Itoa(id), nil); r.Status != http.StatusCreated {
						t.Fatalf("create %d: %d %s", id, r.Status, r.Body)
					}
				}
				// The first GET runs its SELECT unprepared and has it
				// prepared in the background; the later ones run it from the
				// cache: a prepared run with no prepare. (Unprepared, MySQL's
				// driver prepares and closes each statement: a prepared run
				// with a prepare.)
				deadline := time.Now().Add(10 * time.Second)
				want := size > 0 && d != db.Postgres
				for i, cachedRuns := 0, 0; i < 6 || want && cachedRuns < 3; i++ {
					runs, prepares := a.Count.PreparedRuns.Load(), a.Count.Prepares.Load()
					id := strconv.Itoa(i%3 + 1)
					r := a.Do(t, http.MethodGet, "/items/"+id, nil)
					if r.Status != http.StatusOK || r.JSON(t)["name"] != "item-"+id {
						t.Fatalf("get %s: %d %s", id, r.Status, r.Body)
					}
					if a.Count.PreparedRuns.Load() > runs && a.Count.Prepares.Load() == prepares {
						if !want {
							t.Fatalf("request %d ran a cached prepared statement", i)
						}
						cachedRuns++
					}
					if time.Now().After(deadline) {
						t.Fatalf("after %d requests, %d ran a cached prepared statement", i+1, cachedRuns)
					}
				}
				a.RequireNoConnInUse(t)
			})
		}
	})
}
