package repo

import (
	"reflect"
	"slices"
	"testing"
)

// TestShapeKeyKnowsEveryPnodeField guards the statement cache of Query
// (shapeOf): a predicate node field that changes the rendered text must be
// part of the shape key, or two shapes would share a text. When this test
// fails, a field was added to pnode or to pext (the part of a node few
// nodes have): encode it in shapeOf (or make shapeOf refuse to cache the
// nodes that use it), then add it to the list.
func TestShapeKeyKnowsEveryPnodeField(t *testing.T) {
	fields := func(typ reflect.Type) []string {
		var got []string
		for i := range typ.NumField() {
			got = append(got, typ.Field(i).Name)
		}
		slices.Sort(got)
		return got
	}
	for _, tc := range []struct {
		typ   reflect.Type
		known []string
	}{
		// v (a value, and for pIn the kind of its values) is not in the
		// text's shape the way the others are; x holds the pext fields
		// below.
		{reflect.TypeFor[pnode](), []string{"agg", "col", "flags", "kind", "op", "v", "x"}},
		// kids is walked; hi (a value), sub (never cached: shapeOf refuses
		// pExists and pInSub) and err (never rendered) are not in the key.
		{reflect.TypeFor[pext](), []string{"err", "hi", "kids", "sub"}},
	} {
		if got := fields(tc.typ); !slices.Equal(got, tc.known) {
			t.Errorf("%s has fields %q; shapeOf knows %q", tc.typ, got, tc.known)
		}
	}
}
