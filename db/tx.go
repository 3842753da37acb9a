package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasttrack-go/fasttrack/db/internal/pgbegin"
	"github.com/jmoiron/sqlx"
	"go.opentelemetry.io/otel/trace"
)

// Querier is what repositories take to run SQL. *sqlx.DB, *sqlx.Tx and *Tx
// satisfy it, so one repository works on the pool, on a plain transaction and
// on the request's lazy transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error)
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
	Rebind(query string) string
	DriverName() string
}

// DialectOf returns the dialect of q, from its driver name.
func DialectOf(q Querier) Dialect {
	switch q.DriverName() {
	case "pgx", "postgres", "pgx/v5":
		return Postgres
	case "mysql":
		return MySQL
	default:
		return SQLite
	}
}

// TxOptions are a transaction's options: the route's, for a request.
type TxOptions struct {
	// ReadOnly begins a read-only transaction (on SQLite, a deferred one that
	// takes no write lock).
	ReadOnly bool
	// Isolation is the isolation level; zero is the database's default.
	Isolation sql.IsolationLevel
	// Timeout bounds the transaction from its BEGIN; zero means only the
	// context's deadline applies.
	Timeout time.Duration
	// NPlusOne is the N+1 detector of the unit of work; the zero value is
	// off, and costs one comparison per statement.
	NPlusOne NPlusOne
	// Tracer, when set, traces the transaction and its statements (see
	// Tracer); nil traces nothing.
	Tracer *Tracer `json:"-"`
}

// Outcome is how a transaction ended.
type Outcome int

// The outcomes of a Tx.
const (
	// OutcomeOpen: not finished yet.
	OutcomeOpen Outcome = iota
	// OutcomeNone: finished without ever sending BEGIN.
	OutcomeNone
	// OutcomeCommitted: committed.
	OutcomeCommitted
	// OutcomeRolledBack: rolled back, or its commit failed.
	OutcomeRolledBack
)

// String returns "open", "none", "committed" or "rolled_back".
func (o Outcome) String() string {
	return [...]string{"open", "none", "committed", "rolled_back"}[o]
}

// ErrTxFinished is returned by a statement on a Tx that has already committed
// or rolled back.
var ErrTxFinished = errors.New("db: transaction already finished")

// Tx is a transaction begun lazily: BEGIN is sent with the first statement,
// on the context given to NewTx and with its options, so a unit of work that
// never touches the database never takes a connection. It holds at most one
// connection. Errors are classified by the dialect (see Dialect.Classify).
//
// A Tx is finished once, by Finish (commit or roll back); after-commit hooks
// run only after a successful commit. Statements may come from several
// goroutines, but not while one's rows are still open.
type Tx struct {
	x       *sqlx.DB
	dialect Dialect
	ctx     context.Context

	mu           sync.Mutex
	opts         TxOptions
	tx           *sqlx.Tx
	bctx         context.Context    // the transaction's context once begun: ctx, bounded by the timeout
	same         [3]context.Context // ctx and the contexts that stand for it (see SameContexts, comparableContext)
	cancel       context.CancelFunc
	outcome      atomic.Int32 // an Outcome; written under mu, read without it
	rollbackOnly atomic.Bool
	counting     atomic.Bool              // the N+1 detector is on: opts.NPlusOne.Mode, read without mu
	afterCommit  *[]func(context.Context) // made by the first AfterCommit: most transactions have none
	savepoints   int32
	inSavepoint  int32         // savepoints open now (Savepoint's fn running); under mu
	deadline     time.Time     // the timeout's end, set by the BEGIN that bounded bctx
	stmts        *Statements   // the pool's prepared statements, if any
	prepared     []txStmt      // the cached statements this transaction has used
	counts       *queryCounts  // the N+1 detector's, made by the first statement it counts
	span         trace.Span    // the transaction's span, from BEGIN to Finish, when traced
	traced       atomic.Bool   // span was started: statements are traced
	attempt      int           // see SetAttempt
	retried      bool          // see MarkRetried
	retryPending bool          // see MarkRetryPending
	cluster      *Cluster      // see SetCluster; nil without replicas
	minPos       Position      // the position a replica must have replayed to run the transaction
	on           *node         // the replica the transaction runs on, nil for the primary
	onReplica    atomic.Bool   // on != nil, read without mu
	pos          atomic.Uint64 // the Position of a committed write, on a Cluster with replicas
}

