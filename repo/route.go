package repo

import (
	"context"

	"github.com/fasttrack-go/fasttrack/db"
)

// reader returns the Querier a read of q runs on: when q runs on a
// db.ReadRouter (a *db.Cluster) and takes no row lock, the one its
// ReadQuerier gives for ctx — a replica that has replayed the position of
// ctx, or the primary —; q's own Querier otherwise. A transaction (*db.Tx)
// routes itself when it begins, and is never a ReadRouter.
func (q Query[T]) reader(ctx context.Context) db.Querier {
	if r, ok := q.q.(db.ReadRouter); ok && q.lock == lockNone {
		return r.ReadQuerier(ctx)
	}
	return q.q
}
