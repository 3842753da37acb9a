package pgbegin

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// maxPipelined bounds the statements one connection keeps prepared for
// riding with BEGIN.
const maxPipelined = 256

// pgConnector opens pgx stdlib connections and wraps them (see pgConn).
type pgConnector struct {
	base driver.Connector
	drv  driver.Driver // a Driver, converted once
}

// NewConnector returns the connector for a pgx DSN (a postgres:// URL or
// a key/value DSN): pgx's stdlib connector, its connections wrapped.
func NewConnector(dsn string) (driver.Connector, error) {
	base, err := stdlib.GetDefaultDriver().(driver.DriverContext).OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	return Wrap(base), nil
}

// Wrap returns a connector whose connections are base's, wrapped when they
// are pgx stdlib connections (*stdlib.Conn); base is typically
// stdlib.GetConnector of a pgx.ConnConfig. Other connections are returned
// as they are.
func Wrap(base driver.Connector) driver.Connector {
	return pgConnector{base: base, drv: Driver{base.Driver()}}
}

// Connect opens a connection and wraps it.
func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := dc.(*stdlib.Conn)
	if !ok {
		return dc, nil
	}
	pc := sc.Conn()
	return &pgConn{
		stdlibConn: sc,
		pgx:        pc,
		pipelines:  pc.Config().DefaultQueryExecMode == pgx.QueryExecModeCacheStatement,
		known:      make(map[string]*pgKnown),
	}, nil
}

// Driver returns pgx's driver, as a Driver.
func (c pgConnector) Driver() driver.Driver { return c.drv }

// stdlibConn is pgx's stdlib connection, under a name that does not hide
// its Conn method: embedded as *stdlib.Conn, the field would be called
// Conn, and a field is shallower than the method it shadows, so pgConn
// would have no Conn method (nor could declare one).
type stdlibConn = stdlib.Conn

// pgConn is a pgx stdlib connection whose transactions begin with their
// first statement. Like every driver connection, it is used by one
// goroutine at a time.
type pgConn struct {
	*stdlibConn
	pgx       *pgx.Conn
	pipelines bool

	// begin is the BEGIN of the open transaction while it is unsent; ""
	// otherwise. beginErr is set when the BEGIN sent failed: the
	// transaction's statements fail with it, they must not run outside
	// a transaction.
	begin    string
	beginErr error
	txCtx    context.Context // BeginTx's, for COMMIT and ROLLBACK; nil outside a transaction

	// quick is true while the open transaction may commit without
	// waiting for COMMIT's reply (see quickCommit); askLevel while its
	// isolation level, the session's default, is still to be asked with
	// its BEGIN. reply is the unread reply to such a COMMIT, which the
	// connection's next use reads first (see settle).
	quick    bool
	askLevel bool
	reply    *commitReply
	unsafe   map[string]bool // unsafeSQL's verdict per statement text (see screen)

	known map[string]*pgKnown // statements prepared to ride with BEGIN
	stale []string            // known statements to deallocate
	tick  uint64
	eqb   pgx.ExtendedQueryBuilder
	args  []any // the arguments being encoded, kept for the next statement

	sink  *PositionSink // where the open transaction's COMMIT writes its position (PositionStatement), or nil
	lasts []lastStmt    // the statements the open transaction's COMMIT runs first (LastStatement)
}

// pgKnown is a statement prepared on the connection, with its last use,
// and, once it has run as a query, the formats its columns are asked in
// and their conversions (see pgRows).
type pgKnown struct {
	sd      *pgconn.StatementDescription
	used    uint64
	formats []int16
	decode  []func([]byte) (driver.Value, error)
}

// errNotBegun fails the statements of a transaction whose BEGIN failed.
var errNotBegun = errors.New("db: the transaction did not begin")

// Conn returns the underlying pgx connection, as pgx's stdlib.Conn.Conn
// does, for sql.Conn.Raw. In a transaction whose BEGIN is held, it sends
// BEGIN first, with the transaction's options, so that what the caller
// runs on the pgx connection (a CopyFrom) is part of the transaction and
// ends with its COMMIT or ROLLBACK. If BEGIN cannot be sent, the
// connection is closed: the caller's work fails instead of running
// outside the transaction, and the transaction fails to commit.
//
// A COMMIT whose reply is unread is settled first, and a transaction the
// caller works in through the pgx connection waits for its COMMIT: what
// runs there is not screened (see quickCommit).
func (c *pgConn) Conn() *pgx.Conn {
	if err := c.settleBounded(); err != nil {
		return c.pgx // closed by settle
	}
	c.quick = false
	if c.txCtx != nil && c.pending() {
		if err := c.sendBegin(c.txCtx); err != nil {
			c.abandon()
		}
	}
	return c.pgx
}

