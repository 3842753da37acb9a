package delayproxy

import (
	"errors"
	"testing"
	"time"
)

// testWaiters runs fn on each waiter the proxy may use.
func testWaiters(t *testing.T, fn func(t *testing.T, w waiter)) {
	for name, w := range map[string]func() waiter{"newWaiter": newWaiter, "timer": newTimerWaiter} {
		t.Run(name, func(t *testing.T) { fn(t, w()) })
	}
}

// TestWaiterWaits: a wait lasts at least the time asked (only the lower
// bound is checked), and a wait of no time returns at once, however often
// the waiter is used.
func TestWaiterWaits(t *testing.T) {
	testWaiters(t, func(t *testing.T, w waiter) {
		defer w.close()
		for _, d := range []time.Duration{time.Millisecond, 0, -time.Second, 2 * time.Millisecond, time.Microsecond} {
			start := time.Now()
			if err := w.wait(d); err != nil {
				t.Fatalf("wait(%v): %v", d, err)
			}
			if got := time.Since(start); got < d {
				t.Fatalf("wait(%v) returned after %v", d, got)
			}
		}
	})
}

// TestWaiterCloseEndsWait: close ends a wait under way, which fails.
func TestWaiterCloseEndsWait(t *testing.T) {
	testWaiters(t, func(t *testing.T, w waiter) {
		errc := make(chan error, 1)
		go func() { errc <- w.wait(time.Hour) }()
		w.close()
		select {
		case err := <-errc:
			if err == nil {
				t.Fatal("a wait ended by close returned nil")
			}
		case <-time.After(waitBound):
			t.Fatalf("a wait was still under way %v after close", waitBound)
		}
	})
}

// TestWaiterErrStopped: the runtime timer's wait ended by close says so.
func TestWaiterErrStopped(t *testing.T) {
	w := newTimerWaiter()
	w.close()
	if err := w.wait(time.Hour); !errors.Is(err, errStopped) {
		t.Fatalf("wait after close = %v, want errStopped", err)
	}
}
