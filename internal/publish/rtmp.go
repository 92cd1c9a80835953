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

	amf0 "github.com/yutopp/go-amf0"
	flvtag "github.com/yutopp/go-flv/tag"
	rtmp "github.com/yutopp/go-rtmp"
	"github.com/yutopp/go-rtmp/handshake"
	rtmpmsg "github.com/yutopp/go-rtmp/message"

	"github.com/livecap/livecap/internal/h264"
	"github.com/livecap/livecap/internal/media"
)

// Why not go-rtmp's ClientConn: its Connect and CreateStream wait on
// context.TODO() for a reply that never comes when the server hangs up (an
// unknown application): even after we close the connection, the goroutine
// stays blocked forever, one leak per reconnect attempt. Its data streams
// have no state handler, so onStatus (the only way to learn that a publish
// was refused) is dropped, and each Write waits a fixed 5 s per chunk on a
// scheduler goroutine. So we own the net.Conn (deadlines, single writer, no
// leak) and use go-rtmp's exported layers: the handshake, and the chunk
// stream reader and message decoder for what the server sends. Writing
// chunks is a few lines (below) and lets a media payload go to the socket
// without being copied into a message buffer first.

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
	msgUserCtrl     = 4
	msgAudio        = 8
	msgVideo        = 9
	msgDataAMF0     = 18
	msgCommandAMF0  = 20

	// rtmpMaxMessage: a message length is a 24-bit field.
	rtmpMaxMessage = 1<<24 - 1
)

// testTLSConfig lets tests point rtmps at a local TLS terminator.
var testTLSConfig *tls.Config

// testSendBuffer, when > 0, sets SO_SNDBUF so tests see a stalled peer
// within seconds instead of after the kernel's multi-megabyte buffers fill.
var testSendBuffer int

type rtmpConnector struct {
	d *Destination
	o *Options
}

// rtmpCmd is a command message from the server, its AMF0 values decoded.
type rtmpCmd struct {
	name string
	txn  int64
	args []any
}

func (c rtmpCmd) info() (level, code, desc string) {
	for _, a := range c.args {
		if m, ok := a.(map[string]any); ok {
			level, _ = m["level"].(string)
			code, _ = m["code"].(string)
			desc, _ = m["description"].(string)
			return
		}
	}
	return
}

type rtmpSession struct {
	d    *Destination
	o    *Options
	conn net.Conn
	cw   chunkWriter
	msid uint32

	cmds    chan rtmpCmd
	pings   chan uint32
	dead    chan struct{} // closed when the read loop ends
	readErr error
	closeMu sync.Once

	bytes atomic.Uint64

	tl  flvTimeline
	hdr [flvVideoHeaderLen]byte
}