// NewTx returns a Tx on x that will begin on ctx with opts.
func NewTx(ctx context.Context, x *sqlx.DB, d Dialect, opts TxOptions) *Tx {
	t := &Tx{x: x, dialect: d, ctx: ctx, opts: opts}
	t.same[0] = comparableContext(ctx)
	t.counting.Store(opts.NPlusOne.Mode != NPlusOneOff)
	return t
}

// SameContexts names up to two contexts that stand for the one given to
// NewTx — the request's, as a handler holds it. A statement run with one of
// them, or with NewTx's, runs on the transaction's own context, which the
// timeout (TxOptions.Timeout) cancels: a statement still running when the
// timeout passes is interrupted, not only the statements after it. A
// statement given any other context, even one derived from these, runs on
// it. Contexts are matched by identity, and only pointers and types without
// size are (every context of the standard library and of Gin is one). Like SetStatements, it must
// be called before the transaction is used, by the goroutine that made it:
// it takes no lock.
func (t *Tx) SameContexts(ctxs ...context.Context) {
	for i := 1; i < len(t.same); i++ {
		t.same[i] = nil
		if len(ctxs) >= i {
			t.same[i] = comparableContext(ctxs[i-1])
		}
	}
}

// comparableContext returns ctx if it is a pointer, or of a type without
// size (context.Background()), which == compares without panicking whatever
// it is compared with; else nil. Every context of the standard library and
// of Gin is one or the other.
func comparableContext(ctx context.Context) context.Context {
	if ctx == nil {
		return nil
	}
	if t := reflect.TypeOf(ctx); t.Kind() == reflect.Pointer || t.Size() == 0 && t.Comparable() {
		return ctx
	}
	return nil
}

// SetOptions replaces the options of a Tx that has not begun yet.
func (t *Tx) SetOptions(opts TxOptions) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tx != nil || t.Outcome() != OutcomeOpen {
		return errors.New("db: transaction options set after BEGIN")
	}
	t.opts = opts
	t.counting.Store(opts.NPlusOne.Mode != NPlusOneOff)
	return nil
}

// Options returns the transaction's options.
func (t *Tx) Options() TxOptions {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.opts
}

// Context returns the context the transaction begins on: the request's, for
// a request.
func (t *Tx) Context() context.Context { return t.ctx }

// Dialect returns the dialect of the underlying database.
func (t *Tx) Dialect() Dialect { return t.dialect }

// Begun reports whether BEGIN has been sent.
func (t *Tx) Begun() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tx != nil
}

// Outcome reports how the transaction ended, or OutcomeOpen while it has
// not, including while Finish is committing or rolling back.
func (t *Tx) Outcome() Outcome { return Outcome(t.outcome.Load()) }

// SetRollbackOnly marks the transaction so that Finish rolls it back whatever
// it is asked.
func (t *Tx) SetRollbackOnly() { t.rollbackOnly.Store(true) }

// RollbackOnly reports whether SetRollbackOnly was called.
func (t *Tx) RollbackOnly() bool { return t.rollbackOnly.Load() }

// AfterCommit registers fn to run after a successful commit, outside the
// transaction, in registration order, with a context that is not cancelled
// when the request ends. On rollback fn is dropped. A panic in fn is
// recovered and logged; fn must not resolve from the request's scope.
func (t *Tx) AfterCommit(fn func(ctx context.Context)) {
	t.mu.Lock()
	if t.afterCommit == nil {
		t.afterCommit = new([]func(context.Context))
	}
	*t.afterCommit = append(*t.afterCommit, fn)
	t.mu.Unlock()
}

// begin returns the open transaction, sending BEGIN on first use, and the
// context to run a statement given ctx on (see SameContexts).
func (t *Tx) begin(ctx context.Context) (*sqlx.Tx, context.Context, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tx, err := t.beginLocked()
	return tx, t.stmtContext(ctx), err
}

// stmtContext returns the context to run a statement given ctx on: the
// transaction's own when ctx stands for it. t.mu is held.
func (t *Tx) stmtContext(ctx context.Context) context.Context {
	// The contexts in same are pointers, of types without size, or nil:
	// comparing one with ctx, whatever ctx holds, cannot panic.
	if t.bctx == nil || ctx == nil {
		return ctx
	}
	c := ctx
	if b, ok := ctx.(*batchedContext); ok {
		c = b.Context // Batched(ctx) stands for ctx
	}
	if c == t.same[0] || c == t.same[1] || c == t.same[2] {
		return t.bctx
	}
	return ctx
}