// Begin begins a transaction (see BeginTx).
func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx begins a transaction that sends its BEGIN with its first
// statement.
func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if !c.pipelines {
		return c.stdlibConn.BeginTx(ctx, opts)
	}
	if c.pgx.IsClosed() {
		return nil, driver.ErrBadConn
	}
	if c.txCtx != nil {
		// The last transaction has not ended: database/sql marks a
		// transaction whose context was cancelled done before its
		// ROLLBACK reaches the driver, and a pinned sql.Conn may begin the
		// next one meanwhile. Its statements would join the open one, and
		// its COMMIT commit both: close the connection instead (the server
		// rolls the open transaction back), and let database/sql drop it.
		c.abandon()
		return nil, driver.ErrBadConn
	}
	begin, err := beginStatement(opts)
	if err != nil {
		return nil, err
	}
	if len(c.stale) > 0 {
		if err := c.settle(ctx); err != nil {
			return nil, err
		}
		if err := c.dropStale(ctx); err != nil {
			return nil, err
		}
	}
	c.begin, c.beginErr, c.txCtx = begin, nil, ctx
	c.quick, c.askLevel = false, false
	if opts.ReadOnly {
		c.quick, c.askLevel = quickLevel(sql.IsolationLevel(opts.Isolation))
	}
	return pgTx{c}, nil
}

// beginStatement returns the BEGIN statement for opts.
func beginStatement(opts driver.TxOptions) (string, error) {
	s := "begin"
	switch sql.IsolationLevel(opts.Isolation) {
	case sql.LevelDefault:
	case sql.LevelReadUncommitted:
		s += " isolation level read uncommitted"
	case sql.LevelReadCommitted:
		s += " isolation level read committed"
	case sql.LevelRepeatableRead, sql.LevelSnapshot:
		s += " isolation level repeatable read"
	case sql.LevelSerializable:
		s += " isolation level serializable"
	default:
		return "", fmt.Errorf("db: unsupported isolation level %v", sql.IsolationLevel(opts.Isolation))
	}
	if opts.ReadOnly {
		s += " read only"
	}
	return s, nil
}

// errNoTx is the error of a COMMIT on a connection with no transaction.
var errNoTx = errors.New("db: commit: no transaction is open on the connection")

// pgTx ends the connection's transaction.
type pgTx struct{ c *pgConn }

// Commit commits; a transaction that sent nothing commits nothing.
func (t pgTx) Commit() error { return t.c.end("commit") }

// Rollback rolls back; a transaction that sent nothing rolls back nothing.
func (t pgTx) Rollback() error { return t.c.end("rollback") }

