package repo

import (
	"reflect"
	"slices"
	"testing"
)

// TestShapeKeyKnowsEveryPnodeField guards the statement cache of Query
// (shapeOf): a predicate node field that changes the rendered text must be
// part of the shape key, or two shapes would share a text. When this test
// fails, a field was added to pnode: encode it in shapeOf (or make shapeOf
// refuse to cache the nodes that use it), then add it to the list.
func TestShapeKeyKnowsEveryPnodeField(t *testing.T) {
	var got []string
	typ := reflect.TypeFor[pnode]()
	for i := range typ.NumField() {
		got = append(got, typ.Field(i).Name)
	}
	// vals (values, and for pIn their kind), sub (never cached) and err
	// (never rendered) are not in the text's shape the way the others are.
	known := []string{"kind", "col", "op", "neg", "ci", "agg", "vals", "kids", "sub", "err"}
	slices.Sort(got)
	slices.Sort(known)
	if !slices.Equal(got, known) {
		t.Fatalf("pnode has fields %q; shapeOf knows %q", got, known)
	}
}
