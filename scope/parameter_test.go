package scope_test

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/scope"
)

type (
	paramA struct{}
	paramB struct{}
	paramC struct{}
)

func newOnlyMissing(*paramA) *paramC                                    { return &paramC{} }
func newSecondMissing(context.Context, *paramA) *paramC                 { return &paramC{} }
func newThirdMissing(context.Context, *paramB, *paramA) *paramC         { return &paramC{} }
func newFirstAndThirdMissing(*paramA, context.Context, *paramA) *paramC { return &paramC{} }

// TestMissingDependencyCountsParametersFromOne checks the exact message of a
// parameter Compile cannot bind: its position counts from 1, as a reader
// counts a constructor's parameters.
func TestMissingDependencyCountsParametersFromOne(t *testing.T) {
	singletons := map[reflect.Type]any{reflect.TypeFor[*paramB](): &paramB{}}
	for _, tc := range []struct {
		name      string
		ctor      any
		positions []int
	}{
		{"the only parameter", newOnlyMissing, []int{1}},
		{"the second, after the context", newSecondMissing, []int{2}},
		{"the third, after a singleton", newThirdMissing, []int{3}},
		{"the first and the third", newFirstAndThirdMissing, []int{1, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := scope.NewRegistry()
			p := mustAdd(t, r, scope.Scoped, tc.ctor)
			err := r.Compile(singletons)
			if err == nil {
				t.Fatal("Compile succeeded")
			}
			var want []string
			for _, n := range tc.positions {
				want = append(want, "scope: "+p.Name()+": missing dependency *scope_test.paramA (parameter "+
					strconv.Itoa(n)+"): not scoped, transient, singleton or context.Context")
			}
			if got := err.Error(); got != strings.Join(want, "\n") {
				t.Errorf("Compile error\n%s\nwant\n%s", got, strings.Join(want, "\n"))
			}
		})
	}
}

// TestNilParameterTypeCountsFromOne checks the position Add names for a
// function provider's nil parameter type.
func TestNilParameterTypeCountsFromOne(t *testing.T) {
	build := func(context.Context, []any) (any, func() error, error) { return &paramC{}, nil, nil }
	for _, tc := range []struct {
		name   string
		params []reflect.Type
		want   string
	}{
		{"first", []reflect.Type{nil}, "scope: nilParam: nil type for parameter 1"},
		{"second", []reflect.Type{reflect.TypeFor[*paramA](), nil}, "scope: nilParam: nil type for parameter 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := scope.NewFuncProvider(scope.Scoped, reflect.TypeFor[*paramC](), tc.params, "nilParam", build)
			err := scope.NewRegistry().Add(p)
			if err == nil || err.Error() != tc.want {
				t.Errorf("Add: %v, want %q", err, tc.want)
			}
		})
	}
}