// end sends COMMIT or ROLLBACK for the open transaction, if it began. A
// read-only transaction's COMMIT may go without waiting (see quickCommit).
func (c *pgConn) end(stmt string) error {
	ctx, beginErr, begin, quick, sink, lasts := c.txCtx, c.beginErr, c.begin, c.quick && !c.askLevel, c.sink, c.lasts
	c.txCtx, c.beginErr, c.begin = nil, nil, ""
	c.quick, c.askLevel, c.sink, c.lasts = false, false, nil, nil
	unsent := begin != ""
	switch {
	case ctx == nil:
		// No transaction is open on the connection (it ended already).
		if stmt == "commit" {
			return errNoTx
		}
		return nil
	case unsent && (stmt != "commit" || len(lasts) == 0):
		return nil
	case beginErr != nil:
		if stmt == "commit" {
			return beginErr
		}
		return nil
	}
	if stmt == "commit" && quick {
		if sent, err := c.quickCommit(); sent {
			return err
		}
	}
	var tag pgconn.CommandTag
	var err error
	if stmt == "commit" && len(lasts) > 0 {
		err = c.commitAfter(ctx, begin, lasts, sink)
	} else if stmt == "commit" && sink != nil {
		err = c.commitWithPosition(ctx, sink)
	} else {
		tag, err = c.pgx.Exec(ctx, stmt)
	}
	if err != nil {
		if stmt == "rollback" || c.pgx.PgConn().TxStatus() != 'I' {
			// The connection may still be in the transaction (a
			// cancelled context sends nothing): it must not serve
			// another one, which would join this one. Closed, it is
			// dropped by database/sql at its next use.
			c.abandon()
		}
		return err
	}
	if stmt == "commit" && tag.String() == "ROLLBACK" {
		// The transaction had failed: the server rolled it back.
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// abandon closes the connection at once, without waiting for the server.
func (c *pgConn) abandon() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = c.pgx.PgConn().Close(ctx)
}

// sendBegin sends the transaction's BEGIN on its own, if it is unsent.
func (c *pgConn) sendBegin(ctx context.Context) error {
	if c.beginErr != nil {
		return c.beginErr
	}
	if c.begin == "" {
		return nil
	}
	begin := c.begin
	c.begin = ""
	var err error
	if c.askLevel {
		err = c.beginAndAsk(ctx, begin)
	} else {
		_, err = c.pgx.Exec(ctx, begin)
	}
	if err != nil {
		c.beginErr = fmt.Errorf("%w: %w", errNotBegun, err)
		if pgconn.SafeToRetry(err) {
			return driver.ErrBadConn
		}
		return err
	}
	return nil
}

// beginAndAsk sends BEGIN with the question of the transaction's
// isolation level, and notes the answer.
func (c *pgConn) beginAndAsk(ctx context.Context, begin string) error {
	results, err := c.pgx.PgConn().Exec(ctx, begin+"; "+showIsolation).ReadAll()
	if err != nil {
		return err
	}
	if len(results) != 2 || len(results[1].Rows) != 1 || len(results[1].Rows[0]) != 1 {
		return fmt.Errorf("db: unexpected answer to %q", showIsolation)
	}
	c.noteIsolation(string(results[1].Rows[0][0]))
	return nil
}

// pending reports whether the transaction's BEGIN is unsent or failed.
func (c *pgConn) pending() bool { return c.begin != "" || c.beginErr != nil }

// ExecContext runs query; the first statement of a transaction carries
// its BEGIN. Without arguments pgx runs a statement by the simple protocol
// (it may hold several): such a statement cannot be prepared.
func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	switch query {
	case PositionStatement:
		return c.askPosition(args)
	case LastStatement:
		return c.askLast(ctx, args)
	}
	c.screen(query)
	k, err := c.beforeRun(ctx, query, len(args) > 0 && !pgxOption(args), false)
	if err != nil {
		return nil, err
	}
	if k != nil {
		return c.execWithBegin(ctx, query, k, args)
	}
	res, err := c.stdlibConn.ExecContext(ctx, query, args)
	c.noteError(query, err)
	return res, err
}

// QueryContext runs query; the first statement of a transaction carries
// its BEGIN.
func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.screen(query)
	k, err := c.beforeRun(ctx, query, !pgxOption(args), true)
	if err != nil {
		return nil, err
	}
	if k != nil {
		return c.queryWithBegin(ctx, query, k, args)
	}
	rows, err := c.stdlibConn.QueryContext(ctx, query, args)
	c.noteError(query, err)
	return rows, err
}

// beforeRun readies the connection for query. Outside a transaction it
// deallocates the statements noteError forgot. In a transaction whose
// BEGIN is unsent, it returns the prepared statement to send with BEGIN;
// or, when query is not prepared (or cannot be: preparable is false), it
// sends BEGIN alone, prepares query for the next transaction, and returns
// nil. A query whose rows are read needs its columns known when it was
// prepared (a FETCH's are not): needColumns. The reply to a COMMIT sent
// without waiting is read first, except by a statement sent with BEGIN,
// which goes out before it.
func (c *pgConn) beforeRun(ctx context.Context, query string, preparable, needColumns bool) (*pgKnown, error) {
	if c.txCtx != nil && c.pending() {
		if k := c.lookup(query); k != nil && preparable && c.beginErr == nil && (!needColumns || len(k.sd.Fields) > 0) {
			return k, nil
		}
	}
	if err := c.settle(ctx); err != nil {
		return nil, err
	}
	if c.txCtx == nil {
		return nil, c.dropStale(ctx)
	}
	if !c.pending() {
		return nil, nil
	}
	if err := c.sendBegin(ctx); err != nil {
		return nil, err
	}
	if preparable {
		return nil, c.learn(ctx, query)
	}
	return nil, nil
}

