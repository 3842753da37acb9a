// Package fasttest is FastTrack's test kit. One call starts an application
// made of fxmodules.Framework and the test's own Fx options, through fxtest,
// on a throwaway database with its migrations applied, and stops it when the
// test ends:
//
//	app := fasttest.Start(t, migrations.FS, users.Module(), fx.Populate(&table))
//	resp := app.Do(t, http.MethodPost, "/users", map[string]any{"name": "Ada", "email": "ada@example.com"})
//
// The database is an SQLite file in the test's temporary folder, or, when
// TEST_POSTGRES_URL is set, a new database on that PostgreSQL server,
// dropped at the end. Each Start has its own database and port, so parallel
// tests are isolated. The app's pool counts what it sends (App.Count), its
// logs are kept (App.Logs), and App.Client talks to the real server.
package fasttest

import (
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/sqlcount"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// App is a started test application.
type App struct {
	// URL is the server's base URL, http://127.0.0.1:port.
	URL string
	// DB is the application's pool.
	DB *sqlx.DB
	// Dialect is the pool's dialect.
	Dialect db.Dialect
	// Count counts what the pool sent.
	Count *Counter
	// Logs holds everything the application logged.
	Logs *SyncBuffer
	// Client is an HTTP client for URL.
	Client *http.Client

	fx *fxtest.App
}

// Start starts the framework with migrations (nil for none) and opts on a
// throwaway database (see Database), and stops it when the test ends.
func Start(t TB, migrations fs.FS, opts ...fx.Option) *App {
	t.Helper()
	return StartWith(t, Config(Database(t)), migrations, opts...)
}

// Database returns the URL of a throwaway database: a new database on the
// PostgreSQL server of TEST_POSTGRES_URL when it is set, else an SQLite
// file in the test's temporary folder. It is removed when the test ends.
func Database(t TB) string {
	t.Helper()
	if PostgresConfigured() {
		return testdb.New(t, db.Postgres)
	}
	return testdb.New(t, db.SQLite)
}

// PostgresConfigured reports whether TEST_POSTGRES_URL names a server for
// Database to use.
func PostgresConfigured() bool { return os.Getenv(testdb.EnvVar(db.Postgres)) != "" }

// NewDatabase returns the URL of a throwaway database of dialect d (see
// the testdb rules: a server dialect needs TEST_POSTGRES_URL or
// TEST_MYSQL_URL, and is skipped without it unless CI=true).
func NewDatabase(t TB, d db.Dialect) string {
	t.Helper()
	return testdb.New(t, d)
}

// Config returns the configuration tests start apps with: databaseURL, a
// free port, short timeouts, debug logs.
func Config(databaseURL string) config.Config {
	cfg := config.Default()
	cfg.DatabaseURL = databaseURL
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.StartTimeout = 30 * time.Second
	cfg.StopTimeout = 10 * time.Second
	cfg.LogLevel = slog.LevelDebug
	return cfg
}

// StartWith starts the framework with migrations and opts on cfg — its
// DatabaseURL included — and stops it when the test ends.
func StartWith(t TB, cfg config.Config, migrations fs.FS, opts ...fx.Option) *App {
	t.Helper()
	x, count, err := sqlcount.Open(cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	x.SetMaxOpenConns(cfg.DBMaxOpenConns)
	x.SetMaxIdleConns(cfg.DBMaxIdleConns)
	a := &App{DB: x, Count: count, Logs: &SyncBuffer{}, Dialect: db.DialectOf(x)}
	var srv *http.Server
	a.fx = fxtest.New(t,
		fxmodules.Framework(migrations),
		fx.Replace(cfg),
		fx.Decorate(func(*sqlx.DB) *sqlx.DB { return x }),
		fx.Decorate(func() *slog.Logger {
			return slog.New(slog.NewTextHandler(a.Logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
		}),
		fx.Populate(&srv),
		fx.Options(opts...),
	)
	a.fx.RequireStart()
	a.URL = "http://" + srv.Addr
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	a.Client = &http.Client{Transport: tr, Timeout: time.Minute}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		a.fx.RequireStop()
		x.Close()
	})
	return a
}

// RequireNoConnInUse fails the test unless every connection of the pool is
// back (the pool's Stats().InUse == 0), waiting briefly for requests still
// finishing.
func (a *App) RequireNoConnInUse(t TB) {
	t.Helper()
	for range 200 {
		if a.DB.Stats().InUse == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d connections still in use", a.DB.Stats().InUse)
}

// Counter counts the BEGINs, statements, commits and rollbacks the app's
// pool sent.
type Counter = sqlcount.Counter
