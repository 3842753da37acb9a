package pgbegin

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// settleBound bounds the wait for a pipelined COMMIT's reply where no
// caller's context does: in Close and in a statement's Close, as pgx's
// stdlib bounds its own waits there.
const settleBound = 5 * time.Second

// commitReply is the unread reply to a COMMIT sent without waiting (see
// quickCommit), in a pgconn pipeline. While the pipeline is open, the
// pgconn connection is busy: any use of it that does not settle the reply
// first fails with "conn busy".
type commitReply struct {
	p      *pgconn.Pipeline
	cancel context.CancelFunc // interrupts the pipeline's reads
	sent   time.Time
}

// read reads the reply to COMMIT, up to its Sync, and fails unless it is
// a successful COMMIT that left the connection outside any transaction.
// The pipeline stays open.
func (r *commitReply) read(pc *pgconn.PgConn) error {
	res, err := r.p.GetResults()
	if err != nil {
		return err
	}
	rr, ok := res.(*pgconn.ResultReader)
	if !ok {
		return fmt.Errorf("db: %T in reply to COMMIT", res)
	}
	tag, err := rr.Close()
	if err != nil {
		return err
	}
	if res, err = r.p.GetResults(); err != nil {
		return err
	}
	if _, ok := res.(*pgconn.PipelineSync); !ok || tag.String() != "COMMIT" || pc.TxStatus() != 'I' {
		return fmt.Errorf("db: reply %q to COMMIT, then %T, status %c", tag, res, pc.TxStatus())
	}
	return nil
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

// maxVerdicts bounds the statement texts a connection keeps unsafeSQL's
// verdict for; past it, the verdicts are forgotten and taken again.
const maxVerdicts = 256

// screen notes that the transaction ran query: a transaction that ran a
// statement unsafeSQL matches waits for its COMMIT. The verdict is kept per
// statement text: matching the expression costs tens of microseconds, a
// lookup tens of nanoseconds.
func (c *pgConn) screen(query string) {
	if !c.quick {
		return
	}
	unsafe, ok := c.unsafe[query]
	if !ok {
		unsafe = unsafeSQL.MatchString(query)
		if c.unsafe == nil || len(c.unsafe) >= maxVerdicts {
			c.unsafe = make(map[string]bool, 16)
		}
		c.unsafe[query] = unsafe
	}
	if unsafe {
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
	p := pc.StartPipeline(ctx)
	p.SendQueryParams("commit", nil, nil, nil, nil)
	if err := p.Sync(); err != nil {
		// The write failed, and closed the connection.
		cancel()
		return true, err
	}
	c.reply = &commitReply{p: p, cancel: cancel, sent: time.Now()}
	return true, nil
}

// settle reads the reply to a COMMIT sent without waiting, if there is
// one, before the connection serves anything else. ctx bounds the wait. A
// reply that is not a successful COMMIT leaving the connection outside any
// transaction closes the connection, and settle returns driver.ErrBadConn,
// so that database/sql drops it. (A transaction's first statement sent
// with its BEGIN does not wait: it goes out first, and the reply is read
// with its own; see sendWithBegin.)
func (c *pgConn) settle(ctx context.Context) error {
	r := c.reply
	if r == nil {
		return nil
	}
	c.reply = nil
	stop := context.AfterFunc(ctx, r.cancel)
	err := r.read(c.pgx.PgConn())
	if cerr := r.p.Close(); err == nil {
		err = cerr
	}
	stop()
	r.cancel()
	if err != nil {
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

// ResetSession readies the connection, which database/sql hands out
// again. The reply to a COMMIT sent less than resetRecent ago is left for
// the connection's next use, which may send its own statements before it
// reads it; an older one is read, then pgx's stdlib checks the connection
// as usual (it pings a connection idle for more than a second).
func (c *pgConn) ResetSession(ctx context.Context) error {
	if c.pgx.IsClosed() {
		return driver.ErrBadConn
	}
	if c.reply != nil && time.Since(c.reply.sent) < resetRecent {
		return nil
	}
	if err := c.settle(ctx); err != nil {
		return err
	}
	return c.stdlibConn.ResetSession(ctx)
}

// resetRecent is how long a COMMIT's reply stays unread in ResetSession:
// pgx's stdlib pings a connection idle for longer, and by then the reply
// has long arrived.
const resetRecent = time.Second

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

// batch reads the results of a transaction's BEGIN and the statements sent
// with it, through a pgconn MultiResultReader or the pipeline of a COMMIT
// whose reply came first.
type batch interface {
	// next returns the next result; nil at the end of the batch, or with
	// an error.
	next() (*pgconn.ResultReader, error)
	// close reads what is left of the batch, returns the connection to
	// pgconn and returns the first error.
	close() error
}

// mrrBatch is a batch sent by pgconn's ExecBatch.
type mrrBatch struct{ mrr *pgconn.MultiResultReader }

func (b mrrBatch) next() (*pgconn.ResultReader, error) {
	if b.mrr.NextResult() {
		return b.mrr.ResultReader(), nil
	}
	return nil, b.mrr.Close()
}

func (b mrrBatch) close() error {
	var err error
	for b.mrr.NextResult() {
		if _, rerr := b.mrr.ResultReader().Close(); err == nil {
			err = rerr
		}
	}
	if cerr := b.mrr.Close(); err == nil {
		err = cerr
	}
	return err
}

// pipeBatch is a batch sent in the pipeline of a COMMIT whose reply was
// unread, up to its Sync. The caller's context interrupts its reads (stop
// ends that).
type pipeBatch struct {
	p      *pgconn.Pipeline
	stop   func() bool
	cancel context.CancelFunc
	ended  bool // its Sync is read
}

func (b *pipeBatch) next() (*pgconn.ResultReader, error) {
	if b.ended {
		return nil, nil
	}
	res, err := b.p.GetResults()
	switch res := res.(type) {
	case *pgconn.ResultReader:
		return res, nil
	case *pgconn.PipelineSync:
		b.ended = true
		return nil, nil
	case nil:
		b.ended = err == nil
		return nil, err
	default:
		return nil, fmt.Errorf("db: unexpected %T in a batch", res)
	}
}

func (b *pipeBatch) close() error {
	var err error
	for !b.ended {
		rr, nerr := b.next()
		switch {
		case nerr != nil:
			if err == nil {
				err = nerr
			}
			var pe *pgconn.PgError
			if !errors.As(nerr, &pe) {
				b.ended = true // the connection is closed
			}
		case rr != nil:
			if _, rerr := rr.Close(); err == nil {
				err = rerr
			}
		}
	}
	if cerr := b.p.Close(); err == nil {
		err = cerr
	}
	b.stop()
	b.cancel()
	return err
}

// rideCommit sends the statements queued by send (BEGIN and the first
// statement) behind the COMMIT whose reply is unread, in one write, then
// reads that reply: a transaction's first statement does not wait for the
// previous transaction's COMMIT. A reply that is not a successful COMMIT
// closes the connection (what was just sent goes with it, uncommitted),
// and rideCommit returns an error that is driver.ErrBadConn.
func (c *pgConn) rideCommit(ctx context.Context, send func(p *pgconn.Pipeline)) (batch, error) {
	r := c.reply
	c.reply = nil
	b := &pipeBatch{p: r.p, stop: context.AfterFunc(ctx, r.cancel), cancel: r.cancel}
	send(r.p)
	err := r.p.Sync()
	if err == nil {
		err = r.read(c.pgx.PgConn())
	}
	if err != nil {
		b.stop()
		b.cancel()
		c.abandon()
		return nil, fmt.Errorf("db: the reply to the COMMIT before this transaction: %w: %w", driver.ErrBadConn, err)
	}
	return b, nil
}
