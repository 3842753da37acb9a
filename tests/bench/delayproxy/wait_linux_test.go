package delayproxy

import "testing"

// TestWaiterIsTimerfd: on Linux the proxy's writers wait on a timerfd, not
// on a runtime timer, whose wake-ups the poller rounds to milliseconds.
func TestWaiterIsTimerfd(t *testing.T) {
	w := newWaiter()
	defer w.close()
	if _, ok := w.(*timerfdWaiter); !ok {
		t.Fatalf("newWaiter() = %T, want *timerfdWaiter", w)
	}
}
