// Package factory builds test values of a model, numbered by a sequence,
// and inserts them through the model's repository:
//
//	users := factory.New(func(seq int) User {
//		return User{Name: fmt.Sprintf("user %d", seq), Email: fmt.Sprintf("user%d@example.com", seq)}
//	})
//	admins := users.With(func(u *User) { u.Admin = true })
//	saved, err := admins.Create(ctx, table, tx, 3)
//
// Relations are typed: For links each value to a parent (BelongsTo creates
// it, Existing names one), Has creates children of each value (HasMany):
//
//	postFactory := factory.New(func(seq int) Post { return Post{Title: fmt.Sprintf("post %d", seq)} })
//	saved, err := postFactory.
//		For(factory.BelongsTo(users, userTable, func(p *Post, u *User) { p.UserID = u.ID })).
//		Has(factory.HasMany(3, comments, commentTable, func(c *Comment, p *Post) { c.PostID = p.ID })).
//		Create(ctx, postTable, tx, 2) // 1 user, 2 posts, 6 comments
//
// A Factory holds no connection and no package-level state; it is safe for
// concurrent use.
package factory

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

// Factory builds test values of T: fn gives the defaults for the seq-th
// value (1, 2, 3, …), overrides adjust them. It is safe for concurrent use.
type Factory[T any] struct {
	fn        func(seq int) T
	overrides []func(*T)
	// seq is the last sequence number given out, shared by f and its With
	// copies.
	seq *atomic.Int64
	// parents and children are the relations Create makes (For, Has).
	parents  []Parent[T]
	children []Children[T]
}

// New returns a Factory whose seq-th value starts as fn(seq); a nil fn
// starts every value as T's zero value.
func New[T any](fn func(seq int) T) *Factory[T] {
	return &Factory[T]{fn: fn, seq: new(atomic.Int64)}
}

// With returns a copy of f whose values get override applied after the
// defaults (overrides compose in order: f's first, then override). f is
// unchanged, and the copy shares f's sequence. A nil override adds nothing.
func (f *Factory[T]) With(override func(*T)) *Factory[T] {
	c := *f
	if override != nil {
		// Clipped, so that two copies made from one Factory never share
		// the backing array they append to.
		c.overrides = append(slices.Clip(f.overrides), override)
	}
	return &c
}

// One builds one value (next sequence number).
func (f *Factory[T]) One() T {
	return f.build(int(f.seq.Add(1)))
}

// build returns the defaults of seq with every override applied.
func (f *Factory[T]) build(seq int) T {
	var v T
	if f.fn != nil {
		v = f.fn(seq)
	}
	for _, o := range f.overrides {
		o(&v)
	}
	return v
}

// Make builds n values, not saved, with n consecutive sequence numbers. It
// panics if n is negative.
func (f *Factory[T]) Make(n int) []T {
	if n < 0 {
		panic(fmt.Sprintf("factory: Make(%d): negative count", n))
	}
	last := int(f.seq.Add(int64(n)))
	vs := make([]T, n)
	for i := range vs {
		vs[i] = f.build(last - n + 1 + i)
	}
	return vs
}

// Create builds n values and inserts them through the repository of table on
// q (Base[T].CreateMany, one multi-row INSERT per 500 rows), returning them
// with their ids (and timestamps) set. Errors are the repository's: a unique
// violation is repo.ErrConflict. On error it returns nil; run it in a
// transaction (db.WithTx) for a failure to undo earlier inserts. A negative n
// is an error. The parents of For are resolved before the insert, the
// children of Has created after it, in the order they were added.
func (f *Factory[T]) Create(ctx context.Context, table *repo.Table[T], q db.Querier, n int) ([]T, error) {
	return f.create(ctx, table, q, n, nil)
}

// create is Create, with adjust (when not nil) called on the i-th value
// after its parents are set, before the insert.
func (f *Factory[T]) create(ctx context.Context, table *repo.Table[T], q db.Querier, n int, adjust func(i int, v *T)) ([]T, error) {
	if n < 0 {
		return nil, fmt.Errorf("factory: create %d: negative count", n)
	}
	vs := f.Make(n)
	for _, p := range f.parents {
		link, err := p.resolve(ctx, q)
		if err != nil {
			return nil, err
		}
		for i := range vs {
			link(&vs[i])
		}
	}
	ps := make([]*T, n)
	for i := range vs {
		if adjust != nil {
			adjust(i, &vs[i])
		}
		ps[i] = &vs[i]
	}
	if err := table.On(q).CreateMany(ctx, ps); err != nil {
		return nil, err
	}
	for _, c := range f.children {
		if err := c.create(ctx, q, vs); err != nil {
			return nil, err
		}
	}
	return vs, nil
}

// CreateOne is Create for one value.
func (f *Factory[T]) CreateOne(ctx context.Context, table *repo.Table[T], q db.Querier) (T, error) {
	vs, err := f.Create(ctx, table, q, 1)
	if err != nil {
		var zero T
		return zero, err
	}
	return vs[0], nil
}
