package repo

import (
	"context"
	"fmt"
	"slices"

	"github.com/fasttrack-go/fasttrack/db"
)

// PivotValues are values of a pivot's Columns (declared in Pivot.Columns),
// by column name, for AttachWith and SyncWith. A name that is not declared
// is an error; the values are bound.
type PivotValues map[string]any

// maxPivotRows bounds the rows of one INSERT into a pivot.
const maxPivotRows = 500

// pivotOf returns r's pivot, or an error when r is not a many-to-many
// relation.
func (r Relation[T, R]) pivotOf(op string) (*pivotSpec, error) {
	if err := r.Err(); err != nil {
		return nil, err
	}
	if r.kind != relManyToMany {
		return nil, fmt.Errorf("repo: %s: %s is for many-to-many relations", r.name(), op)
	}
	return r.pivot, nil
}

// Attach pairs the row of T whose id is id with each row of R in
// relatedIDs, in q (the caller's transaction, or any Querier), inserting
// the missing pivot rows. A pair already attached is left as it is, also
// when another transaction attaches it at the same time: the insert skips
// a row that would break the pivot's unique key on its two keys
// (ON CONFLICT DO NOTHING; ON DUPLICATE KEY UPDATE on MySQL), so two
// requests attaching the same pair make one row and no error.
func (r Relation[T, R]) Attach(ctx context.Context, q db.Querier, id int64, relatedIDs ...int64) error {
	return r.attach(ctx, q, "attach", id, nil, relatedIDs)
}

// AttachWith is Attach, setting the pivot columns of values on each pair,
// those already attached included (an insert, or an update of the pair's
// row).
func (r Relation[T, R]) AttachWith(ctx context.Context, q db.Querier, id int64, values PivotValues, relatedIDs ...int64) error {
	return r.attach(ctx, q, "attach", id, values, relatedIDs)
}

// Detach removes the pairs of the row id with each row of relatedIDs, and
// returns how many pivot rows it removed.
func (r Relation[T, R]) Detach(ctx context.Context, q db.Querier, id int64, relatedIDs ...int64) (int64, error) {
	p, err := r.pivotOf("detach")
	if err != nil {
		return 0, err
	}
	if len(relatedIDs) == 0 {
		return 0, nil
	}
	return r.deletePairs(ctx, q, p, "detach", id, relatedIDs, false)
}

// Sync makes relatedIDs the rows of R paired with the row id: it removes
// the other pairs and attaches the missing ones (as Attach); pairs kept
// keep their pivot columns. An empty relatedIDs detaches everything.
func (r Relation[T, R]) Sync(ctx context.Context, q db.Querier, id int64, relatedIDs ...int64) error {
	p, err := r.pivotOf("sync")
	if err != nil {
		return err
	}
	if _, err := r.deletePairs(ctx, q, p, "sync", id, relatedIDs, true); err != nil {
		return err
	}
	return r.attach(ctx, q, "sync", id, nil, relatedIDs)
}

// SyncWith is Sync with each pair's pivot columns: the keys of related are
// the rows of R paired with the row id, each with its values set.
func (r Relation[T, R]) SyncWith(ctx context.Context, q db.Querier, id int64, related map[int64]PivotValues) error {
	p, err := r.pivotOf("sync")
	if err != nil {
		return err
	}
	ids := slices.Sorted(func(yield func(int64) bool) {
		for k := range related {
			if !yield(k) {
				return
			}
		}
	})
	// One multi-row insert per set of columns the values name: a statement
	// per id would run the same text once per pair.
	type group struct {
		cols []int
		ids  []int64
	}
	groups := map[string]*group{}
	var keys []string
	for _, rid := range ids {
		cols, err := p.valueCols(related[rid])
		if err != nil {
			return fmt.Errorf("repo: sync %s: %w", r.name(), err)
		}
		k := colsKey(cols)
		g := groups[k]
		if g == nil {
			g = &group{cols: cols}
			groups[k] = g
			keys = append(keys, k)
		}
		g.ids = append(g.ids, rid)
	}
	if _, err := r.deletePairs(ctx, q, p, "sync", id, ids, true); err != nil {
		return err
	}
	slices.Sort(keys)
	valuesOf := func(rid int64) PivotValues { return related[rid] }
	for _, k := range keys {
		g := groups[k]
		if err := r.insertPairs(ctx, q, p, "sync", id, g.cols, g.ids, valuesOf); err != nil {
			return err
		}
	}
	return nil
}

// colsKey returns a key of the column indices cols, equal for equal sets.
func colsKey(cols []int) string {
	b := make([]byte, 0, 4*len(cols))
	for _, c := range cols {
		b = fmt.Appendf(b, "%d,", c)
	}
	return string(b)
}

// valueCols returns the indices, among p.cols, of the columns values sets,
// in declaration order.
func (p *pivotSpec) valueCols(values PivotValues) ([]int, error) {
	var out []int
	for name := range values {
		i := slices.Index(p.cols, name)
		if i < 0 {
			return nil, fmt.Errorf("pivot %s: %q is not one of its declared Columns %q", p.name, name, p.cols)
		}
		out = append(out, i)
	}
	slices.Sort(out)
	return out, nil
}

