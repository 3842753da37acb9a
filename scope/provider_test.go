package scope_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/scope"
)

type A struct{ b *B }
type B struct{ n int }
type C struct{}

func newA(b *B) *A                    { return &A{b: b} }
func newB() *B                        { return &B{} }
func newBErr() (*B, error)            { return &B{}, nil }
func newBRel() (*B, func(), error)    { return &B{}, func() {}, nil }
func newBVariadic(xs ...int) *B       { return &B{} }
func newNothing()                     {}
func newTwoValues() (*A, *B)          { return nil, nil }
func newBadThree() (*B, error, error) { return nil, nil, nil }
func newBadRel() (*B, func() error, error) {
	return nil, nil, nil
}
func newError() error                  { return nil }
func newContext() context.Context      { return context.Background() }
func newFour() (*A, *B, func(), error) { return nil, nil, nil, nil }

func TestNewProvider(t *testing.T) {
	var nilFunc func() *B
	tests := []struct {
		name    string
		l       scope.Lifetime
		ctor    any
		wantErr string // "" means valid
	}{
		{"T", scope.Scoped, newB, ""},
		{"T with params", scope.Transient, newA, ""},
		{"T error", scope.Scoped, newBErr, ""},
		{"T func error", scope.Scoped, newBRel, ""},
		{"nil", scope.Scoped, nil, "nil constructor"},
		{"nil func", scope.Scoped, nilFunc, "nil constructor"},
		{"not a func", scope.Scoped, 42, "must be a func"},
		{"variadic", scope.Scoped, newBVariadic, "newBVariadic"},
		{"no result", scope.Scoped, newNothing, "newNothing"},
		{"two values", scope.Scoped, newTwoValues, "newTwoValues"},
		{"T error error", scope.Scoped, newBadThree, "newBadThree"},
		{"T func() error error", scope.Scoped, newBadRel, "newBadRel"},
		{"four results", scope.Scoped, newFour, "newFour"},
		{"returns error", scope.Scoped, newError, "newError"},
		{"returns context", scope.Scoped, newContext, "newContext"},
		{"bad lifetime", scope.Lifetime(0), newB, "invalid lifetime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := scope.NewProvider(tt.l, tt.ctor)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("NewProvider: %v", err)
				}
				if p.Lifetime() != tt.l {
					t.Errorf("Lifetime = %v, want %v", p.Lifetime(), tt.l)
				}
				ft := reflect.TypeOf(tt.ctor)
				if p.Type() != ft.Out(0) {
					t.Errorf("Type = %v, want %v", p.Type(), ft.Out(0))
				}
				if len(p.Params()) != ft.NumIn() {
					t.Errorf("Params = %v", p.Params())
				}
				if !strings.Contains(p.Name(), "scope_test.new") || !strings.Contains(p.Name(), "provider_test.go:") {
					t.Errorf("Name = %q, want func name and file:line", p.Name())
				}
				return
			}
			if err == nil {
				t.Fatalf("NewProvider succeeded, want error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "scope: ") {
				t.Errorf("error = %q, want prefix \"scope: \" and %q", err, tt.wantErr)
			}
		})
	}
}

func TestLifetimeString(t *testing.T) {
	for l, want := range map[scope.Lifetime]string{scope.Scoped: "scoped", scope.Transient: "transient", 7: "Lifetime(7)"} {
		if got := l.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", l, got, want)
		}
	}
}

func TestFuncProviderAccessors(t *testing.T) {
	params := []reflect.Type{reflect.TypeFor[*B]()}
	p := scope.NewFuncProvider(scope.Transient, reflect.TypeFor[*A](), params, "makeA", func(ctx context.Context, args []any) (any, func() error, error) {
		return &A{b: args[0].(*B)}, nil, nil
	})
	params[0] = nil // NewFuncProvider copies params
	if p.Type() != reflect.TypeFor[*A]() || p.Lifetime() != scope.Transient || p.Name() != "makeA" {
		t.Errorf("got %v %v %q", p.Type(), p.Lifetime(), p.Name())
	}
	if got := p.Params(); len(got) != 1 || got[0] != reflect.TypeFor[*B]() {
		t.Fatalf("Params = %v", got)
	}
	p.Params()[0] = nil // Params returns a copy
	if p.Params()[0] == nil {
		t.Error("Params exposes internal slice")
	}
}

func TestAdd(t *testing.T) {
	r := scope.NewRegistry()
	mustAdd(t, r, scope.Scoped, newB)
	p, err := scope.NewProvider(scope.Transient, newBErr)
	if err != nil {
		t.Fatal(err)
	}
	err = r.Add(p)
	if err == nil || !strings.Contains(err.Error(), "newB (") || !strings.Contains(err.Error(), "newBErr") || !strings.Contains(err.Error(), "*scope_test.B") {
		t.Errorf("duplicate Add: %v, want error naming both constructors and the type", err)
	}
	if !r.Provides(reflect.TypeFor[*B]()) || r.Provides(reflect.TypeFor[*A]()) {
		t.Error("Provides wrong")
	}

	bad := []*scope.Provider{
		nil,
		scope.NewFuncProvider(scope.Scoped, reflect.TypeFor[*C](), nil, "nilBuild", nil),
		scope.NewFuncProvider(scope.Scoped, nil, nil, "nilType", func(context.Context, []any) (any, func() error, error) { return nil, nil, nil }),
		scope.NewFuncProvider(9, reflect.TypeFor[*C](), nil, "badLifetime", func(context.Context, []any) (any, func() error, error) { return nil, nil, nil }),
		scope.NewFuncProvider(scope.Scoped, reflect.TypeFor[error](), nil, "errType", func(context.Context, []any) (any, func() error, error) { return nil, nil, nil }),
		scope.NewFuncProvider(scope.Scoped, reflect.TypeFor[*C](), []reflect.Type{nil}, "nilParam", func(context.Context, []any) (any, func() error, error) { return nil, nil, nil }),
	}
	for i, p := range bad {
		if err := r.Add(p); err == nil {
			t.Errorf("Add(bad[%d]) succeeded", i)
		}
	}

	if err := r.Compile(nil); err != nil {
		t.Fatal(err)
	}
	if p, err = scope.NewProvider(scope.Scoped, newA); err != nil {
		t.Fatal(err)
	}
	if err := r.Add(p); err == nil || !strings.Contains(err.Error(), "after Compile") {
		t.Errorf("Add after Compile: %v", err)
	}
	if err := r.Compile(nil); err == nil {
		t.Error("second Compile succeeded")
	}
	if ps := r.Providers(); len(ps) != 1 || ps[0].Type() != reflect.TypeFor[*B]() {
		t.Errorf("Providers = %v", ps)
	}
}

func mustAdd(t testing.TB, r *scope.Registry, l scope.Lifetime, ctor any) *scope.Provider {
	t.Helper()
	p, err := scope.NewProvider(l, ctor)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Add(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func errs(err error) []error {
	if u, ok := err.(interface{ Unwrap() []error }); ok {
		return u.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}
