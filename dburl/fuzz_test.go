package dburl_test

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/dburl"
	"github.com/fasttrack-go/fasttrack/internal/secreturl"
	"github.com/go-sql-driver/mysql"
)

// checkTarget checks what Parse(raw) returned.
func checkTarget(t *testing.T, raw string, got dburl.Target, err error) {
	t.Helper()
	if err != nil {
		if got != (dburl.Target{}) {
			t.Fatalf("Parse(%q) = %+v with error %v", raw, got, err)
		}
		e, ok := errors.AsType[*dburl.Error](err)
		if !ok || e.URL != dburl.Redact(raw) {
			t.Fatalf("Parse(%q): error %v (%T), want a *dburl.Error with URL %q", raw, err, err, dburl.Redact(raw))
		}
		if !errors.Is(err, dburl.ErrMalformed) && !errors.Is(err, dburl.ErrUnknownScheme) {
			t.Fatalf("Parse(%q): error %v is neither ErrMalformed nor ErrUnknownScheme", raw, err)
		}
		return
	}
	if got.DSN == "" {
		t.Fatalf("Parse(%q) = %+v: empty DSN", raw, got)
	}
	want := map[dburl.Dialect]string{dburl.SQLite: "sqlite", dburl.Postgres: "pgx", dburl.MySQL: "mysql"}
	driver, ok := want[got.Dialect]
	if !ok || got.Driver != driver {
		t.Fatalf("Parse(%q) = %+v: dialect and driver not one of %v", raw, got, want)
	}
	if got.Memory && got.Dialect != dburl.SQLite {
		t.Fatalf("Parse(%q) = %+v: an in-memory database that is not SQLite", raw, got)
	}
	scheme, _, _ := strings.Cut(raw, ":")
	switch got.Dialect {
	case dburl.SQLite:
		if !strings.HasPrefix(got.DSN, "file:") || !strings.Contains(got.DSN, "foreign_keys%281%29") {
			t.Fatalf("Parse(%q): SQLite DSN %q", raw, got.DSN)
		}
	case dburl.Postgres:
		if got.DSN != strings.ToLower(scheme)+raw[len(scheme):] {
			t.Fatalf("Parse(%q): PostgreSQL DSN %q, want the URL itself, its scheme in lower case", raw, got.DSN)
		}
	case dburl.MySQL:
		if !strings.EqualFold(scheme, "mysql") {
			t.Fatalf("Parse(%q) = MySQL", raw)
		}
		// The DSN must say what the URL says.
		cfg, err := mysql.ParseDSN(got.DSN)
		if err != nil {
			t.Fatalf("Parse(%q): MySQL DSN %q does not parse: %v", raw, got.DSN, err)
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("Parse(%q) accepted a URL url.Parse rejects: %v", raw, err)
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
			t.Fatalf("Parse(%q): MySQL DSN %q reads user %q, password %q, address %s(%s), database %q; the URL has %q, %q, tcp(%s), %q",
				raw, got.DSN, cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName, u.User.Username(), pw, addr, strings.TrimPrefix(u.Path, "/"))
		}
		if !cfg.ParseTime || !cfg.ClientFoundRows {
			t.Fatalf("Parse(%q): MySQL DSN %q without parseTime or clientFoundRows", raw, got.DSN)
		}
	}
}

// FuzzParse parses scheme://user:PASSWORD@rest, where the password holds
// a marker no error may show, and rest alone as any string: Parse never
// panics, and what it returns is consistent.
func FuzzParse(f *testing.F) {
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
		{"Postgres", "u", "", "", "h/db", false},                        // scheme in any case
		{"p", "", "", "", "SQLITE:app.db", false},                       // rest alone: scheme in any case
		{"p", "", "", "", "sqlite3:app.db", false},                      // rest alone: refused alias
		{"p", "", "", "", "sqlite://host/x.db", false},                  // rest alone: a host
		{"p", "", "", "", "sqlite:///var/x.db?_txlock=deferred", false}, // rest alone: absolute path
	} {
		f.Add(s.scheme, s.user, s.pre, s.suf, s.rest, s.encoded)
	}
	f.Fuzz(func(t *testing.T, scheme, user, pre, suf, rest string, encoded bool) {
		got, err := dburl.Parse(rest)
		checkTarget(t, rest, got, err)

		u, ok := secreturl.Build(scheme, user, pre, suf, rest, encoded)
		if !ok {
			return
		}
		got, err = dburl.Parse(u)
		checkTarget(t, u, got, err)
		if err != nil {
			if l := secreturl.Leak(err.Error()); l != "" {
				t.Fatalf("Parse(%q): error shows %q: %v", u, l, err)
			}
		}
	})
}
