package repo

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"unsafe"
)

// Column is a typed column of T's table, of Go type V: the field an
// accessor function returns. It makes predicates and sort keys whose
// identifier comes from the table's metadata, never from a string, and whose
// values must be of the field's type:
//
//	name := repo.MustCol(userTable, func(u *User) *string { return &u.Name })
//	q := userTable.On(tx).Query().Where(name.Eq("Ada"))
//
// A renamed field or a value of the wrong type is then a compile error.
//
// A Column is a small value, safe for concurrent use; resolve it once (next
// to the Table) and reuse it. It names a column by its position among T's
// columns, so it works with every Table of T, whatever its dialect.
//
// A Column whose accessor does not return one of the table's mapped fields
// carries an error (see Col and Err): every predicate and sort key made from
// it carries it too, and a query using them fails with it before anything is
// sent.
type Column[T, V any] struct {
	i    int
	name string
	// str: V is a string, or a pointer to one (the LIKE family is allowed).
	str bool
	// ok: made by Col; the zero Column is not usable.
	ok bool
	// ord: the column's ascending and descending sort keys, made once so
	// that OrderBy of one key shares them.
	ord *[2][1]Ordering[T]
	// inConv: how In converts V's values (predicate_in.go).
	inConv inConv
	// notNull: no value of V is null to the database (notNullOf), so Eq
	// and the other comparisons need not ask isNull.
	notNull bool
	err     error
}

// Col resolves the column of t that accessor returns a pointer to: accessor
// is called once, on a T allocated for the purpose (embedded pointers
// allocated too), and the returned pointer is matched, by address and type,
// against the fields t maps. A field tagged db:"-", an unexported field, a
// pointer to anything else, or an accessor that panics gives a Column that
// carries the error: Err returns it, and every query built with the column
// fails with it, a programming error (not ErrInvalidQuery). Use MustCol to panic instead, at
// startup.
//
// The accessor must return the address of a field of its argument, and do
// nothing else: func(u *User) *string { return &u.Name }.
func Col[T, V any](t *Table[T], accessor func(*T) *V) Column[T, V] {
	c, err := resolveCol(t, accessor)
	if err != nil {
		c.err = err
	}
	return c
}

// MustCol is Col, but panics when the accessor does not return a mapped
// column of t. Call it when the program starts, next to NewTable.
func MustCol[T, V any](t *Table[T], accessor func(*T) *V) Column[T, V] {
	c := Col(t, accessor)
	if c.err != nil {
		panic(c.err)
	}
	return c
}

// resolveCol does the work of Col.
func resolveCol[T, V any](t *Table[T], accessor func(*T) *V) (c Column[T, V], err error) {
	vt := reflect.TypeFor[V]()
	fail := func(detail string) error {
		return fmt.Errorf("repo: Col of %s (%s): %s", reflect.TypeFor[T](), vt, detail)
	}
	if t == nil {
		return c, fail("nil table")
	}
	if accessor == nil {
		return c, fail("nil accessor")
	}
	probe := reflect.New(reflect.TypeFor[T]())
	addrs := make([]uintptr, len(t.cols))
	for i, col := range t.cols {
		f, _ := fieldAt(probe.Elem(), col.index, true)
		addrs[i] = f.Addr().Pointer()
	}
	var p *V
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fail(fmt.Sprintf("the accessor panicked: %v", r))
			}
		}()
		p = accessor(probe.Interface().(*T))
	}()
	if err != nil {
		return c, err
	}
	if p == nil {
		return c, fail("the accessor returned nil; it must return the address of a mapped field")
	}
	at := uintptr(unsafe.Pointer(p))
	for i, col := range t.cols {
		if addrs[i] != at {
			continue
		}
		ft := reflect.TypeFor[T]().FieldByIndex(col.index).Type
		if ft != vt {
			continue // a field at the same address but of another type (a struct's first field)
		}
		et := vt
		if et.Kind() == reflect.Pointer {
			et = et.Elem()
		}
		ord := new([2][1]Ordering[T])
		ord[0][0] = Ordering[T]{i: i, ok: true, self: &ord[0]}
		ord[1][0] = Ordering[T]{i: i, desc: true, ok: true, self: &ord[1]}
		return Column[T, V]{i: i, name: col.name, str: et.Kind() == reflect.String, ok: true, ord: ord,
			inConv: inConvOf[V](), notNull: notNullOf(vt)}, nil
	}
	return c, fail("the accessor does not return the address of a mapped field of " + t.name +
		" (an unexported field, a field tagged db:\"-\", or not a field of its argument)")
}

// notNullOf reports whether isNull is false for every value of type t: t
// is neither an interface nor a pointer, and is not a driver.Valuer (whose
// Value may be nil).
func notNullOf(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface, reflect.Pointer:
		return false
	}
	return !t.Implements(reflect.TypeFor[driver.Valuer]())
}

// Name returns the column's name, unquoted; "" for a column that carries an
// error.
func (c Column[T, V]) Name() string { return c.name }

// Err returns the error Col met resolving the column, or nil. The zero
// Column, not made by Col, has an error too.
func (c Column[T, V]) Err() error {
	if !c.ok && c.err == nil {
		return errZeroColumn
	}
	return c.err
}

// errZeroColumn is the error of a Column not made by Col.
var errZeroColumn = errors.New("repo: a zero Column (not made by repo.Col) is used")

// Ordering is one sort key of a Query: a column and a direction, made by
// Column.Asc and Column.Desc.
type Ordering[T any] struct {
	i    int
	desc bool
	ok   bool // made by Asc or Desc
	err  error
	// self: the Column's copy of this key, never changed, which a query
	// ordered by this key alone shares as its one-key list; nil when the
	// key was not made by a Column of Col.
	self *[1]Ordering[T]
}

// Asc sorts by the column, ascending.
func (c Column[T, V]) Asc() Ordering[T] {
	if c.ord != nil {
		return c.ord[0][0]
	}
	return Ordering[T]{i: c.i, ok: true, err: c.Err()}
}

// Desc sorts by the column, descending.
func (c Column[T, V]) Desc() Ordering[T] {
	if c.ord != nil {
		return c.ord[1][0]
	}
	return Ordering[T]{i: c.i, desc: true, ok: true, err: c.Err()}
}

// AnyColumn is a Column of T whatever its value type, for the methods that
// take several columns of different types (Base.Upsert). Only Column
// implements it.
type AnyColumn[T any] interface {
	// Name returns the column's name.
	Name() string
	// Err returns the error Col met resolving the column, or nil.
	Err() error
	colIndex() int
}

// colIndex returns the column's position among T's columns.
func (c Column[T, V]) colIndex() int { return c.i }
