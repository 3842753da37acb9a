package db_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/sqlcount"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/jmoiron/sqlx"
	"go.uber.org/goleak"
)

// kvQuery is the statement the cache tests run.
const kvQuery = "SELECT v FROM kv WHERE id = ?"

// openCounted opens a counting pool on a new database of dialect d with a
// kv table of rows 1..3, v = id*10.
func openCounted(t *testing.T, d db.Dialect, maxOpen int) (*sqlx.DB, *sqlcount.Counter) {
	t.Helper()
	x, c, err := sqlcount.Open(testdb.New(t, d))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	x.SetMaxOpenConns(maxOpen)
	ctx := context.Background()
	if _, err := x.ExecContext(ctx, "CREATE TABLE kv (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := x.ExecContext(ctx, d.Rebind("INSERT INTO kv (id, v) VALUES (?, ?)"), i, i*10); err != nil {
			t.Fatal(err)
		}
	}
	return x, c
}

// getV reads v of row id in a transaction of its own, on the cache s.
func getV(t *testing.T, x *sqlx.DB, d db.Dialect, s *db.Statements, id int) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx := db.NewTx(ctx, x, d, db.TxOptions{})
	tx.SetStatements(s)
	var v int
	if err := tx.GetContext(ctx, &v, d.Rebind(kvQuery), id); err != nil {
		t.Fatalf("get %d: %v", id, err)
	}
	if err := tx.Finish(ctx, true); err != nil {
		t.Fatal(err)
	}
	return v
}

// waitPrepared waits until s holds query prepared.
func waitPrepared(t *testing.T, s *db.Statements, query string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !s.Prepared(query) {
		if time.Now().After(deadline) {
			t.Fatalf("%q never prepared", query)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStatementsPrepareOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, _ string) {
		x, c := openCounted(t, d, 4)
		s := db.NewStatements(x, d, 8)
		t.Cleanup(func() { s.Close() })
		base := x.Stats().InUse
		q := d.Rebind(kvQuery)
		if v := getV(t, x, d, s, 1); v != 10 {
			t.Fatalf("first run read %d, want 10", v)
		}
		if d == db.Postgres {
			// pgx caches statements itself: nothing to prepare here.
			if s.Len() != 0 || c.Prepares.Load() != 0 {
				t.Fatalf("PostgreSQL: %d cached, %d prepared; want none", s.Len(), c.Prepares.Load())
			}
			return
		}
		waitPrepared(t, s, q)
		prepares, runs := c.Prepares.Load(), c.PreparedRuns.Load()
		const n = 20
		for i := range n {
			if v := getV(t, x, d, s, i%3+1); v != (i%3+1)*10 {
				t.Fatalf("run %d read %d, want %d", i, v, (i%3+1)*10)
			}
		}
		if got := c.PreparedRuns.Load() - runs; got != n {
			t.Errorf("%d of %d runs used the prepared statement", got, n)
		}
		// Once per connection at most, not once per run.
		if got, conns := c.Prepares.Load()-prepares, int64(x.Stats().OpenConnections); got > conns {
			t.Errorf("%d prepares for %d runs on %d connections", got, n, conns)
		}
		if got := x.Stats().InUse; got != base {
			t.Errorf("InUse %d, want %d", got, base)
		}
	})
}

func TestStatementsRollbackAndExec(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, _ string) {
		x, c := openCounted(t, d, 4)
		s := db.NewStatements(x, d, 8)
		t.Cleanup(func() { s.Close() })
		ctx := context.Background()
		upd := d.Rebind("UPDATE kv SET v = ? WHERE id = ?")
		run := func(v int, commit bool) {
			tx := db.NewTx(ctx, x, d, db.TxOptions{})
			tx.SetStatements(s)
			if _, err := tx.ExecContext(ctx, upd, v, 2); err != nil {
				t.Fatal(err)
			}
			var got []int
			if err := tx.SelectContext(ctx, &got, d.Rebind("SELECT v FROM kv WHERE id >= ? ORDER BY id"), 2); err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0] != v {
				t.Fatalf("inside the transaction read %v, want [%d 30]", got, v)
			}
			if err := tx.Finish(ctx, commit); err != nil {
				t.Fatal(err)
			}
		}
		run(21, true)
		if d != db.Postgres {
			waitPrepared(t, s, upd)
		}
		runs := c.PreparedRuns.Load()
		run(22, false) // prepared now, and rolled back
		if d != db.Postgres && c.PreparedRuns.Load() == runs {
			t.Error("the second transaction did not use the prepared UPDATE")
		}
		if v := getV(t, x, d, s, 2); v != 21 {
			t.Fatalf("after the rollback v = %d, want the committed 21", v)
		}
	})
}

