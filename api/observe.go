package api

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/gin-gonic/gin"
)

// RequestIDHeader is the header that carries a request's id (X-Request-ID):
// honoured when the client sends a valid one, generated otherwise, and
// echoed in the response. It is in Go's canonical form, so that the
// middleware reads and writes it without canonicalizing it per request.
const RequestIDHeader = "X-Request-Id"

// StatusClientClosedRequest (499, nginx's "client closed request") is the
// status reported in the access log and metrics for a request whose client
// went away before it was answered; its transaction is rolled back.
const StatusClientClosedRequest = 499

// Report describes a finished request, for logs and metrics.
type Report struct {
	RequestID string
	Method    string
	// Route is the matched route pattern ("/users/:id"), or "" when no
	// route matched.
	Route string
	// Status is the status sent, or StatusClientClosedRequest when the
	// client closed the connection before the answer.
	Status   int
	Duration time.Duration
	// Tx is how the request's transaction ended: db.OutcomeNone when the
	// request never touched the database.
	Tx db.Outcome
	// Attempts is how many times the handler ran (more than 1 after
	// retries).
	Attempts int
}

// Observer receives a Report for every request the middleware finishes.
// It is called on the request's goroutine after the response was written,
// and must be safe for concurrent use.
type Observer interface {
	Observe(Report)
}

// RequestID returns the id of the request c (see RequestIDHeader), or "".
func RequestID(c *gin.Context) string {
	if r, err := requestOf(c); err == nil {
		return r.id
	}
	return ""
}

// validRequestID reports an id of 1 to 128 printable ASCII characters.
func validRequestID(id string) bool {
	if n := len(id); n == 0 || n > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// idSource makes request ids: a random prefix drawn once, and a counter, so
// that an id costs no system call. Ids are unique per process and, with
// the prefix, across processes in practice; they are not secrets.
type idSource struct {
	prefix string
	n      atomic.Uint64
}

func newIDSource() *idSource {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &idSource{prefix: hex.EncodeToString(b[:])}
}

// next returns the client's id when it is valid, else a new one.
func (s *idSource) next(given string) string {
	if validRequestID(given) {
		return given
	}
	var buf [12 + 1 + 16]byte
	out := append(buf[:0], s.prefix...)
	out = append(out, '-')
	out = strconv.AppendUint(out, s.n.Add(1), 16)
	return string(out)
}
