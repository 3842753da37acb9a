package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
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
}

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
	ctx   context.Context // the request's context, carrying the request
	scope *scope.Scope
	// opened is set once scope is open: a request that resolves nothing
	// never takes a scope state. openMu serializes the first opening,
	// which goroutines of the request (api.Scope) may race to.
	opened atomic.Bool
	openMu sync.Mutex
	hold   holdWriter
	policy policy
	tx     *db.Tx // the transaction, once something resolved it

	settled   bool
	commitErr error // the commit failed
	panicked  bool

	replay   replayBody     // the body, kept for a retry
	replayed bool           // replay holds this request's body
	headers  headerSnapshot // the response headers before the handler ran

	id         string    // the request id, when the middleware observes
	idValue    [1]string // the id as a header value, without an allocation
	start      time.Time // when the middleware received the request
	attempts   int       // how many times an api.Handle handler ran
	errsBefore int       // len(c.Errors) when the handler first ran
	baseKeys   []string  // response headers set before the middleware ran
	deps       [8]any    // an api.Handle handler's dependencies, cleared after each call

	gen atomic.Uint64 // bumped when the state goes back to the pool
}

// open returns the request's scope, opening it on first use. Ending and
// releasing a scope never opened costs next to nothing, and a scope opened
// after End keeps its outcome: it builds no transaction.
func (r *request) open() *scope.Scope {
	if !r.opened.Load() {
		r.openMu.Lock()
		if !r.opened.Load() {
			r.m.reg.OpenAt(r.scope, r.ctx)
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
	if err := r.scope.End(commit); err != nil {
		if commit {
			r.commitErr = err
			r.m.log.Error("commit failed", "request_id", r.id, "method", r.c.Request.Method, "path", r.c.Request.URL.Path, "error", err)
			return false
		}
		r.m.log.Warn("rollback failed", "request_id", r.id, "method", r.c.Request.Method, "path", r.c.Request.URL.Path, "error", err)
	}
	return true
}

// rolledBack reports a request whose transaction rolled back while its
// response still says success: the client must not believe its work was
// kept. A rollback the handler asked for (SetRollbackOnly) is its own
// answer, and a failed commit is answered by answerCommitFailure.
func (r *request) rolledBack() bool {
	return r.tx != nil && r.commitErr == nil && r.hold.Status() < http.StatusBadRequest &&
		r.tx.Outcome() == db.OutcomeRolledBack && !r.tx.RollbackOnly()
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

// answerCommitFailure replaces the held response with 500, or 503 when the
// failure is retryable.
func (r *request) answerCommitFailure() {
	p := NewProblem(http.StatusInternalServerError, "the transaction could not be committed")
	if errors.Is(r.commitErr, db.ErrRetryable) || errors.Is(r.commitErr, db.ErrConnLost) {
		p = NewProblem(http.StatusServiceUnavailable, "the transaction could not be committed; try again")
	}
	r.writeDirect(p)
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

// prepareRetry keeps the body (up to the replay limit) and the response
// headers so that the handler can run again. It reports false when the body
// is too large to replay.
func (r *request) prepareRetry() bool {
	req := r.c.Request
	if req.Body != nil && req.Body != http.NoBody {
		ok, err := r.replay.readFrom(req.Body, r.m.opts.ReplayLimit, req.ContentLength)
		if !ok || err != nil {
			// What was read goes first, then the rest; the handler
			// runs once and sees the read error, if any, itself.
			read := bytes.NewReader(r.replay.buf)
			if err != nil {
				req.Body = readCloser{io.MultiReader(read, errReader{err}), req.Body}
			} else {
				req.Body = readCloser{io.MultiReader(read, req.Body), req.Body}
			}
			return false
		}
		r.replayed = true
		req.Body = &r.replay
	}
	r.headers.take(r.hold.w.Header())
	r.errsBefore = len(r.c.Errors)
	return true
}

// restart rolls back and releases the scope, waits a jittered backoff, and
// opens a fresh scope with the body rewound and the response forgotten.
func (r *request) restart(attempt int) error {
	if !r.settled {
		r.panicked = true // force a rollback
		r.settle()
		r.panicked = false
	}
	if err := r.scope.Release(); err != nil {
		r.m.log.Warn("releasing scope before retry", "error", err)
	}
	// The next scope opens now, so that the request always has one: an
	// ended wait leaves it empty, and the middleware releases it.
	r.scope, r.tx = r.m.reg.Open(r.ctx), nil
	r.opened.Store(true)
	backoff := time.Duration(rand.Int64N(int64(5*time.Millisecond) << min(attempt, 7)))
	t := time.NewTimer(backoff)
	select {
	case <-t.C:
	case <-r.ctx.Done():
		t.Stop()
		return r.ctx.Err()
	}
	r.settled, r.commitErr = false, nil
	r.hold.discard()
	r.headers.restore(r.hold.w.Header())
	r.c.Errors = r.c.Errors[:r.errsBefore] // keep what earlier middlewares recorded
	if r.replayed {
		r.replay.rewind()
		r.c.Request.Body = &r.replay
	}
	return nil
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
