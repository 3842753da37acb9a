package db_test

import (
	"context"
	"errors"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

// TestSQLTx: SQLTx begins the lazy transaction, and what runs on the
// *sql.Tx it returns commits and rolls back with Finish.
func TestSQLTx(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, _ := openTest(t, u)
		ctx := context.Background()
		if _, err := x.ExecContext(ctx, "CREATE TABLE sqltx (n INT NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		ins := d.Rebind("INSERT INTO sqltx (n) VALUES (?)")
		for _, commit := range []bool{false, true} {
			tx := db.NewTx(ctx, x, d, db.TxOptions{})
			if tx.Begun() {
				t.Fatal("begun before SQLTx")
			}
			stx, err := tx.SQLTx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !tx.Begun() {
				t.Fatal("SQLTx did not begin the transaction")
			}
			if _, err := stx.ExecContext(ctx, ins, 1); err != nil {
				t.Fatal(err)
			}
			// Statements through tx and through stx are one transaction.
			var n int
			if err := tx.GetContext(ctx, &n, "SELECT COUNT(*) FROM sqltx"); err != nil || n != 1 {
				t.Fatalf("count in the transaction = %d, %v; want 1", n, err)
			}
			if err := tx.Finish(ctx, commit); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.SQLTx(ctx); !errors.Is(err, db.ErrTxFinished) {
				t.Fatalf("SQLTx after Finish = %v; want ErrTxFinished", err)
			}
		}
		var n int
		if err := x.GetContext(ctx, &n, "SELECT COUNT(*) FROM sqltx"); err != nil || n != 1 {
			t.Fatalf("rows after a rolled-back and a committed transaction = %d, %v; want 1", n, err)
		}
	})
}

// TestSQLTxContext: a context registered with SameContexts is swapped for
// the transaction's own, so a library never keeps the caller's; any other
// context is returned as given.
func TestSQLTxContext(t *testing.T) {
	x, _ := openTest(t, "sqlite::memory:")
	type key struct{}
	caller := context.WithValue(context.Background(), key{}, "request")
	tx := db.NewTx(context.Background(), x, db.SQLite, db.TxOptions{})
	tx.SameContexts(caller)
	defer func() { _ = tx.Finish(context.Background(), false) }()
	stx, sctx, err := tx.SQLTxContext(caller)
	if err != nil || stx == nil {
		t.Fatalf("SQLTxContext = %v, %v", stx, err)
	}
	if sctx == caller {
		t.Fatal("the caller's registered context was returned; want the transaction's own")
	}
	other := context.WithValue(context.Background(), key{}, "other")
	if _, octx, err := tx.SQLTxContext(other); err != nil || octx != other {
		t.Fatalf("an unregistered context came back as %v (%v); want it unchanged", octx, err)
	}
}
