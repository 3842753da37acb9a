package scope

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
)

// ErrReleased is returned by a Scope used after [Scope.Release].
var ErrReleased = errors.New("scope: used after release")

// ErrEnded is returned when, after [Scope.End], a scope would have to build
// an instance that must learn the scope's outcome (a [Finisher], such as a
// transaction): that outcome is already decided, so its work would be lost.
var ErrEnded = errors.New("scope: ended: the unit of work is already committed or rolled back")

// ErrNotCompiled is returned when a registry is used before a successful
// [Registry.Compile].
var ErrNotCompiled = errors.New("scope: registry not compiled")

// Finisher is implemented by scoped (or transient) instances that must learn
// the outcome of their scope before it is released, for example a database
// transaction that commits or rolls back.
type Finisher interface {
	// Finish is called once by Scope.End with the scope's context. commit
	// reports whether the work succeeded.
	Finish(ctx context.Context, commit bool) error
}

// Idler may be implemented by a [Finisher] to tell, once finished, that it
// held no work: a transaction that never began commits or rolls back
// nothing. A Finisher without it is taken to have held work. See
// [Scope.Discarded].
type Idler interface {
	// Idle reports, after Finish, that Finish had nothing to commit or
	// roll back.
	Idle() bool
}

// Scope holds the scoped instances of one request or job. Its methods are
// safe for concurrent use. A constructor must not resolve from its own scope.
type Scope struct {
	mu       sync.Mutex
	opened   bool
	ended    bool
	released bool
	// discarded is set when End rolled back a Finisher that held work.
	discarded bool
	ctx       context.Context
	c         *compiled // nil if the registry was not compiled
	st        *state    // nil after Release or if not compiled
}

// state is the pooled part of a scope.
type state struct {
	slots []slot          // one per scoped provider
	order []entry         // instances to finish or release, in creation order
	vals  []reflect.Value // argument buffer for reflect-called constructors
	anys  []any           // argument buffer for NewFuncProvider builds
	// calling is set while a constructor runs with arguments in vals or
	// anys; a constructor that panics leaves it set, and reset clears them.
	calling bool
}

// slot holds a scoped instance.
type slot struct {
	v  any
	rv reflect.Value // v as the provided type, if built by reflection
	ok bool
	// cell, for a provider of an interface type, points at storage of
	// that type, kept with the pooled state so that no request allocates
	// one (see NewTypedProvider).
	cell reflect.Value
}

// entry is an instance to finish or release.
type entry struct {
	v    any
	rel  func() error
	rel0 func()
	node int32
	caps caps // capabilities of v's dynamic type
}

// reset clears s before it goes back to the pool.
func (s *state) reset() {
	for i := range s.slots {
		sl := &s.slots[i]
		if !sl.ok {
			continue // never built: nothing to drop
		}
		if sl.cell.IsValid() {
			sl.cell.Elem().SetZero()
		}
		sl.v, sl.rv, sl.ok = nil, reflect.Value{}, false
	}
	if s.calling {
		// A constructor panicked and left its arguments behind.
		clear(s.vals)
		clear(s.anys)
		s.calling = false
	}
	clear(s.order)
	s.order = s.order[:0]
	if cap(s.order) > 1024 {
		s.order = nil
	}
}

// Context returns the scope's context, or nil after Release.
func (s *Scope) Context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctx
}

// dead returns the error of a scope without state.
func (s *Scope) dead() error {
	if s.released {
		return ErrReleased
	}
	return ErrNotCompiled
}

// Resolve returns the instance of type t: for a scoped type, the one built
// on first use in s; for a transient type, a new one; for context.Context,
// the scope's context; for a singleton given to Compile, the singleton.
// A constructor error is wrapped and names the constructor; nothing is cached
// for the failed type and s stays usable. Resolve returns [ErrReleased] after
// Release and an error naming t if t is unknown.
func (s *Scope) Resolve(t reflect.Type) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == nil {
		return nil, s.dead()
	}
	if i, ok := s.c.index[t]; ok {
		v, _, err := s.build(i, 0)
		return v, err
	}
	if t == reflect.TypeFor[context.Context]() {
		return s.ctx, nil
	}
	if v, ok := s.c.singletons[t]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("scope: unknown type %v (not scoped, transient, singleton or context.Context)", t)
}

