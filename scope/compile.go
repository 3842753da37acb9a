package scope

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// argKind says where a compiled parameter comes from.
type argKind uint8

const (
	argContext   argKind = iota // the scope's context
	argNode                     // a provider of the registry
	argSingleton                // a singleton given to Compile
)

// arg is one compiled parameter.
type arg struct {
	kind argKind
	node int32         // argNode: index in compiled.nodes
	val  any           // argSingleton: the singleton
	rv   reflect.Value // argSingleton: the singleton as the parameter type; argNode: zero of the parameter type
}

// caps says what End and Release do with an instance.
type caps uint8

const (
	capFinish   caps = 1 << iota // implements Finisher
	capCloseErr                  // has Close() error
	capClose                     // has Close()
	capDynamic                   // interface type: look at the dynamic type
	capIdle                      // implements Idler
)

// node is one compiled provider.
type node struct {
	p    *Provider
	slot int32 // index in state.slots; -1 for transient
	caps caps
	args []arg
}

// compiled is the read-only result of Compile.
type compiled struct {
	nodes      []node
	index      map[reflect.Type]int32
	singletons map[reflect.Type]any
	nslots     int
	stack      int // argument buffer size needed by the deepest resolution
	pool       sync.Pool
}

// Compile binds every provider's parameters once. A parameter is bound to
// the scope's context if its type is context.Context, else to the provider of
// its type in r, else to singletons[type]. Compile reports, joined with
// errors.Join, every parameter it cannot bind (naming the constructor, the
// type and the parameter's position, counted from 1), every dependency
// cycle among providers, every type both provided by r and present in
// singletons and every singleton not assignable to its key.
//
// Compile is called once, before the registry is used. After a successful
// Compile, Add and Compile fail and the registry is read-only and safe for
// concurrent use. After a failed Compile the registry stays uncompiled.
func (r *Registry) Compile(singletons map[reflect.Type]any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c.Load() != nil {
		return errors.New("scope: Compile called twice")
	}
	c := &compiled{
		nodes:      make([]node, len(r.providers)),
		index:      make(map[reflect.Type]int32, len(r.providers)),
		singletons: maps.Clone(singletons),
	}
	if c.singletons == nil {
		c.singletons = map[reflect.Type]any{}
	}
	for i, p := range r.providers {
		nd := &c.nodes[i]
		nd.p = p
		nd.slot = -1
		nd.caps = capsOf(p.out)
		if p.lifetime == Scoped {
			nd.slot = int32(c.nslots)
			c.nslots++
		}
		c.index[p.out] = int32(i)
	}

	var errs []error
	if _, ok := c.singletons[nil]; ok {
		errs = append(errs, errors.New("scope: singleton with nil type"))
		delete(c.singletons, nil)
	}
	// Sorted for deterministic errors.
	for _, t := range slices.SortedFunc(maps.Keys(c.singletons), func(a, b reflect.Type) int { return strings.Compare(a.String(), b.String()) }) {
		v := c.singletons[t]
		if i, ok := c.index[t]; ok {
			errs = append(errs, fmt.Errorf("scope: %s is both a singleton and provided by %s", t, c.nodes[i].p.name))
		}
		if v != nil && !reflect.TypeOf(v).AssignableTo(t) {
			errs = append(errs, fmt.Errorf("scope: singleton for %s has type %T", t, v))
		}
	}
	for i := range c.nodes {
		nd := &c.nodes[i]
		nd.args = make([]arg, len(nd.p.params))
		for j, t := range nd.p.params {
			a, ok := c.arg(t)
			if !ok {
				errs = append(errs, fmt.Errorf("scope: %s: missing dependency %s (parameter %d): not scoped, transient, singleton or context.Context", nd.p.name, t, j+1))
				continue
			}
			nd.args[j] = a
		}
	}
	cycles := c.cycles()
	errs = append(errs, cycles...)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	need := make([]int, len(c.nodes))
	for i := range c.nodes {
		c.stack = max(c.stack, c.need(int32(i), need))
	}
	c.pool.New = func() any {
		return &state{
			slots: make([]slot, c.nslots),
			order: make([]entry, 0, c.nslots),
			vals:  make([]reflect.Value, c.stack),
			anys:  make([]any, c.stack),
		}
	}
	r.c.Store(c)
	return nil
}

