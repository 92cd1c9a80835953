package testpeers

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy forwards TCP connections to a target and can stop reading from its
// clients for a while: to the client, the peer has stopped reading.
type Proxy struct {
	Port int

	l      net.Listener
	target string
	mu     sync.Mutex
	until  time.Time
	conns  []net.Conn
}

// StartProxy listens on a free port and forwards to 127.0.0.1:targetPort.
func StartProxy(t testing.TB, targetPort int) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{l: l, Port: l.Addr().(*net.TCPAddr).Port, target: fmt.Sprintf("127.0.0.1:%d", targetPort)}
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Stall stops reading from clients (existing and new) for d.
func (p *Proxy) Stall(d time.Duration) {
	p.mu.Lock()
	p.until = time.Now().Add(d)
	p.mu.Unlock()
}

// Close stops the proxy and every connection through it.
func (p *Proxy) Close() {
	p.l.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
}

func (p *Proxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		// A small receive buffer so that a stall fills the client's
		// socket quickly, as a congested path would.
		_ = c.(*net.TCPConn).SetReadBuffer(32 << 10)
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(c, s); c.Close() }()
		go p.pump(s, c)
	}
}

func (p *Proxy) pump(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 16<<10)
	for {
		p.mu.Lock()
		wait := time.Until(p.until)
		p.mu.Unlock()
		if wait > 0 {
			time.Sleep(min(wait, 100*time.Millisecond))
			continue
		}
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
