package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
)

// requestKey is the context key of the request's state, for the transaction
// provider. Its value is the *requestCtx itself.
type requestKey struct{}

// requestCtx is the context of one request's scope: its parent's deadline,
// cancellation and values, plus a pointer to the pooled request state and
// the request's scope, all in one allocation. The generation tells whether
// the state still serves the request the context was made for: a context
// kept past its request (a background job) must not reach the next
// request's state. A requestCtx is never reused.
type requestCtx struct {
	context.Context
	r     *request
	gen   uint64
	scope scope.Scope // the request's first scope (a retry opens others)
	done  doneWriter  // c.Writer once the request has ended
}

// doneWriter is the writer a gin.Context keeps after its request ended, for
// the middlewares that ran before the request scope's: it writes to the
// connection, and tells Scope that the request's scope is gone.
type doneWriter struct {
	gin.ResponseWriter
}

// Unwrap gives http.ResponseController the connection's writer.
func (d *doneWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }

// Value returns the context itself for requestKey, and the parent's values
// otherwise.
func (rc *requestCtx) Value(key any) any {
	if key == (requestKey{}) {
		return rc
	}
	return rc.Context.Value(key)
}

// live returns the request the context was made for, or nil when that
// request has ended.
func (rc *requestCtx) live() *request {
	if rc != nil && rc.r.gen.Load() == rc.gen {
		return rc.r
	}
	return nil
}

// policy is what the route asks of its transaction.
type policy struct {
	tx       db.TxOptions
	attempts int
}

// request is the middleware's state for one HTTP request.
type request struct {
	m     *Middleware
	c     *gin.Context
	rc    *requestCtx // the request's context, carrying the request
	scope *scope.Scope
	// opened is set once scope is open: a request that resolves nothing
	// never takes a scope state. openMu serializes the first opening,
	// which goroutines of the request (api.Scope) may race to.
	opened atomic.Bool
	openMu sync.Mutex
	hold   holdWriter
	policy policy
	tx     *db.Tx // the transaction, once something resolved it
	// cluster is the transaction's db.Cluster when it has replicas: a
	// committed write answers with its position (answerPosition).
	cluster *db.Cluster

	settled   bool
	commitErr error // the commit failed
	panicked  bool
	discarded bool // settling rolled back work (scope.Scope.Discarded)

	// The request as it reached the middleware, restored before each
	// retried attempt.
	entry entryState
	// retry is set once a Handle or Wrap handler prepared the request to run
	// again (its body kept); retryOK when it can.
	retry, retryOK bool
	replay         replayBody     // the body, kept for a retry
	replayed       bool           // replay holds this request's body
	headers        headerSnapshot // the response headers before the handler ran

	id       string    // the request id, when the middleware observes
	idValue  [1]string // the id as a header value, without an allocation
	start    time.Time // when the middleware received the request
	attempts int       // how many times the chain ran
	baseKeys []string  // response headers set before the middleware ran
	deps     [8]any    // an api.Handle handler's dependencies, cleared after each call

	gen atomic.Uint64 // bumped when the state goes back to the pool
}

// entryState is what a request looked like when it reached the middleware.
type entryState struct {
	req   *http.Request
	keys  map[any]any // a copy of c.Keys, nil when there were none
	errs  int         // len(c.Errors)
	index int8        // the middleware's position in the chain
}

// open returns the request's scope, opening it on first use. Ending and
// releasing a scope never opened costs next to nothing, and a scope opened
// after End keeps its outcome: it builds no transaction.
func (r *request) open() *scope.Scope {
	if !r.opened.Load() {
		r.openMu.Lock()
		if !r.opened.Load() {
			r.m.reg.OpenAt(r.scope, r.rc)
			r.opened.Store(true)
		}
		r.openMu.Unlock()
	}
	return r.scope
}

// settle ends the scope once: it commits when the request succeeded so far —
// no panic, no error in c.Errors, and a status the commit rule accepts —
// and rolls back otherwise. It reports false when a commit failed.
func (r *request) settle() bool {
	if r.settled {
		return r.commitErr == nil
	}
	r.settled = true
	commit := !r.panicked && len(r.c.Errors) == 0 && r.m.commitStatus(r.hold.Status())
	err := r.scope.End(commit)
	if !commit || err != nil {
		// A commit that succeeded discarded nothing: ask only otherwise.
		r.discarded = r.scope.Discarded()
	}
	if err != nil {
		if commit {
			r.commitErr = err
			level := slog.LevelError
			if r.clientGone() {
				level = slog.LevelInfo
			}
			r.m.log.Log(r.rc, level, "commit failed", "request_id", r.id, "method", r.c.Request.Method, "path", r.c.Request.URL.Path, "error", err)
			return false
		}
		r.m.log.Warn("rollback failed", "request_id", r.id, "method", r.c.Request.Method, "path", r.c.Request.URL.Path, "error", err)
	}
	if commit {
		r.answerPosition()
	}
	return true
}

// clientGone reports a request whose client closed the connection: the
// server cancelled its context.
func (r *request) clientGone() bool {
	return errors.Is(r.c.Request.Context().Err(), context.Canceled)
}

// rolledBack reports a request whose work was rolled back while its
// response still says success: the client must not believe its work was
// kept. It holds for any unit of work in the scope (a scope.Finisher), not
// only the transaction. A rollback the handler asked for
// (Tx.SetRollbackOnly) is its own answer, and a failed commit is answered
// by answerCommitFailure.
func (r *request) rolledBack() bool {
	return r.discarded && r.commitErr == nil && r.hold.Status() < http.StatusBadRequest
}

// answerRollback replaces the held success with the problem of the error
// that rolled the request back, or 500.
func (r *request) answerRollback() {
	p := NewProblem(http.StatusInternalServerError, "the request failed; its changes were rolled back")
	if last := r.c.Errors.Last(); last != nil {
		if q := ProblemFor(last.Err); q.Status >= http.StatusBadRequest {
			p = q
		}
	}
	r.writeDirect(p)
}

// answerCommitFailure replaces the held response with the problem of the
// commit's error: the application's (MiddlewareConfig.CommitProblem) if it gives
// one, else ProblemFor's — 409 for a constraint checked at commit, 503
// when retryable or when the connection was lost — and 500 otherwise.
func (r *request) answerCommitFailure() {
	r.writeDirect(r.m.commitProblem(r.commitErr))
}

// writeDirect answers p on the connection's writer, dropping whatever the
// handler had set.
func (r *request) writeDirect(p Problem) {
	r.hold.discard()
	h := r.hold.w.Header()
	// Drop what the chain set for its own response; keep what was set
	// before the middleware ran (CORS, security headers).
	for k := range h {
		if !slices.Contains(r.baseKeys, k) {
			delete(h, k)
		}
	}
	if p.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "1")
	}
	if r.id != "" {
		h[RequestIDHeader] = []string{r.id}
	}
	h.Set("Content-Type", ProblemContentType)
	body, _ := json.Marshal(p)
	r.hold.w.WriteHeader(p.Status)
	r.hold.w.WriteHeaderNow()
	_, _ = r.hold.w.Write(body)
	r.hold.direct = true
}

// errReader fails every read with its error.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}

// String describes the request for logs.
func (r *request) String() string {
	return fmt.Sprintf("%s %s", r.c.Request.Method, r.c.Request.URL.Path)
}
