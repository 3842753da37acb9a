package scope

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
)

// Registry holds the scoped and transient providers of an application.
// Providers are added before [Registry.Compile]; after it the registry is
// read-only and safe for concurrent use.
type Registry struct {
	mu        sync.Mutex
	providers []*Provider
	byType    map[reflect.Type]*Provider
	c         atomic.Pointer[compiled] // set by a successful Compile
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{byType: make(map[reflect.Type]*Provider)}
}

// Add registers p. It returns an error if p is invalid, if another provider
// of p's type is registered (the error names both) or if the registry is
// compiled.
func (r *Registry) Add(p *Provider) error {
	if err := p.validate(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c.Load() != nil {
		return fmt.Errorf("scope: %s: Add after Compile", p.name)
	}
	if q, ok := r.byType[p.out]; ok {
		return fmt.Errorf("scope: %s provided twice: by %s and by %s", p.out, q.name, p.name)
	}
	r.byType[p.out] = p
	r.providers = append(r.providers, p)
	return nil
}

// Provides reports whether t is a scoped or transient type of r.
func (r *Registry) Provides(t reflect.Type) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.byType[t]
	return ok
}

// Providers returns the registered providers in registration order.
func (r *Registry) Providers() []*Provider {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.providers)
}

// Plan is a precompiled list of types resolved together by
// [Scope.ResolvePlan], for example the parameters of a handler. A Plan is
// built once, by [Registry.Plan], and is safe for concurrent use.
type Plan struct {
	c     *compiled
	types []reflect.Type
	args  []arg
}

// Types returns the types of p, in order.
func (p *Plan) Types() []reflect.Type { return slices.Clone(p.types) }

// Len returns the number of types of p.
func (p *Plan) Len() int { return len(p.types) }

// Plan returns a plan resolving types, in order. It must be called after
// Compile. Each type must be context.Context, a scoped or transient type of r
// or a singleton given to Compile; the error names every other type.
func (r *Registry) Plan(types ...reflect.Type) (*Plan, error) {
	c := r.c.Load()
	if c == nil {
		return nil, ErrNotCompiled
	}
	p := &Plan{c: c, types: slices.Clone(types), args: make([]arg, len(types))}
	var errs []error
	for i, t := range types {
		a, ok := c.arg(t)
		if !ok {
			errs = append(errs, fmt.Errorf("scope: plan: unknown type %v (not scoped, transient, singleton or context.Context)", t))
			continue
		}
		p.args[i] = a
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// Open opens a scope with context ctx. If r is not compiled, every
// resolution from the scope returns [ErrNotCompiled].
func (r *Registry) Open(ctx context.Context) *Scope {
	s := new(Scope)
	r.attach(s, ctx)
	return s
}

// OpenAt opens a scope with context ctx in s, like Open, for a caller that
// allocates the scope inside its own per-request state, and may open it
// only when something first needs it. s must be a Scope never opened nor
// released: OpenAt panics otherwise. End may already have been called on
// it, and then holds: the scope builds no Finisher. Like any Scope, s must
// not be copied, and must not be reused after Release: a released scope
// keeps answering [ErrReleased] to whoever still holds it. OpenAt is safe
// to call while another goroutine ends s, but two OpenAt calls on one s
// must be serialized by the caller (the second panics).
func (r *Registry) OpenAt(s *Scope, ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opened || s.released {
		panic("scope: OpenAt on a Scope that was already opened or released")
	}
	r.attach(s, ctx)
}

// attach opens s, which nobody else holds yet or whose mutex is held: it
// gets ctx and, if r is compiled, a pooled state.
func (r *Registry) attach(s *Scope, ctx context.Context) {
	s.opened, s.ctx = true, ctx
	if c := r.c.Load(); c != nil {
		s.c, s.st = c, c.pool.Get().(*state)
	}
}
