package scope_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/scope"
)

// txn records how it was finished and released.
type txn struct {
	ctx context.Context
	log *[]string
	err error // returned by Finish
}

func (t *txn) Finish(ctx context.Context, commit bool) error {
	if commit {
		*t.log = append(*t.log, "commit")
	} else {
		*t.log = append(*t.log, "rollback")
	}
	return t.err
}

func (t *txn) Close() error { *t.log = append(*t.log, "close"); return nil }

func runRegistry(t *testing.T, log *[]string, finishErr error) *scope.Registry {
	r := scope.NewRegistry()
	mustAdd(t, r, scope.Scoped, func(ctx context.Context) *txn { return &txn{ctx: ctx, log: log, err: finishErr} })
	compile(t, r)
	return r
}

func TestRun(t *testing.T) {
	fnErr := errors.New("handler failed")
	finErr := errors.New("commit failed")
	tests := []struct {
		name      string
		fnErr     error
		finishErr error
		want      []string
		wantErr   error
	}{
		{"commit", nil, nil, []string{"commit", "close"}, nil},
		{"rollback on error", fnErr, nil, []string{"rollback", "close"}, fnErr},
		{"end error", nil, finErr, []string{"commit", "close"}, finErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log []string
			r := runRegistry(t, &log, tt.finishErr)
			type key struct{}
			ctx := context.WithValue(context.Background(), key{}, 1)
			var scoped *scope.Scope
			err := r.Run(ctx, func(s *scope.Scope) error {
				scoped = s
				tx, err := scope.Get[*txn](s)
				if err != nil {
					return err
				}
				if tx.ctx != ctx {
					t.Error("constructor did not get the scope's context")
				}
				return tt.fnErr
			})
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("Run = %v, want %v", err, tt.wantErr)
			}
			if tt.finishErr != nil && (err == nil || !strings.HasPrefix(err.Error(), "scope: end: ")) {
				t.Errorf("End error not wrapped: %v", err)
			}
			if !slices.Equal(log, tt.want) {
				t.Errorf("log %q, want %q", log, tt.want)
			}
			if scoped == nil {
				t.Fatal("Run did not call fn")
			}
			if _, err := scope.Get[*txn](scoped); !errors.Is(err, scope.ErrReleased) {
				t.Errorf("scope not released: %v", err)
			}
		})
	}
}

func TestRunPanic(t *testing.T) {
	var log []string
	r := runRegistry(t, &log, nil)
	var scoped *scope.Scope
	defer func() {
		if v := recover(); v != "kaboom" {
			t.Errorf("recovered %v, want re-panic of kaboom", v)
		}
		if want := []string{"rollback", "close"}; !slices.Equal(log, want) {
			t.Errorf("log %q, want %q", log, want)
		}
		if scoped == nil {
			t.Error("Run did not call fn")
		} else if _, err := scope.Get[*txn](scoped); !errors.Is(err, scope.ErrReleased) {
			t.Errorf("scope not released: %v", err)
		}
	}()
	r.Run(context.Background(), func(s *scope.Scope) error {
		scoped = s
		if _, err := scope.Get[*txn](s); err != nil {
			t.Fatal(err)
		}
		panic("kaboom")
	})
	t.Error("Run returned after a panic")
}

func TestRunConstructorPanicDoesNotDeadlock(t *testing.T) {
	var log []string
	r := scope.NewRegistry()
	mustAdd(t, r, scope.Scoped, func(ctx context.Context) *txn { return &txn{ctx: ctx, log: &log} })
	mustAdd(t, r, scope.Scoped, func(*txn) *B { panic("ctor") })
	compile(t, r)
	// Run in a goroutine, so that a deadlock fails the test instead of
	// hanging it.
	recovered := make(chan any, 1)
	go func() {
		defer func() { recovered <- recover() }()
		r.Run(context.Background(), func(s *scope.Scope) error {
			_, err := scope.Get[*B](s)
			return err
		})
	}()
	select {
	case v := <-recovered:
		if v != "ctor" {
			t.Errorf("recovered %v, want the constructor's panic", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return or panic within 10 s after a constructor panicked")
	}
	if want := []string{"rollback", "close"}; !slices.Equal(log, want) {
		t.Errorf("log %q, want %q", log, want)
	}
}
