package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

// TestTxTimeout lets a transaction outlive its timeout, with a timer of its
// own, with a Watchdog, and with a stopped Watchdog (a timer again), on
// every database: the next statement fails with
// an error wrapping context.DeadlineExceeded, nothing is committed, and the
// connection goes back to the pool.
func TestTxTimeout(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, url string) {
		x, _ := testdb.Open(t, url)
		x.MustExec("CREATE TABLE timeout_t (v INT)")
		for _, tc := range []struct {
			name string
			dog  *db.Watchdog
		}{
			{"timer", nil},
			{"watchdog", db.NewWatchdog(5 * time.Millisecond)},
			{"stopped watchdog: a timer", stoppedWatchdog()},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				tx := db.NewTx(ctx, x, d, db.TxOptions{Timeout: 50 * time.Millisecond})
				if tc.dog != nil {
					defer tc.dog.Stop()
					tx.SetWatchdog(tc.dog)
				}
				if _, err := tx.ExecContext(ctx, "INSERT INTO timeout_t (v) VALUES (1)"); err != nil {
					t.Fatal(err)
				}
				time.Sleep(250 * time.Millisecond)
				_, err := tx.ExecContext(ctx, "INSERT INTO timeout_t (v) VALUES (2)")
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
				if in := x.Stats().InUse; in != 0 {
					t.Errorf("%d connections in use", in)
				}
			})
		}
	})
}

// stoppedWatchdog returns a Watchdog already stopped: a transaction given
// it falls back to a timer of its own.
func stoppedWatchdog() *db.Watchdog {
	w := db.NewWatchdog(5 * time.Millisecond)
	w.Stop()
	return w
}

// TestWatchdogLeavesAFinishedTxAlone checks that a transaction finished
// before its timeout commits, and that the watchdog stops watching it.
func TestWatchdogLeavesAFinishedTxAlone(t *testing.T) {
	x, d := testdb.Open(t, testdb.New(t, db.SQLite))
	x.MustExec("CREATE TABLE wd (v INT)")
	dog := db.NewWatchdog(time.Millisecond)
	defer dog.Stop()
	ctx := context.Background()
	for i := range 20 {
		tx := db.NewTx(ctx, x, d, db.TxOptions{Timeout: 20 * time.Millisecond})
		tx.SetWatchdog(dog)
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
