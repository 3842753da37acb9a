package db_test

import (
	"context"
	"errors"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

// A statement run at the commit commits with the transaction; one that
// fails rolls the whole transaction back — when it rides with the COMMIT
// (PostgreSQL), Finish returns its error, classified; elsewhere
// ExecAtCommit does — and a rolled-back transaction drops it.
func TestExecAtCommit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, _ := openTest(t, u)
		ctx := context.Background()
		mustExec(t, x, "CREATE TABLE ac (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL UNIQUE)")
		ins := d.Rebind("INSERT INTO ac (id, email) VALUES (?, ?)")
		count := func() int {
			t.Helper()
			var n int
			if err := x.Get(&n, "SELECT COUNT(*) FROM ac"); err != nil {
				t.Fatal(err)
			}
			return n
		}

		tx := db.NewTx(ctx, x, d, db.TxOptions{})
		if _, err := tx.ExecContext(ctx, ins, 1, "a@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := tx.ExecAtCommit(ctx, ins, 2, "b@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Finish(ctx, true); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 2 {
			t.Fatalf("%d rows after the commit, want 2", n)
		}

		tx = db.NewTx(ctx, x, d, db.TxOptions{})
		if _, err := tx.ExecContext(ctx, ins, 3, "c@example.com"); err != nil {
			t.Fatal(err)
		}
		err := tx.ExecAtCommit(ctx, ins, 4, "a@example.com")
		if d == db.Postgres && err != nil {
			t.Errorf("on PostgreSQL the statement ran at once (%v): it should ride with the COMMIT", err)
		}
		if err == nil {
			err = tx.Finish(ctx, true)
		} else {
			_ = tx.Finish(ctx, false)
		}
		if !errors.Is(err, db.ErrUniqueViolation) {
			t.Fatalf("a failing statement at the commit: %v, want ErrUniqueViolation", err)
		}
		if tx.Outcome() != db.OutcomeRolledBack {
			t.Errorf("outcome %v, want rolled back", tx.Outcome())
		}

		tx = db.NewTx(ctx, x, d, db.TxOptions{})
		if err := tx.ExecAtCommit(ctx, ins, 5, "e@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Finish(ctx, false); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 2 {
			t.Errorf("%d rows after the failed commit and the rollback, want 2", n)
		}
		// Inside a savepoint it runs at once: the savepoint's rollback
		// undoes it.
		tx = db.NewTx(ctx, x, d, db.TxOptions{})
		undone := errors.New("undone")
		if err := tx.Savepoint(ctx, func(ctx context.Context) error {
			if err := tx.ExecAtCommit(ctx, ins, 6, "f@example.com"); err != nil {
				return err
			}
			return undone
		}); !errors.Is(err, undone) {
			t.Fatalf("savepoint: %v", err)
		}
		if err := tx.Finish(ctx, true); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 2 {
			t.Errorf("%d rows after a savepoint rolled back its statement at the commit, want 2", n)
		}
		if in := x.Stats().InUse; in != 0 {
			t.Errorf("%d connections in use", in)
		}
	})
}
