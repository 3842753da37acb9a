package jobs

import (
	"context"
	"fmt"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Insert inserts a job in tx, beginning it if needed (River's InsertTx on
// the *sql.Tx under tx): the job exists only if tx commits, and is not
// worked before. opts may be nil. Use it in db.WithTx and CLI commands;
// in a request, resolve an Enqueuer.
func (c *Client) Insert(ctx context.Context, tx *db.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	// River runs on the transaction's own context when ctx stands for it:
	// database/sql watches a query's context after the call returns, and
	// Gin reuses a *gin.Context for the next request.
	stx, sctx, err := tx.SQLTxContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	res, err := c.river.InsertTx(sctx, stx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return res, nil
}

// Enqueuer inserts jobs in the transaction of its scope: a request's, a
// job's or a scope.Registry.Run's. fxmodules.Jobs provides it as a scoped
// type, for api.Handle, api.Resolve and scoped constructors.
type Enqueuer struct {
	c  *Client
	tx *db.Tx
}

// NewEnqueuer returns the Enqueuer of c on tx.
func NewEnqueuer(c *Client, tx *db.Tx) *Enqueuer { return &Enqueuer{c: c, tx: tx} }

// Enqueue inserts a job in the scope's transaction; see Client.Insert.
func (e *Enqueuer) Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return e.c.Insert(ctx, e.tx, args, opts)
}
