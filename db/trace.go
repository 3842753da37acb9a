package db

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracerName is the instrumentation scope of the spans a Tracer makes.
const TracerName = "github.com/fasttrack-go/fasttrack/db"

// TxSpanName is the name of a transaction's span; WithTxSpanName is the name
// of the root span WithTx makes when its context carries none.
const (
	TxSpanName     = "db.tx"
	WithTxSpanName = "db.WithTx"
)

// The attributes of FastTrack's database spans beside the OpenTelemetry
// semantic conventions' (db.system.name, db.query.text,
// db.operation.name, error.type).
const (
	// AttrServerRole names the server a span's work ran on: "primary".
	AttrServerRole = attribute.Key("fasttrack.db.server.role")
	// AttrServerName names the replica a span's work ran on (its
	// Replica.Name); a span of the primary's work has none.
	AttrServerName = attribute.Key("fasttrack.db.server.name")
	// AttrTxReadOnly tells a read-only transaction.
	AttrTxReadOnly = attribute.Key("fasttrack.tx.read_only")
	// AttrTxIsolation is the transaction's isolation level, in lower case
	// ("default", "serializable").
	AttrTxIsolation = attribute.Key("fasttrack.tx.isolation")
	// AttrTxOutcome is how the transaction ended: "committed",
	// "rolled_back", or "retried" when it was rolled back, or its commit
	// failed, for its unit of work to run again (see Tx.MarkRetried and
	// Tx.MarkRetryPending).
	AttrTxOutcome = attribute.Key("fasttrack.tx.outcome")
	// AttrTxAttempt is the attempt of the unit of work the transaction
	// belongs to, from 1, when it is known (see Tx.SetAttempt).
	AttrTxAttempt = attribute.Key("fasttrack.tx.attempt")
)

// The AttrServerRole values: the primary, or one of its read replicas.
const (
	RolePrimary = "primary"
	RoleReplica = "replica"
)

// Tracer makes the OpenTelemetry spans of transactions: a TxSpanName span
// from each transaction's BEGIN to its end, a child of the span in the
// context the transaction begins on, and under it a client span per
// statement, named by its operation ("SELECT"), whose db.query.text is the
// statement as written — placeholders, never the bound values. A failed
// statement's span records the error's class (error.type), not its
// message, which may quote values. Set it on TxOptions.Tracer; a nil
// *Tracer traces nothing, and costs a transaction one comparison per
// statement. A Tracer is safe for concurrent use.
type Tracer struct {
	tracer trace.Tracer
	system attribute.KeyValue
	role   attribute.KeyValue
}

// NewTracer returns the Tracer of the transactions on a database of
// dialect d, whose spans go to tp, with the server role RolePrimary. It
// returns nil — nothing traced — when tp is nil or a no-op provider
// (go.opentelemetry.io/otel/trace/noop), so that an application without
// tracing pays nothing for it.
func NewTracer(tp trace.TracerProvider, d Dialect) *Tracer {
	if !TracingEnabled(tp) {
		return nil
	}
	sys := semconv.DBSystemNameSQLite
	switch d {
	case Postgres:
		sys = semconv.DBSystemNamePostgreSQL
	case MySQL:
		sys = semconv.DBSystemNameMySQL
	}
	return &Tracer{tracer: tp.Tracer(TracerName), system: sys, role: AttrServerRole.String(RolePrimary)}
}

// TracingEnabled reports whether tp can record spans: false for nil and for
// the no-op provider of go.opentelemetry.io/otel/trace/noop.
func TracingEnabled(tp trace.TracerProvider) bool {
	switch tp.(type) {
	case nil, noop.TracerProvider, *noop.TracerProvider:
		return false
	}
	return true
}

// WithRole returns a copy of tr whose spans name the server role role (a
// replica's pool, for instance). A nil tr gives nil.
func (tr *Tracer) WithRole(role string) *Tracer {
	if tr == nil {
		return nil
	}
	c := *tr
	c.role = AttrServerRole.String(role)
	return &c
}

// StartRoot starts a span named name, the root of a unit of work outside
// HTTP (a CLI command, db.WithTx), when ctx carries no span: it returns
// ctx with the span, and the function that ends it with the unit of work's
// error. With a span in ctx, or a nil Tracer, it starts nothing, and end
// does nothing.
func (tr *Tracer) StartRoot(ctx context.Context, name string) (_ context.Context, end func(error)) {
	if tr == nil || trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, func(error) {}
	}
	ctx, span := tr.tracer.Start(ctx, name, trace.WithAttributes(tr.system))
	return ctx, func(err error) { endSpan(span, err) }
}

