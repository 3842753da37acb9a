package scope_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/scope"
)

type (
	X      struct{}
	Y      struct{}
	Z      struct{}
	Config struct{ DSN string }
	Logger interface{ Log(string) }
	Svc    struct {
		cfg *Config
		log Logger
		ctx context.Context
	}
	stdLogger struct{}
)

func (stdLogger) Log(string) {}

func newX(*Y) *X                  { return &X{} }
func newY(*Z) *Y                  { return &Y{} }
func newZ(*X) *Z                  { return &Z{} }
func newSelf(*C) *C               { return &C{} }
func newMissing(*Config, *X) *Svc { return &Svc{} }
func newMissing2(Logger) *C       { return &C{} }
func newSvc(ctx context.Context, cfg *Config, log Logger) *Svc {
	return &Svc{cfg: cfg, log: log, ctx: ctx}
}

func TestCompileMissingDependency(t *testing.T) {
	r := scope.NewRegistry()
	mustAdd(t, r, scope.Scoped, newMissing)
	err := r.Compile(map[reflect.Type]any{reflect.TypeFor[*Config](): &Config{}})
	if err == nil {
		t.Fatal("Compile succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"scope: ", "newMissing", "compile_test.go:", "*scope_test.X"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "*scope_test.Config") {
		t.Errorf("error %q names the singleton", msg)
	}
	// The failed Compile leaves the registry uncompiled.
	if _, err := r.Open(context.Background()).Resolve(reflect.TypeFor[*Svc]()); !errors.Is(err, scope.ErrNotCompiled) {
		t.Errorf("Resolve after failed Compile: %v, want ErrNotCompiled", err)
	}
}

func TestCompileCycle(t *testing.T) {
	tests := []struct {
		name  string
		ctors []any
		want  []string
	}{
		{"three", []any{newX, newY, newZ}, []string{"dependency cycle", "newX", "newY", "newZ", " -> "}},
		{"self", []any{newSelf}, []string{"dependency cycle", "*scope_test.C [", "newSelf", "] -> *scope_test.C"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := scope.NewRegistry()
			for _, c := range tt.ctors {
				mustAdd(t, r, scope.Scoped, c)
			}
			err := r.Compile(nil)
			if err == nil {
				t.Fatal("Compile succeeded")
			}
			if n := len(errs(err)); n != 1 {
				t.Errorf("got %d errors, want 1 cycle: %v", n, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			// The cycle starts and ends with the same type.
			parts := strings.Split(strings.TrimPrefix(err.Error(), "scope: dependency cycle: "), " -> ")
			if len(parts) != len(tt.ctors)+1 || parts[0] != parts[len(parts)-1] {
				t.Errorf("cycle %q is not closed", parts)
			}
		})
	}
}

func TestCompileJoinsAllErrors(t *testing.T) {
	r := scope.NewRegistry()
	for _, c := range []any{newX, newY, newZ, newMissing, newMissing2} {
		mustAdd(t, r, scope.Scoped, c)
	}
	err := r.Compile(map[reflect.Type]any{
		reflect.TypeFor[*A](): &B{}, // wrong type
		reflect.TypeFor[*X](): &X{}, // also provided by newX
	})
	list := errs(err)
	if len(list) != 5 {
		t.Fatalf("got %d errors, want 5 (2 singletons, 2 missing, 1 cycle): %v", len(list), err)
	}
	for _, want := range []string{"newMissing (", "*scope_test.Config", "newMissing2", "scope_test.Logger", "dependency cycle", "both a singleton and provided by", "singleton for *scope_test.A has type *scope_test.B"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
}

// TestCompileRejectsBadSingletons checks each singleton Compile refuses, on
// its own: a type the registry also provides (a scoped type held as a
// singleton would outlive its scope), a value not assignable to its type,
// and a nil type.
func TestCompileRejectsBadSingletons(t *testing.T) {
	tests := []struct {
		name       string
		singletons map[reflect.Type]any
		want       []string
	}{
		{"also provided", map[reflect.Type]any{reflect.TypeFor[*B](): &B{}},
			[]string{"*scope_test.B is both a singleton and provided by", "scope_test.newB ("}},
		{"wrong type", map[reflect.Type]any{reflect.TypeFor[*A](): &C{}},
			[]string{"singleton for *scope_test.A has type *scope_test.C"}},
		{"nil type", map[reflect.Type]any{nil: &C{}},
			[]string{"singleton with nil type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := scope.NewRegistry()
			mustAdd(t, r, scope.Scoped, newB)
			err := compileErr(t, r, tt.singletons)
			if err == nil {
				t.Fatal("Compile succeeded")
			}
			if n := len(errs(err)); n != 1 {
				t.Errorf("got %d errors, want 1: %v", n, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if _, err := r.Open(context.Background()).Resolve(reflect.TypeFor[*B]()); !errors.Is(err, scope.ErrNotCompiled) {
				t.Errorf("Resolve after failed Compile: %v, want ErrNotCompiled", err)
			}
		})
	}
}

// compileErr returns the error of r.Compile(singletons), failing the test
// if Compile panics.
func compileErr(t *testing.T, r *scope.Registry, singletons map[reflect.Type]any) (err error) {
	t.Helper()
	defer func() {
		if v := recover(); v != nil {
			t.Fatalf("Compile panicked: %v", v)
		}
	}()
	return r.Compile(singletons)
}

func TestCompileBindsContextAndSingletons(t *testing.T) {
	r := scope.NewRegistry()
	mustAdd(t, r, scope.Scoped, newSvc)
	cfg := &Config{DSN: "x"}
	err := r.Compile(map[reflect.Type]any{
		reflect.TypeFor[*Config](): cfg,
		reflect.TypeFor[Logger]():  stdLogger{},
	})
	if err != nil {
		t.Fatal(err)
	}
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "v")
	s := r.Open(ctx)
	defer s.Release()
	svc := mustGet[*Svc](t, s)
	if svc.cfg != cfg || svc.log != (stdLogger{}) || svc.ctx != ctx {
		t.Errorf("Svc = %+v", svc)
	}
	if got, err := scope.Get[*Config](s); err != nil || got != cfg {
		t.Errorf("Get singleton = %v, %v", got, err)
	}
	if got, err := scope.Get[context.Context](s); err != nil || got != ctx {
		t.Errorf("Get context = %v, %v", got, err)
	}
	if s.Context() != ctx {
		t.Error("Context() is not the scope's context")
	}
}

func TestPlan(t *testing.T) {
	r := scope.NewRegistry()
	if _, err := r.Plan(reflect.TypeFor[*B]()); !errors.Is(err, scope.ErrNotCompiled) {
		t.Errorf("Plan before Compile: %v", err)
	}
	mustAdd(t, r, scope.Scoped, newA)
	mustAdd(t, r, scope.Scoped, newB)
	cfg := &Config{}
	if err := r.Compile(map[reflect.Type]any{reflect.TypeFor[*Config](): cfg}); err != nil {
		t.Fatal(err)
	}
	_, err := r.Plan(reflect.TypeFor[*A](), reflect.TypeFor[*X](), reflect.TypeFor[*Y]())
	if err == nil || len(errs(err)) != 2 || !strings.Contains(err.Error(), "*scope_test.X") || !strings.Contains(err.Error(), "*scope_test.Y") {
		t.Errorf("Plan with unknown types: %v", err)
	}

	types := []reflect.Type{reflect.TypeFor[*A](), reflect.TypeFor[context.Context](), reflect.TypeFor[*Config](), reflect.TypeFor[*B]()}
	p, err := r.Plan(types...)
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != 4 || !reflect.DeepEqual(p.Types(), types) {
		t.Errorf("Plan types = %v", p.Types())
	}
	ctx := context.Background()
	s := r.Open(ctx)
	defer s.Release()
	dst := make([]any, 4)
	if err := s.ResolvePlan(p, dst); err != nil {
		t.Fatal(err)
	}
	a, okA := dst[0].(*A)
	b, okB := dst[3].(*B)
	if !okA || !okB || a == nil {
		t.Fatalf("dst = %v, want *A and *B at 0 and 3", dst)
	}
	if a.b != b || dst[1] != ctx || dst[2] != cfg {
		t.Errorf("dst = %v", dst)
	}
	if err := s.ResolvePlan(p, dst[:3]); err == nil {
		t.Error("ResolvePlan with short dst succeeded")
	}
	// Everything built: no allocation per call.
	if n := testing.AllocsPerRun(100, func() {
		if err := s.ResolvePlan(p, dst); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("ResolvePlan allocates %v times", n)
	}

	other := scope.NewRegistry()
	mustAdd(t, other, scope.Scoped, newB)
	if err := other.Compile(nil); err != nil {
		t.Fatal(err)
	}
	os := other.Open(ctx)
	defer os.Release()
	if err := os.ResolvePlan(p, dst); err == nil {
		t.Error("ResolvePlan of another registry's plan succeeded")
	}
}
