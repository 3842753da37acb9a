package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/dburl"
	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
)

// txState is where the INSERT of a user stands, seen from another session.
type txState int

const (
	notYet      txState = iota // no row: not inserted yet (or rolled back)
	uncommitted                // inserted by a transaction still open
	committed
)

// waitInTransaction waits until the user of each email has been inserted
// by a transaction that is still open, or has committed (a request slower
// to start than another to finish): the slow requests are in their sleep.
// SQLite runs one writer at a time, so there it waits until one request is
// in its write transaction, or every one has committed. It fails the test
// after 10 s.
func waitInTransaction(t *testing.T, d db.Dialect, admin *sqlx.DB, emails ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n [3]int
		switch d {
		case db.Postgres:
			// An uncommitted row is invisible to other sessions; count the
			// sessions of the database in a transaction that has written.
			n[uncommitted] = queryInt(t, admin, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "+
				"AND state = 'idle in transaction' AND backend_xid IS NOT NULL")
			for _, e := range emails {
				c := queryInt(t, admin, "SELECT COUNT(*) FROM users WHERE email = $1", e)
				n[min(c, 1)*int(committed)]++
			}
		case db.MySQL:
			for _, e := range emails {
				n[mysqlRowState(t, admin, e)]++
			}
		case db.SQLite:
			// An uncommitted row is invisible to other connections, and
			// only one transaction writes at a time: count the committed
			// rows, and the write lock as every other request in flight.
			for _, e := range emails {
				c := queryInt(t, admin, "SELECT COUNT(*) FROM users WHERE email = ?", e)
				n[min(c, 1)*int(committed)]++
			}
			if n[committed] < len(emails) && sqliteWriteLocked(t, admin) {
				n[uncommitted] = len(emails) - n[committed]
			}
		default:
			t.Fatalf("waitInTransaction: dialect %v", d)
		}
		if n[uncommitted]+n[committed] >= len(emails) {
			if n[committed] > 0 {
				t.Logf("%d of %d requests committed before all were in their transaction", n[committed], len(emails))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s, %d of the %d requests are in their transaction and %d committed", n[uncommitted], len(emails), n[committed])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// queryInt runs a query of one integer on admin, within 5 s.
func queryInt(t *testing.T, admin *sqlx.DB, query string, args ...any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var n int
	if err := admin.GetContext(ctx, &n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// sqliteWriteLocked reports whether a transaction holds SQLite's write
// lock: BEGIN IMMEDIATE, on a connection that does not wait, is busy.
func sqliteWriteLocked(t *testing.T, admin *sqlx.DB) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := admin.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", dburl.BusyTimeoutMillis)); err != nil {
			t.Error(err)
		}
	}()
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	switch {
	case err == nil:
		if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
		return false
	case db.SQLite.ClassOf(err) == db.ClassRetryable:
		return true
	default:
		t.Fatalf("BEGIN IMMEDIATE: %v", err)
		return false
	}
}

// mysqlRowState tells whether the user of email is inserted, by a locking
// read that does not wait: it fails on a row another transaction inserted
// and has not committed. At READ COMMITTED, a miss takes no gap lock that
// could hold up the application's INSERT.
func mysqlRowState(t *testing.T, admin *sqlx.DB, email string) txState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tx, err := admin.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var id int64
	err = tx.GetContext(ctx, &id, "SELECT id FROM users WHERE email = ? FOR UPDATE NOWAIT", email)
	var my *mysql.MySQLError
	switch {
	case err == nil:
		return committed
	case errors.Is(err, sql.ErrNoRows):
		return notYet
	case errors.As(err, &my) && (my.Number == 1205 || my.Number == 3572):
		return uncommitted // lock wait timeout (MariaDB's NOWAIT), or MySQL's NOWAIT error
	default:
		t.Fatal(err)
		return notYet
	}
}
