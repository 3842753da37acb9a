package scope_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/fasttrack-go/fasttrack/scope"
)

type greeter interface{ Greet() string }

type english struct{}

func (*english) Greet() string { return "hello" }

type speaker struct{ g greeter }

func TestTypedProviderOfAnInterface(t *testing.T) {
	for _, tc := range []struct {
		name    string
		build   func() (greeter, error)
		want    string
		wantErr bool
	}{
		{"value", func() (greeter, error) { return &english{}, nil }, "hello", false},
		{"nil interface", func() (greeter, error) { return nil, nil }, "", false},
		{"error", func() (greeter, error) { return nil, errors.New("no greeter") }, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := scope.NewRegistry()
			g := scope.NewTypedProvider(scope.Scoped, nil, "greeter",
				func(context.Context, []any) (greeter, func() error, error) {
					v, err := tc.build()
					return v, nil, err
				})
			sp, err := scope.NewProvider(scope.Scoped, func(g greeter) *speaker { return &speaker{g: g} })
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []*scope.Provider{g, sp} {
				if err := reg.Add(p); err != nil {
					t.Fatal(err)
				}
			}
			if err := reg.Compile(map[reflect.Type]any{}); err != nil {
				t.Fatal(err)
			}
			s := reg.Open(context.Background())
			defer s.Release()
			got, err := scope.Get[*speaker](s)
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error from a failing typed provider")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == "" && got.g != nil:
				t.Fatalf("got %v, want a nil greeter", got.g)
			case tc.want != "" && (got.g == nil || got.g.Greet() != tc.want):
				t.Fatalf("got %v", got.g)
			}
			if again, _ := scope.Get[greeter](s); again != got.g {
				t.Fatal("the scoped interface instance differs between resolutions")
			}
		})
	}
}
