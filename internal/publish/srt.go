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
	// PTS) stays positive in 90 kHz TS time, with room for the PCR, which
	// runs tsPCRDelay behind DTS.
	tsOffset = 10 * time.Second

	// srtDefaultLatency is libsrt's own default receiver delay, used when
	// the URL gives none and the peer's cannot be read.
	srtDefaultLatency = 120 * time.Millisecond
)

var (
	srtMu      sync.Mutex
	srtStarted bool
)

func srtStartup() {
	srtMu.Lock()
	defer srtMu.Unlock()
	if !srtStarted {
		srtgo.InitSRT()
		srtStarted = true
	}
}

// srtCleanup stops srtgo's poll server and releases libsrt (its receive
// and garbage-collector threads), so that the process does not exit with
// libsrt threads running. A later connection starts libsrt again.
func srtCleanup() {
	srtMu.Lock()
	defer srtMu.Unlock()
	if srtStarted {
		srtgo.CleanupSRT()
		srtStarted = false
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
		// Connection timeout inside libsrt; the write deadline set before
		// Connect (ConnectTimeout) is the outer bound.
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

// expire wakes whatever waits on the socket's write side (a Connect or a
// Write) until done is closed. srtgo's wait checks the deadline and then
// parks: a past deadline set between the two wakes nobody, so it is set
// again every 50 ms. Bounded at 2 s: the Connect or Write it wakes returns
// within microseconds of being woken.
func expire(sock *srtgo.SrtSocket, done <-chan struct{}) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	giveUp := time.After(2 * time.Second)
	for {
		sock.SetWriteDeadline(time.Now().Add(-time.Second))
		select {
		case <-done:
			return
		case <-giveUp:
			return
		case <-tick.C:
		}
	}
}

func (c *srtConnector) connect(ctx context.Context) (session, error) {
	srtStartup()
	d := c.d
	sock := srtgo.NewSrtSocket(d.Host, uint16(d.Port), c.opts)
	if sock == nil {
		// srtgo returns nil without a reason; the options were validated,
		// so this is libsrt refusing one of them.
		return nil, fmt.Errorf("srt %s: libsrt refused the socket options", d.Redacted())
	}
	// The deadline bounds the wait for the handshake even if libsrt's own
	// connection timeout never reports; a stop wakes it at once.
	sock.SetWriteDeadline(time.Now().Add(c.o.ConnectTimeout))
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { expire(sock, done) })
	err := sock.Connect()
	close(done)
	stop()
	if ctx.Err() != nil {
		sock.Close()
		return nil, ctx.Err()
	}
	if err != nil {
		sock.Close()
		var closed *srtgo.SrtSocketClosed
		var timeout *srtgo.SrtEpollTimeout
		msg := d.scrub(err.Error())
		switch {
		case errors.As(err, &timeout):
			msg = fmt.Sprintf("no answer within %v (is a listener running there?)", c.o.ConnectTimeout)
		case errors.As(err, &closed):
			// srtgo reports every asynchronous connect failure this way.
			msg = "connection rejected or timed out (wrong passphrase or streamid, or no listener?)"
		}
		return nil, fmt.Errorf("srt %s: %s", d.Redacted(), msg)
	}
	s := &srtSession{d: d, o: c.o, sock: sock, abortc: make(chan struct{}), closedc: make(chan struct{})}
	if err := s.initMux(); err != nil {
		sock.Close()
		return nil, err
	}
	s.peerLatency = srtDefaultLatency
	if ms, err := sock.GetSockOptInt(srtgo.SRTO_PEERLATENCY); err == nil && ms > 0 {
		s.peerLatency = time.Duration(ms) * time.Millisecond
	}
	s.flow.ageLimit = max(s.peerLatency/2, 20*time.Millisecond)
	s.pause = time.NewTimer(time.Hour)
	s.pause.Stop()
	// A stop (ctx done) wakes a write blocked on the network; the publisher
	// then closes the session on its own goroutine.
	s.stopAbort = context.AfterFunc(ctx, s.abort)
	return s, nil
}

type srtSession struct {
	d    *Destination
	o    *Options
	sock *srtgo.SrtSocket

	ts    *tsMuxer
	buf   [srtPayload]byte
	n     int
	bytes atomic.Uint64

	peerLatency time.Duration
	flow        srtFlow
	pause       *time.Timer
	linkAt      time.Time // last srt_bstats sample

	linkMu sync.Mutex
	link_  LinkStats

	abortc    chan struct{} // closed by abort: the session must end now
	abortOnce sync.Once
	stopAbort func() bool
	closedc   chan struct{} // closed by close
	closed    sync.Once
	failed    bool // a write failed: nothing left to linger for
}

func (s *srtSession) initMux() error {
	m, err := newTSMuxer(s, s.o.Info)
	s.ts = m
	return err
}

// abort ends the session from any goroutine: a write waiting on the
// network returns at once with an error.
func (s *srtSession) abort() {
	s.abortOnce.Do(func() {
		close(s.abortc)
		go expire(s.sock, s.closedc)
	})
}

func (s *srtSession) aborted() bool {
	select {
	case <-s.abortc:
		return true
	default:
		return false
	}
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
	n, err := s.sock.Write(s.buf[:s.n])
	s.bytes.Add(uint64(n))
	s.n = 0
	if n > 0 {
		s.flow.wrote(n, time.Now())
	}
	return err
}

