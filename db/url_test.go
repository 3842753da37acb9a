package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/dburl"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

// urlForms are the database URL forms config and db must agree on: the
// accepted ones with their dialect, the refused ones with the sentinel of
// their error ("" dialect).
var urlForms = []struct {
	url     string
	dialect db.Dialect
	refused error
}{
	{"sqlite:app.db", db.SQLite, nil},
	{"SQLITE:app.db", db.SQLite, nil},
	{"SQLite:data/app.db", db.SQLite, nil},
	{"sqlite:/var/lib/app.db", db.SQLite, nil},
	{"sqlite:///var/lib/app.db", db.SQLite, nil},
	{"sqlite::memory:", db.SQLite, nil},
	{"sqlite:app.db?_pragma=busy_timeout(50)", db.SQLite, nil},
	{"postgres://app:pw@db:5432/app?sslmode=disable", db.Postgres, nil},
	{"postgresql://db/app", db.Postgres, nil},
	{"Postgres://h/db", db.Postgres, nil},
	{"POSTGRESQL://h1:5432,h2:5433/app", db.Postgres, nil},
	{"postgres:///app?host=/run/postgresql", db.Postgres, nil},
	{"mysql://app:pw@db:3306/app", db.MySQL, nil},
	{"MySQL://root@db/app?loc=UTC", db.MySQL, nil},
	{"mysql://root@[::1]:3307/app", db.MySQL, nil},

	{"", "", dburl.ErrMalformed},
	{"app.db", "", dburl.ErrMalformed},
	{"sqlite3:app.db", "", dburl.ErrUnknownScheme},
	{"file:app.db", "", dburl.ErrUnknownScheme},
	{"redis://u:pw@h:6379", "", dburl.ErrUnknownScheme},
	{"sqlite:", "", dburl.ErrMalformed},
	{"sqlite://", "", dburl.ErrMalformed},
	{"sqlite://host/x.db", "", dburl.ErrMalformed},
	{"sqlite:x.db?a=%zz", "", dburl.ErrMalformed},
	{"postgres:db", "", dburl.ErrMalformed},
	{"postgres://h:99999/db", "", dburl.ErrMalformed},
	{"postgres://h:port/db", "", dburl.ErrMalformed},
	{"postgres://app:p%zz@db/app", "", dburl.ErrMalformed},
	{"mysql:///app", "", dburl.ErrMalformed},
	{"mysql://u@h/app?timeout=banana", "", dburl.ErrMalformed},
	{"mysql://:pw@h/app", "", dburl.ErrMalformed},
}

// TestConfigAndOpenAgree loads each URL form as DATABASE_URL, validates it
// in a Config, and opens it with db.Open: all three accept it, or all three
// refuse it with the same reason.
func TestConfigAndOpenAgree(t *testing.T) {
	for _, tc := range urlForms {
		t.Run(tc.url, func(t *testing.T) {
			var loadErr error
			if tc.url != "" { // an empty variable is unset: the default
				_, loadErr = config.LoadFrom(func(k string) (string, bool) {
					return tc.url, k == "DATABASE_URL"
				})
			}
			c := config.Default()
			c.DatabaseURL = tc.url
			validateErr := c.Validate()

			x, d, openErr := db.Open(tc.url, db.Pool{})
			if openErr == nil {
				x.Close()
			}

			if tc.refused == nil {
				if loadErr != nil || validateErr != nil || openErr != nil {
					t.Fatalf("want accepted; LoadFrom: %v; Validate: %v; Open: %v", loadErr, validateErr, openErr)
				}
				if d != tc.dialect {
					t.Fatalf("Open: dialect %q, want %q", d, tc.dialect)
				}
				return
			}
			de, ok := errors.AsType[*dburl.Error](openErr)
			if !ok || !errors.Is(openErr, tc.refused) {
				t.Fatalf("Open: %v (%T), want a *dburl.Error that is %v", openErr, openErr, tc.refused)
			}
			for name, err := range map[string]error{"LoadFrom": loadErr, "Validate": validateErr} {
				if name == "LoadFrom" && tc.url == "" {
					continue
				}
				ce, ok := errors.AsType[*config.Error](err)
				if !ok || ce.Var != "DATABASE_URL" || !errors.Is(err, tc.refused) {
					t.Fatalf("%s: %v, want a DATABASE_URL *config.Error that is %v", name, err, tc.refused)
				}
				if ce.Err.Error() != de.Err.Error() || ce.Value != de.URL || ce.Accepted != dburl.Accepted {
					t.Errorf("%s says %q: %v (accepted: %s); Open says %q: %v", name, ce.Value, ce.Err, ce.Accepted, de.URL, de.Err)
				}
			}
		})
	}
}

// TestOpenSchemeInAnyCase opens and pings each dialect's database with
// its URL's scheme in upper case: the drivers get it in lower case.
func TestOpenSchemeInAnyCase(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		scheme, rest, _ := strings.Cut(u, ":")
		upper := strings.ToUpper(scheme) + ":" + rest
		x, got, err := db.Open(upper, db.Pool{})
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		if got != d {
			t.Fatalf("dialect %q, want %q", got, d)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := db.Ping(ctx, x, upper); err != nil {
			t.Fatal(err)
		}
	})
}
