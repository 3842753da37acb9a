package pgbegin

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/jackc/pgx/v5"
)

// PositionStatement, run in a transaction with one argument, a
// *PositionSink, sends nothing: it asks the transaction's COMMIT to bring
// back the primary's WAL position after the commit, in the same round trip
// ("COMMIT; SELECT pg_current_wal_insert_lsn()": the insert position,
// which is past the commit record even under synchronous_commit=off), and
// to write it into the sink.
// A ROLLBACK, or a transaction that sent nothing, leaves the sink empty.
const PositionStatement = "-- fasttrack: commit with its WAL position"

// PositionSink receives the WAL position a COMMIT brought back, as
// PostgreSQL writes an LSN ("16/B374D848"); empty when there is none.
type PositionSink struct {
	LSN string
}

// Rider is implemented by the connections of this package's connector:
// a pool whose driver connection (sql.Conn.Raw) is one runs
// PositionStatement.
type Rider interface {
	// RidesCommit reports that PositionStatement is understood.
	RidesCommit() bool
}

// RidesCommit reports that the connection runs PositionStatement.
// Only a connection that sends its statements in pipelines (pgx's default
// statement cache mode) runs the transaction this package begins lazily.
func (c *pgConn) RidesCommit() bool { return c.pipelines }

// errPositionOutsideTx is PositionStatement's error outside a transaction.
var errPositionOutsideTx = errors.New("db: the commit's position asked outside a transaction")

// askPosition runs PositionStatement: it records sink for the COMMIT.
func (c *pgConn) askPosition(args []driver.NamedValue) (driver.Result, error) {
	if len(args) != 1 {
		return nil, errors.New("db: the commit's position takes one *PositionSink")
	}
	sink, ok := args[0].Value.(*PositionSink)
	if !ok || sink == nil {
		return nil, errors.New("db: the commit's position takes one *PositionSink")
	}
	if c.txCtx == nil {
		return nil, errPositionOutsideTx
	}
	c.sink = sink
	return driver.RowsAffected(0), nil
}

// commitWithPosition commits and reads the primary's WAL position in one
// round trip, into sink. It reports the commit's error; a position it
// cannot read leaves the sink empty.
func (c *pgConn) commitWithPosition(ctx context.Context, sink *PositionSink) error {
	mrr := c.pgx.PgConn().Exec(ctx, "COMMIT; SELECT pg_current_wal_insert_lsn()::text")
	results, err := mrr.ReadAll()
	if err != nil {
		return err
	}
	if len(results) > 0 && results[0].CommandTag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	if len(results) == 2 && len(results[1].Rows) == 1 && len(results[1].Rows[0]) == 1 {
		sink.LSN = string(results[1].Rows[0][0])
	}
	return nil
}
