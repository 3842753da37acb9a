package cli

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/seed"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

//go:embed testdata/migrations
var testFiles embed.FS

// testMigrations is the test application's migrations: 1 creates items, 2
// creates tags.
func testMigrations() fs.FS {
	sub, err := fs.Sub(testFiles, "testdata/migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

// greeting is a singleton of the test application.
type greeting struct{ text string }

// items is the test application's scoped repository of the items table.
type items struct{ q db.Querier }

func newItems(q db.Querier) *items { return &items{q: q} }

func (r *items) add(ctx context.Context, name string) error {
	_, err := r.q.ExecContext(ctx, r.q.Rebind("INSERT INTO items (name) VALUES (?)"), name)
	return err
}

// stamp is a transient type of the test application.
type stamp struct{ n int }

func newStamp() *stamp { return &stamp{n: 1} }

// itemSeeder seeds the item "seeded".
type itemSeeder struct{}

func (itemSeeder) Name() string { return "items" }

func (itemSeeder) Seed(ctx context.Context, q db.Querier) error {
	_, err := q.ExecContext(ctx, q.Rebind("INSERT INTO items (name) VALUES (?)"), "seeded")
	return err
}

// testRoutes registers the test application's routes.
func testRoutes(e *gin.Engine) {
	e.POST("/items", api.Handle(func(c *gin.Context, it *items) error {
		return it.add(c.Request.Context(), c.Query("name"))
	}, api.WithRetry(2)))
	e.GET("/hello", func(c *gin.Context) { c.String(http.StatusOK, "hello") })
}

// testApp is a small FastTrack application: the framework, a singleton, a
// scoped repository, a transient type, a seeder, two routes and commands.
func testApp(commands ...*Cmd) App {
	return App{
		Name: "testapp",
		Options: fx.Options(
			fxmodules.Framework(testMigrations()),
			fx.Supply(&greeting{text: "hello"}),
			fxmodules.Scoped(newItems),
			fxmodules.Transient(newStamp),
			seed.Provide(func() itemSeeder { return itemSeeder{} }),
			fx.Invoke(testRoutes),
		),
		Migrations: testMigrations(),
		Commands:   commands,
	}
}

// run runs a's command tree in-process with args and returns what it
// printed on its standard output and the error it returned.
func run(t *testing.T, ctx context.Context, a App, args ...string) (string, error) {
	t.Helper()
	root := New(a)
	var out, errOut bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(ctx)
	if errOut.Len() > 0 {
		t.Logf("%s: stderr: %s", strings.Join(args, " "), errOut.String())
	}
	return out.String(), err
}

// sqliteEnv points the configuration at a new SQLite file, quiet logs and a
// free port, and returns the database URL and the file's path.
func sqliteEnv(t *testing.T) (url, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "app.db")
	url = "sqlite:" + path
	t.Setenv("DATABASE_URL", url)
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("HTTP_ADDR", freeAddr(t))
	return url, path
}

// freeAddr returns a 127.0.0.1 address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// captureStderr sends os.Stderr to a file until the test ends, and returns a
// function reading what was written so far.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = f
	t.Cleanup(func() {
		os.Stderr = old
		f.Close()
	})
	return func() string {
		b, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

// wantErr fails t unless err contains each of wants.
func wantErr(t *testing.T, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", wants)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

var errTest = errors.New("the test command fails")

// itemNames returns the names in the items table, sorted.
func itemNames(t *testing.T, url string) []string {
	t.Helper()
	x, _, err := db.Open(url, db.Pool{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var names []string
	if err := x.Select(&names, "SELECT name FROM items ORDER BY name"); err != nil {
		t.Fatal(fmt.Errorf("reading items: %w", err))
	}
	return names
}
