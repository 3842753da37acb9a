package db

import (
	"testing"
	"time"
)

// TestWatchdogCancelsOnlyWhatExpires checks the watchdog alone: an expired
// watch is cancelled once and marked fired, a removed one never is, the
// goroutine ends when nothing is watched, and after Stop nothing is.
func TestWatchdogCancelsOnlyWhatExpires(t *testing.T) {
	w := NewWatchdog(2 * time.Millisecond)
	expired, removed := 0, 0
	e1 := w.add(time.Now().Add(10*time.Millisecond), func() { expired++ })
	e2 := w.add(time.Now().Add(10*time.Millisecond), func() { removed++ })
	w.remove(e2)
	w.mu.Lock()
	done := w.done
	w.mu.Unlock()
	select {
	case <-done: // nothing left to watch
	case <-time.After(5 * time.Second):
		t.Fatal("the watchdog goroutine did not end once nothing was watched")
	}
	if expired != 1 || !e1.fired.Load() {
		t.Errorf("expired watch: cancelled %d times, fired %v", expired, e1.fired.Load())
	}
	if removed != 0 || e2.fired.Load() {
		t.Errorf("removed watch: cancelled %d times, fired %v", removed, e2.fired.Load())
	}
	if len(w.watched) != 0 {
		t.Errorf("%d watches kept", len(w.watched))
	}
	w.Stop()
	if e := w.add(time.Now(), func() {}); e != nil {
		t.Error("a stopped watchdog took a watch")
	}
}
