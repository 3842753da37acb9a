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
	nPlusOne *db.NPlusOne // WithNPlusOne's
	attempts int
}

// WithTx sets the transaction's options; a zero Timeout keeps the
// middleware's default (MiddlewareConfig.TxTimeout), a nil Tracer the
// middleware's (MiddlewareConfig.Tracer), and NPlusOne is taken field by
// field: a zero Mode keeps the middleware's detector mode
// (MiddlewareConfig.NPlusOne), a zero Threshold its threshold. To turn
// the detector off for a route, use WithNPlusOne.
func WithTx(opts db.TxOptions) Option {
	return func(p *handlerPolicy) { p.tx = &opts }
}

// WithNPlusOne sets the route's N+1 detector to mode, whatever the
// middleware's (MiddlewareConfig.NPlusOne) and WithTx's: db.NPlusOneOff
// turns it off for the route. A threshold not positive keeps the
// threshold the route has otherwise.
func WithNPlusOne(mode db.NPlusOneMode, threshold int) Option {
	return func(p *handlerPolicy) { p.nPlusOne = &db.NPlusOne{Mode: mode, Threshold: max(threshold, 0)} }
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
	if p.tx != nil || p.nPlusOne != nil {
		opts := r.policy.tx
		if p.tx != nil {
			opts = p.inherit(r.policy.tx)
		}
		if n := p.nPlusOne; n != nil {
			opts.NPlusOne.Mode = n.Mode
			if n.Threshold > 0 {
				opts.NPlusOne.Threshold = n.Threshold
			}
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

// inherit returns the route's transaction options (WithTx) with the
// middleware's, def, where the route's are zero.
func (p *handlerPolicy) inherit(def db.TxOptions) db.TxOptions {
	opts := *p.tx
	if opts.Timeout == 0 {
		opts.Timeout = def.Timeout
	}
	if opts.NPlusOne.Mode == db.NPlusOneOff {
		opts.NPlusOne.Mode = def.NPlusOne.Mode
	}
	if opts.NPlusOne.Threshold == 0 {
		opts.NPlusOne.Threshold = def.NPlusOne.Threshold
	}
	if opts.Tracer == nil {
		opts.Tracer = def.Tracer
	}
	return opts
}

// String describes the policy: "read-only, retry 3", "n+1 log, threshold
// 100", "n+1 off", or "default".
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
		if p.nPlusOne == nil {
			parts = appendNPlusOne(parts, p.tx.NPlusOne)
		}
	}
	if n := p.nPlusOne; n != nil {
		if n.Mode == db.NPlusOneOff {
			parts = append(parts, "n+1 off")
		} else {
			parts = appendNPlusOne(parts, *n)
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

// appendNPlusOne appends the description of a route's detector, n, to
// parts: "n+1 log, threshold 100", "n+1 error", "n+1 threshold 50"; a zero
// field is the middleware's, and not described.
func appendNPlusOne(parts []string, n db.NPlusOne) []string {
	switch {
	case n.Mode != db.NPlusOneOff && n.Threshold > 0:
		return append(parts, fmt.Sprintf("n+1 %s, threshold %d", n.Mode, n.Threshold))
	case n.Mode != db.NPlusOneOff:
		return append(parts, "n+1 "+n.Mode.String())
	case n.Threshold > 0:
		return append(parts, fmt.Sprintf("n+1 threshold %d", n.Threshold))
	}
	return parts
}
