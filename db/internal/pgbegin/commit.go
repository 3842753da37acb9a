package pgbegin

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// settleBound bounds the wait for a pipelined COMMIT's reply where no
// caller's context does: in Close and in a statement's Close, as pgx's
// stdlib bounds its own waits there.
const settleBound = 5 * time.Second

// commitReply is the unread reply to a COMMIT sent without waiting (see
// quickCommit). While it is unread, the pgconn connection is busy: any use
// of it that does not settle the reply first fails with "conn busy".
type commitReply struct {
	mrr    *pgconn.MultiResultReader
	cancel context.CancelFunc // interrupts the read of the reply
}

// quickLevel reports whether a read-only transaction at isolation level l
// may commit without waiting, and whether its level is the session's
// default, which the connection asks the server with BEGIN. A serializable
// transaction may fail at COMMIT (serialization failure) and must report it.
func quickLevel(l sql.IsolationLevel) (quick, ask bool) {
	switch l {
	case sql.LevelReadUncommitted, sql.LevelReadCommitted, sql.LevelRepeatableRead, sql.LevelSnapshot:
		return true, false
	case sql.LevelDefault:
		return true, true
	}
	return false, false
}

// showIsolation asks the transaction's isolation level. SHOW takes no
// snapshot, so it does not fix the level: a SET TRANSACTION after it still
// works, and is seen by screen.
const showIsolation = "show transaction_isolation"

// noteIsolation records the isolation level the server answered for a
// transaction begun at the session's default: a serializable one waits
// for its COMMIT.
func (c *pgConn) noteIsolation(level string) {
	if level != "read committed" && level != "repeatable read" && level != "read uncommitted" {
		c.quick = false
	}
	c.askLevel = false
}

// unsafeSQL matches the statements after which a read-only transaction's
// COMMIT is no longer known to succeed, or the transaction no longer known
// to be read-only below serializable: transaction control and characteristics
// (BEGIN, COMMIT, ROLLBACK, END, ABORT, SET TRANSACTION, SET SESSION
// CHARACTERISTICS, transaction_isolation, transaction_read_only, ...),
// NOTIFY and LISTEN, whose effects happen at COMMIT, and writes (to
// temporary tables, the only ones a read-only transaction may write, whose
// deferred constraints are checked at COMMIT). It errs on the side of
// waiting: a column named "begin" only costs a round trip.
var unsafeSQL = regexp.MustCompile(`(?i)\b(begin|commit|rollback|abort|insert|update|delete|merge|copy|call|execute|do)\b|\bend\b\s*(;|$|work\b|transaction\b|and\b)|(\b|_)transaction(\b|_)|characteristics|notify|listen`)

// screen notes that the transaction ran query: one unsafeSQL matches does
// not commit without waiting.
func (c *pgConn) screen(query string) {
	if c.quick && unsafeSQL.MatchString(query) {
		c.quick = false
	}
}

// quickCommit sends COMMIT without waiting for its reply, which the
// connection's next use reads (see settle), and reports whether it did.
// end calls it for a transaction begun read-only below serializable whose
// statements unsafeSQL passed; it sends only when that transaction is in
// progress and has not failed: then nothing is left to fail at COMMIT.
// COMMIT goes under a context of its own, which no caller's cancellation
// interrupts.
func (c *pgConn) quickCommit() (bool, error) {
	pc := c.pgx.PgConn()
	if pc.TxStatus() != 'T' || pc.IsBusy() || pc.IsClosed() {
		return false, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	mrr := pc.Exec(ctx, "commit")
	if pc.IsClosed() {
		// The write failed; the reader has its error already.
		err := mrr.Close()
		cancel()
		return true, err
	}
	c.reply = &commitReply{mrr: mrr, cancel: cancel}
	return true, nil
}

// settle reads the reply to a COMMIT sent without waiting, if there is
// one, before the connection serves anything else. ctx bounds the wait. A
// reply that is not a successful COMMIT leaving the connection outside any
// transaction closes the connection, and settle returns driver.ErrBadConn,
// so that database/sql drops it.
func (c *pgConn) settle(ctx context.Context) error {
	r := c.reply
	if r == nil {
		return nil
	}
	c.reply = nil
	stop := context.AfterFunc(ctx, r.cancel)
	results, err := r.mrr.ReadAll()
	stop()
	r.cancel()
	if err != nil || len(results) != 1 || results[0].CommandTag.String() != "COMMIT" || c.pgx.PgConn().TxStatus() != 'I' {
		// The connection's state is unknown: nothing may reuse it.
		c.abandon()
		return driver.ErrBadConn
	}
	return nil
}

// settleBounded settles within settleBound, for the entry points that
// have no context.
func (c *pgConn) settleBounded() error {
	if c.reply == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), settleBound)
	defer cancel()
	return c.settle(ctx)
}

// ResetSession settles a pending COMMIT, then lets pgx's stdlib check the
// connection. database/sql calls it before it hands out a connection
// that was back in the pool.
func (c *pgConn) ResetSession(ctx context.Context) error {
	if err := c.settle(ctx); err != nil {
		return err
	}
	return c.stdlibConn.ResetSession(ctx)
}

// IsValid reports whether the connection may go back to the pool. It does
// not read a pending COMMIT's reply: database/sql calls it within
// Tx.Commit, which would then wait for it. ResetSession reads it before
// the connection is used again.
func (c *pgConn) IsValid() bool { return !c.pgx.IsClosed() }

// Ping settles a pending COMMIT, then pings the server.
func (c *pgConn) Ping(ctx context.Context) error {
	if err := c.settle(ctx); err != nil {
		return err
	}
	return c.stdlibConn.Ping(ctx)
}

// Close settles a pending COMMIT (within settleBound), then closes the
// connection.
func (c *pgConn) Close() error {
	_ = c.settleBounded()
	return c.stdlibConn.Close()
}