// Get resolves the instance of type T from s, like [Scope.Resolve].
func Get[T any](s *Scope) (T, error) {
	var zero T
	v, err := s.Resolve(reflect.TypeFor[T]())
	if err != nil || v == nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("scope: resolved %T, not %s", v, reflect.TypeFor[T]())
	}
	return t, nil
}

// ResolvePlan resolves the types of p from s into dst[i], in order. dst must
// have at least p.Len() elements. On error, dst may be partly filled.
// ResolvePlan allocates nothing beyond what the constructors allocate.
func (s *Scope) ResolvePlan(p *Plan, dst []any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == nil {
		return s.dead()
	}
	if p.c != s.c {
		return errors.New("scope: plan of another registry")
	}
	if len(dst) < len(p.args) {
		return fmt.Errorf("scope: ResolvePlan: len(dst) = %d, need %d", len(dst), len(p.args))
	}
	for k := range p.args {
		a := &p.args[k]
		switch a.kind {
		case argContext:
			dst[k] = s.ctx
		case argSingleton:
			dst[k] = a.val
		default:
			v, _, err := s.build(a.node, 0)
			if err != nil {
				return err
			}
			dst[k] = v
		}
	}
	return nil
}

// build returns the instance of node i, building it if needed. Arguments are
// placed in the state's buffers from index base. s.mu is held.
func (s *Scope) build(i int32, base int) (any, reflect.Value, error) {
	st := s.st
	nd := &s.c.nodes[i]
	if nd.slot >= 0 {
		if sl := &st.slots[nd.slot]; sl.ok {
			return sl.v, sl.rv, nil
		}
	}
	if s.ended && nd.caps&capFinish != 0 {
		return nil, reflect.Value{}, fmt.Errorf("%w: cannot build %s", ErrEnded, nd.p.out)
	}
	p := nd.p
	n := len(nd.args)
	var (
		v    any
		rv   reflect.Value
		rel  func() error
		rel0 func()
		err  error
	)
	if p.shape == shapeFunc {
		args := st.anys[base : base+n : base+n]
		for k := range nd.args {
			a := &nd.args[k]
			switch a.kind {
			case argContext:
				args[k] = s.ctx
			case argSingleton:
				args[k] = a.val
			default:
				dv, _, err := s.build(a.node, base+n)
				if err != nil {
					clear(args[:k])
					return nil, rv, err
				}
				args[k] = dv
			}
		}
		st.calling = true
		switch {
		case p.cellBuild != nil && nd.slot >= 0:
			sl := &st.slots[nd.slot]
			if !sl.cell.IsValid() {
				sl.cell = reflect.New(p.out)
			}
			v, rv, rel, err = p.cellBuild(s.ctx, args, sl.cell)
		case p.typed != nil:
			v, rv, rel, err = p.typed(s.ctx, args)
		default:
			v, rel, err = p.build(s.ctx, args)
		}
		clear(args)
		st.calling = false
		if err != nil {
			return nil, rv, fmt.Errorf("scope: %s: %w", p.name, err)
		}
		if v != nil && p.typed == nil {
			if vt := reflect.TypeOf(v); vt != p.out && (p.out.Kind() != reflect.Interface || !vt.Implements(p.out)) {
				if rel != nil {
					_ = rel()
				}
				return nil, rv, fmt.Errorf("scope: %s: built %T, not %s", p.name, v, p.out)
			}
		}
	} else {
		args := st.vals[base : base+n : base+n]
		for k := range nd.args {
			a := &nd.args[k]
			switch a.kind {
			case argContext:
				// Points at s.ctx: no conversion to context.Context by Call.
				args[k] = reflect.ValueOf(&s.ctx).Elem()
			case argSingleton:
				args[k] = a.rv
			default:
				dv, drv, err := s.build(a.node, base+n)
				if err != nil {
					clear(args[:k])
					return nil, rv, err
				}
				switch {
				case drv.IsValid():
				case dv == nil:
					drv = a.rv
				default:
					drv = reflect.ValueOf(dv)
				}
				args[k] = drv
			}
		}
		st.calling = true
		out := p.fn.Call(args)
		clear(args)
		st.calling = false
		switch p.shape {
		case shapeTErr:
			if e := out[1]; !e.IsNil() {
				return nil, rv, fmt.Errorf("scope: %s: %w", p.name, e.Interface().(error))
			}
		case shapeTRelErr:
			if e := out[2]; !e.IsNil() {
				return nil, rv, fmt.Errorf("scope: %s: %w", p.name, e.Interface().(error))
			}
			if f := out[1]; !f.IsNil() {
				rel0 = f.Interface().(func())
			}
		}
		rv = out[0]
		v = rv.Interface()
	}
	if nd.slot >= 0 {
		sl := &st.slots[nd.slot]
		sl.v, sl.rv, sl.ok = v, rv, true
	}
	if p.view {
		return v, rv, nil
	}
	cp := nd.caps
	if cp == capDynamic {
		cp = dynCaps(v)
	}
	if cp != 0 || rel != nil || rel0 != nil {
		st.order = append(st.order, entry{})
		e := &st.order[len(st.order)-1]
		e.v, e.rel, e.rel0, e.node, e.caps = v, rel, rel0, i, cp
	}
	return v, rv, nil
}

