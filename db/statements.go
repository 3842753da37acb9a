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
// statement it is not given prepared (a third of a primary-key SELECT's
// cost), and MySQL's driver prepares, runs and closes a statement for every
// query with arguments, two round trips instead of one. PostgreSQL's pgx
// driver already keeps a statement cache on each connection, so there
// Statements caches nothing.
//
// A Tx given a Statements (Tx.SetStatements) runs a statement it has seen
// before as the transaction's use of the cached statement, prepared once per
// connection. The first time a statement is seen it runs unprepared, and it
// is prepared in the background: preparing on the pool takes a connection,
// and a transaction must never wait for a second one while it holds its
// own. A statement that fails to prepare (MySQL cannot prepare every
// command) is remembered and always runs unprepared.
//
// At most limit statements are cached; later ones run unprepared, so that
// statements built at run time (IN lists of every length) cannot fill the
// database's table of prepared statements. A Statements is safe for
// concurrent use; Close waits for the statements being prepared and closes
// them all.
type Statements struct {
	x     *sqlx.DB
	d     Dialect
	limit int64
	ctx   context.Context // cancelled by Close
	stop  context.CancelFunc

	entries sync.Map // query → *stmtEntry
	n       atomic.Int64
	closed  atomic.Bool
	mu      sync.Mutex // orders Close after the prepares it waits for
	wg      sync.WaitGroup
}

// stmtEntry is one cached statement: nil until prepared, and nil for good
// when it could not be.
type stmtEntry struct {
	st atomic.Pointer[sqlx.Stmt]
}

// prepareTimeout bounds one background prepare.
const prepareTimeout = time.Minute

// NewStatements returns a cache of at most limit prepared statements on x.
// A limit below 1, or the PostgreSQL dialect, gives a cache that caches
// nothing.
func NewStatements(x *sqlx.DB, d Dialect, limit int) *Statements {
	ctx, stop := context.WithCancel(context.Background())
	s := &Statements{x: x, d: d, limit: int64(limit), ctx: ctx, stop: stop}
	if d == Postgres || limit < 1 {
		s.limit = 0
	}
	return s
}

// Len returns how many statements are cached or being prepared.
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
		return v.(*stmtEntry).st.Load()
	}
	if s.n.Load() >= s.limit || s.closed.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() || s.n.Load() >= s.limit {
		return nil
	}
	if _, loaded := s.entries.LoadOrStore(query, &stmtEntry{}); loaded {
		return nil
	}
	s.n.Add(1)
	s.wg.Add(1)
	go s.prepare(query)
	return nil
}

// prepare prepares query on the pool and publishes it. A failure for lack
// of a connection forgets the entry, so that a later use tries again; any
// other failure leaves it empty for good.
func (s *Statements) prepare(query string) {
	defer s.wg.Done()
	ctx, cancel := context.WithTimeout(s.ctx, prepareTimeout)
	defer cancel()
	st, err := s.x.PreparexContext(ctx, query)
	if err != nil {
		if ctx.Err() != nil || errors.Is(s.d.Classify(err), ErrConnLost) {
			s.entries.Delete(query)
			s.n.Add(-1)
		}
		return
	}
	v, _ := s.entries.Load(query)
	v.(*stmtEntry).st.Store(st)
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
