package db_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/dburl"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/jmoiron/sqlx"
)

// openTest opens and pings a pool on databaseURL, closed at the end of t.
func openTest(t *testing.T, databaseURL string) (*sqlx.DB, db.Dialect) {
	t.Helper()
	return testdb.Open(t, databaseURL)
}

func TestUniqueViolationIsClassified(t *testing.T) {
	testdb.Each(t, func(t *testing.T, _ db.Dialect, u string) {
		x, d := openTest(t, u)
		ctx := context.Background()
		if _, err := x.ExecContext(ctx, "CREATE TABLE uv (email VARCHAR(100) NOT NULL UNIQUE)"); err != nil {
			t.Fatal(err)
		}
		ins := d.Rebind("INSERT INTO uv (email) VALUES (?)")
		if _, err := x.ExecContext(ctx, ins, "a@example.com"); err != nil {
			t.Fatal(err)
		}
		_, err := x.ExecContext(ctx, ins, "a@example.com")
		err = d.Classify(err)
		if !errors.Is(err, db.ErrUniqueViolation) {
			t.Fatalf("duplicate insert: %v is not ErrUniqueViolation", err)
		}
		if errors.Is(err, db.ErrRetryable) || errors.Is(err, db.ErrConnLost) {
			t.Fatalf("%v has two classes", err)
		}
	})
}

func TestOtherErrorsStayUnclassified(t *testing.T) {
	testdb.Each(t, func(t *testing.T, _ db.Dialect, u string) {
		x, d := openTest(t, u)
		_, err := x.ExecContext(context.Background(), "SELECT * FROM no_such_table")
		if err == nil {
			t.Fatal("no error")
		}
		if c := d.ClassOf(err); c != db.ClassOther {
			t.Fatalf("missing table classified as %v: %v", c, err)
		}
		if d.Classify(nil) != nil {
			t.Fatal("Classify(nil) != nil")
		}
	})
}

// TestRetryableIsClassified provokes each server's retryable failure for
// real: a serialization failure on PostgreSQL, a deadlock on MySQL, and a busy
// database on SQLite.
func TestRetryableIsClassified(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		if d == db.SQLite {
			u += "?_pragma=busy_timeout(10)"
		}
		x, _ := openTest(t, u)
		ctx := context.Background()
		mustExec(t, x, "CREATE TABLE r (id INT PRIMARY KEY, n INT NOT NULL)")
		mustExec(t, x, "INSERT INTO r (id, n) VALUES (1, 0), (2, 0)")
		var err error
		switch d {
		case db.Postgres:
			err = serializationFailure(t, x)
		case db.MySQL:
			err = deadlock(t, x)
		case db.SQLite:
			tx, berr := x.BeginTxx(ctx, nil) // IMMEDIATE: holds the write lock
			if berr != nil {
				t.Fatal(berr)
			}
			if _, berr := tx.ExecContext(ctx, "UPDATE r SET n = 1 WHERE id = 1"); berr != nil {
				t.Fatal(berr)
			}
			_, err = x.ExecContext(ctx, "UPDATE r SET n = 2 WHERE id = 2")
			tx.Rollback()
		}
		if !errors.Is(d.Classify(err), db.ErrRetryable) {
			t.Fatalf("%v is not retryable", err)
		}
	})
}

func mustExec(t *testing.T, x *sqlx.DB, q string) {
	t.Helper()
	if _, err := x.Exec(q); err != nil {
		t.Fatal(err)
	}
}

// beginTwo begins two transactions on x with opts, rolled back when t ends
// (a no-op for one already finished).
func beginTwo(t *testing.T, ctx context.Context, x *sqlx.DB, opts *sql.TxOptions) (*sqlx.Tx, *sqlx.Tx) {
	t.Helper()
	var txs [2]*sqlx.Tx
	for i := range txs {
		tx, err := x.BeginTxx(ctx, opts)
		if err != nil {
			t.Fatalf("begin %d: %v", i+1, err)
		}
		t.Cleanup(func() { _ = tx.Rollback() })
		txs[i] = tx
	}
	return txs[0], txs[1]
}

