package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/sqlcount"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

// TestReadOnlyReachesBegin checks that TxOptions.ReadOnly reaches the
// database's BEGIN. PostgreSQL (BEGIN READ ONLY: 25006) and MySQL (START
// TRANSACTION READ ONLY: 1792) refuse a write in the transaction, whether it
// is the transaction's first statement (on PostgreSQL sent after BEGIN, or
// with it once the connection has prepared it) or follows a read. SQLite has no
// read-only transaction: what TxOptions promises there is a deferred BEGIN
// that takes no write lock, so another connection writes while the
// read-only transaction is open — where a read-write one (BEGIN IMMEDIATE)
// makes it wait, here until its 10 ms busy timeout.
func TestReadOnlyReachesBegin(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		if d == db.SQLite {
			sqliteReadOnlyTakesNoWriteLock(t, u)
			return
		}
		x, _ := testdb.Open(t, u)
		x.SetMaxOpenConns(1) // one connection: PostgreSQL's has prepared the INSERT after the first case
		mustExec(t, x, "CREATE TABLE ro (v INT)")
		want := map[db.Dialect]string{db.Postgres: "25006", db.MySQL: "1792"}[d]
		for _, tc := range []struct {
			name string
			read bool
		}{
			{"the first statement", false},
			{"the first statement, prepared: on PostgreSQL it rides with BEGIN", false},
			{"after a read", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				tx := db.NewTx(ctx, x, d, db.TxOptions{ReadOnly: true})
				defer endTx(t, tx, false)
				if tc.read {
					var n int
					if err := tx.GetContext(ctx, &n, "SELECT COUNT(*) FROM ro"); err != nil {
						t.Fatal(err)
					}
				}
				_, err := tx.ExecContext(ctx, d.Rebind("INSERT INTO ro (v) VALUES (?)"), 1)
				if got := driverCode(err); got != want {
					t.Fatalf("a write in a read-only transaction: %v (code %q), want the database's %s", err, got, want)
				}
			})
		}
		var n int
		if err := x.Get(&n, "SELECT COUNT(*) FROM ro"); err != nil || n != 0 {
			t.Fatalf("%d rows (%v), want none", n, err)
		}
	})
}

// sqliteReadOnlyTakesNoWriteLock is TestReadOnlyReachesBegin on SQLite.
func sqliteReadOnlyTakesNoWriteLock(t *testing.T, u string) {
	x, d := testdb.Open(t, u)
	mustExec(t, x, "CREATE TABLE ro (v INT)")
	other, _ := testdb.Open(t, u+"?_pragma=busy_timeout(10)")
	for _, tc := range []struct {
		name     string
		readOnly bool
	}{
		{"read-only: deferred, no write lock", true},
		{"read-write: immediate, the write lock", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tx := db.NewTx(ctx, x, d, db.TxOptions{ReadOnly: tc.readOnly})
			defer endTx(t, tx, false)
			var n int
			if err := tx.GetContext(ctx, &n, "SELECT COUNT(*) FROM ro"); err != nil {
				t.Fatal(err)
			}
			_, err := other.ExecContext(ctx, "INSERT INTO ro (v) VALUES (1)")
			switch {
			case tc.readOnly && err != nil:
				t.Fatalf("another connection's write while a read-only transaction is open: %v", err)
			case !tc.readOnly && !errors.Is(d.Classify(err), db.ErrRetryable):
				t.Fatalf("another connection's write while a read-write transaction is open: %v, want busy", err)
			}
		})
	}
}

