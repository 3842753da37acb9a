package fasttest_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
)

// demoTB stands in for the *testing.T a test would pass: it fails by
// panicking, and runs the cleanups on Close.
type demoTB struct{ cleanups []func() }

func (d *demoTB) Helper()                           {}
func (d *demoTB) Cleanup(f func())                  { d.cleanups = append(d.cleanups, f) }
func (d *demoTB) Logf(string, ...any)               {}
func (d *demoTB) Errorf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (d *demoTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (d *demoTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (d *demoTB) Skipf(format string, args ...any)  { panic(fmt.Sprintf(format, args...)) }
func (d *demoTB) FailNow()                          { panic("failed") }
func (d *demoTB) TempDir() string {
	dir, err := os.MkdirTemp("", "fasttest-example")
	if err != nil {
		panic(err)
	}
	d.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (d *demoTB) Close() {
	for i := len(d.cleanups) - 1; i >= 0; i-- {
		d.cleanups[i]()
	}
}

// In a test, pass the test's *testing.T: the app stops and its database is
// dropped when the test ends.
func ExampleStart() {
	t := &demoTB{} // in a test: t *testing.T
	defer t.Close()

	app := fasttest.Start(t, migrations.FS, users.Module())
	created := app.Do(t, http.MethodPost, "/users", map[string]any{"name": "Ada", "email": "ada@example.com"})
	fmt.Println(created.Status, created.JSON(t)["name"])

	list := app.Do(t, http.MethodGet, "/users", nil)
	fmt.Println(list.Status, list.JSON(t)["total"])
	// Output:
	// 201 Ada
	// 200 1
}

// On chooses the database system: here MySQL (or MariaDB) on the server of
// TEST_MYSQL_URL when it is set. Without On, Start runs on SQLite whatever
// the environment.
func ExampleOn() {
	t := &demoTB{} // in a test: t *testing.T
	defer t.Close()

	d := db.MySQL
	if !fasttest.Configured(d) { // in a test, Start would skip (fail under CI=true)
		d = db.SQLite
	}
	app := fasttest.Start(t, migrations.FS, users.Module(), fasttest.On(d))
	created := app.Do(t, http.MethodPost, "/users", map[string]any{"name": "Ada", "email": "ada@example.com"})
	fmt.Println(created.Status, app.Dialect == d)
	// Output:
	// 201 true
}

// Each runs a test once per dialect, each on an app of its own. In a
// _test.go file:
func ExampleEach() {
	testUsers := func(t *testing.T) {
		fasttest.Each(t, func(t *testing.T, d db.Dialect, app *fasttest.App) {
			resp := app.Do(t, http.MethodPost, "/users", map[string]any{"name": "Ada", "email": "ada@example.com"})
			if resp.Status != http.StatusCreated {
				t.Fatalf("%s: POST /users: %d %s", d, resp.Status, resp.Body)
			}
		}, migrations.FS, users.Module())
	}
	_ = testUsers // func TestUsers(t *testing.T) { ... }
}

// DatabasePrefix names the throwaway database, so that a project's test
// databases on a shared server are easy to tell apart.
func ExampleDatabasePrefix() {
	t := &demoTB{}
	defer t.Close()

	app := fasttest.Start(t, nil, fasttest.DatabasePrefix("shop_"))
	name := filepath.Base(app.DatabaseURL) // on PostgreSQL or MySQL, the URL's path
	fmt.Println(strings.HasPrefix(name, "shop_"), len(name) == len("shop_")+12+len(".db"))
	// Output:
	// true true
}

// Configure edits the app's configuration; the database is still the
// throwaway one.
func ExampleConfigure() {
	t := &demoTB{}
	defer t.Close()

	app := fasttest.Start(t, nil, fasttest.Configure(func(c *config.Config) {
		c.DBMaxOpenConns = 2
	}))
	fmt.Println(app.DB.Stats().MaxOpenConnections)
	// Output:
	// 2
}

// Counter tells what a request sent to the database: a POST begins and
// commits one transaction, a GET of /healthz sends nothing.
func ExampleCounter() {
	t := &demoTB{}
	defer t.Close()

	app := fasttest.Start(t, migrations.FS, users.Module())
	begins, commits := app.Count.Begins.Load(), app.Count.Commits.Load()
	app.Do(t, http.MethodPost, "/users", map[string]any{"name": "Ada", "email": "ada@example.com"})
	fmt.Println(app.Count.Begins.Load()-begins, app.Count.Commits.Load()-commits)

	statements := app.Count.Statements.Load()
	app.Do(t, http.MethodGet, "/healthz", nil)
	fmt.Println(app.Count.Statements.Load() - statements)
	// Output:
	// 1 1
	// 0
}