func (c *rtmpConnector) connect(ctx context.Context) (session, error) {
	d := c.d
	deadline := time.Now().Add(c.o.ConnectTimeout)
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	nd := &net.Dialer{}
	if testSendBuffer > 0 {
		nd.Control = setSendBuffer(testSendBuffer)
	}
	var conn net.Conn
	var err error
	if d.Scheme == "rtmps" {
		cfg := &tls.Config{ServerName: d.Host}
		if testTLSConfig != nil {
			cfg = testTLSConfig.Clone()
		}
		conn, err = (&tls.Dialer{NetDialer: nd, Config: cfg}).DialContext(dctx, "tcp", d.hostPort())
	} else {
		conn, err = nd.DialContext(dctx, "tcp", d.hostPort())
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", d.hostPort(), err)
	}
	s := &rtmpSession{
		d: d, o: c.o, conn: conn,
		cmds:  make(chan rtmpCmd, 16),
		pings: make(chan uint32, 4),
		dead:  make(chan struct{}),
	}
	s.cw = chunkWriter{w: bufio.NewWriterSize(&countingWriter{w: conn, n: &s.bytes}, 64<<10), size: 128}
	// The connection's deadline bounds every blocking step of the set-up;
	// cancelling ctx closes it, which unblocks them as well.
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(dctx, func() { _ = conn.Close() })
	defer stop()
	if err := s.setup(dctx); err != nil {
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
	return s, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (s *rtmpSession) setup(ctx context.Context) error {
	d := s.d
	br := bufio.NewReaderSize(s.conn, 16<<10)
	if err := handshake.HandshakeWithServer(br, s.conn, &handshake.Config{}); err != nil {
		return fmt.Errorf("rtmp handshake with %s: %s", d.hostPort(), d.scrub(err.Error()))
	}
	go s.readLoop(br)

	// Our chunk size first: every message after it uses 4096-byte chunks.
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], rtmpChunkSize)
	if err := s.cw.message(csidControl, msgSetChunkSize, 0, 0, nil, b[:]); err != nil {
		return err
	}
	s.cw.size = rtmpChunkSize

	cmd := amfString(nil, "connect")
	cmd = amfNumber(cmd, 1)
	cmd = amfObject(cmd, []amfProp{
		{"app", d.App}, {"type", "nonprivate"}, {"flashVer", "FMLE/3.0 (compatible; livecap)"},
		{"tcUrl", d.TCURL},
	})
	if err := s.send(csidCommand, msgCommandAMF0, 0, cmd); err != nil {
		return err
	}
	r, err := s.await(ctx, "connect", func(c rtmpCmd) bool { return c.txn == 1 && (c.name == "_result" || c.name == "_error") })
	if err != nil {
		return err
	}
	if r.name == "_error" {
		_, code, desc := r.info()
		return fmt.Errorf("rtmp server refused application %q: %s %s", d.App, code, d.scrub(desc))
	}

	// releaseStream/FCPublish are what broadcast encoders send; some
	// ingests (not nginx) expect them. Their replies are not needed.
	name := d.Key
	for i, c := range []string{"releaseStream", "FCPublish"} {
		m := amfString(nil, c)
		m = amfNumber(m, float64(2+i))
		m = amfString(amfNull(m), name)
		if err := s.send(csidCommand, msgCommandAMF0, 0, m); err != nil {
			return err
		}
	}
	m := amfString(nil, "createStream")
	m = amfNull(amfNumber(m, 4))
	if err := s.send(csidCommand, msgCommandAMF0, 0, m); err != nil {
		return err
	}
	r, err = s.await(ctx, "createStream", func(c rtmpCmd) bool { return c.txn == 4 && (c.name == "_result" || c.name == "_error") })
	if err != nil {
		return err
	}
	if r.name == "_error" {
		return fmt.Errorf("rtmp server refused createStream")
	}
	for _, a := range r.args {
		if f, ok := a.(float64); ok {
			s.msid = uint32(f)
		}
	}
	if s.msid == 0 {
		return fmt.Errorf("rtmp server sent no stream id")
	}

	m = amfString(nil, "publish")
	m = amfNumber(m, 5)
	m = amfString(amfNull(m), name)
	m = amfString(m, "live")
	if err := s.cw.message(csidCommand, msgCommandAMF0, 0, s.msid, nil, m); err != nil {
		return err
	}
	if err := s.flush(); err != nil {
		return err
	}
	r, err = s.await(ctx, "publish", func(c rtmpCmd) bool {
		if c.name != "onStatus" {
			return false
		}
		_, code, _ := c.info()
		return len(code) > 17 && code[:17] == "NetStream.Publish" || code == "NetStream.Failed"
	})
	if err != nil {
		return err
	}
	if level, code, desc := r.info(); code != "NetStream.Publish.Start" || level == "error" {
		return fmt.Errorf("rtmp server refused to publish on %s: %s %s", d.Redacted(), code, d.scrub(desc))
	}
	return s.sendHeaders()
}

// sendHeaders sends onMetaData and the AVC/AAC sequence headers at time 0,
// before any media: a receiver cannot decode anything without them.
func (s *rtmpSession) sendHeaders() error {
	info := s.o.Info
	if err := s.cw.message(csidData, msgDataAMF0, 0, s.msid, nil, onMetaData(info)); err != nil {
		return err
	}
	if v := info.Video; v != nil {
		var h [flvVideoHeaderLen]byte
		flvVideoHeader(h[:], true, flvtag.AVCPacketTypeSequenceHeader)
		if len(v.SPS) < 4 || len(v.PPS) == 0 {
			return fmt.Errorf("video config has no SPS/PPS")
		}
		if err := s.cw.message(csidVideo, msgVideo, 0, s.msid, h[:], h264.DecoderConfig(v.SPS, v.PPS)); err != nil {
			return err
		}
	}
	if a := info.Audio; a != nil {
		var h [flvAudioHeaderLen]byte
		flvAudioHeader(h[:], flvtag.AACPacketTypeSequenceHeader)
		if err := s.cw.message(csidAudio, msgAudio, 0, s.msid, h[:], a.ASC); err != nil {
			return err
		}
	}
	return s.flush()
}

