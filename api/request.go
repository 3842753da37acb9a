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
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
)

// ginKey is the gin.Context key of the request's state.
const ginKey = "fasttrack.request"

// requestKey is the context key of the request's state, for the transaction
// provider.
type requestKey struct{}

// policy is what the route asks of its transaction.
type policy struct {
	tx       db.TxOptions
	attempts int
}

// request is the middleware's state for one HTTP request.
type request struct {
	m      *Middleware
	c      *gin.Context
	ctx    context.Context // the request's context, carrying the request
	scope  *scope.Scope
	hold   holdWriter
	policy policy
	tx     *db.Tx // the transaction, once something resolved it

	settled   bool
	commitErr error // the commit failed
	panicked  bool

	replay  []byte      // the body, kept for a retry
	headers http.Header // the response headers before the handler ran

	id       string    // the request id, when the middleware observes
	start    time.Time // when the middleware received the request
	attempts int       // how many times an api.Handle handler ran
}

// requestOf returns the state the middleware attached to c.
func requestOf(c *gin.Context) (*request, error) {
	if v, ok := c.Get(ginKey); ok {
		if r, ok := v.(*request); ok {
			return r, nil
		}
	}
	return nil, errNoMiddleware
}

var errNoMiddleware = errors.New("api: the request-scope middleware is not installed on this engine")

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

// answerCommitFailure replaces the held response with 500, or 503 when the
// failure is retryable.
func (r *request) answerCommitFailure() {
	p := NewProblem(http.StatusInternalServerError, "the transaction could not be committed")
	if errors.Is(r.commitErr, db.ErrRetryable) || errors.Is(r.commitErr, db.ErrConnLost) {
		p = NewProblem(http.StatusServiceUnavailable, "the transaction could not be committed; try again")
		r.hold.w.Header().Set("Retry-After", "1")
	}
	r.writeDirect(p)
}

// writeDirect answers p on the connection's writer, dropping whatever the
// handler had set.
func (r *request) writeDirect(p Problem) {
	r.hold.discard()
	h := r.hold.w.Header()
	retryAfter := h.Get("Retry-After")
	clear(h)
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	if r.id != "" {
		h.Set(RequestIDHeader, r.id)
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
		limit := r.m.opts.ReplayLimit
		b, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
		if err != nil || int64(len(b)) > limit {
			req.Body = readCloser{io.MultiReader(bytes.NewReader(b), req.Body), req.Body}
			return false
		}
		r.replay = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	r.headers = r.hold.w.Header().Clone()
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
	r.scope, r.tx = nil, nil
	backoff := time.Duration(rand.Int64N(int64(5*time.Millisecond) << min(attempt, 7)))
	t := time.NewTimer(backoff)
	select {
	case <-t.C:
	case <-r.ctx.Done():
		t.Stop()
		return r.ctx.Err()
	}
	r.scope = r.m.reg.Open(r.ctx)
	r.settled, r.commitErr = false, nil
	r.hold.discard()
	h := r.hold.w.Header()
	clear(h)
	for k, v := range r.headers {
		h[k] = v
	}
	r.c.Errors = r.c.Errors[:0]
	if r.replay != nil {
		r.c.Request.Body = io.NopCloser(bytes.NewReader(r.replay))
	}
	return nil
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}

// String describes the request for logs.
func (r *request) String() string {
	return fmt.Sprintf("%s %s", r.c.Request.Method, r.c.Request.URL.Path)
}
