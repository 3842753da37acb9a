package api

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
)

// enter records the request as it reached the middleware, so that a retry
// starts each attempt from it.
func (r *request) enter() {
	c := r.c
	r.entry = entryState{req: c.Request, errs: len(c.Errors), index: r.m.cursor.at(c)}
	if len(c.Keys) > 0 {
		r.entry.keys = maps.Clone(c.Keys)
	}
}

// prepareRetry keeps the body (up to the replay limit) and the response
// headers so that the chain can run again. It runs once per request, in the
// first attempt of a Handle or Wrap handler whose route allows retries, and
// reports false when the body is too large to replay.
func (r *request) prepareRetry() bool {
	if r.retry {
		return r.retryOK
	}
	r.retry = true
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
	r.retryOK = r.m.cursor.ok
	return r.retryOK
}

// again runs when the chain has returned: every middleware after this one
// has had its say. It reports whether the chain must run again — its
// handler (Handle, Wrap) allowed it, the chain recorded a retryable error
// in c.Errors or the commit failed with one, attempts remain and nothing
// was sent — and then has
// rolled back, released the scope and rewound the request. Otherwise the
// request is left for finish to settle and answer (a commit that succeeded
// here stays committed).
func (r *request) again() bool {
	if !r.retryOK || r.attempts >= r.policy.attempts || r.hold.direct || r.hold.dropped {
		return false
	}
	cause := r.retryableError()
	if cause == nil {
		if r.tx != nil {
			// A commit that fails retryably is retried: its span says so.
			r.tx.MarkRetryPending()
		}
		if r.settle() {
			return false
		}
		if !errors.Is(r.commitErr, db.ErrRetryable) {
			return false
		}
		cause = r.commitErr
	}
	if err := r.restart(r.attempts); err != nil {
		return false
	}
	r.attempts++
	r.m.log.Debug("retrying request", "request", r.String(), "attempt", r.attempts, "error", cause)
	return true
}

// retryableError returns the first retryable error the chain recorded in
// this attempt (the handler's, or a middleware's), or nil.
func (r *request) retryableError() error {
	for _, e := range r.c.Errors[r.entry.errs:] {
		if errors.Is(e.Err, db.ErrRetryable) {
			return e.Err
		}
	}
	return nil
}

// restart rolls back and releases the scope, waits a jittered backoff, and
// opens a fresh scope with the request as it reached the middleware: its
// body rewound, its keys, errors and writer restored, and the response
// forgotten.
func (r *request) restart(attempt int) error {
	if r.tx != nil {
		r.tx.MarkRetried()
	}
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
	r.scope, r.tx = r.m.reg.Open(r.rc), nil
	r.opened.Store(true)
	backoff := time.Duration(rand.Int64N(int64(5*time.Millisecond) << min(attempt, 7)))
	t := time.NewTimer(backoff)
	select {
	case <-t.C:
	case <-r.rc.Done():
		t.Stop()
		return r.rc.Err()
	}
	c := r.c
	r.settled, r.commitErr, r.discarded = false, nil, false
	r.hold.discard()
	r.headers.restore(r.hold.w.Header())
	c.Writer = &r.hold // a middleware may have wrapped it
	c.Request = r.entry.req
	if r.replayed {
		r.replay.rewind()
		c.Request.Body = &r.replay
	}
	c.Errors = c.Errors[:r.entry.errs] // keep what earlier middlewares recorded
	c.Keys = nil
	if r.entry.keys != nil {
		c.Keys = maps.Clone(r.entry.keys)
	}
	r.m.cursor.rewind(c, r.entry.index)
	return nil
}
