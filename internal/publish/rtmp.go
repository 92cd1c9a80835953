package publish

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livecap/livecap/internal/media"
)

// Why not a client library's connection: go-rtmp's ClientConn waits on
// context.TODO() for replies that never come when a server hangs up, drops
// onStatus (the only way to learn that a publish was refused) and writes
// through a scheduler goroutine. So we own the net.Conn (deadlines, one
// writer, no leak) and the chunk layer (rtmp_chunk.go).

const (
	rtmpChunkSize = 4096
	// Chunk stream ids: nginx-rtmp drops messages on ids >= 32 (its
	// default max_streams), so every one we use is small and fixed.
	csidControl = 2
	csidCommand = 3
	csidAudio   = 4
	csidData    = 5
	csidVideo   = 6

	msgSetChunkSize = 1
	msgAbort        = 2
	msgUserCtrl     = 4
	msgAudio        = 8
	msgVideo        = 9
	msgCommandAMF3  = 17
	msgDataAMF0     = 18
	msgCommandAMF0  = 20
	msgAggregate    = 22

	// rtmpMaxMessage: a message length is a 24-bit field.
	rtmpMaxMessage = 1<<24 - 1
)

type rtmpConnector struct {
	d *Destination
	o *Options
}

type rtmpSession struct {
	d    *Destination
	o    *Options
	conn net.Conn // what we read and write (TLS or TCP)
	tcp  net.Conn // the TCP connection under it
	cw   chunkWriter
	msid uint32

	cmds    chan rtmpCmd
	pings   chan uint32
	dead    chan struct{} // closed when the read loop ends
	readErr error
	closeMu sync.Once
	broken  atomic.Bool // a write failed: close with a reset
	// stopClose cancels the close on ctx done, once closed.
	stopClose func() bool

	bytes atomic.Uint64

	tl  flvTimeline
	hdr [flvVideoHeaderLen]byte
	// deadline is the write deadline armed on conn (armDeadline).
	deadline time.Time
	one      [1]*media.Packet // write's batch
	oneSent  [1]bool
}

func (c *rtmpConnector) dial(ctx context.Context) (tcp, conn net.Conn, err error) {
	d, o := c.d, c.o
	dial := o.Dial
	if dial == nil {
		nd := &net.Dialer{}
		if o.SendBuffer > 0 {
			nd.Control = setSendBuffer(o.SendBuffer)
		}
		dial = nd.DialContext
	}
	tcp, err = dial(ctx, "tcp", d.hostPort())
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %s", d.hostPort(), d.scrub(err.Error()))
	}
	if d.Scheme != "rtmps" {
		return tcp, tcp, nil
	}
	cfg := &tls.Config{ServerName: d.Host}
	if o.TLSConfig != nil {
		cfg = o.TLSConfig.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = d.Host
		}
	}
	tc := tls.Client(tcp, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = tcp.Close()
		return nil, nil, fmt.Errorf("tls handshake with %s: %s", d.hostPort(), d.scrub(err.Error()))
	}
	return tcp, tc, nil
}

