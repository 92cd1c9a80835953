package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/haivision/srtgo"

	"github.com/livecap/livecap/internal/media"
)

const (
	// srtPayload is the SRT live-mode payload: 7 TS packets, the most that
	// fits one UDP datagram under a 1500-byte MTU with SRT's headers.
	srtPayload = 7 * 188
	// tsOffset shifts the session timeline so that AAC priming (negative
	// PTS) stays positive in 90 kHz TS time, with room for PCR (which
	// runs 100 ms behind DTS in mediacommon's writer).
	tsOffset = 10 * time.Second
)

var (
	srtInit    sync.Once
	srtStarted atomic.Bool
)

func srtCleanup() {
	if srtStarted.Load() {
		srtgo.CleanupSRT()
	}
}

type srtConnector struct {
	d    *Destination
	o    *Options
	opts map[string]string
}

func newSRTConnector(d *Destination, o *Options) (*srtConnector, error) {
	opts := map[string]string{
		"transtype": "live",
		"blocking":  "0",
		// Connection timeout inside libsrt; ours (ConnectTimeout) is the
		// outer bound.
		"conntimeo": strconv.Itoa(int(o.ConnectTimeout / time.Millisecond)),
	}
	if d.StreamID != "" {
		opts["streamid"] = d.StreamID
	}
	if d.Passphrase != "" {
		opts["passphrase"] = d.Passphrase
	}
	if d.PBKeyLen != 0 {
		opts["pbkeylen"] = strconv.Itoa(d.PBKeyLen)
	}
	if d.LatencyMS >= 0 {
		opts["latency"] = strconv.Itoa(d.LatencyMS)
	}
	// Refuse a configuration the muxer cannot take now, not at each
	// connection attempt.
	if _, err := newTSMuxer(io.Discard, o.Info); err != nil {
		return nil, err
	}
	return &srtConnector{d: d, o: o, opts: opts}, nil
}

func (c *srtConnector) connect(ctx context.Context) (session, error) {
	srtInit.Do(func() { srtgo.InitSRT(); srtStarted.Store(true) })
	d := c.d
	sock := srtgo.NewSrtSocket(d.Host, uint16(d.Port), c.opts)
	if sock == nil {
		// srtgo returns nil without a reason; the options were validated,
		// so this is libsrt refusing one of them.
		return nil, fmt.Errorf("srt %s: libsrt refused the socket options", d.Redacted())
	}
	done := make(chan error, 1)
	go func() { done <- sock.Connect() }()
	t := time.NewTimer(c.o.ConnectTimeout)
	defer t.Stop()
	var err error
	select {
	case err = <-done:
	case <-t.C:
		err = fmt.Errorf("no answer within %v", c.o.ConnectTimeout)
		if !abortConnect(sock, done) {
			return nil, fmt.Errorf("srt %s: %v (the connect could not be cancelled)", d.Redacted(), err)
		}
	case <-ctx.Done():
		abortConnect(sock, done)
		return nil, ctx.Err()
	}
	if err != nil {
		sock.Close()
		msg := d.scrub(err.Error())
		var closed *srtgo.SrtSocketClosed
		if errors.As(err, &closed) {
			// srtgo reports every asynchronous connect failure this way.
			msg = "connection rejected or timed out (wrong passphrase or streamid, or no listener?)"
		}
		return nil, fmt.Errorf("srt %s: %s", d.Redacted(), msg)
	}
	s := &srtSession{d: d, o: c.o, sock: sock, w: *sock}
	if err := s.initMux(); err != nil {
		sock.Close()
		return nil, err
	}
	// A write blocked longer than WriteTimeout means the peer is gone:
	// closing the socket and expiring its poll deadline unblocks it.
	s.watchdog = time.AfterFunc(time.Hour, func() { s.stalled.Store(true); abortSRT(sock) })
	s.watchdog.Stop()
	return s, nil
}

// abortConnect wakes a pending Connect and waits for it to return. The
// 2023 srtgo can miss a deadline set while its poll wait is starting, so
// the deadline is re-armed until the Connect returns; if it still has not
// after 2 s, the socket and its goroutine are abandoned (never closed under
// a running Connect) rather than hanging the publisher and with it the
// session's shutdown. It reports whether the Connect returned.
func abortConnect(sock *srtgo.SrtSocket, done <-chan error) bool {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	giveUp := time.After(2 * time.Second)
	for {
		abortSRT(sock)
		select {
		case <-done:
			return true
		case <-tick.C:
		case <-giveUp:
			return false
		}
	}
}

// abortSRT closes a socket and wakes anything waiting on it: srtgo's Close
// alone does not wake a pending Connect or Write.
func abortSRT(s *srtgo.SrtSocket) {
	s.SetDeadline(time.Now().Add(-time.Second))
}

type srtSession struct {
	d    *Destination
	o    *Options
	sock *srtgo.SrtSocket
	// w is a copy of the socket value used for writes, so that closing
	// (which clears sock's handle) never races with a Write in progress.
	w srtgo.SrtSocket

	ts    *tsMuxer
	buf   [srtPayload]byte
	n     int
	bytes atomic.Uint64

	watchdog *time.Timer
	stalled  atomic.Bool
	closed   sync.Once
}

func (s *srtSession) initMux() error {
	m, err := newTSMuxer(s, s.o.Info)
	s.ts = m
	return err
}

// Write buffers TS packets into 1316-byte SRT messages (one Write to the
// socket = one message).
func (s *srtSession) Write(b []byte) (int, error) {
	total := len(b)
	for len(b) > 0 {
		k := copy(s.buf[s.n:], b)
		s.n += k
		b = b[k:]
		if s.n == srtPayload {
			if err := s.flush(); err != nil {
				return total - len(b), err
			}
		}
	}
	return total, nil
}

func (s *srtSession) flush() error {
	if s.n == 0 {
		return nil // srtgo panics on an empty write
	}
	n, err := s.w.Write(s.buf[:s.n])
	s.bytes.Add(uint64(n))
	s.n = 0
	return err
}

func (s *srtSession) write(p *media.Packet) (bool, error) {
	s.watchdog.Reset(s.o.WriteTimeout)
	sent, err := s.ts.write(p)
	if sent && err == nil {
		err = s.flush() // one access unit per flush: no media waits in our buffer
	}
	s.watchdog.Stop()
	if err != nil {
		if s.stalled.Load() {
			return false, fmt.Errorf("srt %s: the peer has not accepted data for %v", s.d.Redacted(), s.o.WriteTimeout)
		}
		return false, fmt.Errorf("srt %s: %s", s.d.Redacted(), s.d.scrub(err.Error()))
	}
	return sent, nil
}

func (s *srtSession) sent() uint64 { return s.bytes.Load() }

func (s *srtSession) close() {
	s.closed.Do(func() {
		s.watchdog.Stop()
		s.sock.Close()
	})
}
