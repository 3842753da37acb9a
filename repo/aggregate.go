package repo

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
)

// exprSpec is what a projection selects or a Having compares: a column of
// the table, or an aggregate of one (COUNT(*) has no column).
type exprSpec struct {
	col int
	agg aggFn
	err error
}

// writeExpr writes e, its column qualified by qual ("" or a quoted name and
// a dot).
func writeExpr(s *sqlBuf, qual string, cols []column, e exprSpec) {
	if e.agg == aggCount {
		s.WriteString("COUNT(*)")
		return
	}
	if e.agg != aggNone {
		s.WriteString(aggSQL[e.agg])
		s.WriteByte('(')
	}
	s.WriteString(qual)
	s.WriteString(cols[e.col].quoted)
	if e.agg != aggNone {
		s.WriteByte(')')
	}
}

// Expr is what a projection selects into a field of type V: a Column of
// T's table, or an aggregate of one (CountAll, CountOf, SumOf, AvgOf,
// MinOf, MaxOf).
type Expr[T, V any] interface {
	exprOf(*T, *V) exprSpec
}

// exprSpec makes a Column an Expr.
func (c Column[T, V]) exprOf(*T, *V) exprSpec { return exprSpec{col: c.i, err: c.Err()} }

// Grouper is a grouping key of GroupBy: a Column of T's table.
type Grouper[T any] interface {
	groupKey(*T) (int, error)
}

func (c Column[T, V]) groupKey(*T) (int, error) { return c.i, c.Err() }

// Agg is an aggregate of a column of T's table, of Go type V: what a
// projection of a Grouped query selects, and what Grouped.Having compares.
// It is a small immutable value.
type Agg[T, V any] struct{ e exprSpec }

func (a Agg[T, V]) exprOf(*T, *V) exprSpec { return a.e }

// CountAll is COUNT(*): the rows of the group.
func CountAll[T any]() Agg[T, int64] { return Agg[T, int64]{exprSpec{agg: aggCount}} }

// CountOf is COUNT(column): the rows of the group whose column is not NULL.
func CountOf[T, V any](c Column[T, V]) Agg[T, int64] {
	return Agg[T, int64]{exprSpec{col: c.i, agg: aggCountCol, err: c.Err()}}
}

// SumOf is SUM(column), of a numeric column: NULL when every value of the
// group is NULL, so a nullable column needs a pointer or sql.Null field.
// The database may widen the type (PostgreSQL and MySQL sum integers as
// bigint or decimal); the value is converted back to V when scanned.
func SumOf[T, V any](c Column[T, V]) Agg[T, V] { return numAgg[T, V](c, aggSum) }

// AvgOf is AVG(column), of a numeric column, as a float64; NULL when every
// value of the group is NULL.
func AvgOf[T, V any](c Column[T, V]) Agg[T, float64] {
	a := numAgg[T, V](c, aggAvg)
	return Agg[T, float64](a)
}

// MinOf is MIN(column): the least non-NULL value of the group.
func MinOf[T, V any](c Column[T, V]) Agg[T, V] {
	return Agg[T, V]{exprSpec{col: c.i, agg: aggMin, err: c.Err()}}
}

// MaxOf is MAX(column): the greatest non-NULL value of the group.
func MaxOf[T, V any](c Column[T, V]) Agg[T, V] {
	return Agg[T, V]{exprSpec{col: c.i, agg: aggMax, err: c.Err()}}
}

// numAgg is SumOf and AvgOf, which need a numeric column.
func numAgg[T, V any](c Column[T, V], fn aggFn) Agg[T, V] {
	e := exprSpec{col: c.i, agg: fn, err: c.Err()}
	if e.err == nil && !numeric(reflect.TypeFor[V]()) {
		e.err = fmt.Errorf("repo: %s of column %s of type %s: only numeric columns", aggSQL[fn], c.name, reflect.TypeFor[V]())
	}
	return Agg[T, V]{e}
}