// attach inserts the pairs (id, each of relatedIDs) with values.
func (r Relation[T, R]) attach(ctx context.Context, q db.Querier, op string, id int64, values PivotValues, relatedIDs []int64) error {
	p, err := r.pivotOf(op)
	if err != nil {
		return err
	}
	cols, err := p.valueCols(values)
	if err != nil {
		return fmt.Errorf("repo: %s %s: %w", op, r.name(), err)
	}
	ids := slices.Compact(slices.Sorted(slices.Values(relatedIDs)))
	return r.insertPairs(ctx, q, p, op, id, cols, ids, func(int64) PivotValues { return values })
}

// insertPairs inserts the pairs (id, each of ids, distinct) with the pivot
// columns cols set from valuesOf(related id), in statements of at most
// maxPivotRows rows.
func (r Relation[T, R]) insertPairs(ctx context.Context, q db.Querier, p *pivotSpec, op string, id int64, cols []int, ids []int64, valuesOf func(int64) PivotValues) error {
	d := r.from.d
	for len(ids) > 0 {
		n := min(len(ids), maxPivotRows)
		s := &sqlBuf{d: d}
		s.WriteString("INSERT INTO ")
		s.WriteString(p.qname)
		s.WriteString(" (")
		s.WriteString(p.key)
		s.WriteString(", ")
		s.WriteString(p.rkey)
		for _, c := range cols {
			s.WriteString(", ")
			s.WriteString(p.qcols[c])
		}
		s.WriteString(") VALUES ")
		args := make([]any, 0, n*(2+len(cols)))
		for i, rid := range ids[:n] {
			if i > 0 {
				s.WriteString(", ")
			}
			s.WriteByte('(')
			s.bind()
			s.WriteString(", ")
			s.bind()
			args = append(args, id, rid)
			values := valuesOf(rid)
			for _, c := range cols {
				s.WriteString(", ")
				s.bind()
				args = append(args, values[p.cols[c]])
			}
			s.WriteByte(')')
		}
		p.writeOnConflict(s, cols)
		if _, err := q.ExecContext(ctx, s.String(), args...); err != nil {
			return r.from.wrap(op+" "+r.name()+":", err)
		}
		ids = ids[n:]
	}
	return nil
}

// writeOnConflict writes the clause that makes an insert of an attached
// pair skip it, or set the columns cols.
func (p *pivotSpec) writeOnConflict(s *sqlBuf, cols []int) {
	if s.d == db.MySQL {
		s.WriteString(" ON DUPLICATE KEY UPDATE ")
		if len(cols) == 0 {
			s.WriteString(p.key)
			s.WriteString(" = ")
			s.WriteString(p.key)
			return
		}
		for i, c := range cols {
			if i > 0 {
				s.WriteString(", ")
			}
			s.WriteString(p.qcols[c])
			s.WriteString(" = VALUES(")
			s.WriteString(p.qcols[c])
			s.WriteByte(')')
		}
		return
	}
	if len(cols) == 0 {
		s.WriteString(" ON CONFLICT DO NOTHING")
		return
	}
	s.WriteString(" ON CONFLICT (")
	s.WriteString(p.key)
	s.WriteString(", ")
	s.WriteString(p.rkey)
	s.WriteString(") DO UPDATE SET ")
	for i, c := range cols {
		if i > 0 {
			s.WriteString(", ")
		}
		s.WriteString(p.qcols[c])
		s.WriteString(" = excluded.")
		s.WriteString(p.qcols[c])
	}
}

// deletePairs deletes the pivot rows of id whose related key is in
// relatedIDs, or (others) is not.
func (r Relation[T, R]) deletePairs(ctx context.Context, q db.Querier, p *pivotSpec, op string, id int64, relatedIDs []int64, others bool) (int64, error) {
	s := &sqlBuf{d: r.from.d}
	s.WriteString("DELETE FROM ")
	s.WriteString(p.qname)
	s.WriteString(" WHERE ")
	s.WriteString(p.key)
	s.WriteString(" = ")
	s.bind()
	args := []any{id}
	if len(relatedIDs) > 0 {
		keys := make([]any, len(relatedIDs))
		for i, k := range relatedIDs {
			keys[i] = k
		}
		s.WriteString(" AND ")
		if others {
			s.WriteString("NOT (")
		}
		var err error
		if args, err = writeKeyIn(s, p.rkey, keys, args); err != nil {
			return 0, fmt.Errorf("repo: %s %s: %w", op, r.name(), err)
		}
		if others {
			s.WriteByte(')')
		}
	} else if !others {
		return 0, nil
	}
	res, err := q.ExecContext(ctx, s.String(), args...)
	if err != nil {
		return 0, r.from.wrap(op+" "+r.name()+":", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, r.from.wrap(op+" "+r.name()+":", err)
	}
	return n, nil
}
