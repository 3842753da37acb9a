package api

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
)

// MiddlewareConfig configures the request-scope middleware.
type MiddlewareConfig struct {
	// HoldLimit is how many bytes of a response are held back until the
	// transaction's outcome is known; a larger response commits before its
	// first byte is sent. Default 1 MiB.
	HoldLimit int
	// RetryAttempts is the default number of attempts of a request whose
	// Handle or Wrap handler, or its commit, fails with a retryable error;
	// 1 (the default) disables retries. WithRetry sets it per route.
	RetryAttempts int
	// ReplayLimit is the largest request body kept for a retry; a larger
	// request is not retried. Zero means 1 MiB; a negative value retries
	// only requests without a body.
	ReplayLimit int64
	// TxTimeout bounds each transaction from its BEGIN; zero for none.
	// A route's own timeout (WithTx) replaces it.
	TxTimeout time.Duration
	// CommitStatus decides, by the response status, whether a request that
	// raised no error and did not panic commits. Default: status < 400.
	CommitStatus func(status int) bool
	// Logger receives panics, commit failures and handler errors answered
	// 500. Default slog.Default().
	Logger *slog.Logger
	// AccessLog, when set, receives one line per request: request id,
	// method, route, status, duration, transaction outcome and attempts.
	AccessLog *slog.Logger
	// Observer, when set, receives a Report per request (see Metrics).
	Observer Observer
	// CommitProblem, when set, maps an error returned by the commit to the
	// problem the client sees, for example to name a constraint checked at
	// commit; ok false leaves the default: ProblemFor's answer (409 for a
	// unique or foreign-key violation, 503 with Retry-After when retryable
	// or when the connection was lost), or 500 where ProblemFor has none.
	CommitProblem func(err error) (p Problem, ok bool)
	// NPlusOne is the N+1 detector of each request's transaction
	// (db.TxOptions.NPlusOne); a route's WithTx or WithNPlusOne may set
	// its own. Off by default. When a request ends, each statement text it
	// ran more times than the threshold is logged once, with the route: a
	// warning in db.NPlusOneLog mode; in db.NPlusOneFail mode an error, and
	// the request, whose statement past the threshold failed with a
	// *db.NPlusOneError, rolls back and answers 500 whatever its handler
	// answered.
	NPlusOne db.NPlusOne
	// OnNPlusOne, when set, receives each statement the detector found in
	// a request, after it was logged and before the response is sent.
	OnNPlusOne func(NPlusOneReport)
	// Tracer, when set, traces each request's transaction and its
	// statements (db.TxOptions.Tracer): a db.TxSpanName span per attempt
	// that begins a transaction, a child of the request's span (see Trace),
	// with the attempt number, and "retried" as the outcome of an attempt
	// rolled back to run again. Nil traces nothing.
	Tracer *db.Tracer
}

// Middleware runs every request in its own scope of reg: it opens the scope,
// holds the response while the chain runs, commits or rolls back the
// request's transaction, sends the response — a failed commit answers 500
// (503 when retryable) instead of the handler's response — and releases the
// scope. A panic rolls back and answers 500, and the server goes on.
type Middleware struct {
	reg  *scope.Registry
	opts MiddlewareConfig
	log  *slog.Logger
	pool sync.Pool
	ids  *idSource
	// cursor rewinds a request's chain for a retry.
	cursor chainCursor
}

// NewMiddleware returns the middleware for reg.
func NewMiddleware(reg *scope.Registry, opts MiddlewareConfig) *Middleware {
	if opts.HoldLimit <= 0 {
		opts.HoldLimit = 1 << 20
	}
	if opts.RetryAttempts < 1 {
		opts.RetryAttempts = 1
	}
	switch {
	case opts.ReplayLimit == 0:
		opts.ReplayLimit = 1 << 20
	case opts.ReplayLimit < 0:
		opts.ReplayLimit = 0
	}
	m := &Middleware{reg: reg, opts: opts, log: opts.Logger, ids: newIDSource(), cursor: newChainCursor()}
	if m.log == nil {
		m.log = slog.Default()
	}
	if !m.cursor.ok {
		m.log.Warn("api: this Gin release hides the handler index of gin.Context: requests are not retried")
	}
	m.pool.New = func() any { return &request{m: m} }
	return m
}

// Registry returns the registry the middleware opens scopes from.
func (m *Middleware) Registry() *scope.Registry { return m.reg }

func (m *Middleware) commitStatus(status int) bool {
	if m.opts.CommitStatus != nil {
		return m.opts.CommitStatus(status)
	}
	return status < http.StatusBadRequest
}

// commitProblem is the problem answered for a failed commit: the
// application's (MiddlewareConfig.CommitProblem), else one classified as a
// statement's error would be.
func (m *Middleware) commitProblem(err error) Problem {
	if m.opts.CommitProblem != nil {
		if p, ok := m.opts.CommitProblem(err); ok && p.Status >= http.StatusBadRequest {
			return p
		}
	}
	switch {
	case errors.Is(err, db.ErrUniqueViolation), errors.Is(err, db.ErrForeignKeyViolation), errors.Is(err, repo.ErrConflict):
		return NewProblem(http.StatusConflict, "the transaction could not be committed: the request conflicts with existing data")
	case errors.Is(err, db.ErrRetryable), errors.Is(err, db.ErrConnLost), errors.Is(err, context.DeadlineExceeded):
		return NewProblem(http.StatusServiceUnavailable, "the transaction could not be committed; try again")
	}
	return NewProblem(http.StatusInternalServerError, "the transaction could not be committed")
}

