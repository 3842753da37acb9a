package db

import (
	"sync"
	"sync/atomic"
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
	if !w.empty() {
		t.Error("watches kept after they fired or were removed")
	}
	w.Stop()
	if w.add(&watch{deadline: time.Now(), cancel: func() {}}) {
		t.Error("a stopped watchdog took a watch")
	}
}

// TestWatchdogRemovesAtOnce checks that a removed watch leaves its list at
// once, so that the watchdog keeps no finished transaction alive until its
// next tick, and that the lists stay whole under concurrent adds and
// removes.
func TestWatchdogRemovesAtOnce(t *testing.T) {
	w := NewWatchdog(time.Hour) // no sweep during the test
	defer w.Stop()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				e := &watch{deadline: time.Now().Add(time.Hour), cancel: func() {}}
				if !w.add(e) {
					t.Error("a running watchdog refused a watch")
					return
				}
				w.remove(e)
				if e.listed || e.prev != nil || e.next != nil {
					t.Error("a removed watch is still linked")
					return
				}
				w.remove(e) // twice: nothing
			}
		})
	}
	wg.Wait()
	kept := &watch{deadline: time.Now().Add(time.Hour), cancel: func() {}}
	w.add(kept)
	n := 0
	for i := range w.shards {
		s := &w.shards[i]
		s.mu.Lock()
		for e := s.ring.next; e != &s.ring; e = e.next {
			n++
		}
		if s.n < 0 {
			t.Errorf("shard %d counts %d", i, s.n)
		}
		s.mu.Unlock()
	}
	if n != 1 {
		t.Errorf("%d watches listed, want the 1 not removed", n)
	}
	w.remove(kept)
	if !w.empty() {
		t.Error("the lists are not empty after every watch was removed")
	}
}

// TestWatchdogRestarts checks that a watch added while the goroutine is
// ending is still enforced: the goroutine goes on, or another starts.
func TestWatchdogRestarts(t *testing.T) {
	w := NewWatchdog(time.Millisecond)
	defer w.Stop()
	for range 200 {
		var fired atomic.Bool
		e := &watch{deadline: time.Now(), cancel: func() { fired.Store(true) }}
		if !w.add(e) {
			t.Fatal("a running watchdog refused a watch")
		}
		deadline := time.Now().Add(5 * time.Second)
		for !fired.Load() {
			if time.Now().After(deadline) {
				t.Fatal("an expired watch was never cancelled")
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
}
