package scope_test

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/scope"
)

// Types of the Ctor tests: a chain base ← mid ← top, plus a greeter
// (interface) and a closer to check release.
type (
	ctorBase struct{ n int }
	ctorMid  struct{ b *ctorBase }
	ctorTop  struct {
		ctx context.Context
		m   *ctorMid
		g   greeter
	}
	ctorCloser struct{ closed *int }
)

func (c *ctorCloser) Close() { *c.closed++ }

func newCtorBase() *ctorBase          { return &ctorBase{n: 7} }
func newCtorMid(b *ctorBase) *ctorMid { return &ctorMid{b: b} }
func newCtorGreeter() greeter         { return &english{} }
func newCtorTop(ctx context.Context, m *ctorMid, g greeter) *ctorTop {
	return &ctorTop{ctx: ctx, m: m, g: g}
}

// registryOf compiles a registry of ctors (funcs or Ctors), each scoped.
func registryOf(t *testing.T, ctors ...any) *scope.Registry {
	t.Helper()
	reg := scope.NewRegistry()
	for _, c := range ctors {
		p, err := scope.NewProvider(scope.Scoped, c)
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	compile(t, reg)
	return reg
}

// TestCtorBuildsLikeReflection resolves one graph with every mix of Ctor
// and plain func: the instances are wired the same way, built once per
// scope, and a Ctor's type, params and name are those of its func.
func TestCtorBuildsLikeReflection(t *testing.T) {
	type key struct{}
	for _, tc := range []struct {
		name  string
		ctors []any
	}{
		{"all reflection", []any{newCtorBase, newCtorMid, newCtorGreeter, newCtorTop}},
		{"all Ctor", []any{scope.Func0(newCtorBase), scope.Func1(newCtorMid), scope.Func0(newCtorGreeter), scope.Func3(newCtorTop)}},
		// A reflect-called constructor taking Ctor-built values, and the
		// reverse: the interface value must reach Call as a greeter.
		{"reflection over Ctor", []any{scope.Func0(newCtorBase), scope.Func1(newCtorMid), scope.Func0(newCtorGreeter), newCtorTop}},
		{"Ctor over reflection", []any{newCtorBase, newCtorMid, newCtorGreeter, scope.Func3(newCtorTop)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := registryOf(t, tc.ctors...)
			ctx := context.WithValue(context.Background(), key{}, "v")
			s := reg.Open(ctx)
			defer s.Release()
			top := mustGet[*ctorTop](t, s)
			if top.ctx == nil || top.m == nil || top.m.b == nil || top.g == nil {
				t.Fatalf("wired wrong: %+v", top)
			}
			if top.ctx.Value(key{}) != "v" || top.m.b.n != 7 || top.g.Greet() != "hello" {
				t.Fatalf("wired wrong: %+v", top)
			}
			if mid := mustGet[*ctorMid](t, s); mid != top.m {
				t.Error("a scoped *ctorMid was built twice in one scope")
			}
		})
	}
	p, err := scope.NewProvider(scope.Transient, scope.Func3(newCtorTop))
	if err != nil {
		t.Fatal(err)
	}
	wantParams := []reflect.Type{reflect.TypeFor[context.Context](), reflect.TypeFor[*ctorMid](), reflect.TypeFor[greeter]()}
	if p.Type() != reflect.TypeFor[*ctorTop]() || !reflect.DeepEqual(p.Params(), wantParams) || p.Lifetime() != scope.Transient {
		t.Errorf("provider: type %v, params %v, lifetime %v", p.Type(), p.Params(), p.Lifetime())
	}
	if !strings.Contains(p.Name(), "scope_test.newCtorTop") {
		t.Errorf("name %q does not name the constructor", p.Name())
	}
}

// TestCtorErrorForms checks the E forms: an error is wrapped with the
// constructor's name, nothing is cached, and the scope stays usable.
func TestCtorErrorForms(t *testing.T) {
	boom := errors.New("boom")
	fail := true
	newBase := func() (*ctorBase, error) {
		if fail {
			return nil, boom
		}
		return &ctorBase{n: 1}, nil
	}
	for _, tc := range []struct {
		name string
		ctor scope.Ctor
	}{
		{"Func0E", scope.Func0E(newBase)},
		{"Func1E", scope.Func1E(func(context.Context) (*ctorBase, error) { return newBase() })},
		{"Func2E", scope.Func2E(func(context.Context, context.Context) (*ctorBase, error) { return newBase() })},
		{"Func3E", scope.Func3E(func(context.Context, context.Context, context.Context) (*ctorBase, error) { return newBase() })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fail = true
			s := registryOf(t, tc.ctor).Open(context.Background())
			defer s.Release()
			_, err := scope.Get[*ctorBase](s)
			if !errors.Is(err, boom) || !strings.Contains(err.Error(), "TestCtorErrorForms") {
				t.Fatalf("error %v: want boom, naming the constructor", err)
			}
			fail = false
			b, err := scope.Get[*ctorBase](s)
			if err != nil || b == nil || b.n != 1 {
				t.Fatalf("after a failure: %v, %v", b, err)
			}
		})
	}
}

