package scope_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/scope"
)

func compile(t testing.TB, r *scope.Registry) {
	t.Helper()
	if err := r.Compile(nil); err != nil {
		t.Fatal(err)
	}
}

// mustGet resolves T in s. It fails the test, instead of letting it panic
// later, when Get returns an error or a nil pointer.
func mustGet[T any](t testing.TB, s *scope.Scope) T {
	t.Helper()
	v, err := scope.Get[T](s)
	if err != nil {
		t.Fatalf("Get[%v]: %v", reflect.TypeFor[T](), err)
	}
	if rv := reflect.ValueOf(&v).Elem(); rv.Kind() == reflect.Pointer && rv.IsNil() {
		t.Fatalf("Get[%v] returned nil without an error", reflect.TypeFor[T]())
	}
	return v
}

// waitFor waits until ch has received n values, failing the test if it has
// not within a generous bound.
func waitFor(t testing.TB, ch <-chan struct{}, n int, what string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for i := range n {
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("after 10 s, %d of %d %s", i, n, what)
		}
	}
}

func TestScopedSameWithinScopeDifferentAcross(t *testing.T) {
	r := scope.NewRegistry()
	mustAdd(t, r, scope.Scoped, newA)
	mustAdd(t, r, scope.Scoped, newB)
	compile(t, r)
	s1, s2 := r.Open(context.Background()), r.Open(context.Background())
	defer s1.Release()
	defer s2.Release()
	a1 := mustGet[*A](t, s1)
	a1b := mustGet[*A](t, s1)
	b1 := mustGet[*B](t, s1)
	a2 := mustGet[*A](t, s2)
	if a1 != a1b || a1.b != b1 {
		t.Error("scoped instance differs within a scope")
	}
	if a1 == a2 || a1.b == a2.b {
		t.Error("scoped instance shared across scopes")
	}
	v, err := s1.Resolve(reflect.TypeFor[*A]())
	if err != nil || v != any(a1) {
		t.Errorf("Resolve = %v, %v", v, err)
	}
	if _, err := s1.Resolve(reflect.TypeFor[*X]()); err == nil || !strings.Contains(err.Error(), "*scope_test.X") {
		t.Errorf("Resolve unknown type: %v", err)
	}
}

func TestTransientNewEachTime(t *testing.T) {
	r := scope.NewRegistry()
	mustAdd(t, r, scope.Transient, newA)
	mustAdd(t, r, scope.Scoped, newB)
	compile(t, r)
	s := r.Open(context.Background())
	defer s.Release()
	a1 := mustGet[*A](t, s)
	a2 := mustGet[*A](t, s)
	if a1 == a2 {
		t.Error("transient instance reused")
	}
	if a1.b != a2.b {
		t.Error("scoped dependency of a transient differs within a scope")
	}
}

func TestConcurrentResolveBuildsOnce(t *testing.T) {
	var calls atomic.Int32
	gate := make(chan struct{})
	r := scope.NewRegistry()
	mustAdd(t, r, scope.Scoped, func() *B {
		calls.Add(1)
		<-gate // held until every goroutine is on its way to Get
		return &B{}
	})
	mustAdd(t, r, scope.Scoped, newA)
	compile(t, r)
	s := r.Open(context.Background())
	defer s.Release()
	var wg sync.WaitGroup
	started := make(chan struct{}, 100)
	got := make([]*A, 100)
	for i := range got {
		wg.Go(func() {
			started <- struct{}{}
			a, err := scope.Get[*A](s)
			if err != nil {
				t.Error(err)
			}
			got[i] = a
		})
	}
	waitFor(t, started, len(got), "goroutines started")
	close(gate)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	waitFor(t, done, 1, "resolutions returned")
	if n := calls.Load(); n != 1 {
		t.Errorf("constructor called %d times, want 1", n)
	}
	for _, a := range got {
		if a != got[0] {
			t.Fatal("goroutines got different instances")
		}
	}
}

// Types for release order.
type (
	relFunc  struct{ log *[]string } // released by the func() of its constructor
	closeErr struct {                // Close() error
		log *[]string
		dep *relFunc
		err error
	}
	closeNoErr struct { // Close()
		log *[]string
		n   int
	}
	funcRel   struct{ log *[]string } // NewFuncProvider with release func
	untouched struct{}
)

