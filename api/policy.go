package api

import (
	"database/sql"
	"fmt"
	"strings"

	"github.com/fasttrack-go/fasttrack/db"
)

// Option sets a policy of a route's transaction on its handler — Handle(fn,
// WithReadOnly(), WithRetry(3)), or Wrap(h, …) for a plain gin handler —
// where it is also visible to tools (see [DescribeRoutes]). An option
// applies before the handler runs, so the transaction must not have begun
// in a middleware before it.
type Option func(*handlerPolicy)

// handlerPolicy is what the Option values of a route set.
type handlerPolicy struct {
	tx       *db.TxOptions
	attempts int
}

// WithTx sets the transaction's options; a zero Timeout keeps the
// middleware's default (MiddlewareConfig.TxTimeout), a zero NPlusOne
// the middleware's detector (MiddlewareConfig.NPlusOne), and a nil Tracer
// the middleware's (MiddlewareConfig.Tracer).
func WithTx(opts db.TxOptions) Option {
	return func(p *handlerPolicy) { p.tx = &opts }
}

// WithReadOnly makes the transaction read-only: PostgreSQL and MySQL refuse
// its writes, and on SQLite it begins deferred and takes no write lock.
func WithReadOnly() Option { return WithTx(db.TxOptions{ReadOnly: true}) }

// WithSerializable runs the transaction at the SERIALIZABLE isolation level.
func WithSerializable() Option { return WithTx(db.TxOptions{Isolation: sql.LevelSerializable}) }

// WithRetry lets the request run up to attempts times when its handler, or
// its commit, fails with a retryable error (serialization failure, deadlock,
// SQLite busy) and nothing has been sent yet: each attempt runs the chain
// after the request-scope middleware on a fresh scope, from the request as
// it reached the middleware, after a jittered backoff. A body larger than
// MiddlewareConfig.ReplayLimit is not retried.
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
		if opts.NPlusOne == (db.NPlusOne{}) {
			opts.NPlusOne = r.policy.tx.NPlusOne
		}
		if opts.Tracer == nil {
			opts.Tracer = r.policy.tx.Tracer
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

// String describes the policy: "read-only, retry 3", "n+1 log, threshold
// 100", or "default".
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
		if n := p.tx.NPlusOne; n != (db.NPlusOne{}) {
			th := "default threshold"
			if n.Threshold > 0 {
				th = fmt.Sprintf("threshold %d", n.Threshold)
			}
			parts = append(parts, fmt.Sprintf("n+1 %s, %s", n.Mode, th))
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
