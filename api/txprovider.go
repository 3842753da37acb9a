package api

import (
	"context"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/scope"
)

// TxProviders returns the scoped providers of the request's transaction on
// c: *db.Tx, begun lazily with the route's options (see Tx), and db.Querier,
// the same transaction for repositories. Outside a request ([scope.Registry.Run]) the
// transaction has default options and the position of its context
// (db.WithPosition). Statements given the request's context
// (c.Request.Context(), or the *gin.Context) run on the transaction's, so
// that the route's timeout interrupts one still running. With stmts, the
// transaction runs the statements it caches prepared (see db.Statements);
// nil prepares nothing. Outside a request, tracer (nil for none) traces
// the transaction (db.TxOptions.Tracer); a request's is the middleware's.
//
// When c has replicas, a read-only route's transaction runs on one that has
// replayed the position the request carries (see PositionCookie), and a
// request that commits a write answers with its position.
func TxProviders(c *db.Cluster, stmts *db.Statements, tracer *db.Tracer) []*scope.Provider {
	x, d, replicas := c.Primary(), c.Dialect(), c.HasReplicas()
	tx := scope.NewTypedProvider(scope.Scoped, nil, "fasttrack request transaction (*db.Tx)",
		func(ctx context.Context, _ []any) (*db.Tx, func() error, error) {
			rc, _ := ctx.Value(requestKey{}).(*requestCtx)
			r := rc.live()
			opts := db.TxOptions{Tracer: tracer}
			if r != nil {
				opts = r.policy.tx
			}
			t := db.NewTx(ctx, x, d, opts)
			t.SetStatements(stmts)
			if replicas {
				if r != nil {
					t.SetCluster(c, requestPosition(c, r.c.Request))
					r.cluster = c
				} else {
					t.SetCluster(c, db.PositionFrom(ctx))
				}
			}
			if r != nil {
				// A handler passes c.Request.Context() or c itself: both
				// stand for the request's, so its statements run bounded
				// by the route's timeout.
				t.SameContexts(rc.Context, r.c)
				t.SetAttempt(r.attempts)
				r.tx = t
			}
			return t, nil, nil
		})
	q := scope.NewViewProvider("fasttrack request querier (db.Querier)", func(tx *db.Tx) db.Querier { return tx })
	return []*scope.Provider{tx, q}
}
