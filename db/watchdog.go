package db

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// watchShards is how many lists a Watchdog splits its transactions over,
// so that concurrent BEGINs and Finishes seldom wait on one lock.
const watchShards = 8

// Watchdog enforces the timeouts of many transactions (TxOptions.Timeout)
// with one goroutine and one coarse tick, instead of the timer per
// transaction that context.WithTimeout sets. Arming a timer for every
// request makes the Go runtime wake its network poller often under load;
// a Watchdog costs two short critical sections per transaction, on one of
// several locks. A transaction is cancelled no later than one tick after
// its timeout, and its error then wraps context.DeadlineExceeded.
//
// A finished transaction leaves the watchdog at once: the watchdog keeps
// nothing of it alive. The goroutine runs only while transactions are
// watched. A Watchdog is safe for concurrent use; Stop cancels nothing and
// waits for the goroutine.
type Watchdog struct {
	tick   time.Duration
	shards [watchShards]watchShard

	running atomic.Bool // read by add without mu
	mu      sync.Mutex  // guards the goroutine's start and stop
	stopped bool
	quit    chan struct{} // closed by Stop
	done    chan struct{} // closed when the goroutine exits; nil when none ran
}

// watchShard is one list of watched transactions, a ring through its
// sentinel, padded so that two shards' locks do not share a cache line.
type watchShard struct {
	mu   sync.Mutex
	ring watch // sentinel: ring.next is the first entry, ring.prev the last
	n    int
	_    [64]byte
}

// watch is one watched transaction. Its fields are guarded by its shard's
// lock, except fired, and home, which its owner writes before adding it.
type watch struct {
	deadline   time.Time
	cancel     context.CancelFunc
	prev, next *watch
	home       *watchShard // the shard add put it in; written only by add
	listed     bool        // in home's ring
	fired      atomic.Bool
}

// NewWatchdog returns a Watchdog checking deadlines every tick (at least a
// millisecond).
func NewWatchdog(tick time.Duration) *Watchdog {
	w := &Watchdog{tick: max(tick, time.Millisecond), quit: make(chan struct{})}
	for i := range w.shards {
		s := &w.shards[i]
		s.ring.prev, s.ring.next = &s.ring, &s.ring
	}
	return w
}

// add watches a transaction through e, whose deadline and cancel are set:
// cancel is called once the deadline has passed, unless remove was called
// first. e is the caller's (a Tx keeps its own, so that watching allocates
// nothing) and must not be watched already. After Stop, add returns false:
// the transaction is not bounded.
func (w *Watchdog) add(e *watch) bool {
	s := &w.shards[rand.Uint32()%watchShards]
	e.home = s
	s.mu.Lock()
	e.listed = true
	e.prev, e.next = s.ring.prev, &s.ring
	s.ring.prev.next = e
	s.ring.prev = e
	s.n++
	s.mu.Unlock()
	if w.running.Load() {
		return true
	}
	// Start the goroutine. Its exit re-checks the shards under w.mu after
	// clearing running, so an entry added meanwhile is never left alone.
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		w.remove(e)
		return false
	}
	if !w.running.Load() {
		w.running.Store(true)
		w.done = make(chan struct{})
		go w.run(w.done)
	}
	return true
}

// remove stops watching e, at once. Removing an entry that is not watched
// (never added, removed already, or fired) does nothing. Only e's owner,
// which added it, may remove it.
func (w *Watchdog) remove(e *watch) {
	if e == nil || e.home == nil {
		return
	}
	s := e.home
	s.mu.Lock()
	if e.listed {
		s.unlink(e)
	}
	e.cancel = nil
	s.mu.Unlock()
}

// unlink takes e out of s. s.mu is held.
func (s *watchShard) unlink(e *watch) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next, e.listed = nil, nil, false
	s.n--
}

// run checks the deadlines every tick until nothing is watched or Stop.
func (w *Watchdog) run(done chan struct{}) {
	defer close(done)
	t := time.NewTicker(w.tick)
	defer t.Stop()
	var expired []context.CancelFunc
	for {
		select {
		case <-w.quit:
			return
		case now := <-t.C:
			if !w.sweep(now, &expired) {
				return
			}
		}
	}
}

// sweep cancels the expired transactions. It reports whether the goroutine
// should go on: not after Stop, nor once nothing is watched.
func (w *Watchdog) sweep(now time.Time, expired *[]context.CancelFunc) bool {
	for i := range w.shards {
		s := &w.shards[i]
		s.mu.Lock()
		for e := s.ring.next; e != &s.ring; {
			next := e.next
			if !now.Before(e.deadline) {
				e.fired.Store(true)
				*expired = append(*expired, e.cancel)
				e.cancel = nil
				s.unlink(e)
			}
			e = next
		}
		s.mu.Unlock()
	}
	for i, cancel := range *expired {
		if cancel != nil {
			cancel()
		}
		(*expired)[i] = nil
	}
	*expired = (*expired)[:0]

	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped && !w.empty() {
		return true
	}
	w.running.Store(false)
	if !w.stopped && !w.empty() {
		// An add listed its entry before it saw running cleared: go on.
		w.running.Store(true)
		return true
	}
	return false
}

// empty reports whether no transaction is watched.
func (w *Watchdog) empty() bool {
	for i := range w.shards {
		s := &w.shards[i]
		s.mu.Lock()
		n := s.n
		s.mu.Unlock()
		if n > 0 {
			return false
		}
	}
	return true
}

// Stop stops the goroutine and waits for it, without waiting for a tick. Transactions watched then are
// no longer bounded; later ones are not watched.
func (w *Watchdog) Stop() {
	w.mu.Lock()
	if !w.stopped {
		w.stopped = true
		close(w.quit)
	}
	done := w.done
	w.mu.Unlock()
	if done != nil {
		<-done
	}
}
