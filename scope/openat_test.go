package scope_test

import (
	"context"
	"errors"
	"testing"

	"github.com/fasttrack-go/fasttrack/scope"
)

// perRequest is what a caller of OpenAt might allocate once per request: its
// own state with the scope inside.
type perRequest struct {
	id    int
	scope scope.Scope
}

func TestOpenAt(t *testing.T) {
	r := scope.NewRegistry()
	mustAdd(t, r, scope.Scoped, newA)
	mustAdd(t, r, scope.Scoped, newB)
	compile(t, r)
	type ctxKey struct{}
	ctx := context.WithValue(context.Background(), ctxKey{}, "v")

	pr := &perRequest{id: 1}
	r.OpenAt(&pr.scope, ctx)
	s := &pr.scope
	if s.Context() != ctx {
		t.Error("OpenAt did not keep the context")
	}
	a1, err := scope.Get[*A](s)
	if err != nil {
		t.Fatal(err)
	}
	if a := mustGet[*A](t, s); a != a1 {
		t.Error("scoped instance differs within an OpenAt scope")
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := scope.Get[*A](s); !errors.Is(err, scope.ErrReleased) {
		t.Errorf("Get after Release = %v, want ErrReleased", err)
	}

	// A released scope must not be opened again: whoever kept it would see
	// the new scope's instances.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("OpenAt on a released Scope did not panic")
			}
		}()
		r.OpenAt(s, context.Background())
	}()
	if _, err := scope.Get[*A](s); !errors.Is(err, scope.ErrReleased) {
		t.Errorf("Get after a refused OpenAt = %v, want ErrReleased", err)
	}

	// Nor may an open one.
	s2 := r.Open(context.Background())
	defer s2.Release()
	a2 := mustGet[*A](t, s2)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("OpenAt on an open Scope did not panic")
			}
		}()
		r.OpenAt(s2, context.Background())
	}()
	if a, err := scope.Get[*A](s2); err != nil || a != a2 {
		t.Errorf("open scope changed by a refused OpenAt: %p, %v (had %p)", a, err, a2)
	}
}

func TestOpenAtNotCompiled(t *testing.T) {
	var s scope.Scope
	scope.NewRegistry().OpenAt(&s, context.Background())
	if _, err := scope.Get[*A](&s); !errors.Is(err, scope.ErrNotCompiled) {
		t.Errorf("Get = %v, want ErrNotCompiled", err)
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
}

// A scope may be ended before it is opened (a request settled before it
// resolved anything): opened later, it keeps that outcome and builds no
// Finisher, while other types still resolve.
func TestOpenAtAfterEnd(t *testing.T) {
	var log []string
	var gotCtx context.Context
	r := finishRegistry(t, &log, &gotCtx, nil)
	var s scope.Scope
	if err := s.End(true); err != nil {
		t.Fatal(err)
	}
	r.OpenAt(&s, context.Background())
	if _, err := scope.Get[*B](&s); err != nil {
		t.Errorf("Get *B after End: %v", err)
	}
	if _, err := scope.Get[*fin1](&s); !errors.Is(err, scope.ErrEnded) {
		t.Errorf("Get of a Finisher after End = %v, want ErrEnded", err)
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	if len(log) != 0 {
		t.Errorf("finished %v", log)
	}
}

// A scope released before it was opened cannot be opened: whoever held it
// would see a live scope again.
func TestOpenAtAfterReleasePanics(t *testing.T) {
	r := scope.NewRegistry()
	compile(t, r)
	var s scope.Scope
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("OpenAt on a released Scope did not panic")
		}
	}()
	r.OpenAt(&s, context.Background())
}
