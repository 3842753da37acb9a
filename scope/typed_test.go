package scope_test

import (
	"context"
	"errors"
	"fmt"
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
			if got == nil {
				t.Fatal("Get returned a nil *speaker without an error")
			}
			switch {
			case tc.want == "" && got.g != nil:
				t.Fatalf("got %v, want a nil greeter", got.g)
			case tc.want != "" && (got.g == nil || got.g.Greet() != tc.want):
				t.Fatalf("got %v", got.g)
			}
			if again, err := scope.Get[greeter](s); err != nil || again != got.g {
				t.Fatalf("the scoped interface instance differs between resolutions: %v, %v", again, err)
			}
		})
	}
}

// closer counts how it is finished and released.
type closer struct{ finished, closed int }

func (c *closer) Finish(context.Context, bool) error { c.finished++; return nil }
func (c *closer) Close() error                       { c.closed++; return nil }

type finisherView interface {
	Finish(context.Context, bool) error
}

func TestViewProviderHasNoLifecycleOfItsOwn(t *testing.T) {
	c := &closer{}
	reg := scope.NewRegistry()
	base := scope.NewTypedProvider(scope.Scoped, nil, "closer",
		func(context.Context, []any) (*closer, func() error, error) { return c, nil, nil })
	view := scope.NewViewProvider("view", func(c *closer) finisherView { return c })
	for _, p := range []*scope.Provider{base, view} {
		if err := reg.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := reg.Compile(map[reflect.Type]any{}); err != nil {
		t.Fatal(err)
	}
	s := reg.Open(context.Background())
	v, err := scope.Get[finisherView](s)
	if err != nil || v != finisherView(c) {
		t.Fatalf("view = %v, %v", v, err)
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	if c.finished != 1 || c.closed != 1 {
		t.Fatalf("finished %d and closed %d times, want once each", c.finished, c.closed)
	}
}

type named struct{ name string }

func (n *named) Greet() string { return n.name }

func TestInterfaceCellsAreNotSharedAcrossScopes(t *testing.T) {
	reg := scope.NewRegistry()
	seq := 0
	g := scope.NewTypedProvider(scope.Scoped, nil, "greeter",
		func(context.Context, []any) (greeter, func() error, error) {
			seq++
			return &named{name: fmt.Sprint("g", seq)}, nil, nil
		})
	if err := reg.Add(g); err != nil {
		t.Fatal(err)
	}
	if err := reg.Compile(map[reflect.Type]any{}); err != nil {
		t.Fatal(err)
	}
	s1 := reg.Open(context.Background())
	first, err := scope.Get[greeter](s1)
	if err != nil || first == nil {
		t.Fatalf("scope 1 got %v, %v", first, err)
	}
	if err := s1.Release(); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 5; i++ {
		s := reg.Open(context.Background())
		got, err := scope.Get[greeter](s)
		if err != nil || got == nil || got.Greet() != fmt.Sprint("g", i) {
			t.Fatalf("scope %d got %v, %v", i, got, err)
		}
		s.Release()
	}
	if first.Greet() != "g1" {
		t.Fatalf("a later scope changed an earlier scope's instance: %s", first.Greet())
	}
}

func TestNoFinisherIsBuiltAfterEnd(t *testing.T) {
	reg := scope.NewRegistry()
	base := scope.NewTypedProvider(scope.Scoped, nil, "closer",
		func(context.Context, []any) (*closer, func() error, error) { return &closer{}, nil, nil })
	if err := reg.Add(base); err != nil {
		t.Fatal(err)
	}
	if err := reg.Compile(map[reflect.Type]any{}); err != nil {
		t.Fatal(err)
	}
	s := reg.Open(context.Background())
	defer s.Release()
	if err := s.End(true); err != nil {
		t.Fatal(err)
	}
	if _, err := scope.Get[*closer](s); !errors.Is(err, scope.ErrEnded) {
		t.Fatalf("a Finisher built after End: %v, want ErrEnded", err)
	}
}
