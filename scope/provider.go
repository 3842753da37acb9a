package scope

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strconv"
)

// Lifetime says how long an instance built by a [Provider] lives.
type Lifetime uint8

const (
	// Scoped instances are built once per Scope, on first use, and released
	// when the scope is released.
	Scoped Lifetime = iota + 1
	// Transient instances are built anew on every resolution. Those with a
	// release func, a Close method or a Finish method are also released when
	// the scope is released.
	Transient
)

// String returns "scoped", "transient" or "Lifetime(N)".
func (l Lifetime) String() string {
	switch l {
	case Scoped:
		return "scoped"
	case Transient:
		return "transient"
	}
	return "Lifetime(" + strconv.Itoa(int(l)) + ")"
}

func (l Lifetime) valid() bool { return l == Scoped || l == Transient }

// shape is the result shape of a constructor.
type shape uint8

const (
	shapeFunc    shape = iota // NewFuncProvider: no reflection
	shapeT                    // func(...) T
	shapeTErr                 // func(...) (T, error)
	shapeTRelErr              // func(...) (T, func(), error)
)

// Provider is one validated constructor of a scoped or transient type.
// A Provider is immutable and may be added to several registries.
type Provider struct {
	lifetime Lifetime
	shape    shape
	out      reflect.Type
	params   []reflect.Type
	name     string
	fn       reflect.Value                                                    // shape != shapeFunc
	build    func(ctx context.Context, args []any) (any, func() error, error) // shape == shapeFunc
	// typed, when set (NewTypedProvider), builds the instance as a
	// reflect.Value of type out, so that neither the scope nor
	// reflect.Value.Call checks at run time that it implements out.
	typed func(ctx context.Context, args []any) (any, reflect.Value, func() error, error)
	// cellBuild is typed for an interface type, storing the instance in
	// cell, a pointer to out kept in the scope's pooled state.
	cellBuild func(ctx context.Context, args []any, cell reflect.Value) (any, reflect.Value, func() error, error)
	// view marks a provider whose instance is its argument seen as another
	// type (NewViewProvider): the argument's own entry finishes and
	// releases it.
	view bool
}

// NewProvider validates ctor and returns a Provider of lifetime l for it.
//
// ctor must be a non-variadic func of any arity returning T, (T, error) or
// (T, func(), error), where T is neither error nor context.Context. The func()
// result, if not nil, is called when the instance is released; it is ignored
// when the error result is not nil. ctor may also be a [Ctor], called
// without reflection. Errors name the constructor.
func NewProvider(l Lifetime, ctor any) (*Provider, error) {
	if ctor == nil {
		return nil, errors.New("scope: nil constructor")
	}
	if c, ok := ctor.(Ctor); ok {
		return c.provider(l)
	}
	fn := reflect.ValueOf(ctor)
	ft := fn.Type()
	if ft.Kind() != reflect.Func {
		return nil, fmt.Errorf("scope: constructor must be a func, got %s", ft)
	}
	if fn.IsNil() {
		return nil, fmt.Errorf("scope: nil constructor of type %s", ft)
	}
	name := funcName(fn)
	if !l.valid() {
		return nil, fmt.Errorf("scope: %s: invalid lifetime %s", name, l)
	}
	if ft.IsVariadic() {
		return nil, fmt.Errorf("scope: %s: variadic constructor %s is not supported", name, ft)
	}
	errT := reflect.TypeFor[error]()
	var sh shape
	switch {
	case ft.NumOut() == 1:
		sh = shapeT
	case ft.NumOut() == 2 && ft.Out(1) == errT:
		sh = shapeTErr
	case ft.NumOut() == 3 && ft.Out(1) == reflect.TypeFor[func()]() && ft.Out(2) == errT:
		sh = shapeTRelErr
	default:
		return nil, fmt.Errorf("scope: %s: constructor %s must return T, (T, error) or (T, func(), error)", name, ft)
	}
	out := ft.Out(0)
	if err := checkOut(out); err != nil {
		return nil, fmt.Errorf("scope: %s: %w", name, err)
	}
	params := make([]reflect.Type, ft.NumIn())
	for i := range params {
		params[i] = ft.In(i)
	}
	return &Provider{lifetime: l, shape: sh, out: out, params: params, name: name, fn: fn}, nil
}

// NewFuncProvider returns a reflection-free Provider of lifetime l for type
// out, meant for framework services. build receives the scope's context and
// the resolved params, in the order of params, and returns the instance, an
// optional release func and an error. build must not retain args. The
// instance must be nil or of type out (implement out, if out is an
// interface). name identifies the provider in errors. The provider is
// validated by [Registry.Add].
func NewFuncProvider(l Lifetime, out reflect.Type, params []reflect.Type, name string, build func(ctx context.Context, args []any) (any, func() error, error)) *Provider {
	return &Provider{lifetime: l, shape: shapeFunc, out: out, params: slices.Clone(params), name: name, build: build}
}