// HandlerFunc returns the middleware as a gin.HandlerFunc; install it before
// the routes that use the request scope.
func (m *Middleware) HandlerFunc() gin.HandlerFunc { return m.serve }

func (m *Middleware) serve(c *gin.Context) {
	r := m.pool.Get().(*request)
	r.c = c
	r.attempts = 1
	r.baseKeys = r.baseKeys[:0]
	for k := range c.Writer.Header() {
		r.baseKeys = append(r.baseKeys, k)
	}
	if m.opts.AccessLog != nil || m.opts.Observer != nil {
		r.start = time.Now()
		var given string
		if v := c.Request.Header[RequestIDHeader]; len(v) > 0 {
			given = v[0]
		}
		r.id = m.ids.next(given)
		r.idValue[0] = r.id
		c.Writer.Header()[RequestIDHeader] = r.idValue[:]
	}
	r.policy = policy{tx: db.TxOptions{Timeout: m.opts.TxTimeout, NPlusOne: m.opts.NPlusOne, Tracer: m.opts.Tracer}, attempts: m.opts.RetryAttempts}
	rc := &requestCtx{Context: c.Request.Context(), r: r, gen: r.gen.Load()}
	r.rc, r.scope = rc, &rc.scope // opened on first use (see request.open)
	conn := c.Writer
	r.hold.reset(conn, r, m.opts.HoldLimit)
	c.Writer = &r.hold
	r.enter()
	defer m.finish(r, conn)
	c.Next()
	for r.again() {
		c.Next()
	}
}

// finish settles and answers the request, recovers a panic, and releases
// the scope.
func (m *Middleware) finish(r *request, conn gin.ResponseWriter) {
	p := recover()
	if p == http.ErrAbortHandler {
		r.panicked = true
	} else if p != nil {
		r.panicked = true
		m.log.Error("panic in handler", "request_id", r.id, "request", r.String(), "panic", p, "stack", string(debug.Stack()))
	}
	ok := r.settle()
	nPlusOne := r.reportNPlusOnes()
	streamed := r.hold.direct && !r.hold.dropped
	switch {
	case r.hold.direct || r.hold.dropped:
		// Already sent (streamed, hijacked or replaced by an error).
	case p != nil:
		r.writeDirect(NewProblem(http.StatusInternalServerError, "internal server error"))
	case !ok:
		r.answerCommitFailure()
	case nPlusOne:
		r.answerNPlusOne()
	case r.rolledBack():
		r.answerRollback()
	default:
		if err := r.hold.flushHeld(); err != nil {
			m.log.Debug("writing response", "request", r.String(), "error", err)
		}
	}
	if err := r.scope.Release(); err != nil {
		m.log.Warn("releasing request scope", "request", r.String(), "error", err)
	}
	if r.id != "" {
		m.report(r, conn, p != nil)
	}
	c := r.c
	// From now on the request scope answers scope.ErrReleased to whoever
	// reaches it through c (see Scope), until Gin reuses c.
	r.rc.done.ResponseWriter = conn
	c.Writer = &r.rc.done
	m.put(r)
	if p != nil && (streamed || p == http.ErrAbortHandler) {
		// Part of the response is out: only aborting the connection tells
		// the client it is incomplete.
		panic(http.ErrAbortHandler)
	}
}

// report logs and observes the finished request.
func (m *Middleware) report(r *request, conn gin.ResponseWriter, panicked bool) {
	rep := Report{
		RequestID: r.id,
		Method:    r.c.Request.Method,
		Route:     r.c.FullPath(),
		Status:    conn.Status(),
		Duration:  time.Since(r.start),
		Tx:        db.OutcomeNone,
		Attempts:  r.attempts,
	}
	if panicked && !conn.Written() {
		rep.Status = http.StatusInternalServerError
	}
	if rep.Status >= http.StatusInternalServerError && r.clientGone() {
		// What a client that went away was answered, it never read.
		rep.Status = StatusClientClosedRequest
	}
	if r.tx != nil {
		rep.Tx = r.tx.Outcome()
	}
	if m.opts.Observer != nil {
		m.opts.Observer.Observe(rep)
	}
	if l := m.opts.AccessLog; l != nil && l.Enabled(r.rc, slog.LevelInfo) {
		l.LogAttrs(r.rc, slog.LevelInfo, "request",
			slog.String("request_id", rep.RequestID),
			slog.String("method", rep.Method),
			slog.String("route", rep.Route),
			slog.String("path", r.c.Request.URL.Path),
			slog.Int("status", rep.Status),
			slog.Duration("duration", rep.Duration),
			slog.String("tx", rep.Tx.String()),
			slog.Int("attempts", rep.Attempts))
	}
}

// put clears r and returns it to the pool.
func (m *Middleware) put(r *request) {
	r.c, r.rc, r.scope, r.tx, r.cluster = nil, nil, nil, nil, nil
	r.opened.Store(false)
	r.settled, r.commitErr, r.panicked, r.discarded = false, nil, false, false
	r.entry = entryState{}
	r.retry, r.retryOK = false, false
	r.replay.reset()
	r.replayed = false
	r.headers.reset()
	r.id, r.idValue[0] = "", ""
	r.deps = [len(r.deps)]any{} // after a panic in a handler they may still be set
	r.gen.Add(1)
	r.hold.reset(nil, nil, 0)
	if r.hold.buf.Cap() > 4*m.opts.HoldLimit {
		r.hold.buf = bytes.Buffer{}
	}
	m.pool.Put(r)
}