func TestStatementsLimit(t *testing.T) {
	x, c := openCounted(t, db.SQLite, 4)
	s := db.NewStatements(x, db.SQLite, 2)
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	queries := make([]string, 5)
	for i := range queries {
		queries[i] = fmt.Sprintf("SELECT v + %d FROM kv WHERE id = ?", i)
	}
	for round := range 2 {
		for i, q := range queries {
			tx := db.NewTx(ctx, x, db.SQLite, db.TxOptions{})
			tx.SetStatements(s)
			var v int
			if err := tx.GetContext(ctx, &v, q, 1); err != nil {
				t.Fatal(err)
			}
			if v != 10+i {
				t.Fatalf("round %d, query %d read %d", round, i, v)
			}
			if err := tx.Finish(ctx, true); err != nil {
				t.Fatal(err)
			}
		}
		if round == 0 {
			waitPrepared(t, s, queries[0])
			waitPrepared(t, s, queries[1])
		}
	}
	if s.Len() != 2 {
		t.Fatalf("Len = %d, want the limit 2", s.Len())
	}
	for _, q := range queries[2:] {
		if s.Prepared(q) {
			t.Errorf("%q cached beyond the limit", q)
		}
	}
	if got := c.Prepares.Load(); got > 2+2 {
		t.Errorf("%d prepares; want the 2 cached ones, once on the pool and once on the transaction's connection", got)
	}
}

// A transaction that holds the pool's only connection must not wait for a
// second one to prepare a statement.
func TestStatementsNeverTakeASecondConnection(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, _ string) {
		x, _ := openCounted(t, d, 1)
		s := db.NewStatements(x, d, 8)
		t.Cleanup(func() { s.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		tx := db.NewTx(ctx, x, d, db.TxOptions{})
		tx.SetStatements(s)
		for i := 1; i <= 3; i++ {
			var v int
			if err := tx.GetContext(ctx, &v, d.Rebind(kvQuery), i); err != nil {
				t.Fatalf("run %d in one transaction: %v", i, err)
			}
			if v != i*10 {
				t.Fatalf("read %d, want %d", v, i*10)
			}
		}
		if err := tx.Finish(ctx, true); err != nil {
			t.Fatal(err)
		}
		if d != db.Postgres {
			waitPrepared(t, s, d.Rebind(kvQuery)) // once the connection was free
		}
		if v := getV(t, x, d, s, 3); v != 30 {
			t.Fatalf("read %d, want 30", v)
		}
		if got := x.Stats().InUse; got != 0 {
			t.Errorf("InUse %d, want 0", got)
		}
	})
}

