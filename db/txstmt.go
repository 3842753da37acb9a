package db

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/jmoiron/sqlx"
)

// txStmt is a cached statement bound to one transaction. busy is set while
// it runs, and while it is being bound (st is nil then): all bindings of a
// statement on one connection share one driver statement, which has a
// single cursor, so a second run of the query meanwhile (from another
// goroutine) runs unprepared.
type txStmt struct {
	query string
	st    *sqlx.Stmt
	busy  bool
}

// maxTxStmts bounds the statements one transaction keeps bound; past them,
// statements new to the transaction run unprepared.
const maxTxStmts = 16

// SetStatements makes the transaction run the statements that s has
// prepared as prepared statements (see Statements). nil, or a cache of
// another pool, runs every statement unprepared. It must be called before the
// transaction is used, by the goroutine that made it: it takes no lock.
func (t *Tx) SetStatements(s *Statements) {
	if s != nil && s.x.DB != t.x.DB {
		s = nil
	}
	t.stmts = s
}

// beginFor is begin for running query: it also returns the transaction's
// use of the cached prepared statement for query, marked busy, or nil to run
// query unprepared. A statement returned must be given back to ran.
func (t *Tx) beginFor(ctx context.Context, query string) (*sqlx.Tx, *sqlx.Stmt, context.Context, error) {
	t.mu.Lock()
	tx, err := t.beginLocked()
	ctx = t.stmtContext(ctx)
	if err == nil && t.opts.NPlusOne.Mode != NPlusOneOff {
		err = t.detect(query)
	}
	if err != nil || t.stmts == nil || t.on != nil {
		t.mu.Unlock()
		return tx, nil, ctx, err
	}
	for i := range t.prepared {
		if p := &t.prepared[i]; p.query == query {
			if p.busy {
				t.mu.Unlock()
				return tx, nil, ctx, nil
			}
			p.busy = true
			t.mu.Unlock()
			return tx, p.st, ctx, nil
		}
	}
	if len(t.prepared) >= maxTxStmts {
		t.mu.Unlock()
		return tx, nil, ctx, nil
	}
	shared := t.stmts.lookup(query)
	if shared == nil {
		t.mu.Unlock()
		return tx, nil, ctx, nil
	}
	// Claimed, busy, before it is bound: every binding on this connection
	// shares one driver statement.
	t.prepared = append(t.prepared, txStmt{query: query, busy: true})
	t.mu.Unlock()
	// Bound outside t.mu: on MySQL this prepares the statement on the
	// transaction's connection, a round trip, the first time, bounded by
	// the caller's context. A binding that failed fails its run, and ran
	// drops it.
	return tx, tx.StmtxContext(ctx, shared), ctx, nil
}

// ran records that st, which beginFor returned for query, has run with
// err. A binding that ran well is kept for the transaction's next runs of
// query; one that failed is dropped, and the next run binds again.
func (t *Tx) ran(tx *sqlx.Tx, query string, st *sqlx.Stmt, err error) {
	ok := err == nil || errors.Is(err, sql.ErrNoRows)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tx != tx {
		return // finished meanwhile: the list was cleared
	}
	for i := range t.prepared {
		if p := &t.prepared[i]; p.query == query {
			// The entry is this run's: it was busy, so no other run took it.
			if !ok {
				t.prepared = slices.Delete(t.prepared, i, i+1)
				return
			}
			p.st, p.busy = st, false
			return
		}
	}
}
