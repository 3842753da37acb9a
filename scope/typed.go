package scope

import (
	"context"
	"fmt"
	"reflect"
)

// Ctor is a constructor whose parameter and result types were fixed at
// compile time by one of the FuncN helpers (Func1, Func2E, …). NewProvider,
// fxmodules.Scoped and fxmodules.Transient take a Ctor wherever they take a
// constructor func; a Ctor is called directly, without reflect.Value.Call,
// which makes building its instance several times cheaper. Errors name the
// wrapped constructor.
//
//	fxmodules.Scoped(NewUserRepo)              // any arity, called by reflection
//	fxmodules.Scoped(scope.Func1(NewUserRepo)) // the same, called directly
type Ctor struct {
	fn any       // the wrapped func, for its name
	p  *Provider // the provider, without lifetime and name
}

// newCtor returns the Ctor of fn, which provides T from params; call builds
// T from the resolved arguments.
func newCtor[T any](fn any, params []reflect.Type, call func(args []any) (T, error)) Ctor {
	p := NewTypedProvider(Scoped, params, "", func(_ context.Context, args []any) (T, func() error, error) {
		v, err := call(args)
		return v, nil, err
	})
	return Ctor{fn: fn, p: p}
}

// provider returns the Provider of c with lifetime l, named after c's func.
func (c Ctor) provider(l Lifetime) (*Provider, error) {
	if c.p == nil {
		return nil, fmt.Errorf("scope: zero Ctor (make one with scope.Func0, Func1, …)")
	}
	fn := reflect.ValueOf(c.fn)
	name := funcName(fn)
	if fn.IsNil() {
		return nil, fmt.Errorf("scope: nil constructor of type %s", fn.Type())
	}
	if !l.valid() {
		return nil, fmt.Errorf("scope: %s: invalid lifetime %s", name, l)
	}
	if err := checkOut(c.p.out); err != nil {
		return nil, fmt.Errorf("scope: %s: %w", name, err)
	}
	p := *c.p
	p.lifetime, p.name = l, name
	return &p, nil
}

// argAs returns args[i] as an A: nil (an unset interface) is A's zero value.
func argAs[A any](args []any, i int) A {
	a, _ := args[i].(A)
	return a
}

func typesOf(ts ...reflect.Type) []reflect.Type { return ts }

// Func0 wraps a constructor without parameters returning T.
func Func0[T any](f func() T) Ctor {
	return newCtor(f, nil, func([]any) (T, error) { return f(), nil })
}

// Func1 wraps a constructor of one parameter returning T.
func Func1[A, T any](f func(A) T) Ctor {
	return newCtor(f, typesOf(reflect.TypeFor[A]()), func(a []any) (T, error) {
		return f(argAs[A](a, 0)), nil
	})
}

// Func2 wraps a constructor of two parameters returning T.
func Func2[A, B, T any](f func(A, B) T) Ctor {
	return newCtor(f, typesOf(reflect.TypeFor[A](), reflect.TypeFor[B]()), func(a []any) (T, error) {
		return f(argAs[A](a, 0), argAs[B](a, 1)), nil
	})
}

// Func3 wraps a constructor of three parameters returning T.
func Func3[A, B, C, T any](f func(A, B, C) T) Ctor {
	return newCtor(f, typesOf(reflect.TypeFor[A](), reflect.TypeFor[B](), reflect.TypeFor[C]()), func(a []any) (T, error) {
		return f(argAs[A](a, 0), argAs[B](a, 1), argAs[C](a, 2)), nil
	})
}

// Func0E wraps a constructor without parameters returning (T, error).
func Func0E[T any](f func() (T, error)) Ctor {
	return newCtor(f, nil, func([]any) (T, error) { return f() })
}

// Func1E wraps a constructor of one parameter returning (T, error).
func Func1E[A, T any](f func(A) (T, error)) Ctor {
	return newCtor(f, typesOf(reflect.TypeFor[A]()), func(a []any) (T, error) {
		return f(argAs[A](a, 0))
	})
}

// Func2E wraps a constructor of two parameters returning (T, error).
func Func2E[A, B, T any](f func(A, B) (T, error)) Ctor {
	return newCtor(f, typesOf(reflect.TypeFor[A](), reflect.TypeFor[B]()), func(a []any) (T, error) {
		return f(argAs[A](a, 0), argAs[B](a, 1))
	})
}

// Func3E wraps a constructor of three parameters returning (T, error).
func Func3E[A, B, C, T any](f func(A, B, C) (T, error)) Ctor {
	return newCtor(f, typesOf(reflect.TypeFor[A](), reflect.TypeFor[B](), reflect.TypeFor[C]()), func(a []any) (T, error) {
		return f(argAs[A](a, 0), argAs[B](a, 1), argAs[C](a, 2))
	})
}
