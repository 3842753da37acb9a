package db

import (
	"context"

	"github.com/fasttrack-go/fasttrack/db/internal/pgbegin"
	"github.com/jmoiron/sqlx"
)

// ExecAtCommit runs query, with args, as the transaction's last statement,
// right before its COMMIT, beginning the transaction if needed. On a
// PostgreSQL pool opened by Open it is sent with the COMMIT, in the same
// round trip, and returns nil: if it fails, the COMMIT does not run, the
// transaction rolls back, and Finish returns the statement's error,
// classified. On other pools, and inside a Savepoint (whose rollback must
// undo it), it runs now, and its error is returned. A rollback drops it.
// Its arguments are read when it is called.
//
// Its result is never read: a condition it checks must make it fail (a
// text cast to an integer fails), not merely leave it affecting no row.
// Statements the transaction runs after it still run before it. Package
// jobs completes a job with it, in the job's transaction, without a round
// trip of its own. Like a statement on SQLTx, it is not traced, and the
// N+1 detector does not count it.
func (t *Tx) ExecAtCommit(ctx context.Context, query string, args ...any) error {
	t.mu.Lock()
	tx, err := t.beginLocked()
	sctx := t.stmtContext(ctx)
	rides := err == nil && t.on == nil && t.inSavepoint == 0 && ridesCommit(t.x)
	t.mu.Unlock()
	if err != nil {
		return err
	}
	if rides {
		_, err = tx.ExecContext(sctx, pgbegin.LastStatement, append([]any{query}, args...)...)
	} else {
		_, err = tx.ExecContext(sctx, query, args...)
	}
	return t.classify(err)
}

// ridesCommit reports whether x's connections are of Open's PostgreSQL
// connector, which runs pgbegin.LastStatement.
func ridesCommit(x *sqlx.DB) bool {
	_, ok := x.Driver().(pgbegin.Driver)
	return ok
}
