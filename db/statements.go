package db

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// Statements caches prepared statements for the transactions of one pool,
// so that a statement run again is not parsed again. SQLite parses every
// statement it is not given prepared (about a quarter of the time of a
// request that reads one row by key), and MySQL's driver prepares, runs and
// closes every statement with arguments, two round trips instead of one.
// PostgreSQL's pgx driver already keeps a statement cache on each
// connection, so there Statements caches nothing.
//
// A Tx given a Statements (Tx.SetStatements) runs a statement it has seen
// before as the transaction's use of the cached statement, prepared once per
// connection. The first time a statement is seen it runs unprepared, and it
// is prepared in the background: preparing on the pool takes a connection,
// and a transaction must never wait for a second one while it holds its
// own. A statement that fails to prepare (MySQL cannot prepare every
// command; a table may not exist yet) runs unprepared, and preparing it is
// tried again a while later.
//
// At most limit statements are cached; later ones run unprepared, so that
// statements built at run time (IN lists of every length) cannot fill the
// database's table of prepared statements. On MySQL, each connection holds
// its own copy of each statement it has run: keep limit times
// DB_MAX_OPEN_CONNS times the app's instances under the server's
// max_prepared_stmt_count (16382 by default). A Statements is safe for
// concurrent use; Close waits for the statements being prepared and closes
// them all.
type Statements struct {
	x     *sqlx.DB
	limit int64
	retry time.Duration   // prepareRetry; shorter in tests
	ctx   context.Context // cancelled by Close
	stop  context.CancelFunc

	entries sync.Map // query → *stmtEntry
	n       atomic.Int64
	closed  atomic.Bool
	mu      sync.Mutex // orders Close after the prepares it waits for
	wg      sync.WaitGroup
}

// stmtEntry is one cached statement: nil until prepared. After a failed
// prepare, retryAt is when to try again (Unix nanoseconds); zero otherwise.
type stmtEntry struct {
	st      atomic.Pointer[sqlx.Stmt]
	retryAt atomic.Int64
}

const (
	// prepareTimeout bounds one background prepare.
	prepareTimeout = time.Minute
	// prepareRetry is how long a statement that failed to prepare runs
	// unprepared before it is prepared again.
	prepareRetry = 30 * time.Second
)

// NewStatements returns a cache of at most limit prepared statements on x.
// A limit below 1, or the PostgreSQL dialect, gives a cache that caches
// nothing.
func NewStatements(x *sqlx.DB, d Dialect, limit int) *Statements {
	ctx, stop := context.WithCancel(context.Background())
	s := &Statements{x: x, limit: int64(limit), retry: prepareRetry, ctx: ctx, stop: stop}
	if d == Postgres || limit < 1 {
		s.limit = 0
	}
	return s
}

// Len returns how many statements the cache holds: prepared, being
// prepared, or waiting to be prepared again after a failure.
func (s *Statements) Len() int { return int(s.n.Load()) }

// Prepared reports whether query is cached, prepared.
func (s *Statements) Prepared(query string) bool {
	v, ok := s.entries.Load(query)
	return ok && v.(*stmtEntry).st.Load() != nil
}

// lookup returns the prepared statement for query, or nil when it has none
// yet; a first miss starts preparing it.
func (s *Statements) lookup(query string) *sqlx.Stmt {
	if s == nil || s.limit == 0 {
		return nil
	}
	if v, ok := s.entries.Load(query); ok {
		e := v.(*stmtEntry)
		if st := e.st.Load(); st != nil {
			return st
		}
		if r := e.retryAt.Load(); r != 0 && time.Now().UnixNano() >= r {
			s.again(query, e, r)
		}
		return nil
	}
	if s.n.Load() >= s.limit || s.closed.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() || s.n.Load() >= s.limit {
		return nil
	}
	e := &stmtEntry{}
	if _, loaded := s.entries.LoadOrStore(query, e); loaded {
		return nil
	}
	s.n.Add(1)
	s.wg.Add(1)
	go s.prepare(query, e)
	return nil
}

// again prepares query again, once, if its retry time r has come.
func (s *Statements) again(query string, e *stmtEntry, r int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() || !e.retryAt.CompareAndSwap(r, 0) {
		return
	}
	s.wg.Add(1)
	go s.prepare(query, e)
}

// prepare prepares query on the pool and publishes it in e. After a
// failure, e stays empty until its retry time.
func (s *Statements) prepare(query string, e *stmtEntry) {
	defer s.wg.Done()
	ctx, cancel := context.WithTimeout(s.ctx, prepareTimeout)
	defer cancel()
	st, err := s.x.PreparexContext(ctx, query)
	if err != nil {
		e.retryAt.Store(time.Now().Add(s.retry).UnixNano())
		return
	}
	e.st.Store(st)
}

// Close stops preparing, waits for the prepares under way, and closes every
// cached statement. Transactions go on working, unprepared.
func (s *Statements) Close() error {
	s.mu.Lock()
	already := s.closed.Swap(true)
	s.mu.Unlock()
	if already {
		return nil
	}
	s.stop()
	s.wg.Wait()
	var errs []error
	s.entries.Range(func(k, v any) bool {
		if st := v.(*stmtEntry).st.Swap(nil); st != nil {
			errs = append(errs, st.Close())
		}
		s.entries.Delete(k)
		return true
	})
	s.n.Store(0)
	return errors.Join(errs...)
}
