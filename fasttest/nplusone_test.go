package fasttest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/internal/tbrecord"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
)

// memberByID is the statement the N+1 handler runs once per member.
const memberByID = "SELECT name FROM members WHERE id = ?"

// teamRoutes serves a team's member names two ways: /n-plus-one reads the
// ids, then each member by id; /in reads them all with one IN query.
func teamRoutes(e *gin.Engine) {
	ids := func(c *gin.Context, q db.Querier) ([]int, error) {
		var ids []int
		err := q.SelectContext(c, &ids, q.Rebind("SELECT id FROM members WHERE team = ? ORDER BY id"), c.Param("id"))
		return ids, err
	}
	e.GET("/teams/:id/n-plus-one", api.Handle(func(c *gin.Context, q db.Querier) ([]string, error) {
		ids, err := ids(c, q)
		if err != nil {
			return nil, err
		}
		names := make([]string, 0, len(ids))
		for _, id := range ids {
			var name string
			if err := q.GetContext(c, &name, q.Rebind(memberByID), id); err != nil {
				return nil, err
			}
			names = append(names, name)
		}
		return names, nil
	}))
	e.GET("/teams/:id/in", api.Handle(func(c *gin.Context, q db.Querier) ([]string, error) {
		ids, err := ids(c, q)
		if err != nil || len(ids) == 0 {
			return nil, err
		}
		query, args, err := sqlx.In("SELECT name FROM members WHERE id IN (?) ORDER BY id", ids)
		if err != nil {
			return nil, err
		}
		var names []string
		return names, q.SelectContext(c, &names, q.Rebind(query), args...)
	}))
}

// An N+1 planted in a handler fails the test that calls it under fasttest
// — the test's error names the method, the route and the statement — and
// the same handler rewritten with one IN query passes; on each database.
func TestNPlusOneFailsTheTest(t *testing.T) {
	for _, d := range fasttest.Dialects() {
		t.Run(d.Name(), func(t *testing.T) {
			rec := tbrecord.New(t)
			app := fasttest.Start(rec, nil, fasttest.On(d), fx.Invoke(teamRoutes))
			app.DB.MustExec("CREATE TABLE members (id INT PRIMARY KEY, team INT NOT NULL, name VARCHAR(50) NOT NULL)")
			for i := 1; i <= 11; i++ { // one past the default threshold
				app.DB.MustExec(app.DB.Rebind("INSERT INTO members (id, team, name) VALUES (?, 1, ?)"), i, fmt.Sprint("m", i))
			}

			resp := app.Do(rec, http.MethodGet, "/teams/1/n-plus-one", nil)
			if resp.Status != http.StatusInternalServerError {
				t.Errorf("the N+1 answered %d %s, want 500", resp.Status, resp.Body)
			}
			if strings.Contains(string(resp.Body), "SELECT") {
				t.Errorf("the response shows SQL: %s", resp.Body)
			}
			errs := rec.Take()
			if len(errs) != 1 {
				t.Fatalf("the test would fail with %q, want one error", errs)
			}
			t.Logf("the test's error: %s", errs[0])
			for _, want := range []string{"N+1 query in GET /teams/:id/n-plus-one", "run 11 times (threshold 10)", app.DB.Rebind(memberByID)} {
				if !strings.Contains(errs[0], want) {
					t.Errorf("the test's error %q does not name %q", errs[0], want)
				}
			}

			resp = app.Do(rec, http.MethodGet, "/teams/1/in", nil)
			if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), `"m11"`) {
				t.Errorf("the IN query answered %d %s", resp.Status, resp.Body)
			}
			if errs := rec.Take(); errs != nil {
				t.Errorf("the IN query would fail the test: %q", errs)
			}
			app.RequireNoConnInUse(rec)
		})
	}
}

// Configure turns the detector down for a test that means to loop.
func TestNPlusOneConfigured(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*config.Config)
	}{
		{"off", func(c *config.Config) { c.NPlusOne = "off" }},
		{"log", func(c *config.Config) { c.NPlusOne = "log" }},
		{"threshold", func(c *config.Config) { c.NPlusOneThreshold = 11 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := tbrecord.New(t)
			app := fasttest.Start(rec, nil, fasttest.Configure(tc.edit), fx.Invoke(teamRoutes))
			app.DB.MustExec("CREATE TABLE members (id INT PRIMARY KEY, team INT NOT NULL, name VARCHAR(50) NOT NULL)")
			for i := 1; i <= 11; i++ {
				app.DB.MustExec("INSERT INTO members (id, team, name) VALUES (?, 1, ?)", i, fmt.Sprint("m", i))
			}
			if resp := app.Do(rec, http.MethodGet, "/teams/1/n-plus-one", nil); resp.Status != http.StatusOK {
				t.Errorf("%d %s", resp.Status, resp.Body)
			}
			if errs := rec.Take(); errs != nil {
				t.Errorf("the test would fail: %q", errs)
			}
		})
	}
}

// Config turns the detector on in error mode.
func TestConfigDetectsNPlusOne(t *testing.T) {
	if c := fasttest.Config(""); c.NPlusOne != "error" || c.NPlusOneThreshold != config.Default().NPlusOneThreshold {
		t.Errorf("Config: N_PLUS_ONE=%q, threshold %d", c.NPlusOne, c.NPlusOneThreshold)
	}
}
