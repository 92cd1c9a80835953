package testpeers

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// UDPLink is a UDP relay between a caller and a server on 127.0.0.1 that
// behaves like a slow link: the caller-to-server direction is serialised at
// Rate bits/s through a drop-tail queue of Queue bytes (a router's buffer);
// the return direction (SRT's ACKs and NAKs) is not limited. The caller
// connects to Port. Rate is given to NewUDPLink and changed by SetRate.
type UDPLink struct {
	Port  int
	Queue int
	// Forwarded and Dropped count datagrams delivered to the server and
	// dropped at the full queue.
	Forwarded, Dropped atomic.Int64

	rate        atomic.Int64
	front, back *net.UDPConn
	caller      atomic.Pointer[net.UDPAddr]
	mu          sync.Mutex
	q           [][]byte
	qBytes      int
	wake        chan struct{}
	done        chan struct{}
	closeOnce   sync.Once
}

// NewUDPLink relays 127.0.0.1:Port (a free port) to 127.0.0.1:toPort.
func NewUDPLink(toPort, rate, queue int) (*UDPLink, error) {
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	back, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: toPort})
	if err != nil {
		front.Close()
		return nil, err
	}
	l := &UDPLink{Port: front.LocalAddr().(*net.UDPAddr).Port, Queue: queue, front: front, back: back,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	l.rate.Store(int64(rate))
	go l.in()
	go l.out()
	go l.ret()
	return l, nil
}

// SetRate changes the link rate (bits/s) from now on.
func (l *UDPLink) SetRate(bps int) { l.rate.Store(int64(bps)) }

// Close stops the relay.
func (l *UDPLink) Close() {
	l.closeOnce.Do(func() {
		close(l.done)
		l.front.Close()
		l.back.Close()
	})
}

func (l *UDPLink) in() { // caller -> queue
	b := make([]byte, 2048)
	for {
		n, from, err := l.front.ReadFromUDP(b)
		if err != nil {
			return
		}
		l.caller.Store(from)
		l.mu.Lock()
		if l.qBytes+n > l.Queue {
			l.Dropped.Add(1)
		} else {
			l.q = append(l.q, append([]byte(nil), b[:n]...))
			l.qBytes += n
		}
		l.mu.Unlock()
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

func (l *UDPLink) out() { // queue -> server, at Rate (IP+UDP headers counted)
	next := time.Now()
	for {
		l.mu.Lock()
		if len(l.q) == 0 {
			l.mu.Unlock()
			select {
			case <-l.wake:
				continue
			case <-l.done:
				return
			}
		}
		d := l.q[0]
		l.q = l.q[1:]
		l.qBytes -= len(d)
		l.mu.Unlock()
		if now := time.Now(); next.Before(now) {
			next = now
		}
		next = next.Add(time.Duration(len(d)+28) * 8 * time.Second / time.Duration(l.rate.Load()))
		time.Sleep(time.Until(next))
		if _, err := l.back.Write(d); err != nil {
			return
		}
		l.Forwarded.Add(1)
	}
}

func (l *UDPLink) ret() { // server -> caller, unlimited
	b := make([]byte, 2048)
	for {
		n, err := l.back.Read(b)
		if err != nil {
			return
		}
		if c := l.caller.Load(); c != nil {
			_, _ = l.front.WriteToUDP(b[:n], c)
		}
	}
}