func (s *rtmpSession) send(csid int, typ byte, ts uint32, body []byte) error {
	if err := s.cw.message(csid, typ, ts, 0, nil, body); err != nil {
		return err
	}
	return s.flush()
}

func (s *rtmpSession) flush() error {
	if err := s.cw.w.Flush(); err != nil {
		return fmt.Errorf("rtmp write to %s: %s", s.d.hostPort(), s.d.scrub(err.Error()))
	}
	return nil
}

// await waits for the server's answer to a command. A server that hangs up
// instead of answering (nginx does so for an unknown application) ends the
// read loop, which ends the wait.
func (s *rtmpSession) await(ctx context.Context, what string, match func(rtmpCmd) bool) (rtmpCmd, error) {
	for {
		select {
		case c := <-s.cmds:
			if match(c) {
				return c, nil
			}
			if c.name == "_error" || c.name == "onStatus" {
				if level, code, desc := c.info(); level == "error" {
					return c, fmt.Errorf("rtmp server refused %s: %s %s", what, code, s.d.scrub(desc))
				}
			}
		case <-s.dead:
			// Answers that arrived just before the hang-up are still queued.
			select {
			case c := <-s.cmds:
				if match(c) {
					return c, nil
				}
				continue
			default:
			}
			reason := "the server closed the connection"
			if isTimeout(s.readErr) {
				reason = "no answer"
			}
			hint := ""
			if what == "connect" {
				hint = fmt.Sprintf(" (is the application %q right?)", s.d.App)
			} else if what == "publish" {
				hint = " (is the stream key right, or already in use?)"
			}
			return rtmpCmd{}, fmt.Errorf("rtmp %s on %s: %s%s", what, s.d.Redacted(), reason, hint)
		case <-ctx.Done():
			return rtmpCmd{}, ctx.Err()
		}
	}
}

// readLoop reads what the server sends for the whole connection. It never
// writes: pings are answered by the writer (write), the only goroutine that
// touches the outgoing side.
func (s *rtmpSession) readLoop(br *bufio.Reader) {
	defer close(s.dead)
	cs := rtmp.NewChunkStreamer(br, io.Discard, nil)
	defer cs.Close()
	var cm rtmp.ChunkMessage
	for {
		_, _, err := cs.Read(&cm)
		if err != nil {
			s.readErr = err
			return
		}
		switch m := cm.Message.(type) {
		case *rtmpmsg.SetChunkSize:
			if err := cs.PeerState().SetChunkSize(m.ChunkSize); err != nil {
				s.readErr = err
				return
			}
		case *rtmpmsg.UserCtrl:
			if p, ok := m.Event.(*rtmpmsg.UserCtrlEventPingRequest); ok {
				select {
				case s.pings <- p.Timestamp:
				default:
				}
			}
		case *rtmpmsg.CommandMessage:
			c := rtmpCmd{name: m.CommandName, txn: m.TransactionID}
			dec := amf0.NewDecoder(m.Body)
			for {
				var v any
				if dec.Decode(&v) != nil {
					break
				}
				c.args = append(c.args, v)
			}
			select {
			case s.cmds <- c:
			default: // nobody is waiting for commands once live
			}
		}
	}
}

func (s *rtmpSession) sent() uint64 { return s.bytes.Load() }

func (s *rtmpSession) close() {
	s.closeMu.Do(func() { _ = s.conn.Close() })
}