// startTx starts the span of a transaction beginning on ctx.
func (tr *Tracer) startTx(ctx context.Context, opts TxOptions, attempt int, on *node) trace.Span {
	iso := "default"
	if opts.Isolation != sql.LevelDefault {
		iso = strings.ToLower(opts.Isolation.String())
	}
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs, tr.system, tr.role, AttrTxReadOnly.Bool(opts.ReadOnly), AttrTxIsolation.String(iso))
	if on != nil {
		attrs = append(attrs[:1], append(on.traceAttrs(), attrs[2:]...)...)
	}
	if attempt > 0 {
		attrs = append(attrs, AttrTxAttempt.Int(attempt))
	}
	_, span := tr.tracer.Start(ctx, TxSpanName, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	return span
}

// startStmt starts the span of query, a child of the transaction's span.
func (tr *Tracer) startStmt(ctx context.Context, parent trace.Span, query string, on *node) trace.Span {
	op := operation(query)
	name := op
	if name == "" {
		name = tr.system.Value.AsString()
	}
	attrs := []attribute.KeyValue{tr.system, tr.role, semconv.DBQueryText(query)}
	if on != nil {
		attrs = append(attrs[:1], append(on.traceAttrs(), attrs[2:]...)...)
	}
	if op != "" {
		attrs = append(attrs, semconv.DBOperationName(op))
	}
	if parent != nil {
		ctx = trace.ContextWithSpan(ctx, parent)
	}
	_, span := tr.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return span
}

// operation returns the first word of query in upper case ("SELECT"), or
// "" when it does not start with a letter.
func operation(query string) string {
	q := strings.TrimLeft(query, " \t\r\n(")
	end := 0
	for end < len(q) && (q[end]|0x20 >= 'a' && q[end]|0x20 <= 'z') {
		end++
	}
	return strings.ToUpper(q[:end])
}

// endSpan ends span, recording err's class when err is a failure
// (sql.ErrNoRows is not).
func endSpan(span trace.Span, err error) {
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		class := errorClass(err)
		span.SetAttributes(semconv.ErrorTypeKey.String(class))
		span.SetStatus(codes.Error, class)
	}
	span.End()
}

// errorClass names err's class for a span, without its message.
func errorClass(err error) string {
	switch {
	case errors.Is(err, ErrUniqueViolation):
		return "unique_violation"
	case errors.Is(err, ErrForeignKeyViolation):
		return "foreign_key_violation"
	case errors.Is(err, ErrRetryable):
		return "retryable"
	case errors.Is(err, ErrConnLost):
		return "connection_lost"
	case errors.Is(err, ErrNPlusOne):
		return "n_plus_one"
	case errors.Is(err, ErrTxFinished), errors.Is(err, sql.ErrTxDone):
		return "tx_finished"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "error"
}

// traceStmt starts the span of a statement of t, or returns nil when t's
// span has ended (or never began).
func (t *Tx) traceStmt(ctx context.Context, query string) trace.Span {
	t.mu.Lock()
	tr, parent, on := t.opts.Tracer, t.span, t.on
	t.mu.Unlock()
	if tr == nil || parent == nil {
		return nil
	}
	return tr.startStmt(ctx, parent, query, on)
}

// finishSpan ends the transaction's span, if any, with outcome out and the
// error that ended it. t.mu is held.
func (t *Tx) finishSpan(out Outcome, err error) {
	span := t.span
	if span == nil {
		return
	}
	t.span = nil
	o := out.String()
	if out != OutcomeCommitted && (t.retried || t.retryPending && errors.Is(err, ErrRetryable)) {
		o = "retried"
	}
	span.SetAttributes(AttrTxOutcome.String(o))
	endSpan(span, err)
}

// endStmt ends a statement's span, if any, with the statement's error.
func endStmt(span trace.Span, err error) {
	if span != nil {
		endSpan(span, err)
	}
}

// SetAttempt records that t is the n-th attempt (from 1) of its unit of
// work, on its span (AttrTxAttempt). Like SetStatements, it must be called
// before the transaction is used, by the goroutine that made it.
func (t *Tx) SetAttempt(n int) { t.attempt = n }

// MarkRetried records, on the transaction's span, that it is ended to run
// its unit of work again: its outcome reads "retried". Call it before
// Finish.
func (t *Tx) MarkRetried() {
	t.mu.Lock()
	t.retried = true
	t.mu.Unlock()
}

// MarkRetryPending records that the unit of work runs again if the
// transaction ends with a retryable error (ErrRetryable), its commit's
// included: the span's outcome then reads "retried". Call it before Finish,
// when attempts remain.
func (t *Tx) MarkRetryPending() {
	t.mu.Lock()
	t.retryPending = true
	t.mu.Unlock()
}

// traceAttrs returns the attributes that name n on a span: its role and
// its name.
func (n *node) traceAttrs() []attribute.KeyValue {
	return []attribute.KeyValue{AttrServerRole.String(RoleReplica), AttrServerName.String(n.Name)}
}
