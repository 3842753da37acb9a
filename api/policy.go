package api

import (
	"database/sql"
	"fmt"
	"strings"

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

// Option sets a policy of a route's transaction on its api.Handle handler,
// where it is also visible to tools (see [DescribeRoutes]): Handle(fn,
// WithReadOnly(), WithRetry(3)).
type Option func(*handlerPolicy)

// handlerPolicy is what Options set.
type handlerPolicy struct {
	tx       *db.TxOptions
	attempts int
}

// WithTx sets the transaction's options, as Tx does.
func WithTx(opts db.TxOptions) Option {
	return func(p *handlerPolicy) { p.tx = &opts }
}

// WithReadOnly makes the transaction read-only, as ReadOnly does.
func WithReadOnly() Option { return WithTx(db.TxOptions{ReadOnly: true}) }

// WithSerializable runs the transaction SERIALIZABLE, as Serializable does.
func WithSerializable() Option { return WithTx(db.TxOptions{Isolation: sql.LevelSerializable}) }

// WithRetry allows up to attempts runs, as Retry does.
func WithRetry(attempts int) Option {
	return func(p *handlerPolicy) { p.attempts = max(attempts, 1) }
}

// apply sets the request's policy from the handler's options. It fails
// when the transaction began before the handler, with other options.
func (p *handlerPolicy) apply(r *request) error {
	if p.tx != nil {
		opts := *p.tx
		if opts.Timeout == 0 {
			opts.Timeout = r.policy.tx.Timeout
		}
		r.policy.tx = opts
		if r.tx != nil {
			if err := r.tx.SetOptions(opts); err != nil {
				return fmt.Errorf("api: the route's transaction options: %w (a middleware before the handler used the database)", err)
			}
		}
	}
	if p.attempts > 0 {
		r.policy.attempts = p.attempts
	}
	return nil
}

// String describes the policy: "read-only, retry 3", or "default".
func (p *handlerPolicy) String() string {
	var parts []string
	if p.tx != nil {
		if p.tx.ReadOnly {
			parts = append(parts, "read-only")
		}
		if p.tx.Isolation != sql.LevelDefault {
			parts = append(parts, strings.ToLower(p.tx.Isolation.String()))
		}
		if p.tx.Timeout > 0 {
			parts = append(parts, "timeout "+p.tx.Timeout.String())
		}
	}
	if p.attempts > 1 {
		parts = append(parts, fmt.Sprintf("retry %d", p.attempts))
	}
	if len(parts) == 0 {
		return "default"
	}
	return strings.Join(parts, ", ")
}
