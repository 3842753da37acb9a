package db

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/go-sql-driver/mysql"
)

// BusyTimeoutMillis is how long an SQLite statement waits for a lock before
// it fails with SQLITE_BUSY.
const BusyTimeoutMillis = 5000

// Target is a parsed database URL: which dialect, which database/sql driver,
// and the driver's own DSN.
type Target struct {
	Dialect Dialect
	// Driver is the database/sql driver name: "sqlite", "pgx" or "mysql".
	Driver string
	// DSN is the driver's data source name. It may hold a password: never
	// print it.
	DSN string
	// Memory reports an in-memory SQLite database (sqlite::memory:), which
	// lives as long as one of its connections stays open.
	Memory bool
}

// ParseURL maps a FastTrack database URL to a driver and DSN:
//
//	sqlite:app.db, sqlite:///abs/app.db, sqlite::memory:  modernc.org/sqlite
//	postgres://… or postgresql://…                        pgx v5
//	mysql://user:pass@host:3306/db?param=value            go-sql-driver/mysql
//
// SQLite connections get WAL, busy_timeout and foreign keys, and begin write
// transactions IMMEDIATE (read-only ones stay deferred). Every
// sqlite::memory: URL opens a new private in-memory database shared by all
// connections of its pool. MySQL always gets parseTime and clientFoundRows.
// Errors never contain the password.
func ParseURL(raw string) (Target, error) {
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return Target{}, fmt.Errorf("db: database URL %q has no scheme; accepted: sqlite:, postgres://, postgresql://, mysql://", config.Redact(raw))
	}
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		return sqliteTarget(rest)
	case "postgres", "postgresql":
		if _, err := url.Parse(raw); err != nil {
			return Target{}, fmt.Errorf("db: invalid PostgreSQL URL %q", config.Redact(raw))
		}
		return Target{Dialect: Postgres, Driver: "pgx", DSN: raw}, nil
	case "mysql":
		return mysqlTarget(raw)
	default:
		return Target{}, fmt.Errorf("db: unknown database URL scheme %q in %q; accepted: sqlite:, postgres://, postgresql://, mysql://", scheme, config.Redact(raw))
	}
}

func sqliteTarget(rest string) (Target, error) {
	path, query, _ := strings.Cut(rest, "?")
	path = strings.TrimPrefix(path, "//")
	if path == "" {
		return Target{}, fmt.Errorf("db: sqlite URL needs a file path or :memory: (sqlite:app.db, sqlite::memory:)")
	}
	params := url.Values{}
	if query != "" {
		var err error
		if params, err = url.ParseQuery(query); err != nil {
			return Target{}, fmt.Errorf("db: sqlite URL query %q: %w", query, err)
		}
	}
	if !hasPragma(params, "busy_timeout") {
		params.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeoutMillis))
	}
	params.Add("_pragma", "foreign_keys(1)")
	if params.Get("_txlock") == "" {
		params.Set("_txlock", "immediate")
	}
	memory := path == ":memory:"
	if memory {
		// A named memdb database is shared by every connection of the pool
		// and uses SQLite's normal locking (busy_timeout applies), unlike
		// shared-cache :memory: which answers SQLITE_LOCKED.
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return Target{}, fmt.Errorf("db: naming in-memory database: %w", err)
		}
		path = "/fasttrack-" + hex.EncodeToString(b[:])
		params.Set("vfs", "memdb")
	} else {
		params.Add("_pragma", "journal_mode(WAL)")
		params.Add("_pragma", "synchronous(NORMAL)")
	}
	return Target{Dialect: SQLite, Driver: "sqlite", DSN: "file:" + path + "?" + params.Encode(), Memory: memory}, nil
}

// hasPragma reports whether params already set the named pragma.
func hasPragma(params url.Values, name string) bool {
	for _, p := range params["_pragma"] {
		if strings.HasPrefix(strings.ToLower(p), name+"(") || strings.HasPrefix(strings.ToLower(p), name+"=") {
			return true
		}
	}
	return false
}

func mysqlTarget(raw string) (Target, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Target{}, fmt.Errorf("db: invalid MySQL URL %q; expected mysql://user:pass@host:3306/dbname", config.Redact(raw))
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(u.Hostname(), cmp.Or(u.Port(), "3306"))
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	for k, vs := range u.Query() {
		if !validParamName(k) {
			// The name is not quoted: in a mistyped URL it may hold the
			// password.
			return Target{}, fmt.Errorf("db: invalid MySQL URL %q: a parameter name is not made of letters, digits and '_'", config.Redact(raw))
		}
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		cfg.Params[k] = vs[len(vs)-1]
	}
	// Params holds only unknown keys until the DSN is parsed again, which
	// applies known ones (loc, timeout, tls, …) to their fields.
	parsed, err := mysql.ParseDSN(cfg.FormatDSN())
	if err != nil {
		return Target{}, fmt.Errorf("db: invalid MySQL URL %q: %s", config.Redact(raw), redactText(err.Error(), cfg.Passwd))
	}
	// The DSN format cannot carry every URL (a password without a user, a
	// user with ':', odd hosts): refuse a URL whose DSN would read
	// differently rather than connect somewhere else.
	if parsed.User != cfg.User || parsed.Passwd != cfg.Passwd || parsed.Net != cfg.Net ||
		parsed.Addr != cfg.Addr || parsed.DBName != cfg.DBName {
		return Target{}, fmt.Errorf("db: invalid MySQL URL %q: its user, password, host or database cannot be expressed for the driver", config.Redact(raw))
	}
	parsed.ParseTime = true
	parsed.ClientFoundRows = true
	return Target{Dialect: MySQL, Driver: "mysql", DSN: parsed.FormatDSN()}, nil
}

// validParamName reports a query parameter name of letters, digits and
// underscores, as the MySQL driver's parameters are.
func validParamName(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// redactText replaces every occurrence of secret in s.
func redactText(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "xxxxx")
}

// urlPassword returns the password of a URL, if it has one.
func urlPassword(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		p, _ := u.User.Password()
		return p
	}
	return ""
}
