package fxmodules

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/fasttrack-go/fasttrack/config"
	"go.uber.org/fx"
)

// Run builds an application from opts, starts it, serves until ctx ends
// (wire it to SIGINT and SIGTERM), and stops it. It is what a service's
// main does.
//
// With Config in opts (Framework has it), the start is bounded by
// config.Config.StartTimeout and the stop by config.Config.StopTimeout plus
// a second: the HTTP server's drain takes up to StopTimeout, and the pool
// closes after it. The bounds are the same when the application runs any
// other way (fx.App.Run, fxtest, or fx.App.Start and Stop with a context):
// Config decorates fx.Lifecycle so that each OnStart and OnStop hook gets a
// context ending at its phase's deadline, and sets Fx's own StartTimeout and
// StopTimeout out of the way. A hook still running at the deadline has a
// second more to return its own error; one that ignores its context is then
// abandoned, and the start (or stop) fails with an error naming
// START_TIMEOUT (or STOP_TIMEOUT) and the function that added the hook.
// Fx's own events about hooks (at debug level with Logging) name Config's
// wrapper as the caller that added each hook, and as the hook itself for a
// hook made without fx.StartHook, fx.StopHook or fx.StartStopHook.
// Once the start's deadline has passed, the remaining OnStart hooks do not
// run; the remaining OnStop hooks still run, with a context already ended,
// to release what they hold. Without Config, Fx's StartTimeout and
// StopTimeout (15 s unless set) bound Run's start and stop.
func Run(ctx context.Context, opts ...fx.Option) error {
	app := fx.New(opts...)
	if err := app.Err(); err != nil {
		return err
	}
	startCtx, cancelStart := context.WithTimeout(ctx, app.StartTimeout())
	defer cancelStart()
	if err := app.Start(startCtx); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancel()
	if err := app.Stop(stopCtx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	return nil
}

const (
	// fxTimeoutOff is given to fx.StartTimeout and fx.StopTimeout, whose
	// 15 s defaults would otherwise cut a longer START_TIMEOUT or
	// STOP_TIMEOUT short under fx.App.Run and fxtest.
	fxTimeoutOff = time.Duration(math.MaxInt64)
	// stopGrace is what a stop has beyond STOP_TIMEOUT, which bounds the
	// HTTP server's drain: the time to close the pool after it.
	stopGrace = time.Second
	// lateHookGrace is how long a hook still running when its phase's time
	// runs out has, after its context ends, to return its own error.
	lateHookGrace = time.Second
)

// timeouts applies the configuration's START_TIMEOUT and STOP_TIMEOUT to
// every lifecycle hook of the application; see Run.
func timeouts() fx.Option {
	return fx.Options(
		fx.StartTimeout(fxTimeoutOff),
		fx.StopTimeout(fxTimeoutOff),
		fx.Decorate(newTimedLifecycle),
	)
}

// phase is what a timedLifecycle is doing: starting or stopping (or, as
// the zero phase, neither yet).
type phase int

const (
	starting phase = iota + 1
	stopping
)

// timedLifecycle is the fx.Lifecycle that Config decorates Fx's with. The
// deadline of a start (or stop) counts from its first hook.
type timedLifecycle struct {
	lc         fx.Lifecycle
	startLimit time.Duration
	stopLimit  time.Duration

	mu       sync.Mutex
	phase    phase
	deadline time.Time
}

func newTimedLifecycle(lc fx.Lifecycle, cfg config.Config) fx.Lifecycle {
	return &timedLifecycle{lc: lc, startLimit: cfg.StartTimeout, stopLimit: cfg.StopTimeout}
}

// Append appends h with its OnStart and OnStop bounded by their phase's
// deadline.
func (l *timedLifecycle) Append(h fx.Hook) {
	caller := "an unknown function"
	if pc, _, _, ok := runtime.Caller(1); ok {
		if f := runtime.FuncForPC(pc); f != nil {
			caller = f.Name()
		}
	}
	if start := h.OnStart; start != nil && l.startLimit > 0 {
		h.OnStart = func(ctx context.Context) error { return l.run(ctx, starting, start, caller) }
	}
	if stop := h.OnStop; stop != nil && l.stopLimit > 0 {
		h.OnStop = func(ctx context.Context) error { return l.run(ctx, stopping, stop, caller) }
	}
	l.lc.Append(h)
}

// deadlineOf returns the deadline of phase p, set by its first hook.
func (l *timedLifecycle) deadlineOf(p phase) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.phase != p {
		l.phase = p
		limit := l.startLimit
		if p == stopping {
			limit = l.stopLimit + stopGrace
		}
		l.deadline = time.Now().Add(limit)
	}
	return l.deadline
}

// run runs hook, added by caller, within phase p's deadline.
func (l *timedLifecycle) run(parent context.Context, p phase, hook func(context.Context) error, caller string) error {
	deadline := l.deadlineOf(p)
	if p == starting && !time.Now().Before(deadline) {
		return l.timedOut(p, caller, context.DeadlineExceeded)
	}
	ctx, cancel := context.WithDeadlineCause(parent, deadline, outOfTime{})
	defer cancel()
	done := make(chan error, 1) // a hook that is abandoned still returns
	go func() { done <- hook(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		late := time.NewTimer(lateHookGrace)
		defer late.Stop()
		select {
		case err = <-done:
		case <-late.C:
			err = ctx.Err()
		}
	}
	if _, ours := context.Cause(ctx).(outOfTime); err != nil && ours {
		return l.timedOut(p, caller, err)
	}
	return err
}

// outOfTime is the cause of a hook's context ended by its phase's deadline
// rather than by the caller's context.
type outOfTime struct{}

func (outOfTime) Error() string { return "fasttrack: out of time" }

// timedOut is the error of a hook, added by caller, that phase p's deadline
// ended.
func (l *timedLifecycle) timedOut(p phase, caller string, err error) error {
	if p == starting {
		return fmt.Errorf("fasttrack: the start did not finish within START_TIMEOUT (%s): OnStart hook added by %s: %w",
			l.startLimit, caller, err)
	}
	return fmt.Errorf("fasttrack: the stop did not finish within STOP_TIMEOUT (%s) and %s to close the pool: OnStop hook added by %s: %w",
		l.stopLimit, stopGrace, caller, err)
}
