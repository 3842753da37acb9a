package fxmodules

import (
	"reflect"
	"strings"
)

// InternalNode reports whether id, a node of the graph Fx draws
// (fx.DotGraph: a type as reflect prints it, with dig's "[name=…]" or
// "[group=…]" when it has one), is a value FastTrack gives Fx for its own
// plumbing and no application takes: the markers that Scoped and Transient
// add for each type their constructors take. A tool drawing the
// application's graph leaves these out.
func InternalNode(id string) bool {
	w := reflect.TypeFor[*witness]().String()
	return id == w || strings.HasPrefix(id, w+"[")
}

// ScopeOwned reports whether t is one of the types the request scope itself
// provides: context.Context (the scope's), *db.Tx and db.Querier. Fx holds
// *db.Tx and db.Querier only as guards that fail a singleton taking them (a
// captive dependency), so code that asks Fx for a function's singletons must
// leave these types out and resolve them from the scope.
func ScopeOwned(t reflect.Type) bool { return frameworkScoped(t) }
