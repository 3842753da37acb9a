package api

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/gin-gonic/gin"
)

// RequestIDHeader is the header that carries a request's id: honoured when
// the client sends a valid one, generated otherwise, and echoed in the
// response.
const RequestIDHeader = "X-Request-ID"

// Report describes a finished request, for logs and metrics.
type Report struct {
	RequestID string
	Method    string
	// Route is the matched route pattern ("/users/:id"), or "" when no
	// route matched.
	Route    string
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

// requestID returns the client's id when it is 1 to 128 printable ASCII
// characters, else a new random one.
func requestID(given string) string {
	if n := len(given); n > 0 && n <= 128 {
		ok := true
		for i := 0; i < n; i++ {
			if given[i] < 0x21 || given[i] > 0x7e {
				ok = false
				break
			}
		}
		if ok {
			return given
		}
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
