// Package testdb gives tests throwaway databases: an SQLite file in a
// temporary folder, or a fresh database on the PostgreSQL or MySQL server
// named by TEST_POSTGRES_URL / TEST_MYSQL_URL, dropped when the test ends.
// Without the variable a server test is skipped, unless CI=true, where it
// fails.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/dburl"
	"github.com/jmoiron/sqlx"
)

// EnvVar returns the environment variable naming d's test server, or "" for
// SQLite.
func EnvVar(d db.Dialect) string {
	switch d {
	case db.Postgres:
		return "TEST_POSTGRES_URL"
	case db.MySQL:
		return "TEST_MYSQL_URL"
	}
	return ""
}

// Dialects lists the dialects every database test runs on.
func Dialects() []db.Dialect { return []db.Dialect{db.SQLite, db.Postgres, db.MySQL} }

// Each runs fn as one subtest per dialect, each on a fresh database URL.
func Each(t *testing.T, fn func(t *testing.T, d db.Dialect, databaseURL string)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(d.Name(), func(t *testing.T) {
			fn(t, d, New(t, d))
		})
	}
}

// ServerURL returns the URL of d's test server, skipping the test when it is
// not set (failing it under CI=true).
func ServerURL(t TB, d db.Dialect) string {
	t.Helper()
	name := EnvVar(d)
	u := os.Getenv(name)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set, and CI=true: a %s server is required", name, d)
		}
		t.Skipf("%s is not set: skipping the %s test", name, d)
	}
	return u
}

// New returns the URL of a new, empty database of dialect d, removed when
// the test ends.
func New(t TB, d db.Dialect) string {
	t.Helper()
	if d == db.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	}
	server := ServerURL(t, d)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "ft_" + hex.EncodeToString(b[:])
	admin := open(t, server)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testdb: creating database on %s: %v", dburl.Redact(server), err)
	}
	t.Cleanup(func() {
		drop := "DROP DATABASE IF EXISTS " + name
		if d == db.Postgres {
			drop += " WITH (FORCE)"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, drop); err != nil {
			t.Errorf("testdb: dropping %s: %v", name, err)
		}
		admin.Close()
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("testdb: %s: %v", EnvVar(d), err)
	}
	u.Path = "/" + name
	return u.String()
}

// open opens a single-connection pool on the server URL.
func open(t TB, server string) *sqlx.DB {
	t.Helper()
	x, _, err := db.Open(server, db.Pool{MaxOpenConns: 1})
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return x
}

// Open opens a pool on databaseURL with the default limits, checks that
// the database answers, and closes the pool when the test ends.
func Open(t TB, databaseURL string) (*sqlx.DB, db.Dialect) {
	t.Helper()
	x, d, err := db.Open(databaseURL, db.Pool{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.Ping(ctx, x, databaseURL); err != nil {
		t.Fatal(err)
	}
	return x, d
}
