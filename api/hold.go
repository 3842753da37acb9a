package api

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"
)

// errResponseDropped is what a handler's Write returns once the response it
// was writing has been replaced by an error (its transaction failed to
// commit when the response was released early).
var errResponseDropped = errors.New("api: response dropped: the transaction failed to commit")

// holdWriter is the gin.ResponseWriter a handler writes to. It holds the
// status and body back until the transaction's outcome is known, so that a
// failed commit can still answer 500 instead of the handler's 2xx. A flush,
// a hijack, or a body larger than the limit releases the response early:
// the transaction is settled first, then bytes go to the client directly.
type holdWriter struct {
	w       gin.ResponseWriter // the connection's writer
	r       *request
	buf     bytes.Buffer
	limit   int
	initial int // the status the connection's writer carried (Gin's 404 for no route)
	status  int
	size    int  // bytes the handler wrote, -1 for none
	direct  bool // released: writes go straight to w
	dropped bool // the response was replaced by an error
}

var _ gin.ResponseWriter = (*holdWriter)(nil)

func (h *holdWriter) reset(w gin.ResponseWriter, r *request, limit int) {
	h.w, h.r, h.limit = w, r, limit
	h.buf.Reset()
	h.initial = http.StatusOK
	if w != nil {
		h.initial = w.Status()
	}
	h.status, h.size = h.initial, -1
	h.direct, h.dropped = false, false
}

// discard forgets what the handler wrote, before a retry or an error answer.
func (h *holdWriter) discard() {
	h.buf.Reset()
	h.status, h.size = h.initial, -1
}

// release settles the transaction and, unless that failed, sends what was
// held; from then on writes go to the client.
func (h *holdWriter) release() error {
	if h.direct {
		return nil
	}
	if err := h.settleForRelease(); err != nil {
		return err
	}
	h.direct = true
	return h.flushHeld()
}

// settleForRelease settles the transaction before the response leaves
// early. When the commit failed, or the request's work was rolled back
// while its response says success, it answers that instead and returns
// errResponseDropped.
func (h *holdWriter) settleForRelease() error {
	if h.dropped {
		return errResponseDropped
	}
	if !h.r.settle() {
		h.dropped = true
		h.r.answerCommitFailure()
		return errResponseDropped
	}
	if h.r.rolledBack() {
		h.dropped = true
		h.r.answerRollback()
		return errResponseDropped
	}
	return nil
}

// flushHeld writes the held status and body to the client. A response the
// chain never wrote to gets its status only: whoever called the middleware
// (Gin, for a missing route its 404 body) finishes it, as it would have
// without the middleware.
func (h *holdWriter) flushHeld() error {
	h.w.WriteHeader(h.status)
	if h.size < 0 {
		return nil
	}
	h.w.WriteHeaderNow()
	if h.buf.Len() > 0 {
		_, err := h.w.Write(h.buf.Bytes())
		h.buf.Reset()
		return err
	}
	return nil
}

func (h *holdWriter) Header() http.Header { return h.w.Header() }

func (h *holdWriter) WriteHeader(code int) {
	if code <= 0 {
		return
	}
	if h.direct {
		h.w.WriteHeader(code)
		return
	}
	if h.size < 0 {
		h.status = code
	}
}

func (h *holdWriter) WriteHeaderNow() {
	if h.direct {
		h.w.WriteHeaderNow()
		return
	}
	if h.size < 0 {
		h.size = 0
	}
}

func (h *holdWriter) Write(p []byte) (int, error) {
	if h.dropped {
		return 0, errResponseDropped
	}
	if h.direct {
		n, err := h.w.Write(p)
		h.size += n
		return n, err
	}
	if h.size < 0 {
		h.size = 0
	}
	if h.buf.Len()+len(p) > h.limit {
		if err := h.release(); err != nil {
			return 0, err
		}
		n, err := h.w.Write(p)
		h.size += n
		return n, err
	}
	h.buf.Write(p)
	h.size += len(p)
	return len(p), nil
}

func (h *holdWriter) WriteString(s string) (int, error) {
	return h.Write([]byte(s))
}

func (h *holdWriter) Status() int {
	if h.direct {
		return h.w.Status()
	}
	return h.status
}

func (h *holdWriter) Size() int { return h.size }

func (h *holdWriter) Written() bool { return h.size >= 0 }

// Flush releases the response: a streaming handler commits at its first
// flush.
func (h *holdWriter) Flush() {
	if h.release() == nil {
		h.w.Flush()
	}
}

// Hijack settles the transaction and hands the connection over.
func (h *holdWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h.direct {
		return h.w.Hijack()
	}
	if err := h.settleForRelease(); err != nil {
		return nil, nil, err
	}
	h.direct = true
	return h.w.Hijack()
}

// CloseNotify implements http.CloseNotifier for gin.
//
//nolint:staticcheck // part of gin.ResponseWriter
func (h *holdWriter) CloseNotify() <-chan bool { return h.w.CloseNotify() }

// Pusher returns nil while the response is held: a push would reach the
// client before the commit.
func (h *holdWriter) Pusher() http.Pusher {
	if !h.direct {
		return nil
	}
	return h.w.Pusher()
}

// Unwrap gives http.ResponseController the connection's writer.
func (h *holdWriter) Unwrap() http.ResponseWriter { return h.w }
