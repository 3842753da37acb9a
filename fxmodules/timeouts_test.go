package fxmodules_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/fx/fxtest"
)

// bound is how long a test waits for a start or a stop that should end
// within a second or two before it fails instead of hanging.
const bound = time.Minute

// release returns a channel that blocked hooks wait on, closed when the
// test ends so that no hook outlives it.
func release(t *testing.T) chan struct{} {
	ch := make(chan struct{})
	t.Cleanup(func() { close(ch) })
	return ch
}

// blockStart adds an OnStart hook that waits on ch, ignoring its context.
func blockStart(ch <-chan struct{}) fx.Option {
	return fx.Invoke(func(lc fx.Lifecycle) {
		lc.Append(fx.Hook{OnStart: func(context.Context) error { <-ch; return nil }})
	})
}

// blockStop adds an OnStop hook that waits on ch, ignoring its context.
func blockStop(ch <-chan struct{}) fx.Option {
	return fx.Invoke(func(lc fx.Lifecycle) {
		lc.Append(fx.Hook{OnStop: func(context.Context) error { <-ch; return nil }})
	})
}

// timeoutApp is the framework on SQLite with the given timeouts, logging
// nowhere.
func timeoutApp(t *testing.T, start, stop time.Duration, opts ...fx.Option) fx.Option {
	cfg := testConfig(testdb.New(t, db.SQLite))
	cfg.StartTimeout, cfg.StopTimeout = start, stop
	return fx.Options(
		fxmodules.Framework(nil),
		fx.Replace(cfg),
		fx.Decorate(func() *slog.Logger { return slog.New(slog.DiscardHandler) }),
		fx.NopLogger,
		fx.Options(opts...),
	)
}

// within runs f and returns its error, failing the test if f has not
// returned within bound.
func within(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(bound):
		t.Fatalf("%s did not return within %s", what, bound)
		return nil
	}
}

// recordingTB is an fxtest.TB that records failures instead of ending the
// test, to observe what RequireStart and RequireStop report.
type recordingTB struct {
	mu     sync.Mutex
	errors []string
}

func (r *recordingTB) Logf(string, ...any) {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recordingTB) FailNow() {}

func (r *recordingTB) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errors, "\n")
}

// TestStartTimeout starts an app whose start blocks past START_TIMEOUT, in
// each way an app can be run in-process; fx.App.Run has its own test.
func TestStartTimeout(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, opts fx.Option) error
	}{
		{"fxmodules.Run", func(t *testing.T, opts fx.Option) error {
			return fxmodules.Run(context.Background(), opts)
		}},
		{"Start with a context of no deadline", func(t *testing.T, opts fx.Option) error {
			app := fx.New(opts)
			err := app.Start(context.Background())
			if err == nil {
				app.Stop(context.Background())
			}
			return err
		}},
		{"fxtest", func(t *testing.T, opts fx.Option) error {
			tb := &recordingTB{}
			app := fxtest.New(tb, opts)
			app.RequireStart()
			if tb.String() == "" {
				app.RequireStop()
				return nil
			}
			return errors.New(tb.String())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := within(t, "the start", func() error {
				return tt.run(t, timeoutApp(t, 50*time.Millisecond, time.Second, blockStart(release(t))))
			})
			if err == nil || !strings.Contains(err.Error(), "did not finish within START_TIMEOUT (50ms)") {
				t.Fatalf("start: %v, want a START_TIMEOUT error", err)
			}
		})
	}
}

// onStarted is an fxevent.Logger that calls f when the app has started.
type onStarted func()

func (f onStarted) LogEvent(e fxevent.Event) {
	if s, ok := e.(*fxevent.Started); ok && s.Err == nil {
		f()
	}
}

