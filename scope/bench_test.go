package scope_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/fasttrack-go/fasttrack/scope"
)

// benchTx stands for a database transaction built by the framework.
type benchTx struct{ done bool }

func (t *benchTx) Finish(ctx context.Context, commit bool) error { t.done = true; return nil }

// benchRepo stands for a user repository depending on the transaction.
type benchRepo struct{ tx *benchTx }

func newBenchRepo(tx *benchTx) *benchRepo { return &benchRepo{tx: tx} }

func benchRegistry(b *testing.B) *scope.Registry {
	b.Helper()
	r := scope.NewRegistry()
	txp := scope.NewFuncProvider(scope.Scoped, reflect.TypeFor[*benchTx](), nil, "benchTx",
		func(ctx context.Context, args []any) (any, func() error, error) {
			return &benchTx{}, nil, nil
		})
	rp, err := scope.NewProvider(scope.Scoped, newBenchRepo)
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []*scope.Provider{txp, rp} {
		if err := r.Add(p); err != nil {
			b.Fatal(err)
		}
	}
	if err := r.Compile(nil); err != nil {
		b.Fatal(err)
	}
	return r
}

func BenchmarkCycle(b *testing.B) {
	r := benchRegistry(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s := r.Open(ctx)
		repo, err := scope.Get[*benchRepo](s)
		if err != nil || repo.tx == nil {
			b.Fatal(err)
		}
		if err := s.Release(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCycleParallel(b *testing.B) {
	r := benchRegistry(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s := r.Open(ctx)
			repo, err := scope.Get[*benchRepo](s)
			if err != nil || repo.tx == nil {
				b.Fatal(err)
			}
			if err := s.Release(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkResolvePlan(b *testing.B) {
	r := benchRegistry(b)
	p, err := r.Plan(reflect.TypeFor[context.Context](), reflect.TypeFor[*benchRepo](), reflect.TypeFor[*benchTx]())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var dst [3]any
	b.ReportAllocs()
	for b.Loop() {
		s := r.Open(ctx)
		if err := s.ResolvePlan(p, dst[:]); err != nil {
			b.Fatal(err)
		}
		if err := s.Release(); err != nil {
			b.Fatal(err)
		}
	}
}
