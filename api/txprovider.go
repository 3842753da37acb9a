package api

import (
	"context"
	"reflect"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/jmoiron/sqlx"
)

// TxProviders returns the scoped providers of the request's transaction on
// x: *db.Tx, begun lazily with the route's options (see Tx), and db.Querier,
// the same transaction for repositories. Outside a request (scope.Run) the
// transaction has default options.
func TxProviders(x *sqlx.DB, d db.Dialect) []*scope.Provider {
	txType := reflect.TypeFor[*db.Tx]()
	tx := scope.NewTypedProvider(scope.Scoped, nil, "fasttrack request transaction (*db.Tx)",
		func(ctx context.Context, _ []any) (*db.Tx, func() error, error) {
			r, _ := ctx.Value(requestKey{}).(*request)
			var opts db.TxOptions
			if r != nil {
				opts = r.policy.tx
			}
			t := db.NewTx(ctx, x, d, opts)
			if r != nil {
				r.tx = t
			}
			return t, nil, nil
		})
	q := scope.NewTypedProvider(scope.Scoped, []reflect.Type{txType}, "fasttrack request querier (db.Querier)",
		func(_ context.Context, args []any) (db.Querier, func() error, error) {
			return args[0].(*db.Tx), nil, nil
		})
	return []*scope.Provider{tx, q}
}