// arg binds a parameter or plan entry of type t.
func (c *compiled) arg(t reflect.Type) (arg, bool) {
	if t == nil {
		return arg{}, false
	}
	if t == reflect.TypeFor[context.Context]() {
		return arg{kind: argContext}, true
	}
	if i, ok := c.index[t]; ok {
		return arg{kind: argNode, node: i, rv: reflect.Zero(t)}, true
	}
	if v, ok := c.singletons[t]; ok {
		rv := reflect.New(t).Elem()
		if v != nil && reflect.TypeOf(v).AssignableTo(t) {
			rv.Set(reflect.ValueOf(v))
		}
		return arg{kind: argSingleton, val: v, rv: rv}, true
	}
	return arg{}, false
}

// cycles returns one error per dependency cycle found by a depth-first
// search of the provider graph.
func (c *compiled) cycles() []error {
	const (
		white = iota
		grey
		black
	)
	var errs []error
	color := make([]uint8, len(c.nodes))
	var stack []int32
	var visit func(i int32)
	visit = func(i int32) {
		color[i] = grey
		stack = append(stack, i)
		for _, a := range c.nodes[i].args {
			if a.kind != argNode {
				continue
			}
			switch color[a.node] {
			case white:
				visit(a.node)
			case grey:
				k := len(stack) - 1
				for stack[k] != a.node {
					k--
				}
				var b strings.Builder
				b.WriteString("scope: dependency cycle: ")
				for _, n := range stack[k:] {
					p := c.nodes[n].p
					fmt.Fprintf(&b, "%s [%s] -> ", p.out, p.name)
				}
				p := c.nodes[a.node].p
				fmt.Fprintf(&b, "%s [%s]", p.out, p.name)
				errs = append(errs, errors.New(b.String()))
			}
		}
		stack = stack[:len(stack)-1]
		color[i] = black
	}
	for i := range c.nodes {
		if color[i] == white {
			visit(int32(i))
		}
	}
	return errs
}

// need returns the argument buffer size needed to build node i: its own
// arguments plus the largest need of its dependencies. The graph is acyclic.
func (c *compiled) need(i int32, memo []int) int {
	if memo[i] > 0 {
		return memo[i] - 1
	}
	deps := 0
	for _, a := range c.nodes[i].args {
		if a.kind == argNode {
			deps = max(deps, c.need(a.node, memo))
		}
	}
	n := len(c.nodes[i].args) + deps
	memo[i] = n + 1
	return n
}

// capsOf returns the capabilities of type t.
func capsOf(t reflect.Type) caps {
	if t.Kind() == reflect.Interface {
		return capDynamic
	}
	var c caps
	if t.Implements(reflect.TypeFor[Finisher]()) {
		c |= capFinish
	}
	if t.Implements(reflect.TypeFor[Idler]()) {
		c |= capIdle
	}
	if t.Implements(reflect.TypeFor[interface{ Close() error }]()) {
		c |= capCloseErr
	} else if t.Implements(reflect.TypeFor[interface{ Close() }]()) {
		c |= capClose
	}
	return c
}

// dynCaps returns the capabilities of the dynamic type of v.
func dynCaps(v any) caps {
	var c caps
	if _, ok := v.(Finisher); ok {
		c |= capFinish
	}
	if _, ok := v.(Idler); ok {
		c |= capIdle
	}
	switch v.(type) {
	case interface{ Close() error }:
		c |= capCloseErr
	case interface{ Close() }:
		c |= capClose
	}
	return c
}
