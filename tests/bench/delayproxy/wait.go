package delayproxy

import (
	"errors"
	"time"
)

// errStopped fails a wait that close ended.
var errStopped = errors.New("delayproxy: wait stopped")

// waiter waits for a chunk's due time; close ends a wait under way, which
// then fails. One goroutine waits on it at a time.
type waiter interface {
	// wait returns after d, or with an error once close is called.
	wait(d time.Duration) error
	close()
}

// timerWaiter waits on a runtime timer: the waiter where no timerfd is.
type timerWaiter struct {
	t    *time.Timer
	stop chan struct{}
}

func newTimerWaiter() waiter {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &timerWaiter{t: t, stop: make(chan struct{})}
}

func (w *timerWaiter) wait(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	w.t.Reset(d)
	select {
	case <-w.t.C:
		return nil
	case <-w.stop:
		w.t.Stop()
		return errStopped
	}
}

func (w *timerWaiter) close() { close(w.stop) }