func (c *closeErr) Close() error { *c.log = append(*c.log, "closeErr"); return c.err }
func (c *closeNoErr) Close()     { *c.log = append(*c.log, fmt.Sprintf("closeNoErr%d", c.n)) }

func releaseRegistry(t *testing.T, log *[]string, closeErrErr, funcRelErr error) *scope.Registry {
	t.Helper()
	r := scope.NewRegistry()
	mustAdd(t, r, scope.Scoped, func() (*relFunc, func(), error) {
		*log = append(*log, "new relFunc")
		return &relFunc{log}, func() { *log = append(*log, "relFunc") }, nil
	})
	mustAdd(t, r, scope.Scoped, func(d *relFunc) *closeErr {
		*log = append(*log, "new closeErr")
		return &closeErr{log: log, dep: d, err: closeErrErr}
	})
	n := 0
	mustAdd(t, r, scope.Transient, func() *closeNoErr {
		n++
		*log = append(*log, fmt.Sprintf("new closeNoErr%d", n))
		return &closeNoErr{log: log, n: n}
	})
	mustAdd(t, r, scope.Transient, func() *untouched { return &untouched{} })
	if err := r.Add(scope.NewFuncProvider(scope.Transient, reflect.TypeFor[*funcRel](), nil, "funcRel",
		func(ctx context.Context, args []any) (any, func() error, error) {
			*log = append(*log, "new funcRel")
			return &funcRel{log}, func() error { *log = append(*log, "funcRel"); return funcRelErr }, nil
		})); err != nil {
		t.Fatal(err)
	}
	compile(t, r)
	return r
}

func TestReleaseReverseOrderOnce(t *testing.T) {
	var log []string
	r := releaseRegistry(t, &log, nil, nil)
	s := r.Open(context.Background())
	for _, typ := range []reflect.Type{
		reflect.TypeFor[*closeErr](), reflect.TypeFor[*closeNoErr](), reflect.TypeFor[*untouched](),
		reflect.TypeFor[*funcRel](), reflect.TypeFor[*closeNoErr](), reflect.TypeFor[*closeErr](),
	} {
		if _, err := s.Resolve(typ); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"new relFunc", "new closeErr", "new closeNoErr1", "new funcRel", "new closeNoErr2",
		"closeNoErr2", "funcRel", "closeNoErr1", "closeErr", "relFunc",
	}
	if !slices.Equal(log, want) {
		t.Errorf("log:\n got %q\nwant %q", log, want)
	}
	released := slices.Clone(log)
	if err := s.Release(); err != nil {
		t.Errorf("second Release = %v", err)
	}
	if !slices.Equal(log, released) {
		t.Errorf("second Release released again:\n got %q\nwant %q", log, released)
	}
}

func TestReleaseErrorsJoined(t *testing.T) {
	var log []string
	e1, e2 := errors.New("close failed"), errors.New("release failed")
	r := releaseRegistry(t, &log, e1, e2)
	s := r.Open(context.Background())
	mustGet[*closeErr](t, s)
	mustGet[*funcRel](t, s)
	err := s.Release()
	if !errors.Is(err, e1) || !errors.Is(err, e2) || len(errs(err)) != 2 {
		t.Fatalf("Release = %v, want both errors joined", err)
	}
	if !strings.Contains(err.Error(), "scope: releasing ") || !strings.Contains(err.Error(), "funcRel") {
		t.Errorf("Release error %q does not name the providers", err)
	}
	if len(log) != 6 { // 3 built, 3 released despite errors
		t.Errorf("log = %q", log)
	}
}

