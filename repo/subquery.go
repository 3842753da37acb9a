package repo

import (
	"errors"
	"fmt"
)

// subquery is a Query of another table (or the same one) inside a
// predicate: a subOf of some U.
type subquery interface {
	check() error
	// writeSub writes the subquery's SELECT into w's statement, numbering
	// its parameters after w's.
	writeSub(w *predWriter, nonNull bool) error
}

// maxSubqueryDepth bounds the nesting of subqueries, which a global scope
// holding a subquery of its own table would make endless.
const maxSubqueryDepth = 16

// subOf is sub, selecting column col (or 1 when col < 0).
type subOf[U any] struct {
	q   Query[U]
	col int
}

func (s subOf[U]) check() error {
	if err := s.q.check(); err != nil {
		return err
	}
	if s.q.limit >= 0 || s.q.offset > 0 {
		return fmt.Errorf("repo: subquery of %s: a subquery cannot have a Limit or Offset", s.q.t.name)
	}
	return noLock(s.q, "a subquery")
}

// writeSub writes "SELECT col FROM u WHERE ..." (its order ignored); with
// nonNull, rows whose col is NULL are left out.
func (s subOf[U]) writeSub(w *predWriter, nonNull bool) error {
	t := s.q.t
	b := w.s
	if w.depth >= maxSubqueryDepth {
		return fmt.Errorf("repo: subquery of %s: nested more than %d deep (a global scope whose subquery applies it again?)", t.name, maxSubqueryDepth)
	}
	if t.d != b.d {
		return fmt.Errorf("repo: subquery of %s: table built for %s, used in a %s statement", t.name, t.d, b.d)
	}
	b.WriteString("SELECT ")
	if s.col < 0 {
		b.WriteString("1")
	} else {
		b.WriteString(t.cols[s.col].quoted)
	}
	b.WriteString(" FROM ")
	b.WriteString(t.qname)
	conds := b.conds
	b.conds = 0
	sw := predWriter{s: b, cols: t.cols, args: w.args, depth: w.depth + 1}
	if nonNull {
		b.cond()
		b.WriteString(t.cols[s.col].quoted)
		b.WriteString(" IS NOT NULL")
	}
	err := s.q.writeWhere(&sw, s.q.trashed)
	w.args = sw.args
	b.conds = conds
	return err
}

// errNoSubquery is the error of a subquery predicate made from a zero Query.
var errNoSubquery = errors.New("repo: subquery: a zero Query (not made by Table.Query or Base.Query) is used")

// subPred returns the node of a subquery predicate.
func subPred[T, U any](kind predKind, neg bool, sub Query[U], col int) Predicate[T] {
	if sub.t == nil {
		return errPred[T](errNoSubquery)
	}
	return Predicate[T]{pnode{kind: kind, flags: negIf(neg), col: int32(col), x: &pext{sub: subOf[U]{q: sub, col: col}}}}
}

// Exists is "EXISTS (SELECT 1 FROM sub's table WHERE sub's conditions)":
// true when sub has a row. sub's soft delete applies unless it is
// WithTrashed; its order is ignored, and a Limit, Offset or row lock is an
// error.
// sub's Querier, if any, is not used: the predicate runs in its outer
// query's statement. For a subquery tied to the outer row (a correlated
// EXISTS on equal columns), use InQuery.
func Exists[T, U any](sub Query[U]) Predicate[T] { return subPred[T](pExists, false, sub, -1) }

// NotExists is "NOT EXISTS (...)": true when sub has no row.
func NotExists[T, U any](sub Query[U]) Predicate[T] { return subPred[T](pExists, true, sub, -1) }

// InQuery is "c IN (SELECT subCol FROM sub's table WHERE sub's conditions)":
// true when some row of sub has subCol equal to the row's c, which is what
// a correlated "EXISTS (... WHERE sub.subCol = outer.c)" tests. A NULL c
// matches nothing. sub is rendered as Exists renders it, its parameters
// numbered in the outer statement's sequence.
func InQuery[T, U, V any](c Column[T, V], sub Query[U], subCol Column[U, V]) Predicate[T] {
	return inQuery(false, c, sub, subCol)
}

// NotInQuery is true when no row of sub has subCol equal to the row's c
// (NOT EXISTS's meaning): rows of sub whose subCol is NULL are left out, and
// a row whose c is NULL matches. So unlike SQL's NOT IN, a NULL in sub never
// makes the predicate unknown.
func NotInQuery[T, U, V any](c Column[T, V], sub Query[U], subCol Column[U, V]) Predicate[T] {
	return inQuery(true, c, sub, subCol)
}

func inQuery[T, U, V any](neg bool, c Column[T, V], sub Query[U], subCol Column[U, V]) Predicate[T] {
	if err := c.Err(); err != nil {
		return errPred[T](err)
	}
	if err := subCol.Err(); err != nil {
		return errPred[T](err)
	}
	p := subPred[T](pInSub, neg, sub, subCol.i)
	if p.n.kind != 0 {
		p.n.col = int32(c.i)
	}
	return p
}

// subquery writes an Exists or InQuery node.
func (w *predWriter) subquery(n *pnode) error {
	s := w.s
	if n.kind == pExists {
		if n.neg() {
			s.WriteString("NOT ")
		}
		s.WriteString("EXISTS (")
		if err := n.x.sub.writeSub(w, false); err != nil {
			return err
		}
		s.WriteByte(')')
		return nil
	}
	col := w.cols[n.col].quoted
	if n.neg() {
		s.WriteString("(")
		s.WriteString(col)
		s.WriteString(" IS NULL OR ")
		s.WriteString(col)
		s.WriteString(" NOT IN (")
	} else {
		s.WriteString(col)
		s.WriteString(" IN (")
	}
	if err := n.x.sub.writeSub(w, n.neg()); err != nil {
		return err
	}
	if n.neg() {
		s.WriteString("))")
	} else {
		s.WriteByte(')')
	}
	return nil
}