// PrepareContext prepares query; its runs go through the connection, so
// that a transaction's first statement still carries its BEGIN.
func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.settle(ctx); err != nil {
		return nil, err
	}
	st, err := c.stdlibConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &pgStmt{Stmt: st.(*stdlib.Stmt), c: c, query: query}, nil
}

// Prepare prepares query (see PrepareContext).
func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// pgStmt is a prepared statement run through its connection.
type pgStmt struct {
	*stdlib.Stmt
	c     *pgConn
	query string
}

// ExecContext runs the statement.
func (s *pgStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.query, args)
}

// Close closes the statement. pgx's stdlib deallocates it when no other
// statement of the connection shares it: the connection forgets it too,
// and prepares it again on its next use (at no cost if it is still
// prepared).
func (s *pgStmt) Close() error {
	if err := s.c.settleBounded(); err != nil {
		return err
	}
	delete(s.c.known, s.query)
	return s.Stmt.Close()
}

// QueryContext runs the statement.
func (s *pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.query, args)
}

// pgxOption reports whether args begins with one of the options pgx takes
// before a statement's arguments (a query mode, result formats, named
// arguments): such a statement runs as pgx runs it, not with BEGIN.
func pgxOption(args []driver.NamedValue) bool {
	if len(args) == 0 {
		return false
	}
	switch args[0].Value.(type) {
	case pgx.QueryExecMode, pgx.QueryResultFormats, pgx.QueryResultFormatsByOID, pgx.QueryRewriter:
		return true
	}
	return false
}

// lookup returns the connection's prepared statement for query, or nil.
func (c *pgConn) lookup(query string) *pgKnown {
	k := c.known[query]
	if k != nil {
		c.tick++
		k.used = c.tick
	}
	return k
}

// learn prepares query on the connection, as pgx's stdlib prepares a
// statement it is asked to (pgx then runs query as that statement), so
// that the next transaction beginning with query sends both at once. The
// least recently used statement makes room.
func (c *pgConn) learn(ctx context.Context, query string) error {
	if _, ok := c.known[query]; ok {
		return nil
	}
	if len(c.known) >= maxPipelined {
		var oldest string
		var at uint64
		for q, k := range c.known {
			if oldest == "" || k.used < at {
				oldest, at = q, k.used
			}
		}
		if err := c.pgx.Deallocate(ctx, oldest); err != nil {
			return err
		}
		delete(c.known, oldest)
	}
	sd, err := c.pgx.Prepare(ctx, query, query)
	if err != nil {
		return err
	}
	c.tick++
	c.known[query] = &pgKnown{sd: sd, used: c.tick}
	return nil
}

// noteError forgets a statement that the server no longer runs as
// prepared: its table changed ("cached plan must not change result
// type"), or the server dropped it. It is deallocated before the next
// transaction, and prepared again on its next use.
func (c *pgConn) noteError(query string, err error) {
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) || (pe.Code != "0A000" && pe.Code != "26000") {
		return
	}
	if _, ok := c.known[query]; ok {
		delete(c.known, query)
		c.stale = append(c.stale, query)
	}
}

// dropStale deallocates the statements noteError forgot.
func (c *pgConn) dropStale(ctx context.Context) error {
	for len(c.stale) > 0 {
		if err := c.pgx.Deallocate(ctx, c.stale[0]); err != nil {
			return err
		}
		c.stale = c.stale[1:]
	}
	return nil
}