func (c *rtmpConnector) connect(ctx context.Context) (session, error) {
	d := c.d
	deadline := time.Now().Add(c.o.ConnectTimeout)
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	tcp, conn, err := c.dial(dctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	s := &rtmpSession{
		d: d, o: c.o, conn: conn, tcp: tcp,
		cmds:  make(chan rtmpCmd, 16),
		pings: make(chan uint32, 4),
		dead:  make(chan struct{}),
	}
	var w io.Writer = conn
	if conn != tcp {
		// TLS: one record per message, not one per chunk slice.
		w = bufio.NewWriterSize(conn, 64<<10)
	}
	s.cw = chunkWriter{w: w, size: 128}
	// The connection's deadline bounds every blocking step of the set-up;
	// cancelling ctx closes it, which unblocks them as well.
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(dctx, func() { _ = conn.Close() })
	defer stop()
	if err := s.setup(dctx); err != nil {
		s.broken.Store(true)
		s.close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(dctx.Err(), context.DeadlineExceeded) || isTimeout(err) {
			return nil, fmt.Errorf("rtmp %s: no answer within %v (%s)", d.hostPort(), c.o.ConnectTimeout, d.scrub(err.Error()))
		}
		return nil, err
	}
	if !stop() {
		s.close()
		return nil, ctx.Err()
	}
	_ = conn.SetDeadline(time.Time{})
	// A stop must not wait for a write blocked on a stalled peer (up to
	// WriteTimeout): closing the connection (safe while a write is in
	// progress) ends it at once.
	s.stopClose = context.AfterFunc(ctx, s.close)
	return s, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (s *rtmpSession) send(csid int, typ byte, ts uint32, body []byte) error {
	if err := s.cw.message(csid, typ, ts, 0, nil, body); err != nil {
		return s.writeErr(err)
	}
	return s.flush()
}

func (s *rtmpSession) flush() error {
	err := s.cw.flush()
	s.bytes.Store(s.cw.n)
	if err != nil {
		return s.writeErr(err)
	}
	return nil
}

func (s *rtmpSession) writeErr(err error) error {
	s.bytes.Store(s.cw.n)
	s.broken.Store(true)
	if isTimeout(err) {
		return fmt.Errorf("rtmp %s: the server has not read anything for %v", s.d.hostPort(), s.o.WriteTimeout)
	}
	return fmt.Errorf("rtmp write to %s: %s", s.d.hostPort(), s.d.scrub(err.Error()))
}

// readLoop reads what the server sends for the whole connection. It never
// writes: pings are answered by the writer (write), the only goroutine that
// touches the outgoing side. A panic here (there should be none: the reader
// is fuzzed) ends this connection with an error, never the process.
func (s *rtmpSession) readLoop(br *bufio.Reader) {
	defer close(s.dead)
	defer func() {
		if r := recover(); r != nil {
			s.readErr = fmt.Errorf("%w: reading it failed (%v)", errProtocol, r)
			s.close()
		}
	}()
	cr := newChunkReader(br)
	for {
		m, err := cr.next()
		if err != nil {
			s.readErr = err
			return
		}
		s.handle(m)
	}
}

// handle acts on one message from the server.
func (s *rtmpSession) handle(m rtmpMsg) {
	switch m.typ {
	case msgUserCtrl:
		if len(m.body) >= 6 && binary.BigEndian.Uint16(m.body) == 6 { // PingRequest
			select {
			case s.pings <- binary.BigEndian.Uint32(m.body[2:]):
			default:
			}
		}
	case msgCommandAMF3, msgCommandAMF0:
		body := m.body
		if m.typ == msgCommandAMF3 && len(body) > 0 {
			body = body[1:] // a format byte, then AMF0
		}
		c, ok := decodeCommand(body)
		if !ok {
			// Not decodable: skipped, as FFmpeg and OBS do. The replies
			// we wait for are well-formed on every server we know.
			s.o.Log.Debug().Str("destination", s.d.Redacted()).Int("bytes", len(m.body)).Msg("rtmp: skipped a command message that does not decode")
			return
		}
		select {
		case s.cmds <- c:
		default: // nobody is waiting for commands once live
		}
	}
}

func (s *rtmpSession) sent() uint64 { return s.bytes.Load() }

// close ends the connection: gracefully after a clean stop, so that the
// server gets everything sent; with a TCP reset (SO_LINGER 0) when the
// connection failed or stalled, so that the kernel does not go on sending
// stale media to the server behind the next connection.
func (s *rtmpSession) close() {
	s.closeMu.Do(func() {
		if s.stopClose != nil {
			s.stopClose()
		}
		if s.broken.Load() {
			if tc, ok := s.tcp.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = s.tcp.Close()
		}
		_ = s.conn.Close()
	})
}

// write sends one packet as an FLV tag on this connection's timeline.
func (s *rtmpSession) write(p *media.Packet) (bool, error) {
	s.one[0] = p
	err := s.writeBatch(s.one[:], s.oneSent[:])
	s.one[0] = nil
	return s.oneSent[0] && err == nil, err
}

// writeBatch sends packets already queued as FLV tags with one writev;
// sent[i] says whether ps[i] went out (see flvTimeline.stamp).
func (s *rtmpSession) writeBatch(ps []*media.Packet, sent []bool) error {
	select {
	case <-s.dead:
		s.broken.Store(true)
		msg := "the server closed the connection"
		if err := s.readErr; err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			msg = s.d.scrub(err.Error())
		}
		return fmt.Errorf("rtmp %s: %s", s.d.hostPort(), msg)
	default:
	}
	for i, p := range ps {
		if n := len(p.Data) + flvVideoHeaderLen; n > rtmpMaxMessage && p.Kind == media.Video {
			s.o.Log.Warn().Str("destination", s.d.Redacted()).Int("bytes", len(p.Data)).
				Msg("access unit over RTMP's 16 MiB message limit: dropped, video resumes at the next keyframe")
		}
		ts, ok := s.tl.stamp(p)
		sent[i] = ok
		if !ok {
			continue
		}
		if err := s.tag(p, ts); err != nil {
			s.cw.reset()
			return s.writeErr(err)
		}
	}
	if !s.cw.pending() {
		return nil
	}
	select {
	case t := <-s.pings:
		var b [6]byte
		binary.BigEndian.PutUint16(b[:], 7) // PingResponse
		binary.BigEndian.PutUint32(b[2:], t)
		if err := s.cw.add(csidControl, msgUserCtrl, 0, 0, nil, b[:]); err != nil {
			s.cw.reset()
			return s.writeErr(err)
		}
	default:
	}
	s.armDeadline()
	if err := s.cw.send(); err != nil {
		return s.writeErr(err)
	}
	return s.flush()
}

// armDeadline bounds the write about to start: a peer that stops reading
// is detected after WriteTimeout (to WriteTimeout + 1/8), and the
// connection recycled. The deadline is re-armed only when less than
// WriteTimeout is left, about every WriteTimeout/8, not per write: each
// SetWriteDeadline re-arms a runtime timer.
func (s *rtmpSession) armDeadline() {
	now := time.Now()
	if s.deadline.Sub(now) >= s.o.WriteTimeout {
		return
	}
	s.deadline = now.Add(s.o.WriteTimeout + s.o.WriteTimeout/8)
	_ = s.conn.SetWriteDeadline(s.deadline)
}

// tag adds one media packet as an FLV tag message at RTMP time ts to the
// chunk writer's batch.
func (s *rtmpSession) tag(p *media.Packet, ts uint32) error {
	if p.Kind == media.Video {
		flvVideoHeader(s.hdr[:], p.Key, flvAVCNALU, compositionTime(p))
		return s.cw.add(csidVideo, msgVideo, ts, s.msid, s.hdr[:], p.Data)
	}
	flvAudioHeader(s.hdr[:flvAudioHeaderLen], flvAACRaw)
	return s.cw.add(csidAudio, msgAudio, ts, s.msid, s.hdr[:flvAudioHeaderLen], p.Data)
}
