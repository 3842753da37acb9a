package db

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Watchdog enforces the timeouts of many transactions (TxOptions.Timeout)
// with one goroutine and one coarse tick, instead of the timer per
// transaction that context.WithTimeout sets. Arming a timer for every
// request makes the Go runtime wake its network poller often under load;
// a Watchdog costs a mutex and an append per transaction. A transaction
// is cancelled no later than one tick after its timeout, and its error then
// wraps context.DeadlineExceeded.
//
// The goroutine runs only while transactions are watched. A Watchdog is safe
// for concurrent use; Stop cancels nothing and waits for the goroutine.
type Watchdog struct {
	tick time.Duration

	mu      sync.Mutex
	watched []*watch
	running bool
	stopped bool
	done    chan struct{} // closed when the goroutine exits; nil when none runs
}

// watch is one watched transaction. Its fields are guarded by the
// Watchdog's mutex, except fired.
type watch struct {
	deadline time.Time
	cancel   context.CancelFunc
	removed  bool
	fired    atomic.Bool
}

// NewWatchdog returns a Watchdog checking deadlines every tick (at least a
// millisecond).
func NewWatchdog(tick time.Duration) *Watchdog {
	return &Watchdog{tick: max(tick, time.Millisecond)}
}

// add watches a transaction through e, whose deadline and cancel are set:
// cancel is called once the deadline has passed, unless remove was called
// first. e is the caller's (a Tx keeps its own, so that watching allocates
// nothing). After Stop, add returns false: the transaction is not bounded.
func (w *Watchdog) add(e *watch) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return false
	}
	w.watched = append(w.watched, e)
	if !w.running {
		w.running = true
		w.done = make(chan struct{})
		go w.run(w.done)
	}
	return true
}

// remove stops watching e. The entry leaves the list at the next tick.
func (w *Watchdog) remove(e *watch) {
	if e == nil {
		return
	}
	w.mu.Lock()
	e.removed, e.cancel = true, nil
	w.mu.Unlock()
}

// run checks the deadlines every tick until nothing is watched or Stop.
func (w *Watchdog) run(done chan struct{}) {
	defer close(done)
	t := time.NewTicker(w.tick)
	defer t.Stop()
	var expired []context.CancelFunc
	for range t.C {
		if !w.sweep(time.Now(), &expired) {
			return
		}
	}
}

// sweep cancels the expired transactions and drops the removed ones. It
// reports whether the goroutine should go on.
func (w *Watchdog) sweep(now time.Time, expired *[]context.CancelFunc) bool {
	w.mu.Lock()
	kept := w.watched[:0]
	for _, e := range w.watched {
		switch {
		case e.removed:
		case !now.Before(e.deadline):
			e.fired.Store(true)
			*expired = append(*expired, e.cancel)
			e.removed, e.cancel = true, nil
		default:
			kept = append(kept, e)
		}
	}
	clear(w.watched[len(kept):])
	w.watched = kept
	goOn := !w.stopped && len(kept) > 0
	if !goOn {
		w.running = false
	}
	w.mu.Unlock()
	for i, cancel := range *expired {
		cancel()
		(*expired)[i] = nil
	}
	*expired = (*expired)[:0]
	return goOn
}

// Stop stops the goroutine and waits for it. Transactions watched then are
// no longer bounded; later ones are not watched.
func (w *Watchdog) Stop() {
	w.mu.Lock()
	w.stopped = true
	done := w.done
	w.mu.Unlock()
	if done != nil {
		<-done
	}
}