// TestStopTimeout stops an app whose stop blocks past STOP_TIMEOUT and its
// second for the pool, in each way an app can be run in-process.
func TestStopTimeout(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, opts fx.Option) error
	}{
		{"fxmodules.Run", func(t *testing.T, opts fx.Option) error {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// Cancel once Start has returned: Fx reports Started then.
			return fxmodules.Run(ctx, opts, fx.WithLogger(func() fxevent.Logger { return onStarted(cancel) }))
		}},
		{"Stop with a context of no deadline", func(t *testing.T, opts fx.Option) error {
			app := fx.New(opts)
			if err := app.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			return app.Stop(context.Background())
		}},
		{"fxtest", func(t *testing.T, opts fx.Option) error {
			tb := &recordingTB{}
			app := fxtest.New(tb, opts)
			app.RequireStart()
			app.RequireStop()
			if tb.String() == "" {
				return nil
			}
			return errors.New(tb.String())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := within(t, "the stop", func() error {
				return tt.run(t, timeoutApp(t, 10*time.Second, 10*time.Millisecond, blockStop(release(t))))
			})
			if err == nil || !strings.Contains(err.Error(), "did not finish within STOP_TIMEOUT (10ms)") {
				t.Fatalf("stop: %v, want a STOP_TIMEOUT error", err)
			}
		})
	}
}

// TestTimeoutsUnderFxRun runs fx.App.Run, which exits the process on
// failure, in a child process of the test binary.
func TestTimeoutsUnderFxRun(t *testing.T) {
	if mode := os.Getenv("FXMODULES_TEST_FX_RUN"); mode != "" {
		hold := make(chan struct{}) // never closed: the process exits
		opt := blockStart(hold)
		if mode == "stop" {
			opt = fx.Options(
				blockStop(hold),
				// Once started, stop as a deployment's SIGTERM would.
				fx.Invoke(func(lc fx.Lifecycle, s fx.Shutdowner) {
					lc.Append(fx.StartHook(func() error { return s.Shutdown() }))
				}),
			)
		}
		fx.New(fxmodules.Framework(nil), opt).Run()
		return
	}
	tests := []struct {
		mode, want string
		env        []string
	}{
		{"start", "did not finish within START_TIMEOUT (50ms)", []string{"START_TIMEOUT=50ms"}},
		{"stop", "did not finish within STOP_TIMEOUT (10ms)", []string{"STOP_TIMEOUT=10ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), bound)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestTimeoutsUnderFxRun$", "-test.count=1")
			cmd.Env = append(os.Environ(), append(tt.env,
				"FXMODULES_TEST_FX_RUN="+tt.mode,
				"DATABASE_URL=sqlite:"+filepath.Join(t.TempDir(), "app.db"),
				"HTTP_ADDR=127.0.0.1:0",
				"LOG_FORMAT=text",
				"LOG_LEVEL=info",
			)...)
			var logs strings.Builder
			cmd.Stderr = &logs
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Errorf("fx.App.Run ended with %v, want exit status 1", err)
			}
			if !strings.Contains(logs.String(), tt.want) {
				t.Errorf("fx.App.Run's logs lack %q:\n%s", tt.want, logs.String())
			}
		})
	}
}

// TestFxTimeoutsDoNotCutConfigsShort checks that the app's own Fx timeouts,
// which fx.App.Run and fxtest apply, are at least the configuration's.
func TestFxTimeoutsDoNotCutConfigsShort(t *testing.T) {
	cfg := config.Default()
	cfg.StartTimeout, cfg.StopTimeout = time.Hour, time.Hour
	app := fx.New(fxmodules.Config(), fx.Replace(cfg), fx.NopLogger)
	if app.StartTimeout() < cfg.StartTimeout || app.StopTimeout() < cfg.StopTimeout+time.Second {
		t.Errorf("Fx's timeouts are %s and %s, shorter than the configuration's", app.StartTimeout(), app.StopTimeout())
	}
}

// hooks is an app of Config alone, with the given hooks and timeouts.
func hooks(start, stop time.Duration, add func(fx.Lifecycle)) *fx.App {
	cfg := config.Default()
	cfg.StartTimeout, cfg.StopTimeout = start, stop
	return fx.New(fxmodules.Config(), fx.Replace(cfg), fx.NopLogger, fx.Invoke(add))
}

