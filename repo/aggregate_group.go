package repo

import (
	"fmt"
	"slices"
)

// Grouped is a query's rows grouped by columns, made by GroupBy: the
// source of SelectGroups, one result row per group. Like a Query it is an
// immutable value.
type Grouped[T any] struct {
	q      Query[T]
	keys   []int
	having []pnode
	err    error
}

// GroupBy groups the rows q matches (soft-deleted rows left out unless q is
// WithTrashed) by keys, in that order. q's order is ignored; a Limit or
// Offset on q, or no key, is an error when the grouped query is rendered.
func GroupBy[T any](q Query[T], keys ...Grouper[T]) Grouped[T] {
	g := Grouped[T]{q: q}
	for _, k := range keys {
		if k == nil {
			g.err = fmt.Errorf("repo: group by: a nil key")
			break
		}
		i, err := k.groupKey(nil)
		if err != nil {
			g.err = err
			break
		}
		g.keys = append(g.keys, i)
	}
	return g
}

// Having returns the grouped query with every p ANDed to its group
// conditions: predicates on aggregates (CountAll[T]().Gt(5),
// SumOf(qty).Ge(10)) and on grouping keys, combined as in Where.
func (g Grouped[T]) Having(ps ...Predicate[T]) Grouped[T] {
	h := make([]pnode, len(g.having), len(g.having)+len(ps))
	copy(h, g.having)
	for _, p := range ps {
		h = append(h, p.n)
	}
	g.having = h
	return g
}

// check returns the grouped query's first error.
func (g Grouped[T]) check() error {
	if err := g.q.check(); err != nil {
		return err
	}
	t := g.q.t
	switch {
	case g.err != nil:
		return fmt.Errorf("repo: group by %s: %w", t.name, g.err)
	case len(g.keys) == 0:
		return fmt.Errorf("repo: group by %s: no key", t.name)
	case g.q.limit >= 0 || g.q.offset > 0:
		return fmt.Errorf("repo: group by %s: a Limit or Offset on the grouped query is not supported", t.name)
	}
	if err := noLock(g.q, "a grouped query"); err != nil {
		return err
	}
	for i := range g.having {
		n := &g.having[i]
		if err := checkNode(n, true); err != nil {
			return fmt.Errorf("repo: group by %s: %w", t.name, err)
		}
		if i, ok := g.ungrouped(n); !ok {
			return fmt.Errorf("repo: group by %s: Having on column %s, which is not a grouping key", t.name, t.cols[i].name)
		}
	}
	return nil
}

// ungrouped returns a column of n's tree, outside an aggregate, that is not
// a grouping key.
func (g Grouped[T]) ungrouped(n *pnode) (int, bool) {
	switch n.kind {
	case pAnd, pOr, pNot:
		kids := n.kids()
		for j := range kids {
			if i, ok := g.ungrouped(&kids[j]); !ok {
				return i, false
			}
		}
		return 0, true
	case pExists:
		return 0, true // its own table's columns
	}
	if n.agg != aggNone || slices.Contains(g.keys, int(n.col)) {
		return 0, true
	}
	return int(n.col), false
}

// SelectGroups returns the projection of g: one P per group, ordered by the
// grouping keys ascending, each field a grouping key or an aggregate of the
// group. A column that is not a grouping key is an error.
func SelectGroups[P, T any](g Grouped[T], fields ...Field[P, T]) Projection[P] {
	p := projection(g.q, fields)
	if p.err == nil && len(fields) == 0 {
		p.err = noFields(g.q.t.name)
	}
	if p.err != nil {
		return p
	}
	for _, f := range fields {
		if f.e.agg == aggNone && !slices.Contains(g.keys, f.e.col) {
			p.err = fmt.Errorf("repo: select groups %s: field %s selects column %s, which is not a grouping key", g.q.t.name, f.alias, g.q.t.cols[f.e.col].name)
			return p
		}
	}
	p.render = func() (string, []any, error) {
		if err := g.check(); err != nil {
			return "", nil, err
		}
		t := g.q.t
		s := t.newBuf()
		w := predWriter{s: s, cols: t.cols}
		s.WriteString("SELECT ")
		writeFields(s, "", t, fields, true)
		s.WriteString(" FROM ")
		s.WriteString(t.qname)
		if err := g.q.writeWhere(&w, g.q.trashed); err != nil {
			return "", nil, err
		}
		s.WriteString(" GROUP BY ")
		g.writeKeys(s)
		for i := range g.having {
			if i == 0 {
				s.WriteString(" HAVING ")
			} else {
				s.WriteString(" AND ")
			}
			if err := w.write(&g.having[i]); err != nil {
				return "", nil, fmt.Errorf("repo: group by %s: %w", t.name, err)
			}
		}
		s.WriteString(" ORDER BY ")
		g.writeKeys(s)
		return s.String(), w.args, nil
	}
	return p
}

// writeKeys writes the grouping keys, separated by commas.
func (g Grouped[T]) writeKeys(s *sqlBuf) {
	for i, k := range g.keys {
		if i > 0 {
			s.WriteString(", ")
		}
		s.WriteString(g.q.t.cols[k].quoted)
	}
}
