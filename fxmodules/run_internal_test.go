package fxmodules

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestCallersEndIsNotBlamedOnTheTimeouts runs a hook whose context the
// caller ends before the phase's deadline: its error is the caller's, not
// one naming START_TIMEOUT or STOP_TIMEOUT.
func TestCallersEndIsNotBlamedOnTheTimeouts(t *testing.T) {
	for _, p := range []phase{starting, stopping} {
		l := &timedLifecycle{startLimit: time.Hour, stopLimit: time.Hour}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done := make(chan error, 1)
		go func() {
			done <- l.run(ctx, p, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, "caller")
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(time.Minute):
			t.Fatalf("phase %d: the hook's context did not end with the caller's", p)
		}
		if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "TIMEOUT") {
			t.Errorf("phase %d: %v, want the caller's context.Canceled alone", p, err)
		}
	}
}
