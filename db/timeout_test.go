package db_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

// TestTxTimeout lets a transaction outlive its timeout on every database:
// the next statement fails with an error wrapping context.DeadlineExceeded,
// nothing is committed, and the connection is back in the pool.
func TestTxTimeout(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, url string) {
		x, _ := testdb.Open(t, url)
		x.MustExec("CREATE TABLE timeout_t (v INT)")
		ctx := context.Background()
		tx := db.NewTx(ctx, x, d, db.TxOptions{Timeout: 50 * time.Millisecond})
		if _, err := tx.ExecContext(ctx, "INSERT INTO timeout_t (v) VALUES (1)"); err != nil {
			t.Fatal(err)
		}
		// Statements succeed until the timeout lands: wait for the first
		// that fails (or give up after 10 s).
		var err error
		for deadline := time.Now().Add(10 * time.Second); err == nil && time.Now().Before(deadline); {
			if _, err = tx.ExecContext(ctx, "INSERT INTO timeout_t (v) VALUES (2)"); err == nil {
				time.Sleep(5 * time.Millisecond)
			}
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a statement after the timeout: %v, want context.DeadlineExceeded", err)
		}
		if err := tx.Finish(ctx, true); err == nil {
			t.Error("a commit after the timeout succeeded")
		}
		if tx.Outcome() != db.OutcomeRolledBack {
			t.Errorf("outcome %v, want rolled back", tx.Outcome())
		}
		var n int
		if err := x.Get(&n, "SELECT COUNT(*) FROM timeout_t"); err != nil || n != 0 {
			t.Errorf("%d rows (%v), want none", n, err)
		}
		waitIdle(t, x)
	})
}

// TestTxTimeoutLeavesAFinishedTxAlone checks that transactions finished
// before their timeout commit, and that nothing undoes them once it passes.
func TestTxTimeoutLeavesAFinishedTxAlone(t *testing.T) {
	x, d := testdb.Open(t, testdb.New(t, db.SQLite))
	x.MustExec("CREATE TABLE wd (v INT)")
	ctx := context.Background()
	for i := range 20 {
		tx := db.NewTx(ctx, x, d, db.TxOptions{Timeout: 20 * time.Millisecond})
		if _, err := tx.ExecContext(ctx, "INSERT INTO wd (v) VALUES (?)", i); err != nil {
			t.Fatal(err)
		}
		if err := tx.Finish(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(60 * time.Millisecond) // past every timeout
	var n int
	if err := x.Get(&n, "SELECT COUNT(*) FROM wd"); err != nil || n != 20 {
		t.Fatalf("%d rows (%v), want 20", n, err)
	}
}

// longStatement returns a query that runs for seconds on d, far longer
// than a transaction timeout of a test: a statement the timeout fails to
// interrupt ends with no error, or is stopped by the test's own bound
// (testBound), in seconds rather than minutes. (A MySQL server goes on
// sleeping after its client has gone: the test database is dropped once
// the sleep ends.)
func longStatement(d db.Dialect) string {
	switch d {
	case db.Postgres:
		return "SELECT pg_sleep(5)"
	case db.MySQL:
		return "SELECT SLEEP(5)"
	default:
		return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) SELECT COUNT(*) FROM c"
	}
}

// testBound bounds, on the test's side, a statement the code under test
// should interrupt long before; errTestBound is its cause.
const testBound = 5 * time.Second

var errTestBound = errors.New("the test's own bound passed: the code under test did not interrupt the statement")

// TestTxTimeoutInterruptsAStatement checks that the timeout interrupts a
// statement still running when it passes, when the statement is given the
// transaction's context or one named by SameContexts: it fails wrapping
// context.DeadlineExceeded long before it would end, the transaction rolls
// back, and the connection goes back to the pool.
func TestTxTimeoutInterruptsAStatement(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, url string) {
		x, _ := testdb.Open(t, url)
		x.MustExec("CREATE TABLE interrupt_t (v INT)")
		type key struct{}
		for _, tc := range []struct {
			name    string
			viaSame bool
		}{
			{"the transaction's context", false},
			{"a context named by SameContexts", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				base, cancel := context.WithTimeoutCause(context.Background(), testBound, errTestBound)
				defer cancel()
				ctx := context.WithValue(base, key{}, "request")
				tx := db.NewTx(ctx, x, d, db.TxOptions{Timeout: 200 * time.Millisecond})
				stmtCtx := ctx
				if tc.viaSame {
					stmtCtx = context.WithValue(base, key{}, "handler")
					tx.SameContexts(stmtCtx)
				}
				if _, err := tx.ExecContext(stmtCtx, "INSERT INTO interrupt_t (v) VALUES (1)"); err != nil {
					t.Fatal(err)
				}
				var n int64
				err := tx.GetContext(stmtCtx, &n, longStatement(d))
				if cause := context.Cause(ctx); cause != nil {
					t.Fatalf("the statement (%v) ran past its transaction's 200ms timeout: %v", err, cause)
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("an interrupted statement: %v, want context.DeadlineExceeded", err)
				}
				if err := tx.Finish(ctx, true); err == nil {
					t.Error("a commit after the timeout succeeded")
				}
				var rowsLeft int
				if err := x.Get(&rowsLeft, "SELECT COUNT(*) FROM interrupt_t"); err != nil || rowsLeft != 0 {
					t.Errorf("%d rows (%v), want none", rowsLeft, err)
				}
				waitIdle(t, x)
			})
		}
	})
}

// TestTxTimeoutSparesOtherContexts checks that a statement given a context
// that does not stand for the transaction's runs on it, to its end, even
// past the timeout; the transaction is rolled back after it.
func TestTxTimeoutSparesOtherContexts(t *testing.T) {
	x, d := testdb.Open(t, testdb.New(t, db.Postgres))
	ctx := context.Background()
	tx := db.NewTx(ctx, x, d, db.TxOptions{Timeout: 100 * time.Millisecond})
	type key struct{}
	other := context.WithValue(ctx, key{}, 1)
	if _, err := tx.ExecContext(other, "SELECT pg_sleep(0.4)"); err != nil {
		t.Fatalf("a statement on a context of its own: %v", err)
	}
	if _, err := tx.ExecContext(other, "SELECT 1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a statement after the timeout: %v, want context.DeadlineExceeded", err)
	}
	_ = tx.Finish(ctx, false)
	waitIdle(t, x)
}

// waitIdle waits for x's connections to go back to the pool: a driver
// may close an interrupted connection a moment after the call returns.
func waitIdle(t *testing.T, x interface{ Stats() sql.DBStats }) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for x.Stats().InUse != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still in use", x.Stats().InUse)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mapCtx is a context of an uncomparable type: == on two of them panics.
type mapCtx struct {
	context.Context
	m map[string]int
}

// TestSameContextsNeverPanics runs statements given contexts of an
// uncomparable type, on a transaction made with one and with a timeout:
// matching them against the transaction's must not compare two of them.
func TestSameContextsNeverPanics(t *testing.T) {
	x, d := testdb.Open(t, testdb.New(t, db.SQLite))
	ctx := mapCtx{context.Background(), map[string]int{}}
	tx := db.NewTx(ctx, x, d, db.TxOptions{Timeout: time.Minute})
	tx.SameContexts(mapCtx{context.Background(), nil})
	if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(mapCtx{context.Background(), map[string]int{}}, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Finish(ctx, true); err != nil {
		t.Fatal(err)
	}
}
