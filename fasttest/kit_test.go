package fasttest_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
)

// databaseName asks the database x is connected to for its name: the
// file's name without .db for SQLite. The query is the dialect's own, so
// that a pool on another database system fails.
func databaseName(t *testing.T, x *sqlx.DB, d db.Dialect) string {
	t.Helper()
	ctx := context.Background()
	var name string
	var err error
	switch d {
	case db.SQLite:
		err = x.GetContext(ctx, &name, "SELECT file FROM pragma_database_list WHERE name = 'main'")
		name = strings.TrimSuffix(filepath.Base(name), ".db")
	case db.Postgres:
		err = x.GetContext(ctx, &name, "SELECT current_database()")
	case db.MySQL:
		err = x.GetContext(ctx, &name, "SELECT DATABASE()")
	}
	if err != nil {
		t.Fatalf("asking the %s database its name: %v", d, err)
	}
	return name
}

// configured lists the dialects this environment has servers for.
func configured() []db.Dialect {
	var ds []db.Dialect
	for _, d := range fasttest.Dialects() {
		if fasttest.Configured(d) {
			ds = append(ds, d)
		}
	}
	return ds
}

// TestEach runs the users API on every dialect: each subtest's app is on a
// database of its dialect, and under CI=true all three run.
func TestEach(t *testing.T) {
	var ran []db.Dialect
	fasttest.Each(t, func(t *testing.T, d db.Dialect, app *fasttest.App) {
		ran = append(ran, d)
		if app.Dialect != d || !strings.HasPrefix(app.DatabaseURL, d.Name()) {
			t.Fatalf("subtest %s: app on %s, %q", d, app.Dialect, app.DatabaseURL)
		}
		if name := databaseName(t, app.DB, d); !strings.HasPrefix(name, fasttest.DefaultPrefix) {
			t.Errorf("database %q does not start with %q", name, fasttest.DefaultPrefix)
		}
		begins, commits := app.Count.Begins.Load(), app.Count.Commits.Load()
		created := app.Do(t, http.MethodPost, "/users", map[string]any{"name": "Ada", "email": "ada@example.com"})
		if created.Status != http.StatusCreated {
			t.Fatalf("POST /users: %d %s", created.Status, created.Body)
		}
		if app.Count.Begins.Load() == begins || app.Count.Commits.Load() == commits {
			t.Errorf("a POST committed, but the counter saw %d BEGINs and %d COMMITs",
				app.Count.Begins.Load()-begins, app.Count.Commits.Load()-commits)
		}
		if list := app.Do(t, http.MethodGet, "/users", nil).JSON(t); list["total"] != float64(1) {
			t.Errorf("GET /users: total %v, want 1", list["total"])
		}
		app.RequireNoConnInUse(t)
	}, migrations.FS, users.Module())

	if want := configured(); !slices.Equal(ran, want) {
		t.Errorf("Each ran %v, want %v (the dialects configured here)", ran, want)
	}
	if os.Getenv("CI") == "true" && len(ran) != 3 {
		t.Errorf("under CI=true Each ran %v, want all three dialects", ran)
	}
}

// TestOnIsHonouredWhateverTheEnvironment: Start runs on SQLite unless told
// otherwise, even with both server variables set, and On(d) runs on d
// whichever other variables are set.
func TestOnIsHonouredWhateverTheEnvironment(t *testing.T) {
	// Keep the real servers for the cases that use them; a variable that is
	// unset gets a URL nothing listens on, which SQLite must never try.
	for _, d := range []db.Dialect{db.Postgres, db.MySQL} {
		if !fasttest.Configured(d) {
			t.Setenv(fasttest.ServerEnv(d), d.Name()+"://nobody@127.0.0.1:1/none")
		}
	}
	t.Setenv("FASTTEST_DIALECT", "postgres") // read by nothing
	for _, tc := range []struct {
		name string
		on   []db.Dialect
		want db.Dialect
	}{
		{"no On: SQLite", nil, db.SQLite},
		{"On(SQLite)", []db.Dialect{db.SQLite}, db.SQLite},
		{"On(Postgres)", []db.Dialect{db.Postgres}, db.Postgres},
		{"On(MySQL)", []db.Dialect{db.MySQL}, db.MySQL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want != db.SQLite && strings.Contains(os.Getenv(fasttest.ServerEnv(tc.want)), "nobody@") {
				if os.Getenv("CI") == "true" {
					t.Fatalf("%s is not set, and CI=true", fasttest.ServerEnv(tc.want))
				}
				t.Skipf("%s is not set", fasttest.ServerEnv(tc.want))
			}
			var opts []fx.Option
			for _, d := range tc.on {
				opts = append(opts, fasttest.On(d))
			}
			app := fasttest.Start(t, nil, opts...)
			if app.Dialect != tc.want {
				t.Fatalf("app on %s, want %s", app.Dialect, tc.want)
			}
			databaseName(t, app.DB, tc.want) // the dialect's own query works
		})
	}
}

