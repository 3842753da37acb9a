package db_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/jmoiron/sqlx"
)

// runStatement runs q through one of the Tx's statement methods.
type runStatement func(ctx context.Context, tx *db.Tx, q string) error

// statementMethods are the Tx methods the detector counts.
var statementMethods = []struct {
	name string
	run  runStatement
}{
	{"ExecContext", func(ctx context.Context, tx *db.Tx, q string) error {
		_, err := tx.ExecContext(ctx, q)
		return err
	}},
	{"GetContext", func(ctx context.Context, tx *db.Tx, q string) error {
		var n int
		return tx.GetContext(ctx, &n, q)
	}},
	{"SelectContext", func(ctx context.Context, tx *db.Tx, q string) error {
		var n []int
		return tx.SelectContext(ctx, &n, q)
	}},
	{"QueryxContext", func(ctx context.Context, tx *db.Tx, q string) error {
		rows, err := tx.QueryxContext(ctx, q)
		if err != nil {
			return err
		}
		return rows.Close()
	}},
}

// A text run Threshold times is fine; its next run is an N+1, named by
// text and count, through each statement method. Other texts count apart.
func TestNPlusOneThreshold(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, _ := testdb.Open(t, u)
		ctx := context.Background()
		const q, other = "SELECT 1", "SELECT 2"
		for _, m := range statementMethods {
			t.Run(m.name, func(t *testing.T) {
				tx := db.NewTx(ctx, x, d, db.TxOptions{NPlusOne: db.NPlusOne{Mode: db.NPlusOneFail, Threshold: 3}})
				defer endTx(t, tx, false)
				for i := range 3 {
					if err := m.run(ctx, tx, q); err != nil {
						t.Fatalf("run %d: %v", i+1, err)
					}
					if err := m.run(ctx, tx, other); err != nil {
						t.Fatalf("run %d of another text: %v", i+1, err)
					}
				}
				if got := tx.NPlusOnes(); got != nil {
					t.Fatalf("at the threshold: NPlusOnes() = %v, want none", got)
				}
				err := m.run(ctx, tx, q)
				if !errors.Is(err, db.ErrNPlusOne) {
					t.Fatalf("run 4: %v, want ErrNPlusOne", err)
				}
				want := db.NPlusOneError{Query: q, Count: 4, Threshold: 3}
				if e, ok := errors.AsType[*db.NPlusOneError](err); !ok || *e != want {
					t.Fatalf("run 4: %#v, want %#v", err, want)
				}
				if want := "db: N+1 query: statement run 4 times in one unit of work (threshold 3): SELECT 1"; err.Error() != want {
					t.Errorf("message %q, want %q", err, want)
				}
				if !tx.RollbackOnly() {
					t.Error("the transaction is not rollback-only after an N+1")
				}
				if err := m.run(ctx, tx, q); !errors.Is(err, db.ErrNPlusOne) {
					t.Fatalf("run 5: %v, want ErrNPlusOne", err)
				}
				if got := tx.NPlusOnes(); len(got) != 1 || got[0] != (db.NPlusOneError{Query: q, Count: 5, Threshold: 3}) {
					t.Fatalf("NPlusOnes() = %v, want %s run 5 times", got, q)
				}
			})
		}
	})
}

