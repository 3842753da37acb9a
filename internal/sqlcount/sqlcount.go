// Package sqlcount opens a pool whose connections count what they send —
// BEGINs, statements, prepares, commits and rollbacks — so that tests can
// prove, for example, that a request that touches no database sends no
// BEGIN.
package sqlcount

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync/atomic"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/dburl"
	"github.com/jmoiron/sqlx"
)

// Counter counts what the pool's connections sent. Statements counts each
// statement run, prepared or not; Prepares counts the statements prepared,
// and PreparedRuns the runs of a prepared statement.
type Counter struct {
	Begins, Statements, Commits, Rollbacks atomic.Int64
	Prepares, PreparedRuns                 atomic.Int64
}

// Open opens a counting pool on a FastTrack database URL.
func Open(databaseURL string) (*sqlx.DB, *Counter, error) {
	t, err := dburl.Parse(databaseURL)
	if err != nil {
		return nil, nil, err
	}
	inner, err := db.Connector(t)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlcount: %w", err)
	}
	c := &Counter{}
	return db.Wrap(sql.OpenDB(&connector{inner: inner, c: c}), t.Driver), c, nil
}

// connector wraps the connections of the connector db.Open uses.
type connector struct {
	inner driver.Connector
	c     *Counter
}

func (k *connector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := k.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{Conn: cn, c: k.c}, nil
}

func (k *connector) Driver() driver.Driver { return k.inner.Driver() }

// conn counts and forwards to the driver's connection.
type conn struct {
	driver.Conn
	c *Counter
}

func (cn *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	cn.c.Begins.Add(1)
	tx, err := cn.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &countTx{Tx: tx, c: cn.c}, nil
}

func (cn *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := cn.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	res, err := e.ExecContext(ctx, query, args)
	if err != driver.ErrSkip {
		cn.c.Statements.Add(1)
	}
	return res, err
}

func (cn *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := cn.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := q.QueryContext(ctx, query, args)
	if err != driver.ErrSkip {
		cn.c.Statements.Add(1)
	}
	return rows, err
}

func (cn *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	cn.c.Prepares.Add(1)
	var st driver.Stmt
	var err error
	if p, ok := cn.Conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = cn.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &stmt{Stmt: st, c: cn.c, cn: cn}, nil
}

// stmt counts the runs of a prepared statement.
type stmt struct {
	driver.Stmt
	c  *Counter
	cn *conn
}

// CheckNamedValue converts an argument as the driver's statement would, or
// else its connection.
func (s *stmt) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return s.cn.CheckNamedValue(nv)
}

// ran counts a run.
func (s *stmt) ran() {
	s.c.Statements.Add(1)
	s.c.PreparedRuns.Add(1)
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.ran()
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		return e.ExecContext(ctx, args)
	}
	return s.Stmt.Exec(values(args)) //nolint:staticcheck // the driver has nothing newer
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.ran()
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		return q.QueryContext(ctx, args)
	}
	return s.Stmt.Query(values(args)) //nolint:staticcheck // the driver has nothing newer
}

func values(args []driver.NamedValue) []driver.Value {
	v := make([]driver.Value, len(args))
	for i, a := range args {
		v[i] = a.Value
	}
	return v
}

func (cn *conn) Ping(ctx context.Context) error {
	if p, ok := cn.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (cn *conn) ResetSession(ctx context.Context) error {
	if r, ok := cn.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (cn *conn) IsValid() bool {
	if v, ok := cn.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (cn *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := cn.Conn.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type countTx struct {
	driver.Tx
	c *Counter
}

func (t *countTx) Commit() error {
	t.c.Commits.Add(1)
	return t.Tx.Commit()
}

func (t *countTx) Rollback() error {
	t.c.Rollbacks.Add(1)
	return t.Tx.Rollback()
}
