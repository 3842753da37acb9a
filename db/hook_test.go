package db_test

import (
	"context"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

func TestAPanickingAfterCommitHookLeavesTheCommit(t *testing.T) {
	x, _ := testdb.Open(t, testdb.New(t, db.SQLite))
	x.MustExec("CREATE TABLE h (v INT)")
	ctx := context.Background()
	ran := false
	err := db.WithTx(ctx, x, func(tx *db.Tx) error {
		tx.AfterCommit(func(context.Context) { panic("hook") })
		tx.AfterCommit(func(context.Context) { ran = true })
		_, err := tx.ExecContext(ctx, "INSERT INTO h (v) VALUES (1)")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := x.Get(&n, "SELECT COUNT(*) FROM h"); err != nil || n != 1 || !ran {
		t.Fatalf("rows %d (%v), next hook ran %v", n, err, ran)
	}
	if x.Stats().InUse != 0 {
		t.Fatalf("%d connections in use", x.Stats().InUse)
	}
}

func TestCancelledUnitWithoutStatementsIsNotAnError(t *testing.T) {
	x, _ := testdb.Open(t, testdb.New(t, db.SQLite))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.WithTx(ctx, x, func(*db.Tx) error { return nil }); err != nil {
		t.Fatalf("a cancelled unit of work that sent nothing: %v", err)
	}
}
