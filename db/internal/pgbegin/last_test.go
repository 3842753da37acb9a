package pgbegin_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/db/internal/pgbegin"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
)

// insertLast asks tx's COMMIT to insert item id first.
func insertLast(ctx context.Context, tx *sqlx.Tx, id int, name string) error {
	_, err := tx.ExecContext(ctx, pgbegin.LastStatement, "INSERT INTO items (id, name) VALUES ($1, $2)", id, name)
	return err
}

// itemIDs returns the ids in the items table, in order.
func itemIDs(t *testing.T, x *sqlx.DB) []int {
	t.Helper()
	var ids []int
	if err := x.Select(&ids, "SELECT id FROM items ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	return ids
}

// A statement asked for the COMMIT runs with it, in the same round trip:
// a transaction with one takes no more writes than one without, and both
// its statements commit.
func TestLastStatementRidesWithTheCommit(t *testing.T) {
	x, tr := openPG(t, true)
	if _, ok := x.Driver().(pgbegin.Driver); !ok {
		t.Fatalf("the pool's driver is a %T, not a pgbegin.Driver", x.Driver())
	}
	ctx := context.Background()
	id := 0
	plain := writesOf(t, x, tr, nil, func(tx *sqlx.Tx) error {
		id++
		_, err := tx.ExecContext(ctx, "INSERT INTO items (id, name) VALUES ($1, $2)", id, itoa(id))
		return err
	})
	riding := writesOf(t, x, tr, nil, func(tx *sqlx.Tx) error {
		id += 2
		if _, err := tx.ExecContext(ctx, "INSERT INTO items (id, name) VALUES ($1, $2)", id-1, itoa(id-1)); err != nil {
			return err
		}
		return insertLast(ctx, tx, id, itoa(id))
	})
	if riding != plain {
		t.Errorf("a commit with a statement before it takes %d writes, a plain one %d", riding, plain)
	}
	if got := itemIDs(t, x); len(got) != id {
		t.Errorf("items %v, want 1 to %d", got, id)
	}
}

// A statement asked for the COMMIT that fails stops it: the transaction
// rolls back, Commit returns the statement's error, and the connection
// stays, outside any transaction.
func TestLastStatementFailureRollsBack(t *testing.T) {
	x, _ := openPG(t, true)
	ctx := context.Background()
	x.MustExec("INSERT INTO items (id, name) VALUES (1, 'one')")
	var pid, pidAfter int
	if err := x.Get(&pid, "SELECT pg_backend_pid()"); err != nil {
		t.Fatal(err)
	}
	for range 2 { // prepared or not
		tx := x.MustBeginTx(ctx, nil)
		if _, err := tx.ExecContext(ctx, "INSERT INTO items (id, name) VALUES (2, 'two')"); err != nil {
			t.Fatal(err)
		}
		if err := insertLast(ctx, tx, 3, "one"); err != nil {
			t.Fatal(err)
		}
		err := tx.Commit()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23505" {
			t.Fatalf("commit: %v, want the last statement's unique violation", err)
		}
		if got := itemIDs(t, x); len(got) != 1 {
			t.Fatalf("items %v after the failed commit, want [1]", got)
		}
	}
	if err := x.Get(&pidAfter, "SELECT pg_backend_pid()"); err != nil {
		t.Fatal(err)
	}
	if pidAfter != pid {
		t.Errorf("the connection was replaced (server process %d, then %d)", pid, pidAfter)
	}
	conn, err := x.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error {
		if st := dc.(interface{ Conn() *pgx.Conn }).Conn().PgConn().TxStatus(); st != 'I' {
			t.Errorf("the connection is left with transaction status %c", st)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// A transaction whose only statement is asked for the COMMIT sends BEGIN
// with it; a rollback drops it; outside a transaction it is an error.
func TestLastStatementAloneAndDropped(t *testing.T) {
	x, _ := openPG(t, true)
	ctx := context.Background()
	tx := x.MustBeginTx(ctx, nil)
	if err := insertLast(ctx, tx, 1, "one"); err != nil {
		t.Fatal(err)
	}
	if err := insertLast(ctx, tx, 2, "two"); err != nil {
		t.Fatal(err)
	}
	finish(t, tx, true)
	tx = x.MustBeginTx(ctx, nil)
	if err := insertLast(ctx, tx, 3, "three"); err != nil {
		t.Fatal(err)
	}
	finish(t, tx, false)
	if got := itemIDs(t, x); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("items %v, want [1 2]", got)
	}
	if _, err := x.ExecContext(ctx, pgbegin.LastStatement, "INSERT INTO items (id, name) VALUES ($1, $2)", 4, "four"); err == nil {
		t.Error("a statement for the COMMIT outside a transaction: no error")
	}
}

// On a connection that does not send its statements in pipelines the
// statement runs at once, as a plain one.
func TestLastStatementWithoutPipelinesRunsAtOnce(t *testing.T) {
	tr := &traffic{}
	cfg := pgConfig(t, testdb.New(t, db.Postgres), tr, 0)
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	x := sqlx.NewDb(sqlxOpen(t, cfg), "pgx")
	x.MustExec(`CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE)`)
	ctx := context.Background()
	tx := x.MustBeginTx(ctx, nil)
	if err := insertLast(ctx, tx, 1, "one"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.GetContext(ctx, &n, "SELECT count(*) FROM items"); err != nil || n != 1 {
		t.Fatalf("before the commit the transaction sees %d items (%v), want 1", n, err)
	}
	finish(t, tx, true)
	if got := itemIDs(t, x); len(got) != 1 {
		t.Errorf("items %v, want [1]", got)
	}
}

// sqlxOpen opens a one-connection pool of cfg through this package's
// connector.
func sqlxOpen(t *testing.T, cfg *pgx.ConnConfig) *sql.DB {
	t.Helper()
	pool := sql.OpenDB(pgbegin.Wrap(stdlib.GetConnector(*cfg)))
	pool.SetMaxOpenConns(1)
	t.Cleanup(func() { pool.Close() })
	return pool
}

// The statement's arguments are read when it is asked: a pointer changed
// afterwards changes nothing, and an argument that cannot be encoded fails
// at once.
func TestLastStatementReadsItsArgumentsWhenAsked(t *testing.T) {
	x, _ := openPG(t, true)
	ctx := context.Background()
	tx := x.MustBeginTx(ctx, nil)
	id, name := 10, []byte("ten")
	if _, err := tx.ExecContext(ctx, pgbegin.LastStatement, "INSERT INTO items (id, name) VALUES ($1, $2)", &id, name); err != nil {
		t.Fatal(err)
	}
	id, name[0] = 11, 'T'
	if _, err := tx.ExecContext(ctx, pgbegin.LastStatement, "INSERT INTO items (id, name) VALUES ($1, $2)", make(chan int), "x"); err == nil {
		t.Error("an argument that cannot be encoded: no error when asked")
	}
	finish(t, tx, true)
	var got []struct {
		ID   int
		Name string
	}
	if err := x.Select(&got, "SELECT id, name FROM items ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != 10 || got[0].Name != "ten" {
		t.Errorf("items %+v, want one: 10, ten", got)
	}
}

// A transaction that failed after a statement was asked for its COMMIT
// commits nothing, and Commit says it rolled back.
func TestLastStatementInAFailedTransaction(t *testing.T) {
	x, _ := openPG(t, true)
	ctx := context.Background()
	tx := x.MustBeginTx(ctx, nil)
	if _, err := tx.ExecContext(ctx, "INSERT INTO items (id, name) VALUES ($1, $2)", 1, "one"); err != nil {
		t.Fatal(err)
	}
	if err := insertLast(ctx, tx, 2, "two"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO items (id, name) VALUES ($1, $2)", 3, "one"); err == nil {
		t.Fatal("a duplicate name: no error")
	}
	if err := tx.Commit(); !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Errorf("commit of a failed transaction: %v, want pgx.ErrTxCommitRollback", err)
	}
	if got := itemIDs(t, x); len(got) != 0 {
		t.Errorf("items %v, want none", got)
	}
}