// TestDatabasePrefix: Start names its database with the prefix, on every
// dialect.
func TestDatabasePrefix(t *testing.T) {
	name := regexp.MustCompile(`^fasttest_prefix_[0-9a-f]{12}$`)
	fasttest.Each(t, func(t *testing.T, d db.Dialect, app *fasttest.App) {
		if got := databaseName(t, app.DB, d); !name.MatchString(got) {
			t.Errorf("database %q, want fasttest_prefix_ and 12 hexadecimal digits", got)
		}
	}, nil, fasttest.DatabasePrefix("fasttest_prefix_"))
}

// TestNewDatabaseWithPrefix creates a database of each dialect with a
// prefix, uses it, and finds it gone once its test has ended.
func TestNewDatabaseWithPrefix(t *testing.T) {
	for _, d := range fasttest.Dialects() {
		t.Run(d.Name(), func(t *testing.T) {
			var u, name string
			t.Run("use", func(t *testing.T) {
				u = fasttest.NewDatabaseWithPrefix(t, d, "fasttest_new_")
				x, got := testdb.Open(t, u)
				if got != d {
					t.Fatalf("%q is a %s URL, want %s", u, got, d)
				}
				name = databaseName(t, x, d)
				if !strings.HasPrefix(name, "fasttest_new_") {
					t.Errorf("database %q lacks the prefix", name)
				}
				if _, err := x.Exec("CREATE TABLE t (id INTEGER)"); err != nil {
					t.Fatal(err)
				}
			})
			if t.Failed() || name == "" {
				return
			}
			if d == db.SQLite {
				return // in the test's temporary folder, which go test removes
			}
			admin, _ := testdb.Open(t, os.Getenv(fasttest.ServerEnv(d)))
			q := "SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?"
			if d == db.Postgres {
				q = "SELECT count(*) FROM pg_database WHERE datname = $1"
			}
			var n int
			if err := admin.Get(&n, q, name); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("database %s still exists after its test", name)
			}
		})
	}
}

// TestConfigure: the edit applies to the app's configuration, with Start
// and with StartWith.
func TestConfigure(t *testing.T) {
	edit := fasttest.Configure(func(c *config.Config) { c.DBMaxOpenConns = 3 })
	for name, start := range map[string]func(t *testing.T) *fasttest.App{
		"Start":     func(t *testing.T) *fasttest.App { return fasttest.Start(t, nil, edit) },
		"StartWith": func(t *testing.T) *fasttest.App { return fasttest.StartWith(t, fasttest.Config(""), nil, edit) },
		"StartWith a URL": func(t *testing.T) *fasttest.App {
			return fasttest.StartWith(t, fasttest.Config(fasttest.NewDatabase(t, db.SQLite)), nil, edit)
		},
	} {
		t.Run(name, func(t *testing.T) {
			app := start(t)
			if got := app.DB.Stats().MaxOpenConnections; got != 3 {
				t.Errorf("MaxOpenConnections %d, want 3", got)
			}
		})
	}
}

