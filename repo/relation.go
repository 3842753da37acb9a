package repo

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/fasttrack-go/fasttrack/db"
)

// ErrNotLoaded is returned (wrapped) by the Get method of a relation
// holder (Many, One, Count) that was not loaded: the query that read the
// row did not ask for the relation (With, WithCount, LoadMissing). A holder
// never runs a query of its own.
var ErrNotLoaded = errors.New("repo: relation not loaded")

// holder is implemented by the relation holders; NewTable does not map a
// field whose type implements it to a column.
type holder interface{ relationHolder() }

// Many holds the related rows of a has-many or many-to-many relation: a
// field of the model that NewTable does not map to a column. It is filled
// by eager loading (Query.With, LoadMissing); the zero Many is not loaded.
type Many[R any] struct {
	rows   []R
	loaded bool
}

func (Many[R]) relationHolder() {}

// Get returns the related rows, an empty non-nil slice when there is none,
// or ErrNotLoaded when the relation was not loaded.
func (m Many[R]) Get() ([]R, error) {
	if !m.loaded {
		return nil, ErrNotLoaded
	}
	return m.rows, nil
}

// Loaded reports whether the relation was loaded.
func (m Many[R]) Loaded() bool { return m.loaded }

// Set sets the related rows and marks the relation loaded.
func (m *Many[R]) Set(rows []R) {
	if rows == nil {
		rows = []R{}
	}
	m.rows, m.loaded = rows, true
}

// IsZero reports whether the relation was not loaded, for the JSON
// option omitzero.
func (m Many[R]) IsZero() bool { return !m.loaded }

// MarshalJSON encodes the related rows as an array, or null when the
// relation was not loaded.
func (m Many[R]) MarshalJSON() ([]byte, error) {
	if !m.loaded {
		return []byte("null"), nil
	}
	return json.Marshal(m.rows)
}

// One holds the related row of a belongs-to or has-one relation: a field of
// the model that NewTable does not map to a column. It is filled by eager
// loading (Query.With, LoadMissing); the zero One is not loaded.
type One[R any] struct {
	row    *R
	loaded bool
}

func (One[R]) relationHolder() {}

// Get returns the related row, nil when there is none (a null foreign key,
// or no related row the relation's query keeps), or ErrNotLoaded when the
// relation was not loaded.
func (o One[R]) Get() (*R, error) {
	if !o.loaded {
		return nil, ErrNotLoaded
	}
	return o.row, nil
}

// Loaded reports whether the relation was loaded.
func (o One[R]) Loaded() bool { return o.loaded }

// Set sets the related row (nil for none) and marks the relation loaded.
func (o *One[R]) Set(row *R) { o.row, o.loaded = row, true }

// IsZero reports whether the relation was not loaded, for the JSON
// option omitzero.
func (o One[R]) IsZero() bool { return !o.loaded }

// MarshalJSON encodes the related row, or null when there is none or the
// relation was not loaded.
func (o One[R]) MarshalJSON() ([]byte, error) {
	if !o.loaded || o.row == nil {
		return []byte("null"), nil
	}
	return json.Marshal(o.row)
}

// Count holds how many related rows a row has, filled by Query.WithCount
// (or LoadMissing of a relation's Counts): a field of the model that
// NewTable does not map to a column. The zero Count is not loaded.
type Count struct {
	n      int64
	loaded bool
}

func (Count) relationHolder() {}

// Get returns the count, or ErrNotLoaded when it was not loaded.
func (c Count) Get() (int64, error) {
	if !c.loaded {
		return 0, ErrNotLoaded
	}
	return c.n, nil
}

// Loaded reports whether the count was loaded.
func (c Count) Loaded() bool { return c.loaded }

// Set sets the count and marks it loaded.
func (c *Count) Set(n int64) { c.n, c.loaded = n, true }

// IsZero reports whether the count was not loaded, for the JSON option
// omitzero.
func (c Count) IsZero() bool { return !c.loaded }

// MarshalJSON encodes the count as a number, or null when it was not
// loaded.
func (c Count) MarshalJSON() ([]byte, error) {
	if !c.loaded {
		return []byte("null"), nil
	}
	return json.Marshal(c.n)
}

// eagerLoad loads one relation into rows a query has read.
type eagerLoad[T any] interface {
	load(ctx context.Context, q db.Querier, rows []T) error
}

// Loader is a relation of T's rows that a query loads into them: a
// Relation[T, R] whatever R is (With, LoadMissing), or its Counts
// (WithCount). Only this package implements it.
type Loader[T any] interface {
	eagerLoad[T]
	// loadMissing loads the relation into the rows where it is not loaded.
	loadMissing(ctx context.Context, q db.Querier, rows []T) error
	// loaderErr returns the error the relation's declaration met, or nil.
	loaderErr() error
}

// With returns the query that loads each relation into the rows it reads
// (All, First, One, Chunks, Page, Keyset), one statement per relation,
// after the rows: the keys of the rows are deduplicated and bound as one
// parameter, so the statement's text does not change with their number.
// A relation's own With loads the next level, one statement per level. A
// relation declared with an error fails the query before anything is sent.
//
//	users, err := userTable.On(tx).Query().With(userPosts.With(postComments)).All(ctx)
func (q Query[T]) With(rels ...Loader[T]) Query[T] {
	if len(rels) == 0 {
		return q
	}
	with := make([]eagerLoad[T], len(q.with), len(q.with)+len(rels))
	copy(with, q.with)
	for _, r := range rels {
		if r == nil {
			if q.err == nil {
				q.err = errors.New("a nil relation is given to With")
			}
			continue
		}
		if err := r.loaderErr(); err != nil && q.err == nil {
			q.err = err
		}
		with = append(with, r)
	}
	q.with = with
	return q
}

// WithCount returns the query that fills, in the rows it reads, the Count
// field of each relation (declared by Relation.CountInto), with one grouped
// COUNT statement per relation. The relation's conditions, soft delete and
// global scopes apply to the rows counted. A relation without a Count
// field fails the query.
func (q Query[T]) WithCount(rels ...CountLoader[T]) Query[T] {
	ls := make([]Loader[T], 0, len(rels))
	for _, r := range rels {
		if r == nil {
			ls = append(ls, nil)
			continue
		}
		ls = append(ls, r.counts())
	}
	return q.With(ls...)
}

// CountLoader is a relation whose count WithCount fills: a Relation[T, R]
// whatever R is. Only this package implements it.
type CountLoader[T any] interface {
	counts() Loader[T]
}

// LoadMissing loads each relation into the rows of rows where it is not
// loaded yet (rows read without it, or made in memory), one statement per
// relation, as Query.With does; rows where it is loaded are left as they
// are, and nothing is sent when it is loaded everywhere. rows is changed in
// place.
func LoadMissing[T any](ctx context.Context, q db.Querier, rows []T, rels ...Loader[T]) error {
	for _, r := range rels {
		if r == nil {
			return errors.New("repo: load missing: a nil relation")
		}
		if err := r.loaderErr(); err != nil {
			return err
		}
	}
	for _, r := range rels {
		if err := r.loadMissing(ctx, q, rows); err != nil {
			return err
		}
	}
	return nil
}

// loadWith runs q's eager loads on rows, in the order they were added.
func (q Query[T]) loadWith(ctx context.Context, rows []T) error {
	if len(q.with) == 0 || len(rows) == 0 {
		return nil
	}
	for _, l := range q.with {
		if err := l.load(ctx, q.q, rows); err != nil {
			return err
		}
	}
	return nil
}
