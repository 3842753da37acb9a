package scope_test

import (
	"context"
	"fmt"
	"reflect"

	"github.com/fasttrack-go/fasttrack/scope"
)

// Tx is a request's database transaction.
type Tx struct{}

// Finish commits or rolls back.
func (*Tx) Finish(ctx context.Context, commit bool) error {
	fmt.Println("tx commit:", commit)
	return nil
}

// UserRepo uses the request's transaction.
type UserRepo struct{ tx *Tx }

// NewUserRepo is a user constructor.
func NewUserRepo(tx *Tx) *UserRepo { return &UserRepo{tx: tx} }

func ExampleRegistry_Run() {
	r := scope.NewRegistry()
	// A framework service, built without reflection.
	txp := scope.NewFuncProvider(scope.Scoped, reflect.TypeFor[*Tx](), nil, "db.Begin",
		func(ctx context.Context, args []any) (any, func() error, error) {
			return &Tx{}, func() error { fmt.Println("tx released"); return nil }, nil
		})
	// A user constructor.
	rp, err := scope.NewProvider(scope.Scoped, NewUserRepo)
	if err != nil {
		panic(err)
	}
	for _, p := range []*scope.Provider{txp, rp} {
		if err := r.Add(p); err != nil {
			panic(err)
		}
	}
	if err := r.Compile(nil); err != nil {
		panic(err)
	}

	err = r.Run(context.Background(), func(s *scope.Scope) error {
		repo, err := scope.Get[*UserRepo](s)
		if err != nil {
			return err
		}
		tx, _ := scope.Get[*Tx](s)
		fmt.Println("same tx:", repo.tx == tx)
		return nil
	})
	fmt.Println("err:", err)
	// Output:
	// same tx: true
	// tx commit: true
	// tx released
	// err: <nil>
}