// beginStmt is beginFor, but for a statement given a Batched context while
// the N+1 detector is on: the statement is not counted, and runs unprepared.
func (t *Tx) beginStmt(ctx context.Context, query string) (*sqlx.Tx, *sqlx.Stmt, context.Context, error) {
	if t.counting.Load() && batched(ctx) {
		tx, sctx, err := t.begin(ctx)
		return tx, nil, sctx, err
	}
	return t.beginFor(ctx, query)
}

// beginLocked is begin with t.mu held.
func (t *Tx) beginLocked() (*sqlx.Tx, error) {
	if t.Outcome() != OutcomeOpen {
		return nil, ErrTxFinished
	}
	if t.tx != nil {
		return t.tx, nil
	}
	ctx, cancel := t.bctx, t.cancel // kept by a failover, with the timeout's deadline
	if ctx == nil && t.opts.Timeout > 0 {
		ctx, cancel = t.bound()
	} else if ctx == nil {
		ctx = t.ctx
	}
	var tx *sqlx.Tx
	var err error
	for {
		x := t.x
		if t.cluster != nil && t.opts.ReadOnly && t.opts.Isolation != sql.LevelSerializable {
			// A hot standby refuses SERIALIZABLE: such work stays on the primary.
			if n := t.cluster.pick(t.minPos); n != nil {
				x = n.DB
				t.onNode(n)
			}
		}
		if t.opts.Tracer != nil && t.span == nil {
			t.span = t.opts.Tracer.startTx(t.ctx, t.opts, t.attempt, t.on)
			t.traced.Store(true)
		}
		tx, err = x.BeginTxx(ctx, &sql.TxOptions{ReadOnly: t.opts.ReadOnly, Isolation: t.opts.Isolation})
		if err == nil || t.on == nil {
			break
		}
		if ctx.Err() != nil {
			// The unit of work ended, not the replica: it stays in.
			t.onNode(nil)
			break
		}
		// The replica is gone: take it out, and begin on another one in
		// rotation or on the primary, under a span of its own.
		t.cluster.markDown(t.on, err)
		t.onNode(nil)
		if t.span != nil {
			endSpan(t.span, t.classify(err))
			t.span = nil
		}
	}
	if err != nil {
		err = t.classify(err) // while the deadline is this attempt's
		if cancel != nil {
			cancel()
		}
		t.deadline = time.Time{}
		t.bctx, t.cancel = nil, nil
		if t.span != nil {
			// The next statement begins again, under a span of its own.
			endSpan(t.span, err)
			t.span = nil
		}
		return nil, fmt.Errorf("db: begin: %w", err)
	}
	t.tx, t.bctx, t.cancel = tx, ctx, cancel
	return tx, nil
}

// onNode records that the transaction runs on n, a replica, or on the
// primary when n is nil. t.mu is held.
func (t *Tx) onNode(n *node) {
	t.on = n
	t.onReplica.Store(n != nil)
}

// bound returns the context of a transaction with a timeout: t.ctx with
// a deadline opts.Timeout from now, enforced by a runtime timer. t.mu is
// held.
func (t *Tx) bound() (context.Context, context.CancelFunc) {
	t.deadline = time.Now().Add(t.opts.Timeout)
	return context.WithDeadline(t.ctx, t.deadline)
}

// classify classifies err (see Dialect.Classify). Once the transaction has
// outlived its timeout, err also wraps context.DeadlineExceeded, even when
// the driver or database/sql reports it otherwise (a transaction already
// rolled back, a cancelled context).
func (t *Tx) classify(err error) error {
	if err == nil {
		return nil
	}
	err = t.dialect.Classify(err)
	timedOut := !t.deadline.IsZero() && !time.Now().Before(t.deadline)
	if timedOut && !errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w (transaction timeout %s: %w)", err, t.opts.Timeout, context.DeadlineExceeded)
	}
	return err
}

// ExecContext begins the transaction if needed and executes query in it.
func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := t.exec(ctx, query, args)
	if err != nil && t.failover(ctx, err) {
		return t.exec(ctx, query, args)
	}
	return res, err
}