// TestStartRefuses: options that cannot be honoured fail the test, and a
// server dialect without its variable skips it, or fails it under CI=true.
func TestStartRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(tb fasttest.TB)
		env   map[string]string
		want  string // "ok", "skip" or "fail"
		msg   string // in the messages
	}{
		{"prefix ok", func(tb fasttest.TB) { fasttest.Start(tb, nil, fasttest.DatabasePrefix("_x9")) }, nil, "ok", ""},
		{"prefix of 40", func(tb fasttest.TB) { fasttest.Start(tb, nil, fasttest.DatabasePrefix(strings.Repeat("a", 40))) }, nil, "ok", ""},
		{"prefix empty", func(tb fasttest.TB) { fasttest.Start(tb, nil, fasttest.DatabasePrefix("")) }, nil, "fail", "prefix"},
		{"prefix of 41", func(tb fasttest.TB) { fasttest.Start(tb, nil, fasttest.DatabasePrefix(strings.Repeat("a", 41))) }, nil, "fail", "prefix"},
		{"prefix digit first", func(tb fasttest.TB) { fasttest.Start(tb, nil, fasttest.DatabasePrefix("1x")) }, nil, "fail", "prefix"},
		{"prefix upper case", func(tb fasttest.TB) { fasttest.Start(tb, nil, fasttest.DatabasePrefix("Ab")) }, nil, "fail", "prefix"},
		{"prefix quote", func(tb fasttest.TB) { fasttest.NewDatabaseWithPrefix(tb, db.SQLite, "a;drop") }, nil, "fail", "prefix"},
		{"unknown dialect", func(tb fasttest.TB) { fasttest.Start(tb, nil, fasttest.On("oracle")) }, nil, "fail", "unknown dialect"},
		{"unknown dialect, NewDatabase", func(tb fasttest.TB) { fasttest.NewDatabase(tb, "oracle") }, nil, "fail", "unknown dialect"},
		{"On twice", func(tb fasttest.TB) { fasttest.Start(tb, nil, fasttest.On(db.SQLite), fasttest.On(db.SQLite)) }, nil, "fail", "already provided"},
		{"a URL and On", func(tb fasttest.TB) {
			fasttest.StartWith(tb, fasttest.Config(fasttest.NewDatabase(tb, db.SQLite)), nil, fasttest.On(db.SQLite))
		}, nil, "fail", "names its database"},
		{"a URL and DatabasePrefix", func(tb fasttest.TB) {
			fasttest.StartWith(tb, fasttest.Config(fasttest.NewDatabase(tb, db.SQLite)), nil, fasttest.DatabasePrefix("x_"))
		}, nil, "fail", "names its database"},
		{"MySQL unset", func(tb fasttest.TB) { fasttest.Start(tb, nil, fasttest.On(db.MySQL)) },
			map[string]string{"TEST_MYSQL_URL": "", "CI": ""}, "skip", "TEST_MYSQL_URL"},
		{"MySQL unset, CI", func(tb fasttest.TB) { fasttest.Start(tb, nil, fasttest.On(db.MySQL)) },
			map[string]string{"TEST_MYSQL_URL": "", "CI": "true"}, "fail", "TEST_MYSQL_URL"},
		{"PostgreSQL unset", func(tb fasttest.TB) { fasttest.NewDatabase(tb, db.Postgres) },
			map[string]string{"TEST_POSTGRES_URL": "", "CI": ""}, "skip", "TEST_POSTGRES_URL"},
		{"PostgreSQL unset, CI", func(tb fasttest.TB) { fasttest.NewDatabase(tb, db.Postgres) },
			map[string]string{"TEST_POSTGRES_URL": "", "CI": "true"}, "fail", "TEST_POSTGRES_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			r := record(t, tc.start)
			got := "ok"
			switch {
			case r.failed:
				got = "fail"
			case r.skipped:
				got = "skip"
			}
			msgs := strings.Join(r.msgs, "\n")
			if got != tc.want || !strings.Contains(msgs, tc.msg) {
				t.Errorf("got %s with messages:\n%s\nwant %s with %q", got, msgs, tc.want, tc.msg)
			}
		})
	}
}

// recorder is a TB that records failures and skips. FailNow, Fatal,
// Fatalf and Skipf end the function record runs, as they end a test.
type recorder struct {
	t               *testing.T
	cleanups        []func()
	failed, skipped bool
	msgs            []string
}

// stopped is what recorder panics with to end the function.
type stopped struct{}

func (r *recorder) Helper()                        {}
func (r *recorder) Cleanup(f func())               { r.cleanups = append(r.cleanups, f) }
func (r *recorder) TempDir() string                { return r.t.TempDir() }
func (r *recorder) Logf(format string, a ...any)   { r.t.Logf(format, a...) }
func (r *recorder) Fatal(a ...any)                 { r.Errorf("%s", fmt.Sprint(a...)); r.FailNow() }
func (r *recorder) Fatalf(format string, a ...any) { r.Errorf(format, a...); r.FailNow() }
func (r *recorder) FailNow()                       { r.failed = true; panic(stopped{}) }

func (r *recorder) Errorf(format string, a ...any) {
	r.failed = true
	r.msgs = append(r.msgs, fmt.Sprintf(format, a...))
}

func (r *recorder) Skipf(format string, a ...any) {
	r.skipped = true
	r.msgs = append(r.msgs, fmt.Sprintf(format, a...))
	panic(stopped{})
}

// record runs fn with a recorder, then its cleanups, and returns it.
func record(t *testing.T, fn func(tb fasttest.TB)) *recorder {
	r := &recorder{t: t}
	r.run(func() { fn(r) })
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.run(r.cleanups[i])
	}
	return r
}

// run calls f, which the recorder may end.
func (r *recorder) run(f func()) {
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(stopped); !ok {
				panic(v)
			}
		}
	}()
	f()
}
