package db_test

import (
	"context"
	"errors"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

// Twelve runs of one text in error mode, past the default threshold, pass
// when given a Batched context, through each statement method, and are not
// reported; the same runs given the plain context fail the eleventh. A
// context derived from a Batched one is batched too.
func TestNPlusOneBatched(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, _ := testdb.Open(t, u)
		ctx := context.Background()
		const q = "SELECT 1"
		opts := db.TxOptions{NPlusOne: db.NPlusOne{Mode: db.NPlusOneFail}}
		for _, m := range statementMethods {
			t.Run(m.name, func(t *testing.T) {
				tx := db.NewTx(ctx, x, d, opts)
				defer endTx(t, tx, false)
				bctx := db.Batched(ctx)
				derived, cancel := context.WithCancel(bctx)
				defer cancel()
				for i := range 12 {
					c := bctx
					if i%2 == 1 {
						c = derived
					}
					if err := m.run(c, tx, q); err != nil {
						t.Fatalf("batched run %d: %v", i+1, err)
					}
				}
				if got := tx.NPlusOnes(); got != nil {
					t.Errorf("NPlusOnes() = %v, want none", got)
				}
				if tx.RollbackOnly() {
					t.Error("batched runs marked the transaction rollback-only")
				}
				endTx(t, tx, false) // SQLite: one transaction at a time

				plain := db.NewTx(ctx, x, d, opts)
				defer endTx(t, plain, false)
				var err error
				n := 0
				for n < 12 && err == nil {
					n++
					err = m.run(ctx, plain, q)
				}
				if !errors.Is(err, db.ErrNPlusOne) || n != db.DefaultNPlusOneThreshold+1 {
					t.Fatalf("plain run %d: %v, want ErrNPlusOne at run %d", n, err, db.DefaultNPlusOneThreshold+1)
				}
			})
		}
	})
}