// TestCtorRelease checks that a Ctor-built instance with a Close method is
// released with its scope, once.
func TestCtorRelease(t *testing.T) {
	closed := 0
	reg := registryOf(t, scope.Func2(func(*ctorBase, context.Context) *ctorCloser { return &ctorCloser{closed: &closed} }),
		scope.Func0(newCtorBase))
	s := reg.Open(context.Background())
	if _, err := scope.Get[*ctorCloser](s); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	_ = s.Release()
	if closed != 1 {
		t.Fatalf("closed %d times, want 1", closed)
	}
}

// TestCtorRejected checks the Ctors NewProvider refuses.
func TestCtorRejected(t *testing.T) {
	var nilFunc func() *ctorBase
	for _, tc := range []struct {
		name string
		ctor scope.Ctor
		want string
	}{
		{"zero", scope.Ctor{}, "zero Ctor"},
		{"nil func", scope.Func0(nilFunc), "nil constructor"},
		{"provides error", scope.Func0(func() error { return nil }), "cannot provide type error"},
		{"provides context", scope.Func0(context.Background), "cannot provide context.Context"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scope.NewProvider(scope.Scoped, tc.ctor)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := scope.NewProvider(scope.Lifetime(9), scope.Func0(newCtorBase)); err == nil || !strings.Contains(err.Error(), "invalid lifetime") {
		t.Fatalf("bad lifetime: %v", err)
	}
}

// TestCtorMissingDependency checks that a Ctor's parameters are compiled
// like a func's: one nothing provides fails Compile, naming both.
func TestCtorMissingDependency(t *testing.T) {
	reg := scope.NewRegistry()
	p, err := scope.NewProvider(scope.Scoped, scope.Func1(newCtorMid))
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Add(p); err != nil {
		t.Fatal(err)
	}
	err = reg.Compile(map[reflect.Type]any{})
	if err == nil || !strings.Contains(err.Error(), "newCtorMid") || !strings.Contains(err.Error(), "*scope_test.ctorBase") {
		t.Fatalf("Compile: %v, want the constructor and the missing type named", err)
	}
}

// TestPanickingConstructorLeavesNothingBehind checks that the argument
// buffers a constructor panicked with are cleared on release, for a
// reflect-called constructor and for a Ctor: the argument is collected.
func TestPanickingConstructorLeavesNothingBehind(t *testing.T) {
	type arg struct{ buf [64]byte } // not in a tiny-allocator block
	type out struct{}
	for name, boom := range map[string]any{
		"func":  func(*arg) *out { panic("boom") },
		"Func1": scope.Func1(func(*arg) *out { panic("boom") }),
	} {
		t.Run(name, func(t *testing.T) {
			reg := registryOf(t, func() *arg { return &arg{} }, boom)
			s := reg.Open(context.Background())
			collected := make(chan struct{}, 1)
			func() {
				a, err := scope.Get[*arg](s)
				if err != nil {
					t.Fatal(err)
				}
				runtime.AddCleanup(a, func(int) { collected <- struct{}{} }, 0)
				defer func() {
					if recover() == nil {
						t.Error("the constructor did not panic")
					}
				}()
				_, _ = scope.Get[*out](s)
			}()
			if err := s.Release(); err != nil {
				t.Fatal(err)
			}
			runtime.GC() // one GC: the pool keeps the state in its victim cache
			select {
			case <-collected:
			case <-time.After(10 * time.Second):
				t.Error("the argument of a panicking constructor is still referenced after Release")
			}
			runtime.KeepAlive(reg)
		})
	}
}