// End calls Finish(ctx, commit) on every instance built so far in s that
// implements [Finisher], in reverse order of creation, with the scope's
// context. If a Finish fails while commit is true, the remaining instances
// get commit = false. End returns the errors joined. A second End is a no-op
// returning nil. End returns [ErrReleased] after Release. A Finish method
// must not use s.
func (s *Scope) End(commit bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.released {
		return ErrReleased
	}
	if s.ended {
		return nil
	}
	s.ended = true
	if s.st == nil {
		return nil
	}
	errs, discarded := s.c.finish(s.ctx, s.st, commit, nil)
	s.discarded = discarded
	return errors.Join(errs...)
}

// Discarded reports whether [Scope.End] rolled back work: it told a
// [Finisher] that held work (see [Idler]) to roll back, because End was
// called with commit false or because an earlier Finish failed. A unit of
// work whose Discarded is true must not report success to its caller.
// Discarded keeps its answer after Release.
func (s *Scope) Discarded() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.discarded
}

// Release releases every instance built in s, in reverse order of creation,
// exactly once: with the release func returned by its constructor, else its
// Close() error method, else its Close() method. It calls End(false) first if
// End was not called. It returns the errors joined; a second Release returns
// nil. After Release, s holds no reference to any instance or to its
// context, and Resolve, ResolvePlan and End return [ErrReleased].
func (s *Scope) Release() error {
	s.mu.Lock()
	if s.released {
		s.mu.Unlock()
		return nil
	}
	st, ctx, ended := s.st, s.ctx, s.ended
	s.released, s.ended = true, true
	s.st, s.ctx = nil, nil
	s.mu.Unlock()
	if st == nil {
		return nil
	}
	c := s.c
	var errs []error
	if !ended {
		var discarded bool
		errs, discarded = c.finish(ctx, st, false, errs)
		if discarded {
			s.mu.Lock()
			s.discarded = true
			s.mu.Unlock()
		}
	}
	for i := len(st.order) - 1; i >= 0; i-- {
		e := &st.order[i]
		var err error
		switch {
		case e.rel != nil:
			err = e.rel()
		case e.rel0 != nil:
			e.rel0()
		case e.caps&capCloseErr != 0:
			err = e.v.(interface{ Close() error }).Close()
		case e.caps&capClose != 0:
			e.v.(interface{ Close() }).Close()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("scope: releasing %s: %w", c.nodes[e.node].p.name, err))
		}
	}
	st.reset()
	c.pool.Put(st)
	return errors.Join(errs...)
}

// finish calls Finish on the Finisher instances of st, newest first, and
// appends the errors to errs. It reports whether it rolled back work: a
// Finisher finished with commit false that was not idle (see Idler), or one
// whose Finish failed.
func (c *compiled) finish(ctx context.Context, st *state, commit bool, errs []error) ([]error, bool) {
	discarded := false
	for i := len(st.order) - 1; i >= 0; i-- {
		e := &st.order[i]
		if e.caps&capFinish == 0 {
			continue
		}
		if err := e.v.(Finisher).Finish(ctx, commit); err != nil {
			errs = append(errs, fmt.Errorf("scope: finishing %s: %w", c.nodes[e.node].p.name, err))
			discarded = true
			commit = false
			continue
		}
		if !commit && !discarded && (e.caps&capIdle == 0 || !e.v.(Idler).Idle()) {
			discarded = true
		}
	}
	return errs, discarded
}
