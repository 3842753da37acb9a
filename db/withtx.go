package db

import (
	"context"
	"log/slog"

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

// WithTxOptions is WithTx with transaction options. With a Tracer
// (opts.Tracer) and a context that carries no span, the unit of work runs
// under a root span of its own, WithTxSpanName, which ends with it and
// holds the transaction's span. With the N+1 detector
// on (opts.NPlusOne), the statements fn ran more times than the threshold
// are logged when the transaction ends, one warning per text
// (slog.Default), in NPlusOneLog mode; in NPlusOneFail mode the
// transaction rolls back and the first *NPlusOneError is returned, even if
// fn dropped it.
func WithTxOptions(ctx context.Context, x *sqlx.DB, opts TxOptions, fn func(tx *Tx) error) error {
	return underRootSpan(ctx, opts.Tracer, func(ctx context.Context) error {
		return withTx(ctx, NewTx(ctx, x, DialectOf(x), opts), fn)
	})
}

// withTxOn is Cluster.WithTx.
func withTxOn(ctx context.Context, c *Cluster, opts TxOptions, fn func(tx *Tx) error) error {
	return underRootSpan(ctx, opts.Tracer, func(ctx context.Context) error {
		tx := NewTx(ctx, c.primary, c.dialect, opts)
		tx.SetCluster(c, PositionFrom(ctx))
		return withTx(ctx, tx, fn)
	})
}

// underRootSpan runs run under a WithTxSpanName root span of tr's when ctx
// carries no span, and on ctx otherwise or without a Tracer.
func underRootSpan(ctx context.Context, tr *Tracer, run func(ctx context.Context) error) (err error) {
	ctx, end := tr.StartRoot(ctx, WithTxSpanName)
	defer func() { end(err) }()
	return run(ctx)
}

// withTx runs fn in tx, under its span, if any.
func withTx(ctx context.Context, tx *Tx, fn func(tx *Tx) error) error {
	opts := tx.opts
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
	err = tx.Finish(ctx, true)
	if opts.NPlusOne.Mode == NPlusOneOff {
		return err
	}
	found := tx.NPlusOnes()
	if opts.NPlusOne.Mode == NPlusOneFail {
		if len(found) > 0 && err == nil {
			return &found[0]
		}
		return err
	}
	for _, f := range found {
		slog.Default().WarnContext(ctx, "N+1 query", "statement", f.Query, "count", f.Count, "threshold", f.Threshold)
	}
	return err
}