// NewTypedProvider is NewFuncProvider with the provided type fixed at compile
// time: T, which may be an interface. Prefer it for interface types: the
// instance reaches reflect-called constructors already of type T, without
// the run-time interface check a conversion would cost.
func NewTypedProvider[T any](l Lifetime, params []reflect.Type, name string, build func(ctx context.Context, args []any) (T, func() error, error)) *Provider {
	out := reflect.TypeFor[T]()
	p := NewFuncProvider(l, out, params, name, func(ctx context.Context, args []any) (any, func() error, error) {
		return build(ctx, args)
	})
	if out.Kind() == reflect.Interface {
		p.typed = func(ctx context.Context, args []any) (any, reflect.Value, func() error, error) {
			v, rel, err := build(ctx, args)
			if err != nil || any(v) == nil {
				return nil, reflect.Zero(out), rel, err
			}
			return v, interfaceValue(v), rel, nil
		}
		p.cellBuild = func(ctx context.Context, args []any, cell reflect.Value) (any, reflect.Value, func() error, error) {
			v, rel, err := build(ctx, args)
			if err != nil || any(v) == nil {
				return nil, reflect.Zero(out), rel, err
			}
			*cell.Interface().(*T) = v
			return v, cell.Elem(), rel, nil
		}
		return p
	}
	p.typed = func(ctx context.Context, args []any) (any, reflect.Value, func() error, error) {
		v, rel, err := build(ctx, args)
		if err != nil {
			return nil, reflect.Value{}, rel, err
		}
		return v, reflect.ValueOf(v), rel, nil
	}
	return p
}

// interfaceValue returns v as a reflect.Value of its static interface type
// T (reflect.ValueOf would give its dynamic type). It costs one small
// allocation, kept apart so that only interface types pay it.
func interfaceValue[T any](v T) reflect.Value {
	return reflect.ValueOf(&v).Elem()
}

// NewViewProvider provides T as a view of the scoped or transient A: the
// instance is view(a), typically a itself as an interface it implements. A
// view has no lifecycle of its own: A's instance is finished and released
// once, as A. It is built without reflection.
func NewViewProvider[T, A any](name string, view func(a A) T) *Provider {
	p := NewTypedProvider(Scoped, []reflect.Type{reflect.TypeFor[A]()}, name,
		func(_ context.Context, args []any) (T, func() error, error) {
			a, _ := args[0].(A)
			return view(a), nil, nil
		})
	p.view = true
	return p
}

// Type returns the type p provides.
func (p *Provider) Type() reflect.Type { return p.out }

// Params returns the parameter types of p's constructor, in order.
func (p *Provider) Params() []reflect.Type { return slices.Clone(p.params) }

// Lifetime returns p's lifetime.
func (p *Provider) Lifetime() Lifetime { return p.lifetime }

// Name returns the constructor's name, for example
// "github.com/x/y.NewRepo (/path/file.go:12)".
func (p *Provider) Name() string { return p.name }

// validate checks a provider, mostly for those made by NewFuncProvider.
func (p *Provider) validate() error {
	if p == nil {
		return errors.New("scope: nil provider")
	}
	if !p.lifetime.valid() {
		return fmt.Errorf("scope: %s: invalid lifetime %s", p.name, p.lifetime)
	}
	if p.shape == shapeFunc && p.build == nil {
		return fmt.Errorf("scope: %s: nil build func", p.name)
	}
	if err := checkOut(p.out); err != nil {
		return fmt.Errorf("scope: %s: %w", p.name, err)
	}
	for i, t := range p.params {
		if t == nil {
			return fmt.Errorf("scope: %s: nil type for parameter %d", p.name, i+1)
		}
	}
	return nil
}

func checkOut(out reflect.Type) error {
	switch out {
	case nil:
		return errors.New("nil provided type")
	case reflect.TypeFor[error]():
		return errors.New("cannot provide type error")
	case reflect.TypeFor[context.Context]():
		return errors.New("cannot provide context.Context (it is the scope's context)")
	}
	return nil
}

func funcName(fn reflect.Value) string {
	f := runtime.FuncForPC(fn.Pointer())
	if f == nil {
		return fn.Type().String()
	}
	file, line := f.FileLine(f.Entry())
	return fmt.Sprintf("%s (%s:%d)", f.Name(), file, line)
}