// serializationFailure runs two SERIALIZABLE transactions that read and write
// the same row; the second to commit fails with 40001.
func serializationFailure(t *testing.T, x *sqlx.DB) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t1, t2 := beginTwo(t, ctx, x, &sql.TxOptions{Isolation: sql.LevelSerializable})
	var n int
	if err := t1.GetContext(ctx, &n, "SELECT n FROM r WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	if err := t2.GetContext(ctx, &n, "SELECT n FROM r WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := t1.ExecContext(ctx, "UPDATE r SET n = n + 1 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	if err := t1.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := t2.ExecContext(ctx, "UPDATE r SET n = n + 1 WHERE id = 1"); err != nil {
		return err
	}
	return t2.Commit()
}

// deadlock locks rows 1 and 2 in opposite orders in two transactions. The
// server detects the deadlock at once; the context bounds the wait should it
// not.
func deadlock(t *testing.T, x *sqlx.DB) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t1, t2 := beginTwo(t, ctx, x, nil)
	if _, err := t1.ExecContext(ctx, "UPDATE r SET n = 1 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := t2.ExecContext(ctx, "UPDATE r SET n = 1 WHERE id = 2"); err != nil {
		t.Fatal(err)
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _, errs[0] = t1.ExecContext(ctx, "UPDATE r SET n = 2 WHERE id = 2") }()
	go func() { defer wg.Done(); _, errs[1] = t2.ExecContext(ctx, "UPDATE r SET n = 2 WHERE id = 1") }()
	wg.Wait()
	return errors.Join(errs...)
}

func TestUnreachableServerIsConnLost(t *testing.T) {
	for _, u := range []string{
		"postgres://u:hunter2@127.0.0.1:1/app?sslmode=disable&connect_timeout=2",
		"mysql://u:hunter2@127.0.0.1:1/app?timeout=2s",
	} {
		scheme, _, _ := strings.Cut(u, ":")
		t.Run(scheme, func(t *testing.T) {
			x, d, err := db.Open(u, db.Pool{})
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err = db.Ping(ctx, x, u)
			if !errors.Is(err, db.ErrConnLost) {
				t.Fatalf("ping of a closed port: %v is not ErrConnLost", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error shows the password: %v", err)
			}
			if _, qerr := x.ExecContext(ctx, "SELECT 1"); d.ClassOf(qerr) != db.ClassConnLost {
				t.Fatalf("query on a closed port: %v classified %v", qerr, d.ClassOf(qerr))
			}
		})
	}
}

func TestMemoryDatabaseIsSharedByThePool(t *testing.T) {
	x, _ := openTest(t, "sqlite::memory:")
	x.SetMaxOpenConns(4)
	ctx := context.Background()
	c1, err := x.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := x.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c1.ExecContext(ctx, "CREATE TABLE m (v INT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.ExecContext(ctx, "INSERT INTO m VALUES (7)"); err != nil {
		t.Fatalf("second connection does not see the first's table: %v", err)
	}
	var v int
	if err := c1.GetContext(ctx, &v, "SELECT v FROM m"); err != nil || v != 7 {
		t.Fatalf("got %d, %v", v, err)
	}
	// Another sqlite::memory: pool is another database.
	y, _ := openTest(t, "sqlite::memory:")
	if _, err := y.ExecContext(ctx, "SELECT v FROM m"); err == nil {
		t.Fatal("two sqlite::memory: pools share a database")
	}
}

func TestSQLiteSettings(t *testing.T) {
	x, _ := openTest(t, testdb.New(t, db.SQLite))
	var fk, busy int
	var mode string
	if err := x.Get(&fk, "PRAGMA foreign_keys"); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d, %v", fk, err)
	}
	if err := x.Get(&busy, "PRAGMA busy_timeout"); err != nil || busy != dburl.BusyTimeoutMillis {
		t.Fatalf("busy_timeout = %d, %v", busy, err)
	}
	if err := x.Get(&mode, "PRAGMA journal_mode"); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v", mode, err)
	}
}