// In log mode every statement runs; NPlusOnes reports each offending text
// once, in the order of their first run, with its final count.
func TestNPlusOneLogRunsEveryStatement(t *testing.T) {
	x, d := testdb.Open(t, testdb.New(t, db.SQLite))
	ctx := context.Background()
	tx := db.NewTx(ctx, x, d, db.TxOptions{NPlusOne: db.NPlusOne{Mode: db.NPlusOneLog, Threshold: 2}})
	defer endTx(t, tx, false)
	for _, q := range []string{"SELECT 3", "SELECT 1", "SELECT 3", "SELECT 2", "SELECT 3", "SELECT 1", "SELECT 1", "SELECT 3"} {
		var n int
		if err := tx.GetContext(ctx, &n, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	want := []db.NPlusOneError{{Query: "SELECT 3", Count: 4, Threshold: 2}, {Query: "SELECT 1", Count: 3, Threshold: 2}}
	if got := tx.NPlusOnes(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("NPlusOnes() = %v, want %v", got, want)
	}
	if tx.RollbackOnly() {
		t.Error("log mode made the transaction rollback-only")
	}
}

// With the detector off nothing is counted, however often a text runs.
func TestNPlusOneOff(t *testing.T) {
	x, d := testdb.Open(t, testdb.New(t, db.SQLite))
	ctx := context.Background()
	tx := db.NewTx(ctx, x, d, db.TxOptions{NPlusOne: db.NPlusOne{Threshold: 1}})
	defer endTx(t, tx, false)
	for range 50 {
		var n int
		if err := tx.GetContext(ctx, &n, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
	}
	if got := tx.NPlusOnes(); got != nil {
		t.Fatalf("NPlusOnes() = %v with the detector off", got)
	}
}

// Beyond the first few texts the count goes on through an index: an N+1 of
// the 40th distinct text is found too; a zero threshold is the default's.
func TestNPlusOneManyTexts(t *testing.T) {
	x, d := testdb.Open(t, testdb.New(t, db.SQLite))
	ctx := context.Background()
	tx := db.NewTx(ctx, x, d, db.TxOptions{NPlusOne: db.NPlusOne{Mode: db.NPlusOneFail}})
	defer endTx(t, tx, false)
	for i := range 40 {
		var n int
		if err := tx.GetContext(ctx, &n, fmt.Sprintf("SELECT %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	for i := range db.DefaultNPlusOneThreshold + 1 {
		var n int
		// A text built anew each time: equal bytes, another pointer.
		err = tx.GetContext(ctx, &n, fmt.Sprintf("SELECT %d", 39))
		if i < db.DefaultNPlusOneThreshold-1 && err != nil {
			t.Fatalf("run %d: %v", i+2, err)
		}
	}
	if e, ok := errors.AsType[*db.NPlusOneError](err); !ok || e.Count != db.DefaultNPlusOneThreshold+2 || e.Threshold != db.DefaultNPlusOneThreshold {
		t.Fatalf("err = %v, want an N+1 of SELECT 39 run %d times", err, db.DefaultNPlusOneThreshold+2)
	}
}

// An N+1 in error mode rolls the unit of work back even if the caller
// asks for a commit: no row is kept, and the connection goes back.
func TestNPlusOneFailRollsBack(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, _ := testdb.Open(t, u)
		mustExec(t, x, "CREATE TABLE npo (v INT)")
		ctx := context.Background()
		base := x.Stats().InUse
		tx := db.NewTx(ctx, x, d, db.TxOptions{NPlusOne: db.NPlusOne{Mode: db.NPlusOneFail, Threshold: 2}})
		ins := d.Rebind("INSERT INTO npo (v) VALUES (?)")
		var err error
		for i := range 3 {
			if _, err = tx.ExecContext(ctx, ins, i); err != nil {
				break
			}
		}
		if !errors.Is(err, db.ErrNPlusOne) {
			t.Fatalf("third insert: %v, want ErrNPlusOne", err)
		}
		if err := tx.Finish(ctx, true); err != nil {
			t.Fatalf("Finish: %v", err)
		}
		if tx.Outcome() != db.OutcomeRolledBack {
			t.Errorf("outcome %v, want rolled_back", tx.Outcome())
		}
		assertRows(t, x, "npo", 0)
		if got := x.Stats().InUse; got != base {
			t.Errorf("%d connections in use, want %d", got, base)
		}
	})
}

// WithTxOptions in error mode returns the N+1 even when fn drops it, and
// keeps nothing; in log mode it commits.
func TestWithTxNPlusOne(t *testing.T) {
	x, _ := testdb.Open(t, testdb.New(t, db.SQLite))
	mustExec(t, x, "CREATE TABLE wnpo (v INT)")
	ctx := context.Background()
	loop := func(tx *db.Tx) error {
		for i := range 3 {
			_, _ = tx.ExecContext(ctx, "INSERT INTO wnpo (v) VALUES (?)", i) // the error dropped
		}
		return nil
	}
	err := db.WithTxOptions(ctx, x, db.TxOptions{NPlusOne: db.NPlusOne{Mode: db.NPlusOneFail, Threshold: 2}}, loop)
	if e, ok := errors.AsType[*db.NPlusOneError](err); !ok || e.Count != 3 {
		t.Fatalf("WithTxOptions = %v, want the N+1 of the insert", err)
	}
	assertRows(t, x, "wnpo", 0)
	if err := db.WithTxOptions(ctx, x, db.TxOptions{NPlusOne: db.NPlusOne{Mode: db.NPlusOneLog, Threshold: 2}}, loop); err != nil {
		t.Fatalf("log mode: %v", err)
	}
	assertRows(t, x, "wnpo", 3)
}

// Statements from several goroutines on one Tx are counted under its lock
// (go test -race): each run is counted once.
func TestNPlusOneConcurrentStatements(t *testing.T) {
	x, d := testdb.Open(t, testdb.New(t, db.SQLite))
	ctx := context.Background()
	tx := db.NewTx(ctx, x, d, db.TxOptions{NPlusOne: db.NPlusOne{Mode: db.NPlusOneLog, Threshold: 1}})
	defer endTx(t, tx, false)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				var n int
				if err := tx.GetContext(ctx, &n, "SELECT 1"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if got := tx.NPlusOnes(); len(got) != 1 || got[0].Count != 20 {
		t.Fatalf("NPlusOnes() = %v, want SELECT 1 run 20 times", got)
	}
}

func TestParseNPlusOneMode(t *testing.T) {
	for _, m := range []db.NPlusOneMode{db.NPlusOneOff, db.NPlusOneLog, db.NPlusOneFail} {
		got, err := db.ParseNPlusOneMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseNPlusOneMode(%q) = %v, %v; want %v", m.String(), got, err, m)
		}
	}
	if got, err := db.ParseNPlusOneMode("ERROR"); err != nil || got != db.NPlusOneFail {
		t.Errorf("ParseNPlusOneMode(ERROR) = %v, %v", got, err)
	}
	if _, err := db.ParseNPlusOneMode("on"); err == nil {
		t.Error("ParseNPlusOneMode(on): no error")
	}
}

// assertRows fails unless table holds want rows.
func assertRows(t *testing.T, x *sqlx.DB, table string, want int) {
	t.Helper()
	var n int
	if err := x.Get(&n, "SELECT COUNT(*) FROM "+table); err != nil || n != want {
		t.Fatalf("%s holds %d rows (%v), want %d", table, n, err, want)
	}
}
