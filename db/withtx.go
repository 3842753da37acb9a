package db

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// WithTx runs fn in a lazy transaction on x, outside HTTP (CLI commands,
// jobs, tests), with the request's rules: commit when fn returns nil, roll
// back when it returns an error, panics (the panic goes on), exits its
// goroutine (runtime.Goexit, as t.Fatal does) or calls SetRollbackOnly. The
// commit's error is returned.
func WithTx(ctx context.Context, x *sqlx.DB, fn func(tx *Tx) error) error {
	return WithTxOptions(ctx, x, TxOptions{}, fn)
}

// WithTxOptions is WithTx with transaction options.
func WithTxOptions(ctx context.Context, x *sqlx.DB, opts TxOptions, fn func(tx *Tx) error) error {
	tx := NewTx(ctx, x, DialectOf(x), opts)
	returned := false
	defer func() {
		if !returned {
			// fn panicked or exited its goroutine.
			_ = tx.Finish(ctx, false)
		}
	}()
	err := fn(tx)
	returned = true
	if err != nil {
		_ = tx.Finish(ctx, false)
		return err
	}
	return tx.Finish(ctx, true)
}