// TestUnusedTxSendsNothing checks that BEGIN is lazy: a Tx on which no
// statement runs takes no connection and sends nothing, and neither does its
// Finish, commit or not (its outcome is OutcomeNone). A Tx that runs one
// statement sends one BEGIN and one COMMIT, so the counts can see them.
func TestUnusedTxSendsNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, c, err := sqlcount.Open(u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { x.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, commit := range []bool{true, false} {
			tx := db.NewTx(ctx, x, d, db.TxOptions{ReadOnly: true, Timeout: time.Minute})
			tx.AfterCommit(func(context.Context) {})
			if tx.Begun() {
				t.Fatal("a new Tx has begun")
			}
			if n := x.Stats().OpenConnections; n != 0 {
				t.Fatalf("an unused Tx opened %d connections", n)
			}
			if err := tx.Finish(ctx, commit); err != nil {
				t.Fatalf("finish (commit %v): %v", commit, err)
			}
			if tx.Outcome() != db.OutcomeNone {
				t.Fatalf("finish (commit %v): outcome %v, want none", commit, tx.Outcome())
			}
		}
		sent := func() [4]int64 {
			return [4]int64{c.Begins.Load(), c.Statements.Load(), c.Commits.Load(), c.Rollbacks.Load()}
		}
		if got := sent(); got != [4]int64{} {
			t.Fatalf("unused Txs sent begins, statements, commits, rollbacks = %v, want none", got)
		}
		tx := db.NewTx(ctx, x, d, db.TxOptions{})
		var one int
		if err := tx.GetContext(ctx, &one, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Finish(ctx, true); err != nil {
			t.Fatal(err)
		}
		if got := sent(); got != [4]int64{1, 1, 1, 0} {
			t.Fatalf("a Tx of one statement sent begins, statements, commits, rollbacks = %v, want [1 1 1 0]", got)
		}
	})
}

// TestPanickingSavepointRollsBackItsWorkOnly checks Tx.Savepoint's promise
// when fn panics: fn's work is rolled back to the savepoint, the panic goes
// on with its value, and the transaction stays usable — even on PostgreSQL
// after a failed statement in fn, which aborts the transaction until the
// savepoint is rolled back to — so that the work before and after the
// savepoint commits.
func TestPanickingSavepointRollsBackItsWorkOnly(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, _ := testdb.Open(t, u)
		mustExec(t, x, "CREATE TABLE sp (v INT)")
		ins := d.Rebind("INSERT INTO sp (v) VALUES (?)")
		for _, tc := range []struct {
			name   string
			failed bool // fn runs a failing statement before it panics
		}{
			{"after a write", false},
			{"after a failed statement", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				mustExec(t, x, "DELETE FROM sp")
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				tx := db.NewTx(ctx, x, d, db.TxOptions{})
				defer endTx(t, tx, false) // after a failure; nil once committed
				if _, err := tx.ExecContext(ctx, ins, 1); err != nil {
					t.Fatal(err)
				}
				type boom struct{}
				recovered := func() (p any) {
					defer func() { p = recover() }()
					_ = tx.Savepoint(ctx, func(ctx context.Context) error {
						if _, err := tx.ExecContext(ctx, ins, 2); err != nil {
							t.Error(err)
						}
						if tc.failed {
							if _, err := tx.ExecContext(ctx, "INSERT INTO no_such_table (v) VALUES (1)"); err == nil {
								t.Error("an insert into a missing table succeeded")
							}
						}
						panic(boom{})
					})
					return nil
				}()
				if _, ok := recovered.(boom); !ok {
					t.Fatalf("Savepoint's caller recovered %v, want fn's panic", recovered)
				}
				if _, err := tx.ExecContext(ctx, ins, 3); err != nil {
					t.Fatalf("the transaction after a panicking savepoint: %v", err)
				}
				if err := tx.Finish(ctx, true); err != nil {
					t.Fatal(err)
				}
				var got []int
				if err := x.SelectContext(ctx, &got, "SELECT v FROM sp ORDER BY v"); err != nil {
					t.Fatal(err)
				}
				if len(got) != 2 || got[0] != 1 || got[1] != 3 {
					t.Fatalf("committed %v, want [1 3]: the savepoint's 2 undone, the rest kept", got)
				}
				waitIdle(t, x)
			})
		}
	})
}
