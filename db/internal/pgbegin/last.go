package pgbegin

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// LastStatement, run in a transaction with a statement's text and then its
// arguments, sends nothing: it asks the transaction's COMMIT to run that
// statement first, in the same round trip ("stmt; COMMIT"). If the
// statement fails, the COMMIT does not run: the transaction rolls back,
// and Commit returns the statement's error. Several run in the order they
// were asked; a ROLLBACK drops them. The statement's result is never read:
// a condition it checks must fail it, not merely leave it affecting no
// row. A transaction that sent nothing else sends BEGIN with them.
//
// Its arguments are encoded when it is asked, and an argument that cannot
// be encoded fails then. A connection that does not send its statements
// in pipelines (another query mode than pgx's default) runs the statement
// at once instead, and returns its result.
const LastStatement = "-- fasttrack: run before the COMMIT"

// Driver is the driver of this package's connector (sql.DB.Driver): a
// pool whose driver is one runs LastStatement and PositionStatement.
type Driver struct{ driver.Driver }

// lastStmt is a statement LastStatement asked the COMMIT to run first,
// its arguments encoded when it was asked.
type lastStmt struct {
	query   string
	params  [][]byte
	formats []int16 // of the parameters
	results []int16 // of the result columns
}

// errLastOutsideTx is LastStatement's error outside a transaction.
var errLastOutsideTx = errors.New("db: a statement for the COMMIT asked outside a transaction")

// askLast runs LastStatement: it records the statement for the COMMIT, or
// runs it at once on a connection without pipelines. The statement is
// prepared on the connection (a round trip, its first time there) and its
// arguments encoded now: what a pointer or a buffer holds later does not
// change what runs, and an argument that cannot be encoded fails here.
func (c *pgConn) askLast(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if len(args) == 0 {
		return nil, errors.New("db: a statement for the COMMIT takes its text, then its arguments")
	}
	query, ok := args[0].Value.(string)
	if !ok || query == "" {
		return nil, errors.New("db: a statement for the COMMIT takes its text, then its arguments")
	}
	if !c.pipelines {
		rest := make([]driver.NamedValue, len(args)-1)
		for i, a := range args[1:] {
			rest[i] = driver.NamedValue{Ordinal: i + 1, Value: a.Value}
		}
		return c.stdlibConn.ExecContext(ctx, query, rest)
	}
	if c.txCtx == nil {
		return nil, errLastOutsideTx
	}
	if c.beginErr != nil {
		return nil, c.beginErr
	}
	if err := c.settle(ctx); err != nil {
		return nil, err
	}
	if err := c.learn(ctx, query); err != nil {
		return nil, err
	}
	k := c.lookup(query)
	if len(k.sd.ParamOIDs) != len(args)-1 {
		return nil, fmt.Errorf("db: %q: expected %d arguments, got %d", query, len(k.sd.ParamOIDs), len(args)-1)
	}
	if err := c.encode(k.sd, args[1:]); err != nil {
		return nil, err
	}
	l := lastStmt{
		query:   query,
		params:  make([][]byte, len(c.eqb.ParamValues)),
		formats: slices.Clone(c.eqb.ParamFormats),
		results: slices.Clone(c.eqb.ResultFormats),
	}
	for i, v := range c.eqb.ParamValues {
		if v != nil {
			l.params[i] = slices.Clone(v)
		}
	}
	c.quick = false // what it writes is known only at COMMIT
	c.lasts = append(c.lasts, l)
	return driver.RowsAffected(0), nil
}

// commitAfter sends the statements LastStatement asked for, then COMMIT
// (and the question of the position, with a sink), in one round trip;
// begin, when not "", is the transaction's unsent BEGIN, which goes first.
// A statement that fails leaves the transaction failed, COMMIT unrun: it
// is rolled back, and its error returned. A transaction that had failed
// before is rolled back, as its COMMIT would be.
func (c *pgConn) commitAfter(ctx context.Context, begin string, lasts []lastStmt, sink *PositionSink) error {
	if err := c.settle(ctx); err != nil {
		return err
	}
	if c.pgx.PgConn().TxStatus() == 'E' {
		return c.rollBackAfter(ctx, pgx.ErrTxCommitRollback)
	}
	var pb pgconn.Batch
	if begin != "" {
		pb.ExecParams(begin, nil, nil, nil, nil)
	}
	for _, l := range lasts {
		k := c.lookup(l.query)
		if k == nil {
			// Forgotten since it was asked (another statement took its
			// place among those kept): prepared again, it takes the same
			// parameters.
			if err := c.learn(ctx, l.query); err != nil {
				return c.rollBackAfter(ctx, err)
			}
			k = c.lookup(l.query)
		}
		pb.ExecStatement(k.sd, l.params, l.formats, l.results)
	}
	pb.ExecParams("commit", nil, nil, nil, nil)
	if sink != nil {
		pb.ExecParams("select pg_current_wal_insert_lsn()::text", nil, nil, nil, nil)
	}
	first := 0
	if begin != "" {
		first = 1
	}
	i := first + len(lasts) // COMMIT's
	results, err := c.pgx.PgConn().ExecBatch(ctx, &pb).ReadAll()
	if err != nil {
		if len(results) > i && results[i].Err == nil && results[i].CommandTag.String() == "COMMIT" {
			return nil // committed; only the position failed, and the sink stays empty
		}
		for _, l := range lasts {
			c.noteError(l.query, err)
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return c.rollBackAfter(ctx, err)
		}
		return err
	}
	if len(results) <= i {
		return fmt.Errorf("db: no reply to COMMIT")
	}
	if results[i].CommandTag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	if sink != nil && len(results) == i+2 && len(results[i+1].Rows) == 1 && len(results[i+1].Rows[0]) == 1 {
		sink.LSN = string(results[i+1].Rows[0][0])
	}
	return nil
}

// rollBackAfter rolls back the transaction, in progress or failed, after
// err, which it returns. A ROLLBACK that fails leaves the connection for
// end to close.
func (c *pgConn) rollBackAfter(ctx context.Context, err error) error {
	if c.pgx.PgConn().TxStatus() == 'I' {
		return err
	}
	if _, rerr := c.pgx.Exec(ctx, "rollback"); rerr != nil {
		return errors.Join(err, fmt.Errorf("db: rollback: %w", rerr))
	}
	return err
}
