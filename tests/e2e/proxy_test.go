package e2e

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
)

// cutMode is how a proxy behaves while the link is cut.
type cutMode int

const (
	// refuse closes the listener: connection attempts are refused, as when
	// the server is down.
	refuse cutMode = iota + 1
	// blackhole accepts connections and never answers, as when the network
	// drops every packet.
	blackhole
)

func (m cutMode) String() string {
	switch m {
	case refuse:
		return "refused"
	case blackhole:
		return "blackhole"
	}
	return "none"
}

// proxy forwards TCP connections to a database server, until it is cut:
// then it closes every connection it carries and refuses or black-holes new
// ones, until it is healed.
type proxy struct {
	t        testing.TB
	addr     string // where it listens, host:port
	upstream string

	mu     sync.Mutex
	ln     net.Listener
	mode   cutMode // 0 while forwarding
	conns  map[net.Conn]struct{}
	held   []net.Conn // black-holed connections
	closed bool
	wg     sync.WaitGroup
}

// newProxy listens on a free port of 127.0.0.1 and forwards to upstream,
// until the test ends.
func newProxy(t testing.TB, upstream string) *proxy {
	t.Helper()
	ln, err := listenBelowEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, addr: ln.Addr().String(), upstream: upstream, conns: map[net.Conn]struct{}{}}
	p.listen(ln)
	t.Cleanup(p.close)
	return p
}

// listenBelowEphemeral listens on a free port of 127.0.0.1 below the
// ephemeral range (32768 and up on Linux, 49152 and up elsewhere), so that
// no outgoing connection takes the port while a refusing proxy has it
// closed.
func listenBelowEphemeral() (net.Listener, error) {
	for range 100 {
		port := 20000 + rand.IntN(12000)
		if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			return ln, nil
		}
	}
	return net.Listen("tcp", "127.0.0.1:0")
}

// listen serves ln in the background.
func (p *proxy) listen(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed
			}
			p.wg.Go(func() { p.handle(c) })
		}
	})
}

// handle forwards c, or holds it while the link is black-holed.
func (p *proxy) handle(c net.Conn) {
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		c.Close()
		return
	case p.mode != 0:
		p.held = append(p.held, c)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.mode != 0 || p.closed { // cut while dialling
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	var once sync.Once
	done := func() {
		once.Do(func() {
			c.Close()
			up.Close()
			p.mu.Lock()
			delete(p.conns, c)
			delete(p.conns, up)
			p.mu.Unlock()
		})
	}
	p.wg.Go(func() {
		_, _ = io.Copy(up, c)
		done()
	})
	_, _ = io.Copy(c, up)
	done()
}

// cut closes every forwarded connection and, until heal, refuses or
// black-holes new ones.
func (p *proxy) cut(mode cutMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	for c := range p.conns {
		c.Close()
	}
	if mode == refuse {
		p.ln.Close()
	}
}

// heal forwards again: it listens again on the same address after a
// refusal, and closes the black-holed connections.
func (p *proxy) heal() {
	p.t.Helper()
	p.mu.Lock()
	mode := p.mode
	p.mode = 0
	for _, c := range p.held {
		c.Close()
	}
	p.held = nil
	p.mu.Unlock()
	if mode == refuse {
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			p.t.Fatalf("proxy: listening again on %s: %v", p.addr, err)
		}
		p.listen(ln)
	}
}

// close stops the proxy and its connections.
func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	for _, c := range p.held {
		c.Close()
	}
	p.held = nil
	p.mu.Unlock()
	p.wg.Wait()
}