// sendWithBegin sends the transaction's BEGIN and the prepared statement
// sd in one write, reads BEGIN's answer, and returns the batch and the
// reader of the statement's result. Arguments that cannot be encoded fail
// before anything is sent: the transaction has not begun. When the reply
// to the previous transaction's COMMIT is unread, the write goes out
// first, and that reply is read before BEGIN's (see rideCommit).
func (c *pgConn) sendWithBegin(ctx context.Context, query string, sd *pgconn.StatementDescription, args []driver.NamedValue, formats []int16) (batch, *pgconn.ResultReader, error) {
	if len(sd.ParamOIDs) != len(args) {
		return nil, nil, fmt.Errorf("expected %d arguments, got %d", len(sd.ParamOIDs), len(args))
	}
	if err := c.encode(sd, args); err != nil {
		return nil, nil, err
	}
	if formats == nil {
		formats = c.eqb.ResultFormats
	}
	begin, ask := c.begin, c.askLevel
	c.begin = ""
	var b batch
	var err error
	if c.reply != nil {
		b, err = c.rideCommit(ctx, func(p *pgconn.Pipeline) {
			p.SendQueryParams(begin, nil, nil, nil, nil)
			if ask {
				p.SendQueryParams(showIsolation, nil, nil, nil, nil)
			}
			p.SendQueryStatement(sd, c.eqb.ParamValues, c.eqb.ParamFormats, formats)
		})
		if err != nil {
			return nil, nil, c.failedBegin(err)
		}
	} else {
		var pb pgconn.Batch
		pb.ExecParams(begin, nil, nil, nil, nil)
		if ask {
			pb.ExecParams(showIsolation, nil, nil, nil, nil)
		}
		pb.ExecStatement(sd, c.eqb.ParamValues, c.eqb.ParamFormats, formats)
		b = mrrBatch{c.pgx.PgConn().ExecBatch(ctx, &pb)}
	}
	rr, err := b.next()
	if rr == nil {
		if cerr := b.close(); err == nil {
			err = cerr
		}
		return nil, nil, c.failedBegin(err)
	}
	if _, err := rr.Close(); err != nil {
		_ = b.close()
		return nil, nil, c.failedBegin(err)
	}
	if ask {
		if err := c.readIsolation(b); err != nil {
			_ = b.close()
			return nil, nil, c.failedBegin(err)
		}
	}
	rr, err = b.next()
	if rr == nil {
		if cerr := b.close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = errors.New("db: no result for the statement sent with BEGIN")
		}
		c.noteError(query, err)
		return nil, nil, err
	}
	return b, rr, nil
}

// encode encodes args for the prepared statement sd into c.eqb.
func (c *pgConn) encode(sd *pgconn.StatementDescription, args []driver.NamedValue) error {
	values := c.args[:0]
	for _, a := range args {
		values = append(values, a.Value)
	}
	err := c.eqb.Build(c.pgx.TypeMap(), sd, values)
	clear(values)
	c.args = values[:0]
	return err
}

// readIsolation reads the answer to showIsolation sent with BEGIN.
func (c *pgConn) readIsolation(b batch) error {
	rr, err := b.next()
	if rr == nil {
		if err == nil {
			err = fmt.Errorf("db: no answer to %q", showIsolation)
		}
		return err
	}
	var level string
	if rr.NextRow() && len(rr.Values()) == 1 {
		level = string(rr.Values()[0])
	}
	if _, err := rr.Close(); err != nil {
		return err
	}
	if level == "" {
		return fmt.Errorf("db: no answer to %q", showIsolation)
	}
	c.noteIsolation(level)
	return nil
}

// failedBegin records that BEGIN failed with err, and returns err as
// database/sql expects it: driver.ErrBadConn when nothing was sent.
func (c *pgConn) failedBegin(err error) error {
	if err == nil {
		err = errors.New("no result for BEGIN")
	}
	c.beginErr = fmt.Errorf("%w: %w", errNotBegun, err)
	if pgconn.SafeToRetry(err) {
		return driver.ErrBadConn
	}
	return err
}

// execWithBegin runs the prepared statement sd with its BEGIN.
func (c *pgConn) execWithBegin(ctx context.Context, query string, k *pgKnown, args []driver.NamedValue) (driver.Result, error) {
	b, rr, err := c.sendWithBegin(ctx, query, k.sd, args, nil)
	if err != nil {
		return nil, err
	}
	tag, err := rr.Close()
	if cerr := b.close(); err == nil {
		err = cerr
	}
	if err != nil {
		c.noteError(query, err)
		return nil, err
	}
	return driver.RowsAffected(tag.RowsAffected()), nil
}

// queryWithBegin runs the prepared query sd with its BEGIN. Like pgx's
// stdlib, it reads the first row before it returns, so that a failed
// statement fails here.
func (c *pgConn) queryWithBegin(ctx context.Context, query string, k *pgKnown, args []driver.NamedValue) (driver.Rows, error) {
	if k.formats == nil {
		k.formats = stdlibFormats(k.sd)
		k.decode = decoders(c.pgx.TypeMap(), k.sd.Fields, k.formats)
	}
	b, rr, err := c.sendWithBegin(ctx, query, k.sd, args, k.formats)
	if err != nil {
		return nil, err
	}
	more := rr.NextRow()
	if !more {
		if _, err := rr.Close(); err != nil {
			_ = b.close()
			c.noteError(query, err)
			return nil, err
		}
	}
	return newPGRows(c.pgx.TypeMap(), b, rr, more, k.decode), nil
}
