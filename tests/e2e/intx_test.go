package e2e

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
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
// SQLite shows nothing of the kind; there it waits a little.
func waitInTransaction(t *testing.T, d db.Dialect, admin *sqlx.DB, emails ...string) {
	t.Helper()
	if d == db.SQLite {
		time.Sleep(300 * time.Millisecond)
		return
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n [3]int
		if d == db.Postgres {
			// An uncommitted row is invisible to other sessions; count the
			// sessions of the database in a transaction that has written.
			var open int
			if err := admin.Get(&open, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "+
				"AND state = 'idle in transaction' AND backend_xid IS NOT NULL"); err != nil {
				t.Fatal(err)
			}
			for _, e := range emails {
				var c int
				if err := admin.Get(&c, "SELECT COUNT(*) FROM users WHERE email = $1", e); err != nil {
					t.Fatal(err)
				}
				n[min(c, 1)*int(committed)]++
			}
			n[uncommitted] = open
		} else {
			for _, e := range emails {
				n[mysqlRowState(t, admin, e)]++
			}
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
