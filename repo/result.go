package repo

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"strconv"

	"github.com/fasttrack-go/fasttrack/db"
)

// ErrMultipleRows is returned (wrapped) by Query.One when more than one row
// matches: the caller expected a unique row, and the data or the query
// says otherwise.
var ErrMultipleRows = errors.New("repo: more than one row")

// One returns the query's only row, or ErrNotFound when it has none, or
// ErrMultipleRows when it has more than one (it reads two rows to know).
// Its order and Offset apply, its Limit does not.
func (q Query[T]) One(ctx context.Context) (*T, error) {
	if err := q.prepRun("query one"); err != nil {
		return nil, err
	}
	q.limit = 2
	query, args, err := q.render(stmtSelect)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, 2)
	if err := q.reader(ctx).SelectContext(ctx, &out, query, args...); err != nil {
		return nil, q.t.wrap("query one", err)
	}
	switch len(out) {
	case 0:
		return nil, fmt.Errorf("repo: query one %s: %w", q.t.name, ErrNotFound)
	case 1:
		if err := q.loadWith(ctx, out); err != nil {
			return nil, err
		}
		return &out[0], nil
	}
	return nil, fmt.Errorf("repo: query one %s: %w", q.t.name, ErrMultipleRows)
}

// idCol returns the index of the id column.
func (t *Table[T]) idCol() int { return t.byName[idColumn] }

// idAfter returns the condition "id > after", or "id < after" when desc.
func (t *Table[T]) idAfter(after int64, desc bool) pnode {
	op := opGt
	if desc {
		op = opLt
	}
	return pnode{kind: pCmp, col: int32(t.idCol()), op: op, v: after}
}

// idOrder returns the query's direction along id when it is sorted by id
// alone (or not sorted, which is by id ascending), for the paging by key
// of Keyset and Chunks; ok is false when it has another sort key.
func (q Query[T]) idOrder() (desc, ok bool) {
	switch {
	case len(q.order) == 0:
		return false, true
	case len(q.order) == 1 && q.order[0].i == q.t.idCol():
		return q.order[0].desc, true
	}
	return false, false
}

// Chunks returns the query's rows in slices of at most n, fetched one
// slice per statement and paged by key: each statement asks for the rows
// after the last id of the previous slice (id > last, never an OFFSET), so
// a chunk costs the same at the end of a large table as at its start and
// rows written between chunks are neither skipped nor repeated. The rows
// follow id, ascending, or descending when the query is OrderBy(id.Desc());
// any other sort key is an error. The query's Limit caps the rows yielded
// in all; an Offset, or n < 1, is an error. A chunk is a new slice, which
// the caller may keep.
//
// Each statement reads its rows to the end before the chunk is yielded, so
// breaking out of the loop holds no connection. An error is yielded once,
// with a nil chunk, and ends the sequence.
//
// The chunks' statements (and their eager loads) share one text, chunk
// after chunk: they run under db.Batched, so the N+1 detector does not
// count them.
//
//	for users, err := range q.Chunks(ctx, 500) {
//		if err != nil {
//			return err
//		}
//		...
//	}
func (q Query[T]) Chunks(ctx context.Context, n int) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		if err := q.chunkCheck(n); err != nil {
			yield(nil, err)
			return
		}
		desc, _ := q.idOrder()
		left := q.limit // < 0: no limit
		var after int64
		bctx := db.Batched(ctx) // one text per chunk: a batch, not an N+1
		for first := true; left != 0; first = false {
			size := n
			if left > 0 && left < size {
				size = left
			}
			c := q
			if !first {
				c.where = append(q.where[:len(q.where):len(q.where)], q.t.idAfter(after, desc))
			}
			c.limit = size
			query, args, err := c.render(stmtSelect)
			if err != nil {
				yield(nil, err)
				return
			}
			chunk := make([]T, 0, size)
			if err := q.reader(bctx).SelectContext(bctx, &chunk, query, args...); err != nil {
				yield(nil, q.t.wrap("query chunks", err))
				return
			}
			if len(chunk) == 0 {
				return
			}
			if err := q.loadWith(bctx, chunk); err != nil {
				yield(nil, err)
				return
			}
			after = q.t.idOf(reflect.ValueOf(&chunk[len(chunk)-1]).Elem())
			if left > 0 {
				left -= len(chunk)
			}
			if !yield(chunk, nil) || len(chunk) < size {
				return
			}
		}
	}
}