func TestUseAfterRelease(t *testing.T) {
	r := scope.NewRegistry()
	mustAdd(t, r, scope.Scoped, newA)
	mustAdd(t, r, scope.Scoped, newB)
	compile(t, r)
	p, err := r.Plan(reflect.TypeFor[*A]())
	if err != nil {
		t.Fatal(err)
	}

	s1 := r.Open(context.Background())
	a1 := mustGet[*A](t, s1)
	if err := s1.Release(); err != nil {
		t.Fatal(err)
	}
	dst := make([]any, 1)
	checks := map[string]func(s *scope.Scope) error{
		"Resolve":     func(s *scope.Scope) error { _, err := s.Resolve(reflect.TypeFor[*A]()); return err },
		"Get":         func(s *scope.Scope) error { _, err := scope.Get[*B](s); return err },
		"ResolvePlan": func(s *scope.Scope) error { return s.ResolvePlan(p, dst) },
		"End":         func(s *scope.Scope) error { return s.End(true) },
	}
	for name, f := range checks {
		if err := f(s1); !errors.Is(err, scope.ErrReleased) {
			t.Errorf("%s after Release = %v, want ErrReleased", name, err)
		}
	}
	if s1.Context() != nil {
		t.Error("Context after Release is not nil")
	}

	// s2 very likely reuses s1's pooled state; s1 must not see it.
	s2 := r.Open(context.Background())
	a2, err := scope.Get[*A](s2)
	if err != nil || a2 == a1 {
		t.Fatalf("s2 Get = %p, %v (s1 had %p)", a2, err, a1)
	}
	for name, f := range checks {
		if err := f(s1); !errors.Is(err, scope.ErrReleased) {
			t.Errorf("stale %s = %v, want ErrReleased", name, err)
		}
	}
	if err := s1.Release(); err != nil {
		t.Errorf("stale Release = %v", err)
	}
	if a, err := scope.Get[*A](s2); err != nil || a != a2 {
		t.Errorf("s2 affected by stale s1: %p, %v", a, err)
	}
	if err := s2.Release(); err != nil {
		t.Fatal(err)
	}
}

func TestReleaseRetainsNothing(t *testing.T) {
	// Big enough not to share a tiny-allocator block with live objects.
	type (
		big1 struct{ buf [64]byte }
		big2 struct {
			b   *big1
			buf [64]byte
		}
	)
	closed := 0
	closeBig2 := func() { closed++ } // released by func: tracked in the order list
	r := scope.NewRegistry()
	mustAdd(t, r, scope.Scoped, func() *big1 { return &big1{} })
	mustAdd(t, r, scope.Scoped, func(b *big1) (*big2, func(), error) { return &big2{b: b}, closeBig2, nil })
	mustAdd(t, r, scope.Transient, func(b *big1) *C { return &C{} })
	compile(t, r)
	p, err := r.Plan(reflect.TypeFor[*big2](), reflect.TypeFor[*C]())
	if err != nil {
		t.Fatal(err)
	}
	type key struct{}
	collected := make(chan struct{}, 3)
	ctx := context.WithValue(context.Background(), key{}, new([64]byte))
	runtime.AddCleanup(ctx.Value(key{}).(*[64]byte), func(int) { collected <- struct{}{} }, 0)
	s := r.Open(ctx)
	ctx = nil
	func() {
		dst := make([]any, 2)
		if err := s.ResolvePlan(p, dst); err != nil {
			t.Fatal(err)
		}
		b2, ok := dst[0].(*big2)
		if !ok || b2 == nil || b2.b == nil {
			t.Fatalf("ResolvePlan gave %v, want a *big2 built on a *big1", dst)
		}
		runtime.AddCleanup(b2, func(int) { collected <- struct{}{} }, 0)
		runtime.AddCleanup(b2.b, func(int) { collected <- struct{}{} }, 0)
	}()
	if err := s.Release(); err != nil || closed != 1 {
		t.Fatal(err, closed)
	}
	// One GC only: a sync.Pool keeps its items through one GC (in its victim
	// cache), so pooled state that still referenced an instance would keep it.
	runtime.GC()
	waitFor(t, collected, 3, "objects (two instances, context value) collected after Release")
	runtime.KeepAlive(s)
	runtime.KeepAlive(r)
}

type finisher struct {
	name string
	log  *[]string
	err  error
	ctx  *context.Context
}

func (f *finisher) Finish(ctx context.Context, commit bool) error {
	*f.log = append(*f.log, fmt.Sprintf("%s %t", f.name, commit))
	*f.ctx = ctx
	return f.err
}

type (
	fin1 struct{ *finisher }
	fin2 struct{ *finisher }
	fin3 struct{ *finisher }
)