// numeric reports whether t (or what it points to) is an integer or float.
func numeric(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// cmp makes a Having predicate comparing the aggregate with v.
func (a Agg[T, V]) cmp(op string, vs ...V) Predicate[T] {
	if a.e.err != nil {
		return errPred[T](a.e.err)
	}
	for _, v := range vs {
		if isNull(v) {
			return errPred[T](fmt.Errorf("repo: %s with a null value in Having", aggSQL[a.e.agg]))
		}
	}
	n := pnode{kind: pCmp, op: opOf(op), col: int32(a.e.col), agg: a.e.agg, v: vs[0]}
	if op == "BETWEEN" {
		n.kind, n.x = pBetween, &pext{hi: vs[1]}
	}
	return Predicate[T]{n}
}

// Eq is "aggregate = v", for Grouped.Having only; a nil v is an error.
func (a Agg[T, V]) Eq(v V) Predicate[T] { return a.cmp("=", v) }

// Ne is "aggregate <> v", for Grouped.Having only.
func (a Agg[T, V]) Ne(v V) Predicate[T] { return a.cmp("<>", v) }

// Lt is "aggregate < v", for Grouped.Having only.
func (a Agg[T, V]) Lt(v V) Predicate[T] { return a.cmp("<", v) }

// Le is "aggregate <= v", for Grouped.Having only.
func (a Agg[T, V]) Le(v V) Predicate[T] { return a.cmp("<=", v) }

// Gt is "aggregate > v", for Grouped.Having only.
func (a Agg[T, V]) Gt(v V) Predicate[T] { return a.cmp(">", v) }

// Ge is "aggregate >= v", for Grouped.Having only.
func (a Agg[T, V]) Ge(v V) Predicate[T] { return a.cmp(">=", v) }

// Between is "aggregate BETWEEN lo AND hi", for Grouped.Having only.
func (a Agg[T, V]) Between(lo, hi V) Predicate[T] { return a.cmp("BETWEEN", lo, hi) }

// aggregate runs "SELECT fn(c) FROM ... WHERE ..." for q and scans the one
// value into dst.
func aggregate[T any](ctx context.Context, op string, q Query[T], e exprSpec, dst any) error {
	if err := q.prepRun(op); err != nil {
		return err
	}
	if e.err != nil {
		return fmt.Errorf("repo: %s %s: %w", op, q.t.name, e.err)
	}
	if err := q.check(); err != nil {
		return err
	}
	if err := noLock(q, "an aggregate"); err != nil {
		return err
	}
	t := q.t
	s := t.newBuf()
	w := predWriter{s: s, cols: t.cols}
	s.WriteString("SELECT ")
	writeExpr(s, "", t.cols, e)
	s.WriteString(" FROM ")
	s.WriteString(t.qname)
	if err := q.writeWhere(&w, q.trashed); err != nil {
		return err
	}
	if err := q.reader(ctx).GetContext(ctx, dst, s.String(), w.args...); err != nil {
		return t.wrap(op, err)
	}
	return nil
}

// Sum returns the sum of c over the rows q matches (its order, Limit and
// Offset ignored), converted to V; not Valid when no row matches or c is
// NULL in all of them. c must be numeric. A row lock on q is an error for
// Sum, Avg, Min, Max and GroupBy.
func Sum[T, V any](ctx context.Context, q Query[T], c Column[T, V]) (sql.Null[V], error) {
	var out sql.Null[V]
	err := aggregate(ctx, "query sum", q, SumOf(c).e, &out)
	return out, err
}

// Avg returns the mean of c's non-NULL values over the rows q matches, as a
// float64; not Valid when there is none. c must be numeric.
func Avg[T, V any](ctx context.Context, q Query[T], c Column[T, V]) (sql.Null[float64], error) {
	var out sql.Null[float64]
	err := aggregate(ctx, "query avg", q, AvgOf(c).e, &out)
	return out, err
}

// Min returns the least non-NULL value of c over the rows q matches; not
// Valid when there is none. On SQLite a time column's minimum comes back
// as text, which does not scan into a time.Time.
func Min[T, V any](ctx context.Context, q Query[T], c Column[T, V]) (sql.Null[V], error) {
	var out sql.Null[V]
	err := aggregate(ctx, "query min", q, MinOf(c).e, &out)
	return out, err
}

// Max returns the greatest non-NULL value of c over the rows q matches; not
// Valid when there is none. Min's note on SQLite's times applies.
func Max[T, V any](ctx context.Context, q Query[T], c Column[T, V]) (sql.Null[V], error) {
	var out sql.Null[V]
	err := aggregate(ctx, "query max", q, MaxOf(c).e, &out)
	return out, err
}
