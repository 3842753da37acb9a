package repo

import (
	"fmt"

	"github.com/fasttrack-go/fasttrack/db"
)

// lockMode is the row lock a Query's SELECT takes.
type lockMode uint8

const (
	lockNone lockMode = iota
	lockUpdate
	lockSkip
)

// ForUpdate returns the query whose rows are locked until the end of the
// transaction it runs in: "SELECT ... FOR UPDATE" on PostgreSQL and
// MySQL/MariaDB. Another transaction's ForUpdate of the same rows waits for
// the lock (SkipLocked skips them). All, First, One, Page, Keyset, Chunks
// and Exists take the lock; Count with a lock is an error; Update, Delete
// and ForceDelete ignore it (they lock the rows they write). On SQLite, which
// has no row locks (a write transaction locks the database), running or
// rendering a locking query is an error, and nothing is sent. Outside a
// transaction the lock ends with the statement.
func (q Query[T]) ForUpdate() Query[T] {
	q.lock = lockUpdate
	return q
}

// SkipLocked returns the query that locks its rows as ForUpdate does but
// leaves out the rows another transaction has locked: "FOR UPDATE SKIP
// LOCKED" (MariaDB 10.6 or later). With a Limit it hands each worker of a
// queue different rows:
//
//	jobs, err := jobTable.On(tx).Query().Where(state.Eq("ready")).Limit(10).SkipLocked().All(ctx)
func (q Query[T]) SkipLocked() Query[T] {
	q.lock = lockSkip
	return q
}

// checkLock returns the error of a lock on a statement of kind k.
func (q Query[T]) checkLock(k int) error {
	switch {
	case q.lock == lockNone:
		return nil
	case q.t.d == db.SQLite:
		return fmt.Errorf("repo: query %s: SQLite has no row locks (ForUpdate, SkipLocked): a write transaction locks the whole database", q.t.name)
	case k == stmtCount:
		return fmt.Errorf("repo: query count %s: a count cannot lock rows (ForUpdate, SkipLocked)", q.t.name)
	}
	return nil
}

// writeLock writes the lock clause of q, which checkLock passed.
func (q Query[T]) writeLock(s *sqlBuf) {
	switch q.lock {
	case lockUpdate:
		s.WriteString(" FOR UPDATE")
	case lockSkip:
		s.WriteString(" FOR UPDATE SKIP LOCKED")
	}
}
