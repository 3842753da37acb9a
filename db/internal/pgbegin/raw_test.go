package pgbegin_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jmoiron/sqlx"
)

// rawBound bounds a call of sql.Conn.Raw: one that panics inside a
// transaction never returns (database/sql waits for the transaction to
// release the connection), and the test fails instead of hanging.
const rawBound = time.Minute

// raw runs fn in conn.Raw with the pgx connection it gets by an unchecked
// assertion, as a caller would write it. A panic in fn, or a Raw that does
// not return, fails the test.
func raw(t *testing.T, conn *sql.Conn, fn func(pc *pgx.Conn) error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("panic in Raw: %v", p)
			}
		}()
		done <- conn.Raw(func(dc any) error {
			return fn(dc.(interface{ Conn() *pgx.Conn }).Conn())
		})
	}()
	select {
	case err := <-done:
		if err != nil && strings.HasPrefix(err.Error(), "panic in Raw") {
			t.Fatal(err)
		}
		return err
	case <-time.After(rawBound):
		t.Fatalf("sql.Conn.Raw did not return within %v", rawBound)
		return nil
	}
}

// rawPool opens a one-connection pool through FastTrack's connector and
// returns it with its connections in use when idle.
func rawPool(t *testing.T) (*sqlx.DB, int) {
	t.Helper()
	x, _ := openPG(t, true)
	return x, x.Stats().InUse
}

// assertInUse checks that the pool is back to base connections in use.
func assertInUse(t *testing.T, x *sqlx.DB, base int) {
	t.Helper()
	if n := x.Stats().InUse; n != base {
		t.Errorf("%d connections in use, want %d", n, base)
	}
}

