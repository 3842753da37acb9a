// Package delayproxy is a TCP proxy that delays every chunk of data by a
// fixed time in each direction, as the network to a database in another
// zone does, and counts the round trips its clients make.
//
// Each direction of a connection has a reader and a writer goroutine and a
// queue between them: the reader stamps every chunk it reads with the time
// it is due (the time it was read plus the delay) and queues it at once;
// the writer forwards the chunks in order, each when its time comes. A
// client that sends several chunks without waiting (pipelining) gets each
// one the delay later, not the delays added up.
//
// On Linux the writer waits on a timerfd, which wakes it within
// microseconds of the due time. A runtime timer (time.Timer) does not: in
// a process with nothing else to run, Go's poller sleeps in whole
// milliseconds, so that a chunk due 0.3 ms after the poller went to sleep
// left up to 0.7 ms late, and a "1 ms" network took 1 to 2 ms each way
// depending on what else the process was waiting for. Lateness reports
// what is left.
package delayproxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// queueLen bounds the chunks queued in one direction; a reader that gets
// that far ahead of its writer waits, as a full network buffer would.
const queueLen = 1024

// bufSize is the most one read takes from a connection.
const bufSize = 64 << 10

// Proxy accepts connections on a port of 127.0.0.1 and forwards each to
// its target, every chunk delayed in each direction.
type Proxy struct {
	ln     net.Listener
	target string
	delay  time.Duration

	roundTrips  atomic.Int64
	connections atomic.Int64
	clientBytes atomic.Int64
	late        atomic.Int64 // nanoseconds chunks were written after their due time
	forwarded   atomic.Int64 // chunks written

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// Start listens on a free port of 127.0.0.1 and forwards every connection
// it accepts to target (host:port), delaying each chunk by delay in each
// direction. Close stops it.
func Start(target string, delay time.Duration) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("delayproxy: listen: %w", err)
	}
	p := &Proxy{ln: ln, target: target, delay: delay, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the address clients connect to, 127.0.0.1:PORT.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// RoundTrips returns the round trips clients have made so far: on each
// connection, every time the client sends after the server last sent (or
// sends first). Several writes of the client with no answer in between
// count once, as they travel together; a write sent after an answer counts
// again even if the client does not wait for its own answer.
func (p *Proxy) RoundTrips() int64 { return p.roundTrips.Load() }

// Lateness returns how many chunks the proxy has forwarded and the time
// they were written after their due time, added up: what the proxy added
// beyond its delay (scheduling, a busy machine).
func (p *Proxy) Lateness() (chunks int64, late time.Duration) {
	return p.forwarded.Load(), time.Duration(p.late.Load())
}

// Connections returns how many connections the proxy has accepted.
func (p *Proxy) Connections() int64 { return p.connections.Load() }

// Close stops accepting, closes every connection and waits for the
// proxy's goroutines to end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

// track registers c so that Close closes it; it reports false, having
// closed c, when the proxy is closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

// untrack closes c and forgets it.
func (p *Proxy) untrack(c net.Conn) {
	_ = c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if !p.track(c) {
			return
		}
		p.connections.Add(1)
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve forwards client to a new connection to the target until both
// directions end.
func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	defer p.untrack(client)
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	// serverSpoke is true when the server has sent since the client last
	// did: the client's next chunk starts a round trip.
	var serverSpoke atomic.Bool
	serverSpoke.Store(true)
	stop := make(chan struct{})
	var once sync.Once
	abort := func() {
		once.Do(func() {
			close(stop)
			_ = client.Close()
			_ = server.Close()
		})
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		p.pipe(client, server, stop, abort, func(n int) {
			p.clientBytes.Add(int64(n))
			if serverSpoke.Swap(false) {
				p.roundTrips.Add(1)
			}
		})
	}()
	go func() {
		defer wg.Done()
		p.pipe(server, client, stop, abort, func(int) { serverSpoke.Store(true) })
	}()
	wg.Wait()
	abort()
}

// chunk is data read from one side, due on the other at due.
type chunk struct {
	data []byte
	due  time.Time
}

// pipe copies src to dst, each chunk delayed by the proxy's delay:
// the reader queues what it reads with its due time, a writer goroutine
// forwards it when due. onRead is called with each chunk's size as it is
// read. At the end of src, dst's write side is closed once the queue is
// empty; a failed read or write aborts the connection, which closes stop
// and so ends the writer's wait.
func (p *Proxy) pipe(src, dst net.Conn, stop <-chan struct{}, abort func(), onRead func(n int)) {
	q := make(chan chunk, queueLen)
	written := make(chan struct{})
	go func() {
		defer close(written)
		p.write(dst, q, stop, abort)
	}()
	buf := make([]byte, bufSize)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			due := time.Now().Add(p.delay)
			onRead(n)
			select {
			case q <- chunk{data: bytes.Clone(buf[:n]), due: due}:
			case <-stop:
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				// The connection failed or the proxy closed it: drop
				// what waits, and end the other direction too.
				abort()
			}
			break
		}
	}
	close(q)
	<-written
}

// write forwards the chunks of q to dst, each at its due time, then
// closes dst's write side. After a failure it drains q, so that the
// reader never waits for it. stop ends a wait under way.
func (p *Proxy) write(dst net.Conn, q <-chan chunk, stop <-chan struct{}, abort func()) {
	w := newWaiter()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-stop:
		case <-done:
		}
		w.close()
	}()
	failed := false
	for c := range q {
		if failed {
			continue
		}
		if err := w.wait(time.Until(c.due)); err != nil {
			failed = true
			continue
		}
		p.late.Add(int64(max(time.Since(c.due), 0)))
		p.forwarded.Add(1)
		if _, err := dst.Write(c.data); err != nil {
			failed = true
			abort()
		}
	}
	if !failed {
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}
}
