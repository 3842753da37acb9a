package db_test

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/secreturl"
	"github.com/go-sql-driver/mysql"
)

// checkTarget checks what ParseURL(raw) returned.
func checkTarget(t *testing.T, raw string, got db.Target, err error) {
	t.Helper()
	if err != nil {
		if got != (db.Target{}) {
			t.Fatalf("ParseURL(%q) = %+v with error %v", raw, got, err)
		}
		if !strings.HasPrefix(err.Error(), "db: ") {
			t.Fatalf("ParseURL(%q): error %q does not start with \"db: \"", raw, err)
		}
		return
	}
	if got.DSN == "" {
		t.Fatalf("ParseURL(%q) = %+v: empty DSN", raw, got)
	}
	want := map[db.Dialect]string{db.SQLite: "sqlite", db.Postgres: "pgx", db.MySQL: "mysql"}
	driver, ok := want[got.Dialect]
	if !ok || got.Driver != driver {
		t.Fatalf("ParseURL(%q) = %+v: dialect and driver not one of %v", raw, got, want)
	}
	if got.Memory && got.Dialect != db.SQLite {
		t.Fatalf("ParseURL(%q) = %+v: an in-memory database that is not SQLite", raw, got)
	}
	scheme, _, _ := strings.Cut(raw, ":")
	switch got.Dialect {
	case db.SQLite:
		if !strings.HasPrefix(got.DSN, "file:") || !strings.Contains(got.DSN, "foreign_keys%281%29") {
			t.Fatalf("ParseURL(%q): SQLite DSN %q", raw, got.DSN)
		}
	case db.Postgres:
		if got.DSN != raw {
			t.Fatalf("ParseURL(%q): PostgreSQL DSN %q, want the URL itself", raw, got.DSN)
		}
	case db.MySQL:
		if !strings.EqualFold(scheme, "mysql") {
			t.Fatalf("ParseURL(%q) = MySQL", raw)
		}
		// The DSN must say what the URL says.
		cfg, err := mysql.ParseDSN(got.DSN)
		if err != nil {
			t.Fatalf("ParseURL(%q): MySQL DSN %q does not parse: %v", raw, got.DSN, err)
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("ParseURL(%q) accepted a URL url.Parse rejects: %v", raw, err)
		}
		pw, _ := u.User.Password()
		port := u.Port()
		if port == "" {
			port = "3306"
		}
		addr := net.JoinHostPort(u.Hostname(), port)
		if h := u.Hostname(); strings.ContainsAny(h, "[]") || strings.Contains(h, ":") && !strings.HasPrefix(u.Host, "[") {
			// A malformed host that url.Parse lets through ("00]", "::0"):
			// its address is the driver's guess.
			addr = cfg.Addr
		}
		if cfg.User != u.User.Username() || cfg.Passwd != pw || cfg.Net != "tcp" || cfg.Addr != addr || cfg.DBName != strings.TrimPrefix(u.Path, "/") {
			t.Fatalf("ParseURL(%q): MySQL DSN %q reads user %q, password %q, address %s(%s), database %q; the URL has %q, %q, tcp(%s), %q",
				raw, got.DSN, cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName, u.User.Username(), pw, addr, strings.TrimPrefix(u.Path, "/"))
		}
		if !cfg.ParseTime || !cfg.ClientFoundRows {
			t.Fatalf("ParseURL(%q): MySQL DSN %q without parseTime or clientFoundRows", raw, got.DSN)
		}
	}
}

// FuzzParseURL parses scheme://user:PASSWORD@rest, where the password holds
// a marker no error may show, and rest alone as any string: ParseURL never
// panics, and what it returns is consistent.
func FuzzParseURL(f *testing.F) {
	for _, s := range []struct {
		scheme, user, pre, suf, rest string
		encoded                      bool
	}{
		{"postgres", "app", "", "", "db:5432/app?sslmode=disable", false},
		{"postgresql", "", "", "", "db/app", false},
		{"mysql", "root", "", "", "127.0.0.1:3306/app?loc=UTC", false},
		{"mysql", "root", "", "", "/app", false},                   // no host
		{"mysql", "u", "", "", "h:3306/app?timeout=banana", false}, // DSN rejects a param
		{"mysql", "u", "", "", "h/app?tls=nope", true},             // unknown TLS config
		{"mysql", "u", "s3/", "", "h/app", false},                  // '/' in the password
		{"mysql", "u", "", "%zz", "h/app", false},                  // bad escape
		{"mysql", "u", "", "", "h/a/b", false},                     // '/' in the database
		{"postgres", "app", "s3@", "", "db/app", false},            // '@' in the password
		{"postgres", "app", "", "%zz", "db/app", false},            // bad escape
		{"MySQL", "u", "", "", "h:99999/app", false},               // bad port
		{"redis", "u", "", "", "h:6379", false},                    // unknown scheme
		{"sqlite", "", "", "", "app.db?_pragma=busy_timeout(50)", false},
		{"sqlite", "", "", "", ":memory:", false},
	} {
		f.Add(s.scheme, s.user, s.pre, s.suf, s.rest, s.encoded)
	}
	f.Fuzz(func(t *testing.T, scheme, user, pre, suf, rest string, encoded bool) {
		got, err := db.ParseURL(rest)
		checkTarget(t, rest, got, err)

		u, ok := secreturl.Build(scheme, user, pre, suf, rest, encoded)
		if !ok {
			return
		}
		got, err = db.ParseURL(u)
		checkTarget(t, u, got, err)
		if err != nil {
			if l := secreturl.Leak(err.Error()); l != "" {
				t.Fatalf("ParseURL(%q): error shows %q: %v", u, l, err)
			}
		}
	})
}
