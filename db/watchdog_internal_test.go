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
	e1 := &watch{deadline: time.Now().Add(10 * time.Millisecond), cancel: func() { expired++ }}
	e2 := &watch{deadline: time.Now().Add(10 * time.Millisecond), cancel: func() { removed++ }}
	if !w.add(e1) || !w.add(e2) {
		t.Fatal("a running watchdog refused a watch")
	}
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
	if w.add(&watch{deadline: time.Now(), cancel: func() {}}) {
		t.Error("a stopped watchdog took a watch")
	}
}
