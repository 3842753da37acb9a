package scope_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/fasttrack-go/fasttrack/scope"
)

// work is a Finisher that may fail its commit.
type work struct{ failCommit bool }

func (w *work) Finish(_ context.Context, commit bool) error {
	if commit && w.failCommit {
		return errors.New("commit refused")
	}
	return nil
}

// idle is a Finisher and Idler that held work when pending is set.
type idle struct{ pending bool }

func (i *idle) Finish(context.Context, bool) error { return nil }
func (i *idle) Idle() bool                         { return !i.pending }

// Scope.Discarded tells whether End rolled back work: a Finisher told to
// roll back, unless it says (Idler) that it held nothing, or one whose
// commit failed; and it keeps its answer after Release.
func TestDiscarded(t *testing.T) {
	for _, tc := range []struct {
		name      string
		work      *work // nil: not built
		idle      *idle // nil: not built
		commit    bool
		release   bool // Release without End
		discarded bool
	}{
		{name: "nothing built, rollback", commit: false},
		{name: "Finisher, commit", work: &work{}, commit: true},
		{name: "Finisher, rollback", work: &work{}, commit: false, discarded: true},
		{name: "Finisher, release without End", work: &work{}, release: true, discarded: true},
		{name: "Finisher, failed commit", work: &work{failCommit: true}, commit: true, discarded: true},
		{name: "idle Idler, rollback", idle: &idle{}, commit: false},
		{name: "busy Idler, rollback", idle: &idle{pending: true}, commit: false, discarded: true},
		{name: "busy Idler after a failed commit", work: &work{failCommit: true}, idle: &idle{pending: true}, commit: true, discarded: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := scope.NewRegistry()
			if tc.idle != nil {
				i := tc.idle
				if err := reg.Add(scope.NewFuncProvider(scope.Scoped, reflect.TypeFor[*idle](), nil, "idle",
					func(context.Context, []any) (any, func() error, error) { return i, nil, nil })); err != nil {
					t.Fatal(err)
				}
			}
			if tc.work != nil {
				w := tc.work
				if err := reg.Add(scope.NewFuncProvider(scope.Scoped, reflect.TypeFor[*work](), nil, "work",
					func(context.Context, []any) (any, func() error, error) { return w, nil, nil })); err != nil {
					t.Fatal(err)
				}
			}
			if err := reg.Compile(map[reflect.Type]any{}); err != nil {
				t.Fatal(err)
			}
			sc := reg.Open(context.Background())
			// Built in this order, finished newest first: work before idle.
			if tc.idle != nil {
				if _, err := scope.Get[*idle](sc); err != nil {
					t.Fatal(err)
				}
			}
			if tc.work != nil {
				if _, err := scope.Get[*work](sc); err != nil {
					t.Fatal(err)
				}
			}
			if !tc.release {
				err := sc.End(tc.commit)
				if wantErr := tc.work != nil && tc.work.failCommit; (err != nil) != wantErr {
					t.Fatalf("End = %v", err)
				}
			}
			_ = sc.Release()
			if got := sc.Discarded(); got != tc.discarded {
				t.Fatalf("Discarded() = %v, want %v", got, tc.discarded)
			}
		})
	}
}
