package db

import (
	"context"
	"database/sql"
	"reflect"

	"github.com/jmoiron/sqlx"
)

// ExecContext executes query on the primary.
func (c *Cluster) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.primary.ExecContext(ctx, query, args...)
}

// QueryxContext runs query on the primary.
func (c *Cluster) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	return c.primary.QueryxContext(ctx, query, args...)
}

// GetContext scans one row of query, run on the primary, into dest.
func (c *Cluster) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	return c.primary.GetContext(ctx, dest, query, args...)
}

// SelectContext scans the rows of query, run on the primary, into dest.
func (c *Cluster) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	return c.primary.SelectContext(ctx, dest, query, args...)
}

// Rebind rewrites ? placeholders into the dialect's bind style.
func (c *Cluster) Rebind(query string) string { return c.dialect.Rebind(query) }

// DriverName returns the primary's database/sql driver name.
func (c *Cluster) DriverName() string { return c.primary.DriverName() }

// ReadQuerier returns the Querier of a read on ctx outside a transaction:
// a replica in rotation that has replayed the position of ctx
// (WithPosition), or the primary. A statement the replica fails (a broken
// connection, a server shutting down) takes it out of rotation and runs
// again on the primary. The query builder's reads (package repo) run on
// it when given the Cluster.
func (c *Cluster) ReadQuerier(ctx context.Context) Querier {
	if n := c.pick(PositionFrom(ctx)); n != nil {
		return n
	}
	return c.primary
}

// ReadRouter is a Querier that knows where a read should run: the query
// builder's reads run on ReadQuerier's. *Cluster is one.
type ReadRouter interface {
	Querier
	// ReadQuerier returns the Querier of a read on ctx.
	ReadQuerier(ctx context.Context) Querier
}

// ExecContext executes query on the replica, or on the primary if the
// replica fails.
func (n *node) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := n.DB.ExecContext(ctx, query, args...)
	if n.failed(err) {
		return n.c.primary.ExecContext(ctx, query, args...)
	}
	return res, err
}

// QueryxContext runs query on the replica, or on the primary if the
// replica fails.
func (n *node) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	rows, err := n.DB.QueryxContext(ctx, query, args...)
	if n.failed(err) {
		return n.c.primary.QueryxContext(ctx, query, args...)
	}
	return rows, err
}

// GetContext scans one row of query into dest, from the replica, or from
// the primary if the replica fails.
func (n *node) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	err := n.DB.GetContext(ctx, dest, query, args...)
	if n.failed(err) {
		return n.c.primary.GetContext(ctx, dest, query, args...)
	}
	return err
}

// SelectContext scans the rows of query into dest, from the replica, or
// from the primary if the replica fails.
func (n *node) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	err := n.DB.SelectContext(ctx, dest, query, args...)
	if n.failed(err) {
		emptySlice(dest)
		return n.c.primary.SelectContext(ctx, dest, query, args...)
	}
	return err
}

// Rebind rewrites ? placeholders into the dialect's bind style.
func (n *node) Rebind(query string) string { return n.c.dialect.Rebind(query) }

// DriverName returns the replica's database/sql driver name.
func (n *node) DriverName() string { return n.DB.DriverName() }

// failed reports whether err is the replica's failure, and then takes it
// out of rotation.
func (n *node) failed(err error) bool {
	if !n.c.isReplicaFailure(err) {
		return false
	}
	n.c.markDown(n, err)
	return true
}

// emptySlice empties the slice dest points to, if it points to one: a
// statement run again appends its rows afresh.
func emptySlice(dest any) {
	if v := reflect.ValueOf(dest); v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Slice {
		v.Elem().SetLen(0)
	}
}