// write sends one packet as an FLV tag on this connection's timeline.
func (s *rtmpSession) write(p *media.Packet) (bool, error) {
	select {
	case <-s.dead:
		msg := "the server closed the connection"
		if s.readErr != nil && !errors.Is(s.readErr, io.EOF) {
			msg = s.d.scrub(s.readErr.Error())
		}
		return false, fmt.Errorf("rtmp %s: %s", s.d.hostPort(), msg)
	default:
	}
	if n := len(p.Data) + flvVideoHeaderLen; n > rtmpMaxMessage && p.Kind == media.Video {
		s.o.Log.Warn().Str("destination", s.d.Redacted()).Int("bytes", len(p.Data)).
			Msg("access unit over RTMP's 16 MiB message limit: dropped, video resumes at the next keyframe")
	}
	ts, ok := s.tl.stamp(p)
	if !ok {
		return false, nil
	}
	var err error
	// One deadline per packet: a peer that stops reading is detected
	// after WriteTimeout, and the connection recycled.
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.o.WriteTimeout))
	select {
	case t := <-s.pings:
		var b [6]byte
		binary.BigEndian.PutUint16(b[:], 7) // PingResponse
		binary.BigEndian.PutUint32(b[2:], t)
		err = s.cw.message(csidControl, msgUserCtrl, 0, 0, nil, b[:])
	default:
	}
	if err == nil {
		err = s.cw.tag(s.msid, &s.hdr, p, ts)
	}
	if err == nil {
		err = s.cw.w.Flush()
	}
	if err != nil {
		if isTimeout(err) {
			return false, fmt.Errorf("rtmp %s: the server has not read anything for %v", s.d.hostPort(), s.o.WriteTimeout)
		}
		return false, fmt.Errorf("rtmp write to %s: %s", s.d.hostPort(), s.d.scrub(err.Error()))
	}
	return true, nil
}

// chunkWriter splits messages into RTMP chunks: a type 0 header on the
// first chunk (simple and always correct), type 3 on the rest.
type chunkWriter struct {
	w    *bufio.Writer
	size int
	h    [16]byte
}

// message writes one message whose body is head followed by body (so an
// FLV tag header and a shared packet payload go out without a copy).
func (c *chunkWriter) message(csid int, typ byte, ts uint32, msid uint32, head, body []byte) error {
	n := len(head) + len(body)
	if n > rtmpMaxMessage {
		// The length field is 24 bits: a longer message would desync the
		// chunk stream for good.
		return fmt.Errorf("rtmp message of %d bytes is over the protocol's %d", n, rtmpMaxMessage)
	}
	ext := ts >= 0xFFFFFF
	h := c.h[:0]
	h = append(h, byte(csid)) // fmt 0
	t := ts
	if ext {
		t = 0xFFFFFF
	}
	h = append(h, byte(t>>16), byte(t>>8), byte(t), byte(n>>16), byte(n>>8), byte(n), typ)
	h = binary.LittleEndian.AppendUint32(h, msid)
	if ext {
		h = binary.BigEndian.AppendUint32(h, ts)
	}
	if _, err := c.w.Write(h); err != nil {
		return err
	}
	// Continuation header: type 3, repeating the extended timestamp as
	// nginx and FFmpeg expect.
	cont := c.h[:1]
	cont[0] = 0xC0 | byte(csid)
	if ext {
		cont = binary.BigEndian.AppendUint32(cont, ts)
	}
	left := c.size
	for _, part := range [2][]byte{head, body} {
		for len(part) > 0 {
			if left == 0 {
				if _, err := c.w.Write(cont); err != nil {
					return err
				}
				left = c.size
			}
			k := min(left, len(part))
			if _, err := c.w.Write(part[:k]); err != nil {
				return err
			}
			part = part[k:]
			left -= k
		}
	}
	return nil
}

// tag writes one media packet as an FLV tag message at RTMP time ts.
func (c *chunkWriter) tag(msid uint32, hdr *[flvVideoHeaderLen]byte, p *media.Packet, ts uint32) error {
	if p.Kind == media.Video {
		flvVideoHeader(hdr[:], p.Key, flvtag.AVCPacketTypeNALU)
		return c.message(csidVideo, msgVideo, ts, msid, hdr[:], p.Data)
	}
	flvAudioHeader(hdr[:flvAudioHeaderLen], flvtag.AACPacketTypeRaw)
	return c.message(csidAudio, msgAudio, ts, msid, hdr[:flvAudioHeaderLen], p.Data)
}

type countingWriter struct {
	w io.Writer
	n *atomic.Uint64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(uint64(n))
	return n, err
}
