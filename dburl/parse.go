package dburl

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// Dialect is the database a URL names. Its values are the names of the
// db package's dialects: db.Dialect(t.Dialect) converts.
type Dialect string

// The dialects of the accepted URLs.
const (
	// SQLite is an sqlite: URL.
	SQLite Dialect = "sqlite"
	// Postgres is a postgres:// or postgresql:// URL.
	Postgres Dialect = "postgres"
	// MySQL is a mysql:// URL, for MySQL or MariaDB.
	MySQL Dialect = "mysql"
)

// BusyTimeoutMillis is how long an SQLite statement waits for a lock before
// it fails with SQLITE_BUSY, unless the URL sets its own busy_timeout.
const BusyTimeoutMillis = 5000

// Accepted lists the accepted forms, for messages.
const Accepted = "sqlite:PATH, sqlite:///ABS/PATH, sqlite::memory:, postgres://…, postgresql://…, mysql://…"

// Sentinel errors wrapped by [Error.Err]; test for them with [errors.Is].
var (
	// ErrUnknownScheme reports a URL whose scheme is not one of
	// sqlite, postgres, postgresql and mysql.
	ErrUnknownScheme = errors.New("unknown scheme")
	// ErrMalformed reports a URL of a known scheme, or of none, that
	// does not follow the grammar.
	ErrMalformed = errors.New("malformed URL")
)

// Error is a refused database URL.
type Error struct {
	// URL is the refused URL, passed through Redact.
	URL string
	// Err says what is wrong with URL, without quoting its password. It
	// wraps ErrUnknownScheme or ErrMalformed.
	Err error
}

// Error returns the message, such as
//
//	dburl: database URL "redis://h": unknown scheme "redis"; accepted: sqlite:PATH, …
func (e *Error) Error() string {
	return fmt.Sprintf("dburl: database URL %q: %v; accepted: %s", e.URL, e.Err, Accepted)
}

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

// Target is a parsed database URL: which dialect, which database/sql
// driver, and the driver's own DSN.
type Target struct {
	// Dialect is the database the URL names.
	Dialect Dialect
	// Driver is the database/sql driver name: "sqlite" (modernc.org/sqlite),
	// "pgx" (github.com/jackc/pgx/v5/stdlib) or "mysql"
	// (github.com/go-sql-driver/mysql).
	Driver string
	// DSN is the driver's data source name. It may hold a password: never
	// print it.
	DSN string
	// Memory reports an in-memory SQLite database (sqlite::memory:), which
	// lives as long as one of its connections stays open.
	Memory bool
}

// Parse maps a database URL to its dialect, driver and DSN, following the
// grammar of the package documentation. Its error is an [*Error], which
// never contains the URL's password.
func Parse(raw string) (Target, error) {
	t, err := parse(raw)
	if err == nil {
		return t, nil
	}
	redacted := Redact(raw)
	if redacted != raw {
		// Describe the redacted URL, whose reasons cannot quote the
		// password; if it parses, only the password was wrong.
		if _, rerr := parse(redacted); rerr != nil {
			err = rerr
		} else {
			err = fmt.Errorf("%w: invalid user name or password; percent-encode special characters in them", ErrMalformed)
		}
	}
	return Target{}, &Error{URL: redacted, Err: err}
}

// parse is Parse, with reasons that may quote any part of raw.
func parse(raw string) (Target, error) {
	if raw == "" {
		return Target{}, fmt.Errorf("%w: empty", ErrMalformed)
	}
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok || !validScheme(scheme) {
		return Target{}, fmt.Errorf("%w: missing scheme (an SQLite file is sqlite:PATH)", ErrMalformed)
	}
	switch lower := strings.ToLower(scheme); lower {
	case "sqlite":
		return sqliteTarget(rest)
	case "postgres", "postgresql":
		if _, err := netURL(lower, rest); err != nil {
			return Target{}, err
		}
		// pgx recognises a URL by its scheme, in lower case only.
		return Target{Dialect: Postgres, Driver: "pgx", DSN: lower + ":" + rest}, nil
	case "mysql":
		u, err := netURL(lower, rest)
		if err != nil {
			return Target{}, err
		}
		return mysqlTarget(u)
	case "sqlite3", "file":
		return Target{}, fmt.Errorf("%w %q: an SQLite file is sqlite:PATH", ErrUnknownScheme, scheme)
	}
	return Target{}, fmt.Errorf("%w %q", ErrUnknownScheme, scheme)
}

// validScheme reports whether s is a URL scheme (RFC 3986, section 3.1).
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// netURL parses scheme:rest, a URL of a database server: "//" after the
// scheme, a URL net/url parses, a port (if any) in 0-65535.
func netURL(scheme, rest string) (*url.URL, error) {
	if !strings.HasPrefix(rest, "//") {
		return nil, fmt.Errorf("%w: missing \"//\" after %q", ErrMalformed, scheme+":")
	}
	u, err := url.Parse(scheme + ":" + rest)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // ue's own message repeats the URL
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if p := u.Port(); p != "" {
		if _, err := strconv.ParseUint(p, 10, 16); err != nil {
			return nil, fmt.Errorf("%w: port %s not in 0-65535", ErrMalformed, p)
		}
	}
	return u, nil
}

// sqliteTarget maps the part of an sqlite: URL after its scheme.
func sqliteTarget(rest string) (Target, error) {
	path, query, _ := strings.Cut(rest, "?")
	if p, ok := strings.CutPrefix(path, "//"); ok {
		if p != "" && p[0] != '/' {
			return Target{}, fmt.Errorf("%w: sqlite URL with a host; write sqlite:PATH for a relative path or sqlite:///abs/path for an absolute one", ErrMalformed)
		}
		path = p
	}
	if path == "" {
		return Target{}, fmt.Errorf("%w: empty sqlite path; write sqlite:PATH, sqlite:///abs/path or sqlite::memory:", ErrMalformed)
	}
	params := url.Values{}
	if query != "" {
		var err error
		if params, err = url.ParseQuery(query); err != nil {
			return Target{}, fmt.Errorf("%w: sqlite URL query: %w", ErrMalformed, err)
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
			return Target{}, fmt.Errorf("dburl: naming an in-memory database: %w", err)
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
		p = strings.ToLower(p)
		if strings.HasPrefix(p, name+"(") || strings.HasPrefix(p, name+"=") {
			return true
		}
	}
	return false
}

// mysqlTarget maps a mysql:// URL to the driver's DSN.
func mysqlTarget(u *url.URL) (Target, error) {
	if u.Host == "" {
		return Target{}, fmt.Errorf("%w: MySQL URL without a host; write mysql://user:pass@host:3306/dbname", ErrMalformed)
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
			return Target{}, fmt.Errorf("%w: a MySQL parameter name is not made of letters, digits and '_'", ErrMalformed)
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
		return Target{}, fmt.Errorf("%w: %s", ErrMalformed, replaceSecret(err.Error(), cfg.Passwd))
	}
	// The DSN format cannot carry every URL (a password without a user, a
	// user with ':', odd hosts): refuse a URL whose DSN would read
	// differently rather than connect somewhere else.
	if parsed.User != cfg.User || parsed.Passwd != cfg.Passwd || parsed.Net != cfg.Net ||
		parsed.Addr != cfg.Addr || parsed.DBName != cfg.DBName {
		return Target{}, fmt.Errorf("%w: its user, password, host or database cannot be expressed for the MySQL driver", ErrMalformed)
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
