package pgbegin_test

import (
	"context"
	"errors"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/db/internal/pgbegin"
	"github.com/jmoiron/sqlx"
)

// lsn reads the primary's current WAL position on x.
func lsn(t *testing.T, x *sqlx.DB) db.Position {
	t.Helper()
	var s string
	if err := x.Get(&s, "SELECT pg_current_wal_insert_lsn()::text"); err != nil {
		t.Fatal(err)
	}
	p, err := db.ParsePosition(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A COMMIT asked for its position brings it back in the same round trip:
// the position of the commit (after every write before it, at most the
// position read after it), and no more writes to the network than a
// plain COMMIT.
func TestCommitBringsBackItsPosition(t *testing.T) {
	x, tr := openPG(t, true)
	x.MustExec("CREATE TABLE pos (id INT PRIMARY KEY)")
	ctx := context.Background()
	id := 0
	insert := func(position bool, sink *pgbegin.PositionSink) func(tx *sqlx.Tx) error {
		return func(tx *sqlx.Tx) error {
			id++
			if _, err := tx.ExecContext(ctx, "INSERT INTO pos (id) VALUES ($1)", id); err != nil {
				return err
			}
			if position {
				_, err := tx.ExecContext(ctx, pgbegin.PositionStatement, sink)
				return err
			}
			return nil
		}
	}
	var sink pgbegin.PositionSink
	plain := writesOf(t, x, tr, nil, insert(false, nil))
	riding := writesOf(t, x, tr, nil, insert(true, &sink))
	if riding != plain {
		t.Errorf("a commit with its position takes %d writes, a plain one %d", riding, plain)
	}
	before := lsn(t, x)
	sink = pgbegin.PositionSink{}
	if err := inTx(t, x, nil, insert(true, &sink)); err != nil {
		t.Fatal(err)
	}
	after := lsn(t, x)
	got, err := db.ParsePosition(sink.LSN)
	if err != nil {
		t.Fatalf("the sink holds %q: %v", sink.LSN, err)
	}
	if got <= before || got > after {
		t.Errorf("position %v, want after the write's start %v and at most %v", got, before, after)
	}
}

// A rolled-back transaction, one that failed, and one whose commit fails
// leave the sink empty; the statement outside a transaction is an error.
func TestCommitPositionOnlyForACommit(t *testing.T) {
	x, _ := openPG(t, true)
	x.MustExec("CREATE TABLE pos (id INT PRIMARY KEY)")
	x.MustExec(`CREATE TABLE pos_child (id INT PRIMARY KEY,
		parent INT REFERENCES pos (id) DEFERRABLE INITIALLY DEFERRED)`)
	ctx := context.Background()

	tx := x.MustBeginTx(ctx, nil)
	var sink pgbegin.PositionSink
	tx.MustExecContext(ctx, "INSERT INTO pos (id) VALUES (1)")
	tx.MustExecContext(ctx, pgbegin.PositionStatement, &sink)
	finish(t, tx, false)
	if sink.LSN != "" {
		t.Errorf("a rollback filled the sink: %q", sink.LSN)
	}

	// A deferred foreign key broken at COMMIT: the commit fails.
	tx = x.MustBeginTx(ctx, nil)
	tx.MustExecContext(ctx, "INSERT INTO pos_child (id, parent) VALUES (1, 99)")
	tx.MustExecContext(ctx, pgbegin.PositionStatement, &sink)
	if err := tx.Commit(); err == nil {
		t.Error("a commit breaking a deferred foreign key succeeded")
	}
	if sink.LSN != "" {
		t.Errorf("a failed commit filled the sink: %q", sink.LSN)
	}
	var n int
	if err := x.Get(&n, "SELECT COUNT(*) FROM pos_child"); err != nil || n != 0 {
		t.Errorf("after the failed commit: %d rows, %v", n, err)
	}

	// A transaction whose statement failed: its COMMIT rolls back.
	tx = x.MustBeginTx(ctx, nil)
	if _, err := tx.ExecContext(ctx, "INSERT INTO nowhere VALUES (1)"); err == nil {
		t.Fatal("insert into a missing table succeeded")
	}
	tx.MustExecContext(ctx, pgbegin.PositionStatement, &sink)
	if err := tx.Commit(); err == nil {
		t.Error("the commit of a failed transaction succeeded")
	}
	if sink.LSN != "" {
		t.Errorf("a failed transaction filled the sink: %q", sink.LSN)
	}

	if _, err := x.ExecContext(ctx, pgbegin.PositionStatement, &sink); err == nil {
		t.Error("the position statement outside a transaction succeeded")
	}
	if _, err := x.ExecContext(ctx, pgbegin.PositionStatement, "not a sink"); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("the position statement with a string: %v, want an error", err)
	}
	// The connection serves on.
	if err := x.Get(&n, "SELECT COUNT(*) FROM pos"); err != nil || n != 0 {
		t.Errorf("after the failures: %d rows, %v", n, err)
	}
}