// countItems counts the rows of items through q.
func countItems(t *testing.T, ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) int {
	t.Helper()
	var n int
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM items").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPGRawGivesThePgxConn(t *testing.T) {
	for _, inTx := range []bool{false, true} {
		t.Run(fmt.Sprintf("in transaction %v", inTx), func(t *testing.T) {
			x, base := rawPool(t)
			ctx := context.Background()
			conn, err := x.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var tx *sql.Tx
			if inTx {
				if tx, err = conn.BeginTx(ctx, nil); err != nil {
					t.Fatal(err)
				}
			}
			err = raw(t, conn, func(pc *pgx.Conn) error {
				var n int
				if err := pc.QueryRow(ctx, "SELECT 41 + 1").Scan(&n); err != nil {
					return err
				}
				if n != 42 {
					return fmt.Errorf("got %d, want 42", n)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if tx != nil {
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			if err := conn.Close(); err != nil {
				t.Fatal(err)
			}
			assertInUse(t, x, base)
		})
	}
}

// copyWithPgx copies items with ids through pc's CopyFrom.
func copyWithPgx(ctx context.Context, pc *pgx.Conn, ids []int64) error {
	n, err := pc.CopyFrom(ctx, pgx.Identifier{"items"}, []string{"id", "name"},
		pgx.CopyFromSlice(len(ids), func(i int) ([]any, error) { return []any{ids[i], "copied-" + itoa(int(ids[i]))}, nil }))
	if err == nil && n != int64(len(ids)) {
		err = fmt.Errorf("copied %d rows, want %d", n, len(ids))
	}
	return err
}

// copyWithPgconn copies items with ids by COPY FROM STDIN on pc's pgconn.
func copyWithPgconn(ctx context.Context, pc *pgx.Conn, ids []int64) error {
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "%d\tcopied-%d\n", id, id)
	}
	tag, err := pc.PgConn().CopyFrom(ctx, strings.NewReader(b.String()), "COPY items (id, name) FROM STDIN")
	if err == nil && tag.RowsAffected() != int64(len(ids)) {
		err = fmt.Errorf("copied %d rows, want %d", tag.RowsAffected(), len(ids))
	}
	return err
}

func TestPGRawCopyFollowsTheTransaction(t *testing.T) {
	ids := []int64{1, 2, 3}
	ways := []struct {
		name string
		copy func(ctx context.Context, pc *pgx.Conn, ids []int64) error
	}{{"pgx CopyFrom", copyWithPgx}, {"pgconn COPY FROM STDIN", copyWithPgconn}}
	for _, way := range ways {
		for _, first := range []bool{true, false} {
			for _, commit := range []bool{true, false} {
				name := fmt.Sprintf("%s/first statement %v/commit %v", way.name, first, commit)
				t.Run(name, func(t *testing.T) {
					x, base := rawPool(t)
					ctx := context.Background()
					// pgx's recipe: a transaction begun on a sql.Conn,
					// and the pgx connection from Raw on the same one.
					conn, err := x.Conn(ctx)
					if err != nil {
						t.Fatal(err)
					}
					tx, err := conn.BeginTx(ctx, nil)
					if err != nil {
						t.Fatal(err)
					}
					if !first {
						if n := countItems(t, ctx, tx); n != 0 {
							t.Fatalf("%d items before the COPY", n)
						}
					}
					if err := raw(t, conn, func(pc *pgx.Conn) error { return way.copy(ctx, pc, ids) }); err != nil {
						t.Fatal(err)
					}
					if n := countItems(t, ctx, tx); n != len(ids) {
						t.Errorf("the transaction sees %d items after the COPY, want %d", n, len(ids))
					}
					end := tx.Rollback
					if commit {
						end = tx.Commit
					}
					if err := end(); err != nil {
						t.Fatal(err)
					}
					if err := conn.Close(); err != nil {
						t.Fatal(err)
					}
					want := 0
					if commit {
						want = len(ids)
					}
					if n := countItems(t, ctx, x); n != want {
						t.Errorf("%d items after the transaction, want %d", n, want)
					}
					assertInUse(t, x, base)
				})
			}
		}
	}
}

func TestPGRawKeepsTheTransactionOptions(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		opts sql.TxOptions
		run  func(t *testing.T, pc *pgx.Conn) error
	}{
		{"read only", sql.TxOptions{ReadOnly: true}, func(t *testing.T, pc *pgx.Conn) error {
			err := copyWithPgx(ctx, pc, []int64{1})
			if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Code != "25006" {
				return fmt.Errorf("COPY in a read-only transaction: got %v, want SQLSTATE 25006", err)
			}
			return nil
		}},
		{"serializable", sql.TxOptions{Isolation: sql.LevelSerializable}, func(t *testing.T, pc *pgx.Conn) error {
			var level string
			if err := pc.QueryRow(ctx, "SHOW transaction_isolation").Scan(&level); err != nil {
				return err
			}
			if level != "serializable" {
				return fmt.Errorf("isolation %q, want serializable", level)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, base := rawPool(t)
			conn, err := x.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tx, err := conn.BeginTx(ctx, &tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := raw(t, conn, func(pc *pgx.Conn) error { return tt.run(t, pc) }); err != nil {
				t.Error(err)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			if err := conn.Close(); err != nil {
				t.Fatal(err)
			}
			assertNoItems(t, x)
			assertInUse(t, x, base)
		})
	}
}

// A connection whose held BEGIN cannot be sent hands out a closed pgx
// connection: work on it fails rather than run outside the transaction.
func TestPGRawAfterAFailedBeginFails(t *testing.T) {
	dc := connectDriver(t).dc
	ctx, cancel := context.WithCancel(context.Background())
	tx, err := dc.(driver.ConnBeginTx).BeginTx(ctx, driver.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()                                        // BEGIN, held until now, cannot be sent
	pc := dc.(interface{ Conn() *pgx.Conn }).Conn() // connectDriver checked the method
	if !pc.IsClosed() {
		_, err := pc.Exec(context.Background(), "SELECT 1")
		t.Errorf("the connection is open (SELECT: %v), want it closed", err)
	}
	if err := tx.Commit(); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit: %v, want context.Canceled", err)
	}
}

// A transaction ended twice at driver level (a caller's mistake) fails the
// second COMMIT and ignores the second ROLLBACK, instead of sending either
// on a connection with no transaction.
func TestPGEndTwice(t *testing.T) {
	dc := connectDriver(t).dc
	for _, first := range []string{"commit", "rollback"} {
		tx, err := dc.(driver.ConnBeginTx).BeginTx(context.Background(), driver.TxOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dc.(driver.ExecerContext).ExecContext(context.Background(), "SELECT 1", nil); err != nil {
			t.Fatal(err)
		}
		if first == "commit" {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatalf("%s: %v", first, err)
		}
		if err := tx.Rollback(); err != nil {
			t.Errorf("a second rollback after %s: %v, want nil", first, err)
		}
		if err := tx.Commit(); err == nil {
			t.Errorf("a commit after %s succeeded", first)
		}
	}
	if _, err := dc.(driver.ExecerContext).ExecContext(context.Background(), "SELECT 1", nil); err != nil {
		t.Fatalf("the connection is unusable after the double ends: %v", err)
	}
}
