package fasttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

// DefaultPrefix starts the name of every database the kit creates, unless
// DatabasePrefix or NewDatabaseWithPrefix names another prefix. A name is
// the prefix followed by 12 random hexadecimal digits.
const DefaultPrefix = "ft_"

// validPrefix is what a prefix may be: it starts the unquoted name of a
// database in CREATE DATABASE, and leaves room for the random part within
// PostgreSQL's 63 and MySQL's 64 characters.
var validPrefix = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,39}$`)

// Dialects lists the dialects Each runs on, in its order: SQLite,
// PostgreSQL, MySQL.
func Dialects() []db.Dialect { return []db.Dialect{db.SQLite, db.Postgres, db.MySQL} }

// ServerEnv returns the environment variable naming the test server of
// dialect d: TEST_POSTGRES_URL for PostgreSQL, TEST_MYSQL_URL for MySQL
// (MariaDB too), "" for SQLite, which needs none.
func ServerEnv(d db.Dialect) string { return testdb.EnvVar(d) }

// Configured reports whether the kit can create a database of dialect d in
// this environment: always for SQLite, and for PostgreSQL or MySQL when
// ServerEnv(d) is set. A test of an unconfigured dialect is skipped, or
// fails when CI=true.
func Configured(d db.Dialect) bool {
	if d == db.SQLite {
		return true
	}
	name := ServerEnv(d)
	return name != "" && os.Getenv(name) != ""
}

// NewDatabase returns the URL of a new, empty database of dialect d, named
// with DefaultPrefix, and removes it when the test ends (see
// NewDatabaseWithPrefix).
func NewDatabase(t TB, d db.Dialect) string {
	t.Helper()
	return NewDatabaseWithPrefix(t, d, DefaultPrefix)
}

// NewDatabaseWithPrefix returns the URL of a new, empty database of dialect
// d whose name is prefix followed by 12 random hexadecimal digits, and
// removes it when the test ends. For SQLite it is a file of that name in
// the test's temporary folder. For PostgreSQL and MySQL it is created on the
// server named by ServerEnv(d) (TEST_POSTGRES_URL, TEST_MYSQL_URL), with the
// user, password and options of that URL, and dropped at the end; without
// the variable the test is skipped with a message, unless CI=true, where it
// fails. The prefix is lower-case letters, digits and underscores, starts
// with a letter or an underscore, and is at most 40 characters long.
func NewDatabaseWithPrefix(t TB, d db.Dialect, prefix string) string {
	t.Helper()
	if !validPrefix.MatchString(prefix) {
		t.Fatalf("fasttest: database prefix %q: want 1 to 40 lower-case letters, digits or underscores, not starting with a digit", prefix)
	}
	if !slices.Contains(Dialects(), d) {
		t.Fatalf("fasttest: unknown dialect %q: want %v", d, Dialects())
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := prefix + hex.EncodeToString(b[:])
	if d == db.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), name+".db")
	}
	server := testdb.ServerURL(t, d)
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("fasttest: %s: %v", ServerEnv(d), err)
	}
	admin, _ := testdb.Open(t, server) // closed when the test ends, after the drop below
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("fasttest: creating database %s on the server of %s: %v", name, ServerEnv(d), err)
	}
	t.Cleanup(func() {
		drop := "DROP DATABASE IF EXISTS " + name
		if d == db.Postgres {
			drop += " WITH (FORCE)"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, drop); err != nil {
			t.Errorf("fasttest: dropping database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
