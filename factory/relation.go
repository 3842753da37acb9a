package factory

import (
	"context"
	"fmt"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

// Parent is a row that a Factory's values belong to (For): BelongsTo
// creates it, Existing names one already made.
type Parent[T any] struct {
	// resolve returns the function that links a value to the parent,
	// creating the parent first when needed.
	resolve func(ctx context.Context, q db.Querier) (func(*T), error)
}

// Children are rows that a Factory creates after its values, for each of
// them (Has): HasMany builds them.
type Children[T any] struct {
	create func(ctx context.Context, q db.Querier, parents []T) error
}

// BelongsTo is a parent built by parents and inserted through table on
// the Create's querier, once per Create call; link sets it on each value
// (typically its foreign key: func(p *Post, u *User) { p.UserID = u.ID }).
func BelongsTo[T, P any](parents *Factory[P], table *repo.Table[P], link func(child *T, parent *P)) Parent[T] {
	return Parent[T]{resolve: func(ctx context.Context, q db.Querier) (func(*T), error) {
		p, err := parents.CreateOne(ctx, table, q)
		if err != nil {
			return nil, fmt.Errorf("factory: parent: %w", err)
		}
		return func(v *T) { link(v, &p) }, nil
	}}
}

// Existing is the parent p, already stored; link sets it on each value.
func Existing[T, P any](p P, link func(child *T, parent *P)) Parent[T] {
	return Parent[T]{resolve: func(context.Context, db.Querier) (func(*T), error) {
		return func(v *T) { link(v, &p) }, nil
	}}
}

// HasMany is n children of each value, built by children (with their own
// For and Has) and inserted through table after the values, all of them in
// one Create of children; link sets the parent on each (typically the
// child's foreign key: func(c *Comment, p *Post) { c.PostID = p.ID }). A
// negative n is an error of the Create.
func HasMany[T, C any](n int, children *Factory[C], table *repo.Table[C], link func(child *C, parent *T)) Children[T] {
	return Children[T]{create: func(ctx context.Context, q db.Querier, parents []T) error {
		if n < 0 {
			return fmt.Errorf("factory: has many: negative count %d", n)
		}
		_, err := children.create(ctx, table, q, n*len(parents), func(i int, c *C) { link(c, &parents[i/n]) })
		if err != nil {
			return fmt.Errorf("factory: children: %w", err)
		}
		return nil
	}}
}

// For returns a copy of f whose values belong to parent: Create resolves
// it (creating it when it is BelongsTo) before inserting the values. Make
// and One do not use it. f is unchanged.
func (f *Factory[T]) For(parent Parent[T]) *Factory[T] {
	c := *f
	c.parents = append(c.parents[:len(c.parents):len(c.parents)], parent)
	return &c
}

// Has returns a copy of f that, in Create, creates children after
// inserting the values. Make and One do not use it. f is unchanged.
func (f *Factory[T]) Has(children Children[T]) *Factory[T] {
	c := *f
	c.children = append(c.children[:len(c.children):len(c.children)], children)
	return &c
}