// exec is ExecContext on the server the transaction runs on.
func (t *Tx) exec(ctx context.Context, query string, args []any) (sql.Result, error) {
	tx, st, ctx, err := t.beginStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	var span trace.Span
	if t.traced.Load() {
		span = t.traceStmt(ctx, query)
	}
	var res sql.Result
	if st != nil {
		res, err = st.ExecContext(ctx, args...)
		t.ran(tx, query, st, err)
	} else {
		res, err = tx.ExecContext(ctx, query, args...)
	}
	err = t.classify(err)
	endStmt(span, err)
	return res, err
}

// QueryxContext begins the transaction if needed and runs query in it. It
// never runs a cached prepared statement: the rows outlive the call, and a
// driver statement has one cursor.
func (t *Tx) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	rows, err := t.queryx(ctx, query, args)
	if err != nil && t.failover(ctx, err) {
		return t.queryx(ctx, query, args)
	}
	return rows, err
}

// queryx is QueryxContext on the server the transaction runs on.
func (t *Tx) queryx(ctx context.Context, query string, args []any) (*sqlx.Rows, error) {
	t.mu.Lock()
	tx, err := t.beginLocked()
	if err == nil && t.opts.NPlusOne.Mode != NPlusOneOff && !batched(ctx) {
		err = t.detect(query)
	}
	ctx = t.stmtContext(ctx)
	t.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var span trace.Span
	if t.traced.Load() {
		span = t.traceStmt(ctx, query)
	}
	rows, err := tx.QueryxContext(ctx, query, args...)
	err = t.classify(err)
	endStmt(span, err) // the span ends when the query answered, not when its rows are read
	return rows, err
}

// GetContext begins the transaction if needed and scans one row into dest;
// no row is sql.ErrNoRows.
func (t *Tx) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	err := t.get(ctx, dest, query, args)
	if err != nil && t.failover(ctx, err) {
		return t.get(ctx, dest, query, args)
	}
	return err
}

// get is GetContext on the server the transaction runs on.
func (t *Tx) get(ctx context.Context, dest any, query string, args []any) error {
	tx, st, ctx, err := t.beginStmt(ctx, query)
	if err != nil {
		return err
	}
	var span trace.Span
	if t.traced.Load() {
		span = t.traceStmt(ctx, query)
	}
	if st != nil {
		err = st.GetContext(ctx, dest, args...)
		t.ran(tx, query, st, err)
	} else {
		err = tx.GetContext(ctx, dest, query, args...)
	}
	err = t.classify(err)
	endStmt(span, err)
	return err
}

// SelectContext begins the transaction if needed and scans every row into
// dest, a pointer to a slice.
func (t *Tx) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	err := t.selectAll(ctx, dest, query, args)
	if err != nil && t.failover(ctx, err) {
		// The rows scanned before the failure go: the primary's replace them.
		emptySlice(dest)
		return t.selectAll(ctx, dest, query, args)
	}
	return err
}

// selectAll is SelectContext on the server the transaction runs on.
func (t *Tx) selectAll(ctx context.Context, dest any, query string, args []any) error {
	tx, st, ctx, err := t.beginStmt(ctx, query)
	if err != nil {
		return err
	}
	var span trace.Span
	if t.traced.Load() {
		span = t.traceStmt(ctx, query)
	}
	if st != nil {
		err = st.SelectContext(ctx, dest, args...)
		t.ran(tx, query, st, err)
	} else {
		err = tx.SelectContext(ctx, dest, query, args...)
	}
	err = t.classify(err)
	endStmt(span, err)
	return err
}

// Rebind rewrites ? placeholders into the dialect's bind style.
func (t *Tx) Rebind(query string) string { return t.dialect.Rebind(query) }

// DriverName returns the database/sql driver's name.
func (t *Tx) DriverName() string { return t.x.DriverName() }