// srtoSndData is SRTO_SNDDATA, which srtgo does not name: the packets in
// libsrt's send buffer (sent and not yet acknowledged, or not yet sent),
// read at this instant (srt_bstats' figures are averaged).
const srtoSndData = 19

// room waits until the flow control lets more media into libsrt (see
// srtFlow), or deadline, or abort.
func (s *srtSession) room(deadline time.Time) error {
	for {
		now := time.Now()
		held, err := s.sock.GetSockOptInt(srtoSndData)
		if err != nil {
			return err
		}
		s.flow.update(held, now)
		if now.Sub(s.linkAt) >= 250*time.Millisecond {
			s.linkAt = now
			if st, err := s.sock.Stats(); err == nil {
				s.setLink(st)
				s.flow.rtt(time.Duration(st.MsRTT * float64(time.Millisecond)))
			}
		}
		if s.flow.room(now) {
			return nil
		}
		if now.After(deadline) {
			return &srtgo.SrtEpollTimeout{}
		}
		s.pause.Reset(5 * time.Millisecond)
		select {
		case <-s.abortc:
			s.pause.Stop()
			return errors.New("stopped")
		case <-s.pause.C:
		}
	}
}

func (s *srtSession) setLink(st *srtgo.SrtStats) {
	s.linkMu.Lock()
	s.link_ = LinkStats{
		RTT:               time.Duration(st.MsRTT * float64(time.Millisecond)),
		SentPackets:       uint64(max(st.PktSentTotal, 0)),
		RetransPackets:    uint64(max(st.PktRetransTotal, 0)),
		LostPackets:       uint64(max(st.PktSndLossTotal, 0)),
		DroppedPackets:    uint64(max(st.PktSndDropTotal, 0)),
		SendBufferedBytes: max(st.ByteSndBuf, 0),
		SendBuffered:      time.Duration(max(st.MsSndBuf, 0)) * time.Millisecond,
	}
	s.linkMu.Unlock()
}

// link is the last sample of libsrt's figures for this connection, taken
// by the writing goroutine (srtgo's socket must not be read while it is
// being closed).
func (s *srtSession) link() LinkStats {
	s.linkMu.Lock()
	defer s.linkMu.Unlock()
	return s.link_
}

func (s *srtSession) write(p *media.Packet) (bool, error) {
	if s.aborted() {
		s.failed = true
		return false, fmt.Errorf("srt %s: stopped", s.d.Redacted())
	}
	// One deadline per packet, set before the write: srtgo's wait honours
	// a deadline armed before it starts.
	deadline := time.Now().Add(s.o.WriteTimeout)
	s.sock.SetWriteDeadline(deadline)
	err := s.room(deadline)
	var sent bool
	if err == nil {
		sent, err = s.ts.write(p)
	}
	if sent && err == nil {
		err = s.flush() // one access unit per flush: no media waits in our buffer
	}
	if err != nil {
		s.failed = true
		var timeout *srtgo.SrtEpollTimeout
		switch {
		case s.aborted():
			return false, fmt.Errorf("srt %s: stopped", s.d.Redacted())
		case errors.As(err, &timeout):
			return false, fmt.Errorf("srt %s: the peer has not accepted data for %v", s.d.Redacted(), s.o.WriteTimeout)
		}
		return false, fmt.Errorf("srt %s: %s", s.d.Redacted(), s.d.scrub(err.Error()))
	}
	return sent, nil
}

func (s *srtSession) sent() uint64 { return s.bytes.Load() }

// lingerFor is how long a graceful close may wait for the tail: the URL's
// linger, or by default long enough for the receiver to play out its
// latency buffer.
func (s *srtSession) lingerFor() time.Duration {
	if s.d.Linger >= 0 {
		return s.d.Linger
	}
	return min(max(time.Second, s.peerLatency+250*time.Millisecond), srtDefaultLingerMax)
}

// srtDefaultLingerMax caps the default linger so that a stop stays within
// issue 11's 3 s even with a long latency; a URL's linger may ask for more.
const srtDefaultLingerMax = 2 * time.Second

// linger waits, on a graceful end, until libsrt has every byte
// acknowledged and then for the receiver's latency: a receiver drops what
// it still holds when the sender closes, so without this the last
// latency's worth of media never plays. Bounded by lingerFor; an abort
// (the session's stop deadline) ends it at once.
func (s *srtSession) linger() {
	budget := s.lingerFor()
	if budget <= 0 || s.aborted() {
		return
	}
	end := time.Now().Add(budget)
	wait := func(d time.Duration) bool {
		s.pause.Reset(d)
		select {
		case <-s.abortc:
			s.pause.Stop()
			return false
		case <-s.pause.C:
			return true
		}
	}
	for {
		held, err := s.sock.GetSockOptInt(srtoSndData)
		if err != nil {
			return
		}
		if held <= 0 {
			break
		}
		if time.Now().After(end) || !wait(10*time.Millisecond) {
			return
		}
	}
	if d := min(s.peerLatency+50*time.Millisecond, time.Until(end)); d > 0 {
		wait(d)
	}
}

func (s *srtSession) close() {
	s.closed.Do(func() {
		if !s.failed {
			s.linger()
		}
		if s.stopAbort != nil {
			s.stopAbort()
		}
		if st, err := s.sock.Stats(); err == nil {
			s.setLink(st)
		}
		s.sock.Close()
		close(s.closedc)
	})
}
