package bench

import (
	"context"
	"reflect"
	"runtime"
	"strconv"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/jmoiron/sqlx"
	"github.com/samber/do/v2"
	"github.com/sarulabs/di/v2"
	"go.uber.org/dig"
)

// BenchmarkScopeCycle times one request-scope cycle: open a scope, resolve a
// *UserRepo built on the request's lazy transaction (no SQL is sent), release
// the scope. Each sub-benchmark builds its container before the loop and
// keeps no reference from one iteration to the next, so retained-B/op is
// what the container itself keeps per cycle.
func BenchmarkScopeCycle(b *testing.B) {
	b.Run("fasttrack", func(b *testing.B) { benchScopeFastTrack(b, NewUserRepo) })
	b.Run("fasttrack-func", func(b *testing.B) { benchScopeFastTrack(b, scope.Func1(NewUserRepo)) })
	b.Run("dig", benchScopeDig)
	b.Run("samber-do", benchScopeDo)
	b.Run("sarulabs-di", benchScopeSarulabs)
	b.Run("handwritten", benchScopeHand)
}

// benchScopeFastTrack registers ctor, NewUserRepo either as a plain func
// (called by reflection) or wrapped by scope.Func1 (called directly).
func benchScopeFastTrack(b *testing.B, ctor any) {
	x := scopeSQLite(b)
	ctx := context.Background()
	reg := scope.NewRegistry()
	repo, err := scope.NewProvider(scope.Scoped, ctor)
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range append(api.TxProviders(db.PrimaryOnly(x, db.SQLite), nil, nil), repo) {
		if err := reg.Add(p); err != nil {
			b.Fatal(err)
		}
	}
	if err := reg.Compile(map[reflect.Type]any{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	m := startMeter(b, true)
	for i := 0; i < b.N; i++ {
		s := reg.Open(ctx)
		r, err := scope.Get[*UserRepo](s)
		if err != nil || r == nil {
			b.Fatal(r, err)
		}
		if err := s.Release(); err != nil {
			b.Fatal(err)
		}
	}
	m.stop(b)
	runtime.KeepAlive(reg)
}

// benchScopeDig uses a dig child scope per cycle. dig has no way to release
// a scope: every child stays in its parent's list.
func benchScopeDig(b *testing.B) {
	x := scopeSQLite(b)
	ctx := context.Background()
	c := dig.New()
	if err := c.Provide(func() *sqlx.DB { return x }); err != nil {
		b.Fatal(err)
	}
	newTx := func(x *sqlx.DB) *db.Tx { return db.NewTx(ctx, x, db.SQLite, db.TxOptions{}) }
	asQuerier := dig.As(new(db.Querier))
	var got bool
	use := func(r *UserRepo) { got = r != nil }
	b.ReportAllocs()
	m := startMeter(b, true)
	for i := 0; i < b.N; i++ {
		sc := c.Scope("req")
		if err := sc.Provide(newTx, asQuerier); err != nil {
			b.Fatal(err)
		}
		if err := sc.Provide(NewUserRepo); err != nil {
			b.Fatal(err)
		}
		got = false
		if err := sc.Invoke(use); err != nil || !got {
			b.Fatal(got, err)
		}
	}
	m.stop(b)
	runtime.KeepAlive(c)
}

// benchScopeDo uses a samber/do v2 child scope per cycle. A child's name
// must be unique in its parent (Scope panics otherwise) and Shutdown does
// not remove the child from its parent, so each cycle names its scope anew.
func benchScopeDo(b *testing.B) {
	x := scopeSQLite(b)
	ctx := context.Background()
	root := do.New()
	do.ProvideValue(root, x)
	txP := func(i do.Injector) (*db.Tx, error) {
		x, err := do.Invoke[*sqlx.DB](i)
		if err != nil {
			return nil, err
		}
		return db.NewTx(ctx, x, db.SQLite, db.TxOptions{}), nil
	}
	repoP := func(i do.Injector) (*UserRepo, error) {
		t, err := do.Invoke[*db.Tx](i)
		if err != nil {
			return nil, err
		}
		return NewUserRepo(t), nil
	}
	b.ReportAllocs()
	m := startMeter(b, true)
	for i := 0; i < b.N; i++ {
		sc := root.Scope("req-" + strconv.Itoa(i))
		do.Provide(sc, txP)
		do.Provide(sc, repoP)
		if r := do.MustInvoke[*UserRepo](sc); r == nil {
			b.Fatal("nil repo")
		}
		if rep := sc.Shutdown(); rep != nil && !rep.Succeed {
			b.Fatal(rep)
		}
	}
	m.stop(b)
	root.Shutdown()
}

// benchScopeSarulabs uses a sarulabs/di request sub-container per cycle;
// Delete closes the transaction through its definition's Close.
func benchScopeSarulabs(b *testing.B) {
	x := scopeSQLite(b)
	ctx := context.Background()
	bld, err := di.NewBuilder()
	if err != nil {
		b.Fatal(err)
	}
	err = bld.Add(
		di.Def{Name: "db", Scope: di.App, Build: func(di.Container) (any, error) { return x, nil }},
		di.Def{
			Name:  "tx",
			Scope: di.Request,
			Build: func(ctn di.Container) (any, error) {
				return db.NewTx(ctx, ctn.Get("db").(*sqlx.DB), db.SQLite, db.TxOptions{}), nil
			},
			Close: func(obj any) error { return obj.(*db.Tx).Close() },
		},
		di.Def{
			Name:  "repo",
			Scope: di.Request,
			Build: func(ctn di.Container) (any, error) { return NewUserRepo(ctn.Get("tx").(*db.Tx)), nil },
		},
	)
	if err != nil {
		b.Fatal(err)
	}
	app := bld.Build()
	b.ReportAllocs()
	m := startMeter(b, true)
	for i := 0; i < b.N; i++ {
		sub, err := app.SubContainer()
		if err != nil {
			b.Fatal(err)
		}
		if r, ok := sub.Get("repo").(*UserRepo); !ok || r == nil {
			b.Fatal("no repo")
		}
		if err := sub.Delete(); err != nil {
			b.Fatal(err)
		}
	}
	m.stop(b)
	_ = app.Delete()
}

func benchScopeHand(b *testing.B) {
	x := scopeSQLite(b)
	ctx := context.Background()
	b.ReportAllocs()
	m := startMeter(b, true)
	for i := 0; i < b.N; i++ {
		tx := db.NewTx(ctx, x, db.SQLite, db.TxOptions{})
		r := NewUserRepo(tx)
		if r == nil {
			b.Fatal("nil repo")
		}
		if err := tx.Close(); err != nil {
			b.Fatal(err)
		}
	}
	m.stop(b)
}