// Savepoint runs fn inside a savepoint: when fn fails or panics, only its work
// is undone and the transaction goes on; fn's error is returned. It begins the
// transaction if needed.
func (t *Tx) Savepoint(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	tx, sctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.savepoints++
	name := fmt.Sprintf("fasttrack_sp_%d", t.savepoints)
	t.mu.Unlock()
	if _, err := tx.ExecContext(sctx, "SAVEPOINT "+name); err != nil {
		return fmt.Errorf("db: savepoint: %w", t.classify(err))
	}
	t.mu.Lock()
	t.inSavepoint++
	t.mu.Unlock()
	done := false
	defer func() {
		t.mu.Lock()
		t.inSavepoint--
		t.mu.Unlock()
		if done {
			return
		}
		// fn panicked: undo its work, then let the panic go on.
		_, _ = tx.ExecContext(context.WithoutCancel(sctx), "ROLLBACK TO SAVEPOINT "+name)
	}()
	ferr := fn(ctx)
	done = true
	if ferr != nil {
		if _, err := tx.ExecContext(sctx, "ROLLBACK TO SAVEPOINT "+name); err != nil {
			return errors.Join(ferr, fmt.Errorf("db: rollback to savepoint: %w", t.classify(err)))
		}
		return ferr
	}
	if _, err := tx.ExecContext(sctx, "RELEASE SAVEPOINT "+name); err != nil {
		return fmt.Errorf("db: release savepoint: %w", t.classify(err))
	}
	return nil
}

// Finish ends the transaction once: it commits when commit is true and the
// transaction is not rollback-only, else rolls back. A Tx that never began
// sends nothing. After a successful commit (or a successful finish with
// nothing begun) the after-commit hooks run; otherwise they are dropped. A
// failed commit is returned classified like a statement's error, with the
// driver's error in its chain: errors.Is(err, ErrRetryable) tells a retryable
// one, and a deferred constraint broken at commit (PostgreSQL's DEFERRABLE
// INITIALLY DEFERRED unique and foreign keys, SQLite's deferred foreign
// keys) wraps ErrUniqueViolation or ErrForeignKeyViolation. A commit asked for after the context given to NewTx was
// cancelled rolls back and returns the context's error. Later calls return
// nil. Finish implements scope.Finisher.
func (t *Tx) Finish(_ context.Context, commit bool) error {
	if t.Outcome() != OutcomeOpen {
		return nil // the scope's release after its end: no lock
	}
	t.mu.Lock()
	if t.Outcome() != OutcomeOpen {
		t.mu.Unlock()
		return nil
	}
	tx, cancel := t.tx, t.cancel
	var hooks []func(context.Context)
	if t.afterCommit != nil {
		hooks = *t.afterCommit
	}
	commit = commit && !t.rollbackOnly.Load()
	t.tx, t.bctx, t.cancel, t.afterCommit = nil, nil, nil, nil
	clear(t.prepared) // database/sql closes them with the transaction
	t.prepared = t.prepared[:0]
	var err error
	if commit && tx != nil && t.ctx.Err() != nil {
		// The unit of work was cancelled (a client gone): never commit it,
		// even if the driver has not noticed yet.
		commit = false
		err = fmt.Errorf("db: commit: %w", t.ctx.Err())
	}
	out := OutcomeRolledBack
	var sink *pgbegin.PositionSink
	switch {
	case tx == nil:
		out = OutcomeNone
	case commit:
		out = OutcomeCommitted
		sink = t.askPosition(tx)
		if err = tx.Commit(); err != nil {
			out = OutcomeRolledBack
			err = fmt.Errorf("db: commit: %w", t.classify(err))
		}
	default:
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			err = errors.Join(err, fmt.Errorf("db: rollback: %w", t.classify(rerr)))
		}
	}
	t.outcome.Store(int32(out))
	t.finishSpan(out, err)
	write := out == OutcomeCommitted && t.cluster != nil && t.on == nil && !t.opts.ReadOnly
	t.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if write {
		t.recordPosition(sink)
	}
	if commit && err == nil && len(hooks) > 0 {
		ctx := context.WithoutCancel(t.ctx)
		for _, fn := range hooks {
			runHook(ctx, fn)
		}
	}
	return err
}

// runHook runs an after-commit hook. The commit stands whatever the hook
// does: a panic is recovered and logged (slog.Default), and the next hooks
// run.
func runHook(ctx context.Context, fn func(context.Context)) {
	defer func() {
		if p := recover(); p != nil {
			slog.Default().ErrorContext(ctx, "after-commit hook panicked", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	fn(ctx)
}

// Close rolls back a transaction that was not finished. It implements the
// scope's release.
func (t *Tx) Close() error { return t.Finish(t.ctx, false) }