func TestStatementsConcurrentFirstUse(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, _ string) {
		x, _ := openCounted(t, d, 4)
		s := db.NewStatements(x, d, 8)
		t.Cleanup(func() { s.Close() })
		var wg sync.WaitGroup
		errs := make(chan error, 16*10)
		for g := range 16 {
			wg.Go(func() {
				for i := range 10 {
					ctx := context.Background()
					tx := db.NewTx(ctx, x, d, db.TxOptions{ReadOnly: true})
					tx.SetStatements(s)
					id := (g+i)%3 + 1
					var v int
					err := tx.GetContext(ctx, &v, d.Rebind(kvQuery), id)
					if err == nil && v != id*10 {
						err = fmt.Errorf("read %d for %d", v, id)
					}
					if ferr := tx.Finish(ctx, true); err == nil {
						err = ferr
					}
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if want := map[bool]int{true: 0, false: 1}[d == db.Postgres]; s.Len() != want {
			t.Errorf("Len = %d, want %d", s.Len(), want)
		}
	})
}

// A statement that cannot be prepared fails as it would unprepared, and is
// not prepared again at every use.
func TestStatementsBadStatement(t *testing.T) {
	x, c := openCounted(t, db.SQLite, 4)
	s := db.NewStatements(x, db.SQLite, 8)
	const bad = "SELECT v FROM no_such_table WHERE id = ?"
	ctx := context.Background()
	for i := range 3 {
		tx := db.NewTx(ctx, x, db.SQLite, db.TxOptions{})
		tx.SetStatements(s)
		var v int
		if err := tx.GetContext(ctx, &v, bad, 1); err == nil {
			t.Fatal("no error from a missing table")
		}
		if err := tx.Finish(ctx, false); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); i == 0 && c.Prepares.Load() == 0; {
			if time.Now().After(deadline) {
				t.Fatal("the statement was never prepared in the background")
			}
			time.Sleep(time.Millisecond)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := c.Prepares.Load(); got != 1 {
		t.Errorf("%d prepares of a bad statement, want 1", got)
	}
}

func TestStatementsClose(t *testing.T) {
	x, c := openCounted(t, db.SQLite, 4)
	leaks := goleak.IgnoreCurrent()
	s := db.NewStatements(x, db.SQLite, 8)
	if v := getV(t, x, db.SQLite, s, 1); v != 10 {
		t.Fatalf("read %d", v)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 0 || s.Prepared(kvQuery) {
		t.Fatalf("after Close: Len %d, prepared %v", s.Len(), s.Prepared(kvQuery))
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// Transactions go on, unprepared, and prepare nothing more.
	prepares := c.Prepares.Load()
	for i := 1; i <= 3; i++ {
		if v := getV(t, x, db.SQLite, s, i); v != i*10 {
			t.Fatalf("after Close read %d, want %d", v, i*10)
		}
	}
	if got := c.Prepares.Load(); got != prepares {
		t.Errorf("%d prepares after Close", got-prepares)
	}
	goleak.VerifyNone(t, leaks)
}

func TestStatementsDisabled(t *testing.T) {
	x, c := openCounted(t, db.SQLite, 4)
	s := db.NewStatements(x, db.SQLite, 0)
	for range 3 {
		if v := getV(t, x, db.SQLite, s, 1); v != 10 {
			t.Fatalf("read %d", v)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 0 || c.Prepares.Load() != 0 {
		t.Fatalf("a cache of 0 holds %d and prepared %d", s.Len(), c.Prepares.Load())
	}
}

// warm runs query once on s and waits until it is prepared.
func warm(t *testing.T, x *sqlx.DB, d db.Dialect, s *db.Statements, query string, args ...any) {
	t.Helper()
	ctx := context.Background()
	tx := db.NewTx(ctx, x, d, db.TxOptions{})
	tx.SetStatements(s)
	var v int
	if err := tx.GetContext(ctx, &v, query, args...); err != nil {
		t.Fatal(err)
	}
	if err := tx.Finish(ctx, true); err != nil {
		t.Fatal(err)
	}
	waitPrepared(t, s, query)
}

// Goroutines of one transaction may run the same cached statement at the
// same time: a driver statement has one cursor, so only one of them runs
// it prepared. (SQLite only: a MySQL connection cannot serve a statement
// while another's rows are open, prepared or not.)
func TestStatementsOneTxManyGoroutines(t *testing.T) {
	x, c := openCounted(t, db.SQLite, 4)
	s := db.NewStatements(x, db.SQLite, 8)
	t.Cleanup(func() { s.Close() })
	warm(t, x, db.SQLite, s, kvQuery, 1)
	runs := c.PreparedRuns.Load()
	ctx := context.Background()
	tx := db.NewTx(ctx, x, db.SQLite, db.TxOptions{})
	tx.SetStatements(s)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				id := (g+i)%3 + 1
				var v int
				if err := tx.GetContext(ctx, &v, kvQuery, id); err != nil {
					errs <- err
					return
				}
				if v != id*10 {
					errs <- fmt.Errorf("goroutine %d read %d for row %d", g, v, id)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := tx.Finish(ctx, true); err != nil {
		t.Fatal(err)
	}
	if c.PreparedRuns.Load() == runs {
		t.Error("no run used the prepared statement")
	}
}

// Rows of a query stay valid while the same query runs again in the
// transaction (a walk of parents and children): QueryxContext's rows
// outlive the call, so it never runs the cached statement that the inner
// SelectContext runs.
func TestStatementsNestedRuns(t *testing.T) {
	x, c := openCounted(t, db.SQLite, 4)
	s := db.NewStatements(x, db.SQLite, 8)
	t.Cleanup(func() { s.Close() })
	const q = "SELECT id, v FROM kv WHERE id >= ? ORDER BY id"
	type row struct{ ID, V int }
	ctx := context.Background()
	warmTx := db.NewTx(ctx, x, db.SQLite, db.TxOptions{})
	warmTx.SetStatements(s)
	var all []row
	if err := warmTx.SelectContext(ctx, &all, q, 1); err != nil || len(all) != 3 {
		t.Fatalf("warm-up read %v, %v", all, err)
	}
	if err := warmTx.Finish(ctx, true); err != nil {
		t.Fatal(err)
	}
	waitPrepared(t, s, q)
	runs := c.PreparedRuns.Load()
	tx := db.NewTx(ctx, x, db.SQLite, db.TxOptions{})
	tx.SetStatements(s)
	rows, err := tx.QueryxContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var seen []int
	for rows.Next() {
		var r row
		if err := rows.StructScan(&r); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, r.ID)
		var inner []row
		if err := tx.SelectContext(ctx, &inner, q, r.ID); err != nil {
			t.Fatal(err)
		}
		if len(inner) != 4-r.ID || inner[0].ID != r.ID {
			t.Fatalf("row %d: the inner run read %v", r.ID, inner)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if len(seen) != 3 {
		t.Fatalf("outer rows %v, want 1 2 3", seen)
	}
	if err := tx.Finish(ctx, true); err != nil {
		t.Fatal(err)
	}
	if got := c.PreparedRuns.Load() - runs; got != 3 {
		t.Errorf("%d of the 3 inner runs used the prepared statement", got)
	}
}

// A run that fails (here on a cancelled context, as the query's first use
// in its transaction, so that its binding fails too) leaves no broken
// binding behind: the transaction's next run of the query works.
func TestStatementsFailedRunDoesNotStick(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, _ string) {
		x, _ := openCounted(t, d, 4)
		s := db.NewStatements(x, d, 8)
		t.Cleanup(func() { s.Close() })
		q := d.Rebind(kvQuery)
		if d != db.Postgres {
			warm(t, x, d, s, q, 1)
		}
		ctx := context.Background()
		tx := db.NewTx(ctx, x, d, db.TxOptions{})
		tx.SetStatements(s)
		if _, err := tx.ExecContext(ctx, d.Rebind("UPDATE kv SET v = v WHERE id = ?"), 1); err != nil { // begins
			t.Fatal(err)
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		var v int
		if err := tx.GetContext(cancelled, &v, q, 2); err == nil {
			t.Fatal("no error on a cancelled context")
		}
		for id := 2; id <= 3; id++ {
			if err := tx.GetContext(ctx, &v, q, id); err != nil || v != id*10 {
				t.Fatalf("after the failed run: v %d, %v", v, err)
			}
		}
		if err := tx.Finish(ctx, true); err != nil {
			t.Fatal(err)
		}
	})
}

// Past the statements one transaction keeps bound, the others run
// unprepared, and all give the right rows.
func TestStatementsManyInOneTx(t *testing.T) {
	x, _ := openCounted(t, db.SQLite, 4)
	s := db.NewStatements(x, db.SQLite, 64)
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	queries := make([]string, 24)
	for i := range queries {
		queries[i] = fmt.Sprintf("SELECT v + %d FROM kv WHERE id = ?", i)
	}
	for round := range 2 {
		tx := db.NewTx(ctx, x, db.SQLite, db.TxOptions{})
		tx.SetStatements(s)
		for rep := range 2 {
			for i, q := range queries {
				var v int
				if err := tx.GetContext(ctx, &v, q, 2); err != nil {
					t.Fatal(err)
				}
				if v != 20+i {
					t.Fatalf("round %d, pass %d, query %d read %d", round, rep, i, v)
				}
			}
		}
		if err := tx.Finish(ctx, true); err != nil {
			t.Fatal(err)
		}
		if round == 0 {
			for _, q := range queries {
				waitPrepared(t, s, q)
			}
		}
	}
}

// A cache of another pool is ignored, not an error at every statement.
func TestStatementsOfAnotherPool(t *testing.T) {
	x, _ := openCounted(t, db.SQLite, 4)
	other, _ := openCounted(t, db.SQLite, 4)
	s := db.NewStatements(other, db.SQLite, 8)
	t.Cleanup(func() { s.Close() })
	warm(t, other, db.SQLite, s, kvQuery, 1)
	for range 2 {
		if v := getV(t, x, db.SQLite, s, 2); v != 20 {
			t.Fatalf("read %d", v)
		}
	}
}