func finishRegistry(t *testing.T, log *[]string, gotCtx *context.Context, err2 error) *scope.Registry {
	r := scope.NewRegistry()
	mustAdd(t, r, scope.Scoped, func() *fin1 { return &fin1{&finisher{"f1", log, nil, gotCtx}} })
	mustAdd(t, r, scope.Scoped, func(*fin1) *fin2 { return &fin2{&finisher{"f2", log, err2, gotCtx}} })
	mustAdd(t, r, scope.Transient, func(*fin2) *fin3 { return &fin3{&finisher{"f3", log, nil, gotCtx}} })
	mustAdd(t, r, scope.Scoped, newB)
	compile(t, r)
	return r
}

func TestEnd(t *testing.T) {
	boom := errors.New("commit failed")
	tests := []struct {
		name    string
		commit  bool
		err2    error
		want    []string
		wantErr error
	}{
		{"commit", true, nil, []string{"f3 true", "f2 true", "f1 true"}, nil},
		{"rollback", false, nil, []string{"f3 false", "f2 false", "f1 false"}, nil},
		{"failed commit rolls back the rest", true, boom, []string{"f3 true", "f2 true", "f1 false"}, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log []string
			var gotCtx context.Context
			r := finishRegistry(t, &log, &gotCtx, tt.err2)
			type key struct{}
			ctx := context.WithValue(context.Background(), key{}, 1)
			s := r.Open(ctx)
			mustGet[*B](t, s)
			mustGet[*fin3](t, s)
			err := s.End(tt.commit)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("End = %v, want %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "scope: finishing ") {
				t.Errorf("End error %q does not name the provider", err)
			}
			if !slices.Equal(log, tt.want) {
				t.Errorf("finish order %q, want %q", log, tt.want)
			}
			if gotCtx != ctx {
				t.Error("Finish did not get the scope's context")
			}
			if err := s.End(true); err != nil || len(log) != 3 {
				t.Errorf("second End = %v, log %q", err, log)
			}
			if err := s.Release(); err != nil || len(log) != 3 {
				t.Errorf("Release after End = %v, log %q", err, log)
			}
		})
	}
}

func TestReleaseEndsWithRollback(t *testing.T) {
	var log []string
	var gotCtx context.Context
	r := finishRegistry(t, &log, &gotCtx, nil)
	s := r.Open(context.Background())
	mustGet[*fin2](t, s)
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"f2 false", "f1 false"}; !slices.Equal(log, want) {
		t.Errorf("log %q, want %q", log, want)
	}
}

func TestConstructorErrorDoesNotPoison(t *testing.T) {
	boom := errors.New("boom")
	fail := true
	var bBuilt, bClosed int
	r := scope.NewRegistry()
	mustAdd(t, r, scope.Scoped, func() (*B, func(), error) {
		bBuilt++
		return &B{}, func() { bClosed++ }, nil
	})
	mustAdd(t, r, scope.Scoped, func(b *B) (*A, error) {
		if fail {
			return nil, boom
		}
		return &A{b: b}, nil
	})
	mustAdd(t, r, scope.Scoped, func(a *A) *C { return &C{} })
	compile(t, r)
	s := r.Open(context.Background())
	_, err := scope.Get[*C](s)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "scope_test.TestConstructorErrorDoesNotPoison.func2") {
		t.Fatalf("Get = %v, want wrapped boom naming the constructor", err)
	}
	fail = false
	a, err := scope.Get[*A](s)
	if err != nil || a == nil {
		t.Fatalf("Get after error = %v, %v", a, err)
	}
	if _, err := scope.Get[*C](s); err != nil {
		t.Fatal(err)
	}
	b := mustGet[*B](t, s)
	if bBuilt != 1 || a.b != b {
		t.Errorf("dependency built %d times", bBuilt)
	}
	if err := s.Release(); err != nil || bClosed != 1 {
		t.Errorf("Release = %v, dependency released %d times", err, bClosed)
	}
}

