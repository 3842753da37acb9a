package repo

import "fmt"

// Has is true for the rows of T that have at least one related row in r:
// "id IN (SELECT fk FROM related WHERE ...)" (for BelongsTo,
// "fk IN (SELECT id FROM related WHERE ...)"; for ManyToMany, through the
// pivot). r's conditions, soft delete and global scopes apply to the
// related rows; its Limit and order are ignored.
//
//	withPosts, err := userTable.On(tx).Query().Where(repo.Has(userPosts)).All(ctx)
func Has[T, R any](r Relation[T, R]) Predicate[T] { return hasPred(r, false, nil) }

// WhereHas is true for the rows of T that have at least one related row in
// r for which every p holds.
func WhereHas[T, R any](r Relation[T, R], ps ...Predicate[R]) Predicate[T] {
	return hasPred(r, false, ps)
}

// DoesntHave is true for the rows of T that have no related row in r for
// which every p holds (Has's negation, NULL-safe: a row whose foreign key
// is null has none).
func DoesntHave[T, R any](r Relation[T, R], ps ...Predicate[R]) Predicate[T] {
	return hasPred(r, true, ps)
}

// hasPred returns the predicate of Has, WhereHas and DoesntHave.
func hasPred[T, R any](r Relation[T, R], neg bool, ps []Predicate[R]) Predicate[T] {
	if err := r.Err(); err != nil {
		return errPred[T](err)
	}
	q := r.q.Where(ps...)
	n := pnode{kind: pInSub, flags: negIf(neg), x: &pext{}}
	switch r.kind {
	case relBelongsTo:
		n.col = int32(r.fk)
		n.x.sub = subOf[R]{q: q, col: r.to.idCol()}
	case relManyToMany:
		n.col = int32(r.from.idCol())
		n.x.sub = pivotSub[R]{q: q, p: r.pivot}
	default:
		n.col = int32(r.from.idCol())
		n.x.sub = subOf[R]{q: q, col: r.fk}
	}
	return Predicate[T]{n}
}

// pivotSub is the subquery of the keys of a pivot paired with the rows of
// q: "SELECT key FROM pivot WHERE related_key IN (SELECT id FROM q's table
// WHERE ...)".
type pivotSub[R any] struct {
	q Query[R]
	p *pivotSpec
}

func (s pivotSub[R]) check() error { return subOf[R]{q: s.q, col: s.q.t.idCol()}.check() }

func (s pivotSub[R]) writeSub(w *predWriter, nonNull bool) error {
	if w.depth >= maxSubqueryDepth {
		return fmt.Errorf("repo: subquery of %s: nested more than %d deep", s.p.name, maxSubqueryDepth)
	}
	b := w.s
	b.WriteString("SELECT ")
	b.WriteString(s.p.key)
	b.WriteString(" FROM ")
	b.WriteString(s.p.qname)
	b.WriteString(" WHERE ")
	if nonNull {
		b.WriteString(s.p.key)
		b.WriteString(" IS NOT NULL AND ")
	}
	b.WriteString(s.p.rkey)
	b.WriteString(" IN (")
	iw := predWriter{s: b, cols: w.cols, args: w.args, depth: w.depth + 1}
	err := subOf[R]{q: s.q, col: s.q.t.idCol()}.writeSub(&iw, false)
	w.args = iw.args
	b.WriteByte(')')
	return err
}
