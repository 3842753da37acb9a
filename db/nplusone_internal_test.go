package db

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"
)

// openBench opens an SQLite file in t's temporary folder.
func openBench(tb testing.TB) (*sqlx.DB, Dialect) {
	tb.Helper()
	x, d, err := Open("sqlite:"+filepath.Join(tb.TempDir(), "npo.db"), Pool{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { x.Close() })
	return x, d
}

// With the detector off a unit of work makes no state for it; on, the
// detector allocates its state once per unit of work and nothing per
// statement, whichever way a text is found (by pointer, by content, by
// index). Allocations are counted on the detector alone: the driver's own
// vary from run to run.
func TestNPlusOneAllocations(t *testing.T) {
	x, d := openBench(t)
	ctx := context.Background()
	texts := make([]string, 20)
	for i := range texts {
		texts[i] = fmt.Sprintf("SELECT %d", i)
	}
	off := NewTx(ctx, x, d, TxOptions{NPlusOne: NPlusOne{Threshold: 1}})
	for range 3 {
		var v int
		if err := off.GetContext(ctx, &v, texts[0]); err != nil {
			t.Fatal(err)
		}
	}
	if err := off.Finish(ctx, false); err != nil {
		t.Fatal(err)
	}
	if off.counts != nil {
		t.Error("the detector, off, made its state")
	}
	on := TxOptions{NPlusOne: NPlusOne{Mode: NPlusOneLog, Threshold: math.MaxInt32}}
	copies := make([]string, len(texts)) // equal bytes, other pointers
	for i, q := range texts {
		copies[i] = string([]byte(q))
	}
	for _, n := range []int{4, len(texts)} { // scanned, indexed
		tx := NewTx(ctx, x, d, on)
		for _, q := range texts[:n] {
			_ = tx.detect(q)
		}
		i := 0
		if got := testing.AllocsPerRun(200, func() {
			q := texts[i%n]
			if i%2 == 1 {
				q = copies[i%n]
			}
			_ = tx.detect(q)
			i++
		}); got != 0 {
			t.Errorf("%d texts: %v allocations per count, want none", n, got)
		}
	}
	tx := NewTx(ctx, x, d, on)
	if got := testing.AllocsPerRun(100, func() {
		tx.counts = nil
		_ = tx.detect(texts[0])
	}); got != 1 {
		t.Errorf("the detector's state takes %v allocations per unit of work, want 1", got)
	}
}

// BenchmarkNPlusOne measures what the detector adds to a statement.
//
//	count/…: the count alone, as a statement runs it (t.mu held by the
//	statement already), cycling over 1, 8 (scanned) or 32 (indexed)
//	precompiled texts, or one text rebuilt each time (equal bytes,
//	another pointer);
//	state: the detector's state, made once per unit of work;
//	statement/off and statement/on: a GetContext on SQLite through a Tx.
func BenchmarkNPlusOne(b *testing.B) {
	on := TxOptions{NPlusOne: NPlusOne{Mode: NPlusOneLog, Threshold: math.MaxInt32}}
	x, d := openBench(b)
	ctx := context.Background()
	for _, n := range []int{1, 8, 32} {
		texts := make([]string, n)
		for i := range texts {
			texts[i] = fmt.Sprintf("SELECT id, name, email, created_at FROM users WHERE id = $1 AND shape = %d", i)
		}
		b.Run(fmt.Sprintf("count/texts=%d", n), func(b *testing.B) {
			tx := NewTx(ctx, x, d, on)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if tx.opts.NPlusOne.Mode != NPlusOneOff {
					_ = tx.detect(texts[i])
				}
				if i++; i == n {
					i = 0
				}
			}
		})
	}
	b.Run("count/rebuilt", func(b *testing.B) {
		tx := NewTx(ctx, x, d, on)
		// Two copies of each of 8 texts, equal bytes at other addresses.
		var texts []string
		for i := range 8 {
			q := fmt.Sprintf("SELECT id, name, email, created_at FROM users WHERE id = $1 AND shape = %d", i)
			texts = append(texts, q, string([]byte(q)))
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = tx.detect(texts[i])
			if i++; i == len(texts) {
				i = 0
			}
		}
	})
	b.Run("state", func(b *testing.B) {
		tx := NewTx(ctx, x, d, on)
		b.ReportAllocs()
		for b.Loop() {
			tx.counts = nil
			_ = tx.detect("SELECT 1")
		}
	})
	for _, mode := range []struct {
		name string
		opts TxOptions
	}{{"off", TxOptions{}}, {"on", on}} {
		b.Run("statement/"+mode.name, func(b *testing.B) {
			tx := NewTx(ctx, x, d, mode.opts)
			defer tx.Finish(ctx, false)
			b.ReportAllocs()
			var v int
			for b.Loop() {
				if err := tx.GetContext(ctx, &v, "SELECT 1"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
