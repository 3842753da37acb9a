package api

import (
	"database/sql"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/gin-gonic/gin"
)

// Tx sets the route's transaction options. Place it before any handler or
// middleware of the route that uses the database; a zero Timeout keeps the
// middleware's default.
func Tx(opts db.TxOptions) gin.HandlerFunc {
	return func(c *gin.Context) {
		opts := opts // each request fills in its own copy
		r, err := requestOf(c)
		if err != nil {
			_ = c.Error(err)
			return
		}
		if opts.Timeout == 0 {
			opts.Timeout = r.policy.tx.Timeout
		}
		r.policy.tx = opts
		if r.tx != nil {
			if err := r.tx.SetOptions(opts); err != nil {
				_ = c.Error(err)
			}
		}
	}
}

// ReadOnly makes the route's transaction read-only: on SQLite it begins
// deferred and takes no write lock.
func ReadOnly() gin.HandlerFunc { return Tx(db.TxOptions{ReadOnly: true}) }

// Serializable runs the route's transaction at the SERIALIZABLE isolation
// level.
func Serializable() gin.HandlerFunc { return Tx(db.TxOptions{Isolation: sql.LevelSerializable}) }

// Retry lets the route's api.Handle handler run up to attempts times when it,
// or its commit, fails with a retryable error (serialization failure,
// deadlock, SQLite busy) and nothing has been sent yet: each attempt runs on
// a fresh scope with the request body replayed, after a jittered backoff. A
// body larger than the middleware's ReplayLimit is not retried.
func Retry(attempts int) gin.HandlerFunc {
	return func(c *gin.Context) {
		if r, err := requestOf(c); err == nil {
			r.policy.attempts = max(attempts, 1)
		}
	}
}
