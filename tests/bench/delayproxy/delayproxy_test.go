package delayproxy

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// waitBound is how long a test waits for a condition before it fails.
const waitBound = 10 * time.Second

// echoServer starts a TCP server on 127.0.0.1 that writes back what it
// reads, and returns its address.
func echoServer(t *testing.T) string {
	t.Helper()
	return server(t, func(c net.Conn) { _, _ = io.Copy(c, c) })
}

// lineServer starts a TCP server on 127.0.0.1 that answers each line it
// reads, once the line is complete, with "ok\n", and returns its address.
func lineServer(t *testing.T) string {
	t.Helper()
	return server(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
			if _, err := c.Write([]byte("ok\n")); err != nil {
				return
			}
		}
	})
}

// server starts a TCP server on 127.0.0.1 that runs handle on each
// connection, and returns its address.
func server(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// start starts a proxy to target, closed when the test ends.
func start(t *testing.T, target string, delay time.Duration) *Proxy {
	t.Helper()
	p, err := Start(target, delay)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Error(err)
		}
	})
	return p
}

// dial connects to p, with a deadline that fails a stuck test instead of
// hanging it.
func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.SetDeadline(time.Now().Add(waitBound)); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRoundTripTakesTwiceTheDelay: an exchange with an echo server through
// the proxy takes at least the delay there and the delay back. Only the
// lower bound is checked: the machine may add any time to it.
func TestRoundTripTakesTwiceTheDelay(t *testing.T) {
	const delay = time.Millisecond
	p := start(t, echoServer(t), delay)
	c := dial(t, p)
	buf := make([]byte, 4)
	for i := range 20 {
		start := time.Now()
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 2*delay {
			t.Fatalf("round trip %d took %v, want at least %v", i, d, 2*delay)
		}
		if string(buf) != "ping" {
			t.Fatalf("echo %q, want ping", buf)
		}
	}
}

// TestLatenessCountsChunks: every chunk forwarded counts, with the time it
// left after its due time (never negative).
func TestLatenessCountsChunks(t *testing.T) {
	p := start(t, echoServer(t), time.Millisecond)
	c := dial(t, p)
	buf := make([]byte, 4)
	for range 3 {
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
	}
	// Each exchange is one chunk each way; the echo's chunk may be
	// counted only once it is read back, which ReadFull waited for.
	chunks, late := p.Lateness()
	if chunks != 6 || late < 0 {
		t.Fatalf("Lateness() = %d chunks, %v late; want 6 chunks and no negative time", chunks, late)
	}
}

// TestCountsRoundTrips: each request that waits for its answer is one round
// trip; writes sent before the server answers count once.
func TestCountsRoundTrips(t *testing.T) {
	p := start(t, lineServer(t), 0)
	c := dial(t, p)
	r := bufio.NewReader(c)
	exchange := func(parts ...string) {
		t.Helper()
		for _, s := range parts {
			if _, err := c.Write([]byte(s)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if got != "ok\n" {
			t.Fatalf("answer %q, want ok", got)
		}
	}
	for range 7 {
		exchange("request\n")
	}
	if got := p.RoundTrips(); got != 7 {
		t.Fatalf("RoundTrips() = %d after 7 exchanges, want 7", got)
	}
	// Two writes before the answer (the server answers complete lines
	// only): the proxy reads them as one chunk or two, and counts one
	// round trip either way.
	exchange("BEGIN; ", "SELECT 1;\n")
	if got := p.RoundTrips(); got != 8 {
		t.Fatalf("RoundTrips() = %d after a pipelined exchange, want 8", got)
	}
	if got := p.Connections(); got != 1 {
		t.Fatalf("Connections() = %d, want 1", got)
	}
}

// TestReaderDoesNotWaitForTheDelay: while chunks wait for their time, the
// proxy keeps reading the next ones, so that pipelined chunks are not
// delayed by the sum of the delays. With a delay of an hour, the proxy
// must still read every chunk the client sends one after the other.
func TestReaderDoesNotWaitForTheDelay(t *testing.T) {
	p := start(t, echoServer(t), time.Hour)
	c := dial(t, p)
	const chunks = 5
	for i := range chunks {
		if _, err := c.Write([]byte("chunk")); err != nil {
			t.Fatal(err)
		}
		want := int64(len("chunk") * (i + 1))
		deadline := time.Now().Add(waitBound)
		for p.clientBytes.Load() < want {
			if time.Now().After(deadline) {
				t.Fatalf("the proxy read %d bytes within %v, want %d: its reader waits for the delay", p.clientBytes.Load(), waitBound, want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	if got := p.RoundTrips(); got != 1 {
		t.Fatalf("RoundTrips() = %d for writes with no answer between them, want 1", got)
	}
}

// TestKeepsOrder: a large stream in many writes, echoed through the proxy
// with a delay, comes back byte for byte in order, and the end of the
// client's stream reaches the server.
func TestKeepsOrder(t *testing.T) {
	p := start(t, echoServer(t), time.Millisecond)
	c := dial(t, p)
	data := make([]byte, 1<<20)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 1000)
			if _, err := c.Write(rest[:n]); err != nil {
				errc <- err
				return
			}
			rest = rest[n:]
		}
		errc <- c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("echoed %d bytes that differ from the %d sent", len(got), len(data))
	}
}

// TestCloseEndsConnections: Close returns with connections open and chunks
// waiting, and their clients see the connection end.
func TestCloseEndsConnections(t *testing.T) {
	p, err := Start(echoServer(t), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p)
	if _, err := c.Write([]byte("waiting")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitBound)
	for p.clientBytes.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the proxy read nothing")
		}
		time.Sleep(time.Millisecond)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read on a connection of a closed proxy succeeded")
	}
}
