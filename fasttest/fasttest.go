// Package fasttest is FastTrack's test kit. One call starts an application
// made of fxmodules.Framework and the test's own Fx options, through fxtest,
// on a throwaway database with its migrations applied, and stops it when the
// test ends:
//
//	app := fasttest.Start(t, migrations.FS, users.Module(), fx.Populate(&table))
//	resp := app.Do(t, http.MethodPost, "/users", map[string]any{"name": "Ada", "email": "ada@example.com"})
//
// The database is an SQLite file in the test's temporary folder, whatever
// the environment. The kit's own Fx options choose otherwise:
// On(db.Postgres) or On(db.MySQL) runs the app on a new database on the
// server of TEST_POSTGRES_URL or TEST_MYSQL_URL, dropped at the end;
// DatabasePrefix names it; Configure edits the configuration. Each runs a
// test once per dialect — SQLite, PostgreSQL, MySQL — in one call:
//
//	fasttest.Each(t, func(t *testing.T, d db.Dialect, app *fasttest.App) {
//		resp := app.Do(t, http.MethodGet, "/users", nil)
//		...
//	}, migrations.FS, users.Module())
//
// A server dialect whose variable is not set is skipped with a message, or
// fails when CI=true. Each Start has its own database and port, so parallel
// tests are isolated. The app's pool counts what it sends (App.Count, a
// Counter), its logs are kept (App.Logs), and App.Client talks to the real
// server.
package fasttest

import (
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/sqlcount"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// App is a started test application.
type App struct {
	// URL is the server's base URL, http://127.0.0.1:port.
	URL string
	// DatabaseURL is the app's database: the throwaway one Start created,
	// or the one StartWith was given.
	DatabaseURL string
	// DB is the application's pool.
	DB *sqlx.DB
	// Dialect is the pool's dialect.
	Dialect db.Dialect
	// Count counts what the pool sent: BEGINs, statements, commits,
	// rollbacks, prepares (see Counter).
	Count *Counter
	// Logs holds everything the application logged.
	Logs *SyncBuffer
	// Client is an HTTP client for URL.
	Client *http.Client

	fx *fxtest.App
}

// Start starts the framework with migrations (nil for none) and opts on a
// throwaway database, and stops it when the test ends. The database is an
// SQLite file unless opts hold On; see also DatabasePrefix and Configure.
// The configuration is Config's.
func Start(t TB, migrations fs.FS, opts ...fx.Option) *App {
	t.Helper()
	return StartWith(t, Config(""), migrations, opts...)
}

// Config returns the configuration tests start apps with: databaseURL, a
// free port, short timeouts, debug logs, and the N+1 detector in error
// mode (N_PLUS_ONE=error, see StartWith). With an empty databaseURL,
// StartWith creates a throwaway database, as Start does.
func Config(databaseURL string) config.Config {
	cfg := config.Default()
	cfg.NPlusOne = "error"
	cfg.DatabaseURL = databaseURL
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.StartTimeout = 30 * time.Second
	cfg.StopTimeout = 10 * time.Second
	cfg.LogLevel = slog.LevelDebug
	return cfg
}

// StartWith starts the framework with migrations and opts on cfg, and
// stops it when the test ends. The database is cfg.DatabaseURL when it is
// set (then opts cannot hold On or DatabasePrefix), else a throwaway one as
// for Start. A Configure option among opts edits cfg first.
//
// An N+1 the detector finds in a request fails the test (t.Errorf) in
// error mode — the default of Config, and so of Start — with a message
// naming the method, the route and the statement; in log mode it is
// logged with t.Logf. The request itself answers 500 in error mode. To
// let a test run a loop of statements, raise the threshold or turn the
// detector off with Configure (NPlusOneThreshold, NPlusOne = "off"), or
// set the route's own with api.WithTx.
func StartWith(t TB, cfg config.Config, migrations fs.FS, opts ...fx.Option) *App {
	t.Helper()
	a := &App{Logs: &SyncBuffer{}}
	var srv *http.Server
	a.fx = fxtest.New(t,
		fxmodules.Framework(migrations),
		// The kit's options (On, DatabasePrefix, Configure) are values in
		// the graph: the configuration, and the database it names, are
		// made once they are known.
		fx.Decorate(func(c choices) (config.Config, error) {
			t.Helper()
			return c.configure(t, cfg)
		}),
		fx.Decorate(func(cfg config.Config) (*sqlx.DB, error) {
			x, count, err := sqlcount.Open(cfg.DatabaseURL)
			if err != nil {
				return nil, err
			}
			t.Cleanup(func() { x.Close() }) // after the app stops: registered before
			x.SetMaxOpenConns(cfg.DBMaxOpenConns)
			x.SetMaxIdleConns(cfg.DBMaxIdleConns)
			a.DB, a.Count, a.Dialect, a.DatabaseURL = x, counterOf(count), db.DialectOf(x), cfg.DatabaseURL
			return x, nil
		}),
		fx.Decorate(func(cfg config.Config) *slog.Logger {
			return slog.New(slog.NewTextHandler(a.Logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
		}),
		fx.Populate(&srv),
		fxmodules.ConfigureMiddleware(func(mc *api.MiddlewareConfig) { reportNPlusOnes(t, mc) }),
		fx.Options(opts...),
	)
	a.fx.RequireStart()
	a.URL = "http://" + srv.Addr
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	a.Client = &http.Client{Transport: tr, Timeout: time.Minute}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		a.fx.RequireStop()
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

// reportNPlusOnes makes the middleware report each N+1 it finds to t: an
// error in error mode, a log line in log mode. An OnNPlusOne set before
// still runs.
func reportNPlusOnes(t TB, mc *api.MiddlewareConfig) {
	prev := mc.OnNPlusOne
	mc.OnNPlusOne = func(r api.NPlusOneReport) {
		if prev != nil {
			prev(r)
		}
		if r.Mode == db.NPlusOneFail {
			t.Errorf("fasttest: %s\n\tload the rows with one query (an IN list, or eager loading), or raise the threshold (N_PLUS_ONE_THRESHOLD, fasttest.Configure)", r)
			return
		}
		t.Logf("fasttest: %s", r)
	}
}