func TestFuncProvider(t *testing.T) {
	boom := errors.New("boom")
	r := scope.NewRegistry()
	mustAdd(t, r, scope.Scoped, newB)
	type key struct{}
	var gotCtx, gotArgCtx context.Context
	build := func(ctx context.Context, args []any) (any, func() error, error) {
		if len(args) != 3 {
			return nil, nil, fmt.Errorf("makeA got %d arguments, want 3", len(args))
		}
		b, okB := args[0].(*B)
		argCtx, okCtx := args[1].(context.Context)
		cfg, okCfg := args[2].(*Config)
		if !okB || !okCtx || !okCfg || cfg == nil {
			return nil, nil, fmt.Errorf("makeA got arguments %v, want *B, context.Context, *Config", args)
		}
		gotCtx, gotArgCtx = ctx, argCtx
		if cfg.DSN == "fail" {
			return nil, nil, boom
		}
		return &A{b: b}, nil, nil
	}
	params := []reflect.Type{reflect.TypeFor[*B](), reflect.TypeFor[context.Context](), reflect.TypeFor[*Config]()}
	if err := r.Add(scope.NewFuncProvider(scope.Scoped, reflect.TypeFor[*A](), params, "makeA", build)); err != nil {
		t.Fatal(err)
	}
	// A reflect-called constructor consuming the func-built instance.
	mustAdd(t, r, scope.Transient, func(a *A) *C { return &C{} })
	// A func provider returning the wrong type.
	if err := r.Add(scope.NewFuncProvider(scope.Scoped, reflect.TypeFor[*X](), nil, "wrongX",
		func(context.Context, []any) (any, func() error, error) { return &Y{}, nil, nil })); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{}
	if err := r.Compile(map[reflect.Type]any{reflect.TypeFor[*Config](): cfg}); err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), key{}, 1)
	s := r.Open(ctx)
	defer s.Release()
	if _, err := scope.Get[*C](s); err != nil {
		t.Fatal(err)
	}
	a := mustGet[*A](t, s)
	b := mustGet[*B](t, s)
	if a.b != b || gotCtx != ctx || gotArgCtx != ctx {
		t.Error("func provider got wrong arguments")
	}
	cfg.DSN = "fail"
	s2 := r.Open(ctx)
	defer s2.Release()
	if _, err := scope.Get[*A](s2); !errors.Is(err, boom) || !strings.Contains(err.Error(), "scope: makeA: ") {
		t.Errorf("Get = %v, want wrapped boom naming makeA", err)
	}
	if _, err := scope.Get[*X](s2); err == nil || !strings.Contains(err.Error(), "wrongX") {
		t.Errorf("Get of wrong type = %v", err)
	}
}

type (
	Repo     interface{ Find() string }
	sqlRepo  struct{ closed *bool }
	Service  struct{ repo Repo }
	nilIface interface{ M() }
)

func (r *sqlRepo) Find() string { return "found" }
func (r *sqlRepo) Close()       { *r.closed = true }

func TestInterfaceTypes(t *testing.T) {
	closed := false
	r := scope.NewRegistry()
	mustAdd(t, r, scope.Scoped, func() Repo { return &sqlRepo{&closed} })
	mustAdd(t, r, scope.Transient, func(r Repo, n nilIface) *Service { return &Service{repo: r} })
	mustAdd(t, r, scope.Scoped, func() nilIface { return nil })
	compile(t, r)
	s := r.Open(context.Background())
	svc, err := scope.Get[*Service](s)
	if err != nil || svc == nil || svc.repo == nil || svc.repo.Find() != "found" {
		t.Fatalf("Get = %v, %v", svc, err)
	}
	if n, err := scope.Get[nilIface](s); err != nil || n != nil {
		t.Errorf("Get nil interface = %v, %v", n, err)
	}
	// Resolve an interface type: same instance as the one injected.
	repo, err := scope.Get[Repo](s)
	if err != nil || repo != svc.repo {
		t.Errorf("Get[Repo] = %v, %v", repo, err)
	}
	if err := s.Release(); err != nil || !closed {
		t.Errorf("Release = %v, closed via dynamic Close() = %t", err, closed)
	}
}

func TestNotCompiled(t *testing.T) {
	r := scope.NewRegistry()
	mustAdd(t, r, scope.Scoped, newB)
	s := r.Open(context.Background())
	if _, err := scope.Get[*B](s); !errors.Is(err, scope.ErrNotCompiled) {
		t.Errorf("Get = %v, want ErrNotCompiled", err)
	}
	if err := s.End(true); err != nil {
		t.Errorf("End = %v", err)
	}
	if err := s.Release(); err != nil {
		t.Errorf("Release = %v", err)
	}
	if _, err := scope.Get[*B](s); !errors.Is(err, scope.ErrReleased) {
		t.Errorf("Get after Release = %v, want ErrReleased", err)
	}
}
