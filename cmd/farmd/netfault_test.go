package main

import (
	"io"
	"net"
	"sync"
	"testing"

	"github.com/farmd/farmd/internal/testkit"
)

// proxyMode is how a faultProxy treats connections.
type proxyMode int

const (
	// proxyForward copies both ways between the client and the target.
	proxyForward proxyMode = iota
	// proxyMute accepts TCP, reads and discards, and never answers: a
	// server that accepts connections and never sends 001.
	proxyMute
	// proxyBlackhole keeps open connections open but stops delivering in
	// both directions, as a half-open connection does (a NAT or peer that
	// vanished without FIN or RST). New connections are forwarded.
	proxyBlackhole
)

// faultProxy is a TCP proxy in front of the fake chat server that can turn
// into a server that never answers or a half-open connection.
type faultProxy struct {
	tb     testing.TB
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu       sync.Mutex
	mode     proxyMode
	accepted int
	conns    map[net.Conn]bool
	holed    map[net.Conn]bool // connections that were open when a blackhole began
}

// newFaultProxy listens on addr ("127.0.0.1:0" for any port).
func newFaultProxy(tb testing.TB, addr, target string) *faultProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatalf("proxy listen %s: %v", addr, err)
	}
	p := &faultProxy{tb: tb, ln: ln, target: target, conns: map[net.Conn]bool{}, holed: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	tb.Cleanup(p.close)
	return p
}

func (p *faultProxy) addr() string { return p.ln.Addr().String() }

func (p *faultProxy) setMode(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	if m == proxyBlackhole {
		for c := range p.conns {
			p.holed[c] = true
		}
	}
}

// acceptedCount returns how many connections were accepted.
func (p *faultProxy) acceptedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// waitAccepted blocks until n connections in all have been accepted.
func (p *faultProxy) waitAccepted(n int) {
	p.tb.Helper()
	testkit.Eventually(p.tb, "proxy connections", func() bool { return p.acceptedCount() >= n })
}

func (p *faultProxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *faultProxy) track(c net.Conn, add bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

func (p *faultProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.accepted++
		mode := p.mode
		p.conns[c] = true
		p.mu.Unlock()
		p.wg.Add(1)
		go p.serve(c, mode)
	}
}

func (p *faultProxy) serve(c net.Conn, mode proxyMode) {
	defer p.wg.Done()
	defer p.track(c, false)
	defer func() { _ = c.Close() }()
	if mode == proxyMute {
		_, _ = io.Copy(io.Discard, c)
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	p.track(up, true)
	defer p.track(up, false)
	defer func() { _ = up.Close() }()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pipe(c, up, c); _ = c.Close(); _ = up.Close() }()
	go func() { defer wg.Done(); p.pipe(up, c, c); _ = c.Close(); _ = up.Close() }()
	wg.Wait()
}

// pipe copies src to dst until either fails; once client's connection is
// blackholed it keeps reading src but delivers nothing.
func (p *faultProxy) pipe(dst io.Writer, src io.Reader, client net.Conn) {
	buf := make([]byte, 4096)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			holed := p.holed[client]
			p.mu.Unlock()
			if !holed {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}