// chunkCheck checks q and n for Chunks.
func (q Query[T]) chunkCheck(n int) error {
	if err := q.prepRun("query chunks"); err != nil {
		return err
	}
	if err := q.check(); err != nil {
		return err
	}
	if n < 1 {
		return fmt.Errorf("repo: query chunks %s: the chunk size must be at least 1, got %d", q.t.name, n)
	}
	if q.offset > 0 {
		return fmt.Errorf("repo: query chunks %s: a query with Offset cannot be read in chunks, which page by id", q.t.name)
	}
	if _, ok := q.idOrder(); !ok {
		return fmt.Errorf("repo: query chunks %s: chunks page by id: the query must be sorted by id alone (or not sorted)", q.t.name)
	}
	return nil
}

// pageable checks that q has neither Limit nor Offset, which a page sets.
func (q Query[T]) pageable(op string) error {
	if err := q.prepRun(op); err != nil {
		return err
	}
	if q.limit >= 0 || q.offset > 0 {
		return fmt.Errorf("repo: %s %s: the query has a Limit or Offset; the page gives them", op, q.t.name)
	}
	return nil
}

// Page returns one page of the query's rows by offset, as Base.All does
// for the whole table: p.Filters are ANDed to the query's conditions,
// p.Sort's keys follow the query's own (then id), and the page's Limit
// (DefaultLimit when 0, lowered to MaxLimit) and Offset apply. A query
// with its own Limit or Offset is an error; an unknown column or operator
// in p, or a negative limit or offset, is ErrInvalidQuery; nothing is sent
// then.
func (q Query[T]) Page(ctx context.Context, p Page) ([]T, error) {
	if err := q.pageable("query page"); err != nil {
		return nil, err
	}
	t := q.t
	limit, err := PageLimit(p.Limit)
	if err != nil {
		return nil, err
	}
	if p.Offset < 0 {
		return nil, &QueryError{Op: "page", Table: t.name, Detail: "the offset must not be negative, got " + strconv.Itoa(p.Offset)}
	}
	if q, err = q.withFilters(p.Filters); err != nil {
		return nil, err
	}
	if err := t.CheckSort(p.Sort); err != nil {
		return nil, err
	}
	for _, o := range p.Sort {
		q.order = append(q.order[:len(q.order):len(q.order)], Ordering[T]{i: t.byName[o.Column], desc: o.Desc, ok: true})
	}
	q.limit, q.offset = limit, p.Offset
	return q.All(ctx)
}

// Keyset returns one page of the query's rows ordered by id (descending
// with p.Desc) after the cursor p.After, and the cursor of the next page,
// "" after the last one, as Base.Keyset does for the whole table: p.Filters
// are ANDed to the query's conditions. Cursors are those of Base.Keyset, so
// a cursor returned by a query's page continues that query. A query with a
// sort key, a Limit or an Offset is an error; a cursor this package did not
// make is ErrBadCursor; an unknown filter column or operator, or a negative
// limit, is ErrInvalidQuery; nothing is sent then.
func (q Query[T]) Keyset(ctx context.Context, p KeysetPage) ([]T, string, error) {
	if err := q.pageable("query keyset"); err != nil {
		return nil, "", err
	}
	t := q.t
	if len(q.order) > 0 {
		return nil, "", fmt.Errorf("repo: query keyset %s: the query has a sort key; keyset pages are ordered by id (KeysetPage.Desc)", t.name)
	}
	limit, err := PageLimit(p.Limit)
	if err != nil {
		return nil, "", err
	}
	if p.After != "" {
		after, err := decodeCursor(p.After)
		if err != nil {
			return nil, "", fmt.Errorf("repo: query keyset %s: %w", t.name, err)
		}
		q.where = append(q.where[:len(q.where):len(q.where)], t.idAfter(after, p.Desc))
	}
	if q, err = q.withFilters(p.Filters); err != nil {
		return nil, "", err
	}
	if p.Desc {
		q.order = []Ordering[T]{{i: t.idCol(), desc: true, ok: true}}
	}
	q.limit = limit + 1 // one more row tells whether a next page exists
	out, err := q.All(ctx)
	if err != nil || len(out) <= limit {
		return out, "", err
	}
	out = out[:limit]
	return out, encodeCursor(t.idOf(reflect.ValueOf(&out[limit-1]).Elem())), nil
}

// withFilters returns q with fs ANDed to its conditions, each checked as
// Base.All checks a Filter.
func (q Query[T]) withFilters(fs []Filter) (Query[T], error) {
	if len(fs) == 0 {
		return q, nil
	}
	where := make([]pnode, len(q.where), len(q.where)+len(fs))
	copy(where, q.where)
	for _, f := range fs {
		n, err := q.t.filterNode(f)
		if err != nil {
			return q, err
		}
		where = append(where, n)
	}
	q.where = where
	return q, nil
}
