package fxmodules

import (
	"fmt"
	"reflect"

	"go.uber.org/fx"
)

// Lookup returns an fx.Option that, when the app is built, asks Fx for the
// R of the graph and for a value of each of types, and hands them to got:
// values[i] is what Fx built for types[i], and present[i] whether Fx can
// build that type at all. Fx keeps its container to itself, so this is how
// code that learns its types before the app starts (a scoped constructor,
// a command) gets the singletons among them.
//
// Each type is asked as an optional parameter, which is the zero value both
// when Fx lacks the type and when Fx provides a zero value; so each type
// also gets a witness: a private, generated provider that takes the type
// and returns a marker, which exists only when Fx can build the type.
func Lookup[R any](types []reflect.Type, got func(r R, values []any, present []bool)) fx.Option {
	markerType := reflect.TypeFor[*witness]()
	fields := []reflect.StructField{
		{Name: "In", Type: reflect.TypeFor[fx.In](), Anonymous: true},
		{Name: "R", Type: reflect.TypeFor[R]()},
	}
	witnesses := make([]any, 0, len(types)+1)
	for i, t := range types {
		name := fmt.Sprintf("fasttrack.witness.%d", i)
		fields = append(fields,
			reflect.StructField{Name: fmt.Sprintf("V%d", i), Type: t, Tag: `optional:"true"`},
			reflect.StructField{Name: fmt.Sprintf("W%d", i), Type: markerType, Tag: reflect.StructTag(`optional:"true" name:"` + name + `"`)},
		)
		w := reflect.MakeFunc(reflect.FuncOf([]reflect.Type{t}, []reflect.Type{markerType}, false),
			func([]reflect.Value) []reflect.Value { return []reflect.Value{reflect.ValueOf(&witness{})} })
		witnesses = append(witnesses, fx.Annotate(w.Interface(), fx.ResultTags(`name:"`+name+`"`)))
	}
	in := reflect.StructOf(fields)
	fn := reflect.MakeFunc(reflect.FuncOf([]reflect.Type{in}, nil, false), func(args []reflect.Value) []reflect.Value {
		arg := args[0]
		values, present := make([]any, len(types)), make([]bool, len(types))
		for i := range types {
			if present[i] = !arg.Field(3 + 2*i).IsNil(); present[i] {
				values[i] = arg.Field(2 + 2*i).Interface()
			}
		}
		got(arg.Field(1).Interface().(R), values, present)
		return nil
	})
	return fx.Module("fasttrack.lookup",
		fx.Provide(append(witnesses, fx.Private)...),
		fx.Invoke(fn.Interface()),
	)
}

// witness marks a type that Fx can build; see Lookup.
type witness struct{}
