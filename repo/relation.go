package repo

import (
	"context"

	"github.com/fasttrack-go/fasttrack/db"
)

// eagerLoad loads one relation into rows a query has read.
type eagerLoad[T any] interface {
	load(ctx context.Context, q db.Querier, rows []T) error
}

// loadWith runs q's eager loads on rows, in the order they were added.
func (q Query[T]) loadWith(ctx context.Context, rows []T) error {
	if len(q.with) == 0 || len(rows) == 0 {
		return nil
	}
	for _, l := range q.with {
		if err := l.load(ctx, q.q, rows); err != nil {
			return err
		}
	}
	return nil
}
