package db

import (
	"context"
	"testing"
	"time"
)

// A statement given Batched of the transaction's context runs on the
// transaction's own context, which its timeout bounds, as one given the
// context itself does.
func TestBatchedStandsForTxContext(t *testing.T) {
	x, d := openBench(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tx := NewTx(ctx, x, d, TxOptions{Timeout: time.Hour, NPlusOne: NPlusOne{Mode: NPlusOneFail}})
	defer tx.Finish(ctx, false)
	if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if got := tx.stmtContext(Batched(ctx)); got != tx.bctx {
		t.Errorf("stmtContext(Batched(ctx)) = %v, want the transaction's context", got)
	}
	other := context.WithoutCancel(ctx)
	if b := Batched(other); tx.stmtContext(b) != b {
		t.Error("stmtContext(Batched(other)) is not itself")
	}
}
