package repo

import (
	"database/sql/driver"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/fasttrack-go/fasttrack/db"
)

// An In node keeps its values converted once, when In is called, in a
// typed slice (a []int64, []float64, ... in its v): the PostgreSQL
// argument is that very value, bound with no allocation, and the JSON
// array of the other databases is written from it.

// inKind is the kind of an In list's driver values.
type inKind uint8

const (
	inInt inKind = iota
	inFloat
	inBool
	inString
	inTime
	inBytes
)

// mysqlJSONType is the JSON_TABLE column type of each kind (booleans are
// encoded as 0 and 1).
var mysqlJSONType = [...]string{inInt: "BIGINT", inFloat: "DOUBLE", inBool: "BIGINT", inString: "LONGTEXT"}

// kindOf returns the kind of a driver value.
func kindOf(v any) (inKind, bool) {
	switch v.(type) {
	case int64:
		return inInt, true
	case float64:
		return inFloat, true
	case bool:
		return inBool, true
	case string:
		return inString, true
	case time.Time:
		return inTime, true
	case []byte:
		return inBytes, true
	}
	return 0, false
}

// inConv is how In converts the values of a column of type V, decided once
// by Col: by a copy when V's underlying type is a driver value's (and V
// does not convert itself), value by value as database/sql does otherwise.
type inConv uint8

const (
	inConvEach    inConv = iota // driver.DefaultParameterConverter, value by value
	inConvInt64                 // V's underlying type is int64, or int of 8 bytes
	inConvFloat64               // V's underlying type is float64
	inConvBool                  // V's underlying type is bool
	inConvString                // V's underlying type is string
)

// inConvOf returns how In converts values of type V.
func inConvOf[V any]() inConv {
	t := reflect.TypeFor[V]()
	if t.Kind() == reflect.Interface || t.Implements(reflect.TypeFor[driver.Valuer]()) {
		return inConvEach
	}
	if _, ok := t.MethodByName("Decompose"); ok { // database/sql's decimal interface
		return inConvEach
	}
	switch t.Kind() {
	case reflect.Int64, reflect.Int:
		if t.Size() == 8 {
			return inConvInt64
		}
	case reflect.Float64:
		return inConvFloat64
	case reflect.Bool:
		return inConvBool
	case reflect.String:
		return inConvString
	}
	return inConvEach
}

// asSliceOf returns vs as a []E, sharing its memory: V's underlying type
// is E (inConvOf checked it), so both have the same layout.
func asSliceOf[E, V any](vs []V) []E {
	return unsafe.Slice((*E)(unsafe.Pointer(unsafe.SliceData(vs))), len(vs))
}

func (c Column[T, V]) in(neg bool, vs []V) Predicate[T] {
	if err := c.Err(); err != nil {
		return errPred[T](err)
	}
	var list inList
	switch c.inConv {
	case inConvInt64:
		list = inCopy(asSliceOf[int64](vs))
	case inConvFloat64:
		list = inCopy(asSliceOf[float64](vs))
	case inConvBool:
		list = inCopy(asSliceOf[bool](vs))
	case inConvString:
		list = inCopy(asSliceOf[string](vs))
	default:
		var err error
		if list, err = inConvert(vs); err != nil {
			return errPred[T](fmt.Errorf("repo: %s IN: %w", c.name, err))
		}
	}
	return Predicate[T]{pnode{kind: pIn, col: int32(c.i), flags: negIf(neg), v: list.xs}}
}

// inConvert converts vs as database/sql converts arguments and returns
// their list.
func inConvert[V any](vs []V) (inList, error) {
	vals := make([]any, len(vs))
	for i, v := range vs {
		dv, err := driver.DefaultParameterConverter.ConvertValue(v)
		if err != nil {
			return inList{}, fmt.Errorf("value %d: %w", i, err)
		}
		if dv == nil {
			return inList{}, fmt.Errorf("value %d is null: use IsNull", i)
		}
		vals[i] = dv
	}
	return inValues(vals)
}

// inArg returns the one argument that binds vals (driver values, at least
// one) on d, as In binds its list, and their kind.
func inArg(d db.Dialect, vals []any) (any, inKind, error) {
	list, err := inValues(vals)
	if err != nil {
		return nil, 0, err
	}
	arg, err := list.arg(d)
	return arg, list.kind(), err
}

