package fasttest

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"testing"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"go.uber.org/fx"
)

// On makes Start run the app on a throwaway database of dialect d instead
// of SQLite: a new database on the server of TEST_POSTGRES_URL or
// TEST_MYSQL_URL (see NewDatabaseWithPrefix), skipped when the variable is
// not set, failing when CI=true. It is an Fx option: pass it among Start's
// options, at most once. Nothing in the environment overrides it.
//
//	app := fasttest.Start(t, migrations.FS, users.Module(), fasttest.On(db.MySQL))
func On(d db.Dialect) fx.Option { return fx.Supply(dialectChoice{d: d, set: true}) }

// DatabasePrefix makes Start name its throwaway database prefix followed by
// 12 random hexadecimal digits, instead of DefaultPrefix ("ft_"): on a
// shared server, the databases of a project's tests are then easy to tell
// apart. The rules of NewDatabaseWithPrefix apply. Pass it at most once.
func DatabasePrefix(prefix string) fx.Option {
	return fx.Supply(prefixChoice{prefix: prefix, set: true})
}

// Configure makes Start (and StartWith) call edit on the app's
// configuration before the app is built: pool limits, timeouts, the
// request scope's settings. The database is still the throwaway one unless
// edit sets DatabaseURL, in which case On and DatabasePrefix cannot be
// given. Pass it at most once.
//
//	fasttest.Start(t, migrations.FS, users.Module(), fasttest.Configure(func(c *config.Config) {
//		c.DBMaxOpenConns = 1
//	}))
func Configure(edit func(*config.Config)) fx.Option { return fx.Supply(configEdit{edit: edit}) }

// Each runs fn as one subtest per dialect of Dialects, named sqlite,
// postgres and mysql, each with an app started as Start(t, migrations,
// opts..., On(d)) would. SQLite always runs. PostgreSQL and MySQL run on
// the servers of TEST_POSTGRES_URL and TEST_MYSQL_URL; without the variable
// their subtest is skipped with a message saying which variable to set,
// unless CI=true, where it fails. The subtests run one after the other.
// opts must not hold On: Each chooses the dialect.
//
// To run on some dialects only, loop over them with t.Run and On.
func Each(t *testing.T, fn func(t *testing.T, d db.Dialect, app *App), migrations fs.FS, opts ...fx.Option) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(d.Name(), func(t *testing.T) {
			t.Helper()
			if d != db.SQLite {
				testdb.ServerURL(t, d) // skips, or fails under CI=true, before the app is built
			}
			fn(t, d, Start(t, migrations, append(slices.Clip(opts), On(d))...))
		})
	}
}

// dialectChoice is what On supplies.
type dialectChoice struct {
	d   db.Dialect
	set bool
}

// prefixChoice is what DatabasePrefix supplies.
type prefixChoice struct {
	prefix string
	set    bool
}

// configEdit is what Configure supplies.
type configEdit struct{ edit func(*config.Config) }

// choices are the kit's options found among an app's Fx options.
type choices struct {
	fx.In
	Dialect dialectChoice `optional:"true"`
	Prefix  prefixChoice  `optional:"true"`
	Edit    configEdit    `optional:"true"`
}

// errBothDatabases is returned when a configuration names its database and
// On or DatabasePrefix asks for a throwaway one.
var errBothDatabases = errors.New("fasttest: the configuration names its database (DatabaseURL), so On and DatabasePrefix, which choose a throwaway one, cannot be given")

// configure returns cfg edited by the Configure option, on a new database
// of the chosen dialect and prefix unless cfg names one.
func (c choices) configure(t TB, cfg config.Config) (config.Config, error) {
	t.Helper()
	if c.Edit.edit != nil {
		c.Edit.edit(&cfg)
	}
	if cfg.DatabaseURL != "" {
		if c.Dialect.set || c.Prefix.set {
			return cfg, errBothDatabases
		}
		return cfg, nil
	}
	d := db.SQLite
	if c.Dialect.set {
		d = c.Dialect.d
	}
	if !slices.Contains(Dialects(), d) {
		return cfg, fmt.Errorf("fasttest: On(%q): unknown dialect, want one of %v", d, Dialects())
	}
	prefix := DefaultPrefix
	if c.Prefix.set {
		prefix = c.Prefix.prefix
	}
	cfg.DatabaseURL = NewDatabaseWithPrefix(t, d, prefix)
	return cfg, nil
}
