package db

import (
	"context"
	"database/sql"
)

// SQLTx begins the transaction if needed and returns the *sql.Tx under it,
// for a library that takes one: package jobs hands it to River, so that a
// job is inserted, or completed, in the unit of work's transaction.
//
// What runs on the *sql.Tx is part of the transaction and commits or rolls
// back with Finish, but goes around t: its errors are not classified, the
// N+1 detector does not count it, the prepared-statement cache is not
// used, and a statement runs on the context it is given, not on the
// transaction's own (see SameContexts). Commit and Rollback belong to
// Finish: calling them on the *sql.Tx ends the transaction under t, whose
// later statements and Finish then fail with sql.ErrTxDone. SQLTx returns
// ErrTxFinished after Finish.
func (t *Tx) SQLTx(ctx context.Context) (*sql.Tx, error) {
	tx, _, err := t.begin(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Tx, nil
}

// SQLTxContext is SQLTx, and also returns the context to run statements on
// the *sql.Tx with: the transaction's own when ctx stands for it (see
// SameContexts), ctx otherwise. A library given that context never holds
// on to one its caller reuses, such as a *gin.Context that Gin hands to the
// next request while database/sql still watches it.
func (t *Tx) SQLTxContext(ctx context.Context) (*sql.Tx, context.Context, error) {
	tx, sctx, err := t.begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	return tx.Tx, sctx, nil
}