// inValues returns the list of vals, driver values.
func inValues(vals []any) (inList, error) {
	if len(vals) == 0 {
		return inCopy[int64](nil), nil
	}
	kind, ok := kindOf(vals[0])
	if !ok {
		return inList{}, fmt.Errorf("values of type %T are not supported", vals[0])
	}
	for i, v := range vals[1:] {
		if k, _ := kindOf(v); k != kind {
			return inList{}, fmt.Errorf("value %d is a %T, value 0 a %T: all must be of one kind", i+1, v, vals[0])
		}
	}
	switch kind {
	case inInt:
		return inOf[int64](vals), nil
	case inFloat:
		return inOf[float64](vals), nil
	case inBool:
		return inOf[bool](vals), nil
	case inString:
		return inOf[string](vals), nil
	case inTime:
		return inOf[time.Time](vals), nil
	default:
		return inOf[[]byte](vals), nil
	}
}

// inOf returns the list of vals, all of type E.
func inOf[E inElem](vals []any) inList {
	xs := make([]E, len(vals))
	for i, v := range vals {
		xs[i] = v.(E)
	}
	return inList{xs}
}

// inCopy returns the list of a copy of xs.
func inCopy[E inElem](xs []E) inList {
	return inList{append(make([]E, 0, len(xs)), xs...)}
}

// inElem are the types of an In list's values.
type inElem interface {
	int64 | float64 | bool | string | time.Time | []byte
}

// inList is the values of an In node: xs is a []E of an inElem E.
type inList struct{ xs any }

// inListOf returns the values of In node n.
func inListOf(n *pnode) inList { return inList{n.v} }

// size returns how many values the list holds.
func (l inList) size() int {
	switch xs := l.xs.(type) {
	case []int64:
		return len(xs)
	case []float64:
		return len(xs)
	case []bool:
		return len(xs)
	case []string:
		return len(xs)
	case []time.Time:
		return len(xs)
	case [][]byte:
		return len(xs)
	}
	return 0
}

// kind returns the kind of the values.
func (l inList) kind() inKind {
	switch l.xs.(type) {
	case []int64:
		return inInt
	case []float64:
		return inFloat
	case []bool:
		return inBool
	case []string:
		return inString
	case []time.Time:
		return inTime
	default:
		return inBytes
	}
}

// arg returns the one argument that binds the list, not empty, on d: the
// typed slice on PostgreSQL, a JSON array elsewhere.
func (l inList) arg(d db.Dialect) (any, error) {
	if d == db.Postgres {
		return l.xs, nil
	}
	var b []byte
	switch xs := l.xs.(type) {
	case []int64:
		b = append(make([]byte, 0, 2+4*len(xs)), '[')
		for i, x := range xs {
			b = strconv.AppendInt(jsonSep(b, i), x, 10)
		}
	case []float64:
		b = append(make([]byte, 0, 2+8*len(xs)), '[')
		for i, x := range xs {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, &QueryError{Op: "in", Detail: fmt.Sprintf("value %d is %v, which an IN list cannot hold", i, x)}
			}
			b = strconv.AppendFloat(jsonSep(b, i), x, 'g', -1, 64)
		}
	case []bool:
		b = append(make([]byte, 0, 1+2*len(xs)), '[')
		for i, x := range xs {
			c := byte('0')
			if x {
				c = '1'
			}
			b = append(jsonSep(b, i), c)
		}
	case []string:
		size := 2
		for _, x := range xs {
			size += len(x) + 3
		}
		b = append(make([]byte, 0, size), '[')
		for i, x := range xs {
			if !utf8.ValidString(x) {
				return nil, &QueryError{Op: "in", Detail: fmt.Sprintf("value %d is not valid UTF-8", i)}
			}
			b = appendJSONString(jsonSep(b, i), x)
		}
	default:
		return nil, fmt.Errorf("values of type %s are not supported on %s (use Or of Eq, or Between)", reflect.TypeOf(l.xs).Elem(), d)
	}
	b = append(b, ']')
	// The array's bytes are written here and never after.
	return unsafe.String(unsafe.SliceData(b), len(b)), nil
}

// jsonSep appends to b, a JSON array, what comes before its value of
// index i.
func jsonSep(b []byte, i int) []byte {
	if i == 0 {
		return b
	}
	return append(b, ',')
}

// appendJSONString appends s, valid UTF-8, as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			b = append(b, `\u00`...)
			b = append(b, hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