// addBlockingStart adds, on behalf of a named function that the error is
// to name, an OnStart hook that waits on ch and ignores its context.
func addBlockingStart(lc fx.Lifecycle, ch <-chan struct{}) {
	lc.Append(fx.Hook{OnStart: func(context.Context) error { <-ch; return nil }})
}

func TestStartTimeoutErrorNamesTheHook(t *testing.T) {
	ch := release(t)
	app := hooks(10*time.Millisecond, time.Second, func(lc fx.Lifecycle) { addBlockingStart(lc, ch) })
	err := within(t, "the start", func() error { return app.Start(context.Background()) })
	if err == nil || !strings.Contains(err.Error(), "OnStart hook added by github.com/fasttrack-go/fasttrack/fxmodules_test.addBlockingStart") {
		t.Fatalf("start: %v, want an error naming addBlockingStart", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("start error %v does not wrap context.DeadlineExceeded", err)
	}
}

func TestStartTimeoutKeepsTheHooksOwnErrorAndRunsNoLaterHook(t *testing.T) {
	errPing := errors.New("ping: no answer")
	var laterRan bool
	app := hooks(10*time.Millisecond, time.Second, func(lc fx.Lifecycle) {
		lc.Append(fx.Hook{OnStart: func(ctx context.Context) error {
			<-ctx.Done() // a hook that honours its context
			return fmt.Errorf("%w: %w", errPing, ctx.Err())
		}})
		lc.Append(fx.Hook{OnStart: func(context.Context) error { laterRan = true; return nil }})
	})
	err := within(t, "the start", func() error { return app.Start(context.Background()) })
	if !errors.Is(err, errPing) || !strings.Contains(err.Error(), "START_TIMEOUT") {
		t.Fatalf("start: %v, want the hook's own error within a START_TIMEOUT error", err)
	}
	if laterRan {
		t.Error("a hook after the one that ran out of START_TIMEOUT ran")
	}

	// A hook that returns nil after its context ended leaves the next hook
	// with no time: the next one fails without running.
	laterRan = false
	app = hooks(10*time.Millisecond, time.Second, func(lc fx.Lifecycle) {
		lc.Append(fx.Hook{OnStart: func(ctx context.Context) error { <-ctx.Done(); return nil }})
		lc.Append(fx.Hook{OnStart: func(context.Context) error { laterRan = true; return nil }})
	})
	err = within(t, "the start", func() error { return app.Start(context.Background()) })
	if err == nil || !strings.Contains(err.Error(), "START_TIMEOUT") || laterRan {
		t.Fatalf("start: %v (later hook ran: %v), want a START_TIMEOUT error before the later hook", err, laterRan)
	}
}

func TestStopTimeoutStillRunsTheRemainingHooks(t *testing.T) {
	var firstStopped error
	app := hooks(time.Second, 10*time.Millisecond, func(lc fx.Lifecycle) {
		lc.Append(fx.Hook{OnStop: func(ctx context.Context) error { firstStopped = ctx.Err(); return nil }})
		lc.Append(fx.Hook{OnStop: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }})
	})
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := within(t, "the stop", func() error { return app.Stop(context.Background()) })
	if err == nil || !strings.Contains(err.Error(), "STOP_TIMEOUT (10ms)") {
		t.Fatalf("stop: %v, want a STOP_TIMEOUT error", err)
	}
	if !errors.Is(firstStopped, context.DeadlineExceeded) {
		t.Errorf("the hook after the late one got %v, want to run with its context ended", firstStopped)
	}
}

// TestCallersEarlierDeadlineWins starts with a context whose deadline comes
// before START_TIMEOUT's.
func TestCallersEarlierDeadlineWins(t *testing.T) {
	ch := release(t)
	app := hooks(time.Hour, time.Second, func(lc fx.Lifecycle) { addBlockingStart(lc, ch) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err := within(t, "the start", func() error { return app.Start(ctx) })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("start: %v, want the caller's deadline", err)
	}
}
