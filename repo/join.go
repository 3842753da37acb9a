package repo

import (
	"context"
	"errors"
	"fmt"
)

// JoinOn is the condition of a join of T's table with U's: a column of each
// equal, made by On.
type JoinOn[T, U any] struct {
	l, r int
	ok   bool
	err  error
}

// On is the join condition "a = b", a column of T's table and one of U's of
// the same Go type.
func On[T, U, V any](a Column[T, V], b Column[U, V]) JoinOn[T, U] {
	return JoinOn[T, U]{l: a.i, r: b.i, ok: true, err: errors.Join(a.Err(), b.Err())}
}

// Joined is a join of two queries, made by Join or LeftJoin: the source of
// SelectJoin, or a filter of T's rows (All). Like a Query it is an
// immutable value.
type Joined[T, U any] struct {
	q    Query[T]
	u    Query[U]
	on   JoinOn[T, U]
	left bool
}

// Join is the inner join of q's rows and u's rows on on: the pairs whose
// columns are equal. Each side is its query's rows, with its own
// conditions and soft delete (each left out unless that query is
// WithTrashed), so a condition of u never removes a row of q that a
// LeftJoin keeps. u's order is ignored and a Limit or Offset on u is an
// error; q's order, Limit and Offset apply to the joined rows. A table may
// be joined with itself. The join runs on q's Querier. A row lock on u is an
// error; one on q is taken by All and is an error for SelectJoin.
func Join[T, U any](q Query[T], u Query[U], on JoinOn[T, U]) Joined[T, U] {
	return Joined[T, U]{q: q, u: u, on: on}
}

// LeftJoin is the left outer join: every row of q, paired with each row of
// u whose column is equal, or once with NULLs for u's columns when there is
// none (scan them with ToNull or pointer-typed columns).
func LeftJoin[T, U any](q Query[T], u Query[U], on JoinOn[T, U]) Joined[T, U] {
	return Joined[T, U]{q: q, u: u, on: on, left: true}
}

// check returns the join's first error.
func (j Joined[T, U]) check() error {
	if err := j.q.check(); err != nil {
		return err
	}
	if j.u.t == nil {
		return fmt.Errorf("repo: join %s: a zero Query (not made by Table.Query or Base.Query) is joined", j.q.t.name)
	}
	if err := j.u.check(); err != nil {
		return err
	}
	switch {
	case !j.on.ok:
		return fmt.Errorf("repo: join %s: a zero JoinOn (not made by On) is used", j.q.t.name)
	case j.on.err != nil:
		return fmt.Errorf("repo: join %s: %w", j.q.t.name, j.on.err)
	case j.u.limit >= 0 || j.u.offset > 0:
		return fmt.Errorf("repo: join %s with %s: the joined query cannot have a Limit or Offset", j.q.t.name, j.u.t.name)
	case j.u.t.d != j.q.t.d:
		return fmt.Errorf("repo: join %s with %s: tables built for %s and %s", j.q.t.name, j.u.t.name, j.q.t.d, j.u.t.d)
	}
	if err := noLock(j.u, "a joined query"); err != nil {
		return err
	}
	return nil
}

// All returns the rows of q that the join keeps, each once (however many
// rows of u match it), in q's order with its Limit and Offset: for Join,
// those with a matching row of u (rendered as InQuery); for LeftJoin, all
// of q's rows.
func (j Joined[T, U]) All(ctx context.Context) ([]T, error) {
	if err := j.check(); err != nil {
		return nil, err
	}
	if j.left {
		return j.q.All(ctx)
	}
	p := subPred[T](pInSub, false, j.u, j.on.r)
	p.n.col = int32(j.on.l)
	return j.q.Where(p).All(ctx)
}

// SelectJoin returns the projection of the joined rows: one P per pair,
// with left's fields from q's row and right's from u's. Fields are
// columns: an aggregate is an error. The rows are in q's order, then by
// q's id and u's id, with q's Limit and Offset.
//
// Each side is rendered as a derived table of its query, "(SELECT ... FROM
// table WHERE ...) AS t0" and "AS t1", so each query's conditions and soft
// delete stay on its own side.
func SelectJoin[P, T, U any](j Joined[T, U], left []Field[P, T], right []Field[P, U]) Projection[P] {
	p := projection(j.q, left)
	if p.err == nil && len(left)+len(right) == 0 {
		p.err = noFields(j.q.t.name)
	}
	if p.err != nil {
		return p
	}
	pu := projection(j.u, right)
	if pu.err != nil {
		p.err = pu.err
		return p
	}
	p.fields = append(p.fields, pu.fields...)
	seen := map[string]bool{}
	for _, f := range left {
		seen[f.alias] = true
	}
	for _, f := range right {
		if seen[f.alias] {
			p.err = fmt.Errorf("repo: select join %s: column alias %s is selected twice", j.q.t.name, f.alias)
			return p
		}
	}
	for _, e := range append(specs(left), specs(right)...) {
		if e.agg != aggNone {
			p.err = fmt.Errorf("repo: select join %s: aggregates are not supported in a join", j.q.t.name)
			return p
		}
	}
	p.render = func() (string, []any, error) {
		if err := j.check(); err != nil {
			return "", nil, err
		}
		if err := noLock(j.q, "a join"); err != nil {
			return "", nil, err
		}
		t, u := j.q.t, j.u.t
		s := t.newBuf()
		w := predWriter{s: s, cols: t.cols}
		a0, a1 := t.d.Quote("t0"), t.d.Quote("t1")
		q0, q1 := a0+".", a1+"."
		s.WriteString("SELECT ")
		writeFields(s, q0, t, left, true)
		writeFields(s, q1, u, right, len(left) == 0)
		s.WriteString(" FROM (")
		t.selectFrom(s)
		if err := j.q.writeWhere(&w, j.q.trashed); err != nil {
			return "", nil, err
		}
		s.WriteString(") AS ")
		s.WriteString(a0)
		if j.left {
			s.WriteString(" LEFT JOIN (")
		} else {
			s.WriteString(" INNER JOIN (")
		}
		u.selectFrom(s)
		s.conds = 0
		wu := predWriter{s: s, cols: u.cols, args: w.args}
		if err := j.u.writeWhere(&wu, j.u.trashed); err != nil {
			return "", nil, err
		}
		w.args = wu.args
		s.conds = 0
		s.WriteString(") AS ")
		s.WriteString(a1)
		s.WriteString(" ON ")
		s.WriteString(q0)
		s.WriteString(t.cols[j.on.l].quoted)
		s.WriteString(" = ")
		s.WriteString(q1)
		s.WriteString(u.cols[j.on.r].quoted)
		writeOrderBy(&w, j.q, q0)
		s.WriteString(", ")
		s.WriteString(q1)
		s.WriteString(u.q(idColumn))
		s.WriteString(" ASC")
		writeLimit(&w, j.q)
		return s.String(), w.args, nil
	}
	return p
}

// specs returns the expressions of fs.
func specs[P, T any](fs []Field[P, T]) []exprSpec {
	out := make([]exprSpec, len(fs))
	for i, f := range fs {
		out[i] = f.e
	}
	return out
}
