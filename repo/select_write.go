package repo

import (
	"context"
	"fmt"
)

// Assignment is one "column = value" of a bulk Update, made by Column.Set.
// Like a Predicate it is an immutable value; its value is always bound.
type Assignment[T any] struct {
	i   int
	v   any
	ok  bool
	err error
}

// Set assigns v to the column in Query.Update; a nil v (a nil pointer)
// writes NULL.
func (c Column[T, V]) Set(v V) Assignment[T] {
	return Assignment[T]{i: c.i, v: v, ok: true, err: c.Err()}
}

// checkWrite checks q for Update and Delete: it runs on a Querier and has
// no Limit or Offset, which not every database allows on a write.
func (q Query[T]) checkWrite(op string) error {
	if err := q.prepRun(op); err != nil {
		return err
	}
	if err := q.check(); err != nil {
		return err
	}
	if q.limit >= 0 || q.offset > 0 {
		return fmt.Errorf("repo: %s %s: a query with Limit or Offset cannot update or delete (PostgreSQL and SQLite have no UPDATE ... LIMIT)", op, q.t.name)
	}
	return nil
}

// Update sets the assigned columns of every row the query matches (leaving
// soft-deleted rows alone unless it is WithTrashed, and rows out of a global
// scope unless it is Without that scope) in one UPDATE, and
// returns how many rows matched. With Timestamps it sets updated_at to now
// (unless an assignment sets it); with Versioned it increments version, so
// that an Update of a copy loaded before fails with ErrConflict. The
// query's order is ignored; a Limit or Offset, no assignment, a column
// assigned twice, or an assignment to id or version is an error, and
// nothing is sent. Model events do not fire.
func (q Query[T]) Update(ctx context.Context, sets ...Assignment[T]) (int64, error) {
	if err := q.checkWrite("query update"); err != nil {
		return 0, err
	}
	t := q.t
	if len(sets) == 0 {
		return 0, fmt.Errorf("repo: query update %s: no column to set", t.name)
	}
	seen := make(map[int]bool, len(sets))
	for _, a := range sets {
		switch {
		case !a.ok:
			return 0, fmt.Errorf("repo: query update %s: a zero Assignment (not made by Column.Set) is used", t.name)
		case a.err != nil:
			return 0, fmt.Errorf("repo: query update %s: %w", t.name, a.err)
		case seen[a.i]:
			return 0, fmt.Errorf("repo: query update %s: column %s is set twice", t.name, t.cols[a.i].name)
		case t.cols[a.i].name == idColumn, t.vr.ok && t.cols[a.i].name == "version":
			return 0, fmt.Errorf("repo: query update %s: column %s is managed by the repository and cannot be set", t.name, t.cols[a.i].name)
		}
		seen[a.i] = true
	}
	s := t.newBuf()
	w := predWriter{s: s, cols: t.cols, args: make([]any, 0, len(sets)+1+len(q.where))}
	s.WriteString("UPDATE ")
	s.WriteString(t.qname)
	s.WriteString(" SET ")
	for i, a := range sets {
		if i > 0 {
			s.WriteString(", ")
		}
		s.WriteString(t.cols[a.i].quoted)
		s.WriteString(" = ")
		w.bind(a.v)
	}
	if t.ts.ok && !seen[t.byName["updated_at"]] {
		s.WriteString(", ")
		s.WriteString(t.q("updated_at"))
		s.WriteString(" = ")
		w.bind(now())
	}
	if t.vr.ok {
		v := t.q("version")
		s.WriteString(", ")
		s.WriteString(v)
		s.WriteString(" = ")
		s.WriteString(v)
		s.WriteString(" + 1")
	}
	if err := q.writeWhere(&w, q.trashed); err != nil {
		return 0, err
	}
	return q.exec(ctx, "query update", s.String(), w.args)
}

// Delete deletes every row the query matches and returns how many: with
// SoftDelete it sets deleted_at to now on those not deleted yet (even on a
// WithTrashed query, which changes nothing here), otherwise it removes them
// in one DELETE. A Limit or Offset is an error, and nothing is sent. Model
// events do not fire.
func (q Query[T]) Delete(ctx context.Context) (int64, error) {
	if err := q.checkWrite("query delete"); err != nil {
		return 0, err
	}
	t := q.t
	if !t.sd.ok {
		return q.hardDelete(ctx, "query delete")
	}
	s := t.newBuf()
	w := predWriter{s: s, cols: t.cols, args: make([]any, 0, 1+len(q.where))}
	s.WriteString("UPDATE ")
	s.WriteString(t.qname)
	s.WriteString(" SET ")
	s.WriteString(t.q("deleted_at"))
	s.WriteString(" = ")
	w.bind(now())
	if err := q.writeWhere(&w, false); err != nil {
		return 0, err
	}
	return q.exec(ctx, "query delete", s.String(), w.args)
}

// ForceDelete removes every row the query matches for good, in one DELETE,
// and returns how many. Soft-deleted rows are among them only when the query
// is WithTrashed. A Limit or Offset is an error, and nothing is sent. Model
// events do not fire.
func (q Query[T]) ForceDelete(ctx context.Context) (int64, error) {
	if err := q.checkWrite("query force delete"); err != nil {
		return 0, err
	}
	return q.hardDelete(ctx, "query force delete")
}

// hardDelete runs DELETE FROM for q.
func (q Query[T]) hardDelete(ctx context.Context, op string) (int64, error) {
	t := q.t
	s := t.newBuf()
	w := predWriter{s: s, cols: t.cols, args: make([]any, 0, len(q.where))}
	s.WriteString("DELETE FROM ")
	s.WriteString(t.qname)
	if err := q.writeWhere(&w, q.trashed); err != nil {
		return 0, err
	}
	return q.exec(ctx, op, s.String(), w.args)
}

// exec runs a write and returns the rows it affected.
func (q Query[T]) exec(ctx context.Context, op, query string, args []any) (int64, error) {
	res, err := q.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, q.t.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, q.t.wrap(op, err)
	}
	return n, nil
}
