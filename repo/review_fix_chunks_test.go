package repo_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

// TestChunksAndTheNPlusOneDetector reads more chunks than the detector's
// threshold in a transaction that fails an N+1, as Chunks documents: the
// loop fails with db.ErrNPlusOne, and succeeds under db.Batched.
func TestChunksAndTheNPlusOneDetector(t *testing.T) {
	r := seedRels(t, db.SQLite, testdb.New(t, db.SQLite))
	for i := range db.DefaultNPlusOneThreshold + 2 {
		must(t, r.authors.On(r.x).Create(bg, &Author{Name: fmt.Sprintf("n%d", i)}))
	}
	opts := db.TxOptions{NPlusOne: db.NPlusOne{Mode: db.NPlusOneFail}}
	read := func(batched bool) (int, error) {
		rows := 0
		err := db.WithTxOptions(bg, r.x, opts, func(tx *db.Tx) error {
			ctx := tx.Context()
			if batched {
				ctx = db.Batched(ctx)
			}
			for chunk, err := range r.authors.On(tx).Query().Chunks(ctx, 1) {
				if err != nil {
					return err
				}
				rows += len(chunk)
			}
			return nil
		})
		return rows, err
	}
	if _, err := read(false); !errors.Is(err, db.ErrNPlusOne) {
		t.Errorf("chunks of one row, not batched: %v, want ErrNPlusOne", err)
	}
	if n, err := read(true); err != nil || n != 4+db.DefaultNPlusOneThreshold+2 {
		t.Errorf("batched: %d rows, %v", n, err)
	}
}
