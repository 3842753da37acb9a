package repo_test

import (
	"fmt"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

// TestBatchLoopsAreNotNPlusOne: Chunks and CreateMany repeat one statement
// text by design, batch after batch; in a unit of work whose N+1 detector
// fails, more batches than its threshold still succeed.
func TestBatchLoopsAreNotNPlusOne(t *testing.T) {
	r := seedRels(t, db.SQLite, testdb.New(t, db.SQLite))
	opts := db.TxOptions{NPlusOne: db.NPlusOne{Mode: db.NPlusOneFail}}
	const created = 11*500 + 1 // twelve batches of CreateMany
	err := db.WithTxOptions(bg, r.x, opts, func(tx *db.Tx) error {
		as := make([]*Author, created)
		for i := range as {
			as[i] = &Author{Name: fmt.Sprintf("n%d", i)}
		}
		return r.authors.On(tx).CreateMany(tx.Context(), as)
	})
	if err != nil {
		t.Fatalf("CreateMany of %d rows under the detector: %v", created, err)
	}
	var total int64
	must(t, r.x.Get(&total, "SELECT COUNT(*) FROM authors WHERE deleted_at IS NULL"))
	rows := 0
	err = db.WithTxOptions(bg, r.x, opts, func(tx *db.Tx) error {
		for chunk, err := range r.authors.On(tx).Query().Chunks(tx.Context(), 500) {
			if err != nil {
				return err
			}
			rows += len(chunk)
		}
		return nil
	})
	if err != nil || int64(rows) != total {
		t.Fatalf("Chunks of 500 over %d rows under the detector: %d rows, %v", total, rows, err)
	}
}
