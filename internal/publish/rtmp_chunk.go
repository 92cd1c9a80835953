package publish

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// The RTMP chunk stream (RTMP 1.0 specification, section 5.3) in both
// directions, and the handshake (5.2).
//
// Why not a library (this replaced github.com/yutopp/go-rtmp, and
// github.com/bluenviron/gortmplib v1.0.1 was weighed): what a server sends
// a publisher is a handful of small messages (chunk size, window, ping,
// command replies), yet go-rtmp's ChunkStreamer panics on malformed input,
// buffers every declared message up to 16 MiB on every chunk stream, and its
// decoder fails the connection on a command without a transaction id
// (ffmpeg -listen's onFCPublish). gortmplib is careful (10 MiB per message)
// but still keeps a whole message per chunk stream, and its writer copies
// each payload into its own buffers. Our reader keeps only the messages a
// publisher acts on, bounded (rtmpMaxKept each, rtmpMaxStreams streams) and
// skips everything else without buffering it; our writer sends each media
// payload from the packet's memory with one writev. Both are a few hundred
// lines we can fuzz whole, and go-rtmp's logrus/multierror/mapstructure
// dependencies go with it.

const (
	rtmpHandshakeSize = 1536
	// rtmpMaxKept bounds a message the reader keeps (commands, control):
	// the longest onStatus seen in the wild is under 1 kB. Longer messages
	// are read and discarded as they arrive.
	rtmpMaxKept = 32 << 10
	// rtmpMaxStreams bounds the chunk streams whose state the reader keeps.
	// Servers use 2 to 8.
	rtmpMaxStreams = 32
)

// rtmpHandshake performs the client side of the plain (unsigned) RTMP
// handshake: C0 C1, then S0 S1 S2 from the server, then C2 echoing S1.
func rtmpHandshake(r io.Reader, w io.Writer) error {
	c := make([]byte, 1+rtmpHandshakeSize)
	c[0] = 3
	// C1: time 0, zero (the "simple handshake" marker nginx and FFmpeg
	// accept), then random bytes.
	if _, err := rand.Read(c[9:]); err != nil {
		return err
	}
	if _, err := w.Write(c); err != nil {
		return fmt.Errorf("sending C0/C1: %w", err)
	}
	s := make([]byte, 1+2*rtmpHandshakeSize)
	if n, err := io.ReadFull(r, s[:1]); err != nil || n != 1 {
		return fmt.Errorf("the server sent nothing back: %w", eofText(err))
	}
	if s[0] != 3 {
		return fmt.Errorf("the server is not an RTMP server (its first byte is %#02x, RTMP's is 0x03)", s[0])
	}
	if n, err := io.ReadFull(r, s[1:]); err != nil {
		return fmt.Errorf("the server stopped after %d of %d handshake bytes: %w", 1+n, len(s), eofText(err))
	}
	if _, err := w.Write(s[1 : 1+rtmpHandshakeSize]); err != nil {
		return fmt.Errorf("sending C2: %w", err)
	}
	return nil
}

// eofText makes a bare EOF read as what it means here.
func eofText(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the server closed the connection")
	}
	return err
}

// chunkWriter splits messages into RTMP chunks: a type 0 header on the
// first chunk (simple and always correct), type 3 on the rest. Messages are
// added to a batch that send writes with one writev on a plain TCP
// connection: the chunk headers and the FLV tag header from hdr, the
// payload slices from the caller's memory (a packet's Data is never
// copied), so several access units already queued cost one system call. w
// is the connection, or a bufio.Writer over a TLS connection (which copies
// into records anyway).
type chunkWriter struct {
	w    io.Writer
	size int
	hdr  []byte      // header bytes of the pending messages, reused
	iov  net.Buffers // slices of the pending messages, reused
	out  net.Buffers // what WriteTo consumes: a field, so it does not escape
	n    uint64      // bytes written
}

// add appends one message whose body is head followed by body to the
// batch. head (a tag header: a few bytes) is copied after the chunk
// header, so it costs no slice of its own; body is referenced until send
// returns.
func (c *chunkWriter) add(csid int, typ byte, ts uint32, msid uint32, head, body []byte) error {
	n := len(head) + len(body)
	if n > rtmpMaxMessage {
		// The length field is 24 bits: a longer message would desync the
		// chunk stream for good.
		return fmt.Errorf("rtmp message of %d bytes is over the protocol's %d", n, rtmpMaxMessage)
	}
	ext := ts >= 0xFFFFFF
	chunks := 1
	if n > c.size {
		chunks = (n + c.size - 1) / c.size
	}
	if need := 16 + len(head) + 5*chunks; cap(c.hdr)-len(c.hdr) < need {
		// A new array: the pending slices keep the old one alive until
		// sent, and the batches after this one reuse the new one.
		c.hdr = make([]byte, 0, max(2*cap(c.hdr), 2*need, 512))
	}
	if need := 2*chunks + 1; cap(c.iov)-len(c.iov) < need {
		iov := make(net.Buffers, len(c.iov), 2*cap(c.iov)+need+8)
		copy(iov, c.iov)
		c.iov = iov
	}
	h := c.hdr
	t := ts
	if ext {
		t = 0xFFFFFF
	}
	start := len(h)
	h = append(h, byte(csid), byte(t>>16), byte(t>>8), byte(t), byte(n>>16), byte(n>>8), byte(n), typ, // fmt 0
		byte(msid), byte(msid>>8), byte(msid>>16), byte(msid>>24))
	if ext {
		h = append(h, byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts))
	}
	left := c.size
	if len(head) <= left {
		h = append(h, head...)
		left -= len(head)
	} else {
		for len(head) > 0 { // a chunk size smaller than a tag header
			if left == 0 {
				h = contHeader(h, csid, ext, ts)
				left = c.size
			}
			k := min(left, len(head))
			h = append(h, head[:k]...)
			head, left = head[k:], left-k
		}
	}
	iov := append(c.iov, h[start:])
	if k := min(left, len(body)); k > 0 {
		iov = append(iov, body[:k])
		body = body[k:]
	}
	for len(body) > 0 {
		s := len(h)
		h = contHeader(h, csid, ext, ts)
		k := min(c.size, len(body))
		iov = append(iov, h[s:], body[:k])
		body = body[k:]
	}
	c.hdr, c.iov = h, iov
	return nil
}

// contHeader appends a continuation chunk header: type 3, repeating the
// extended timestamp as nginx and FFmpeg expect.
func contHeader(h []byte, csid int, ext bool, ts uint32) []byte {
	h = append(h, 0xC0|byte(csid))
	if ext {
		h = append(h, byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts))
	}
	return h
}

// pending reports whether messages wait for send.
func (c *chunkWriter) pending() bool { return len(c.iov) > 0 }

// send writes the batch: one writev on plain TCP.
func (c *chunkWriter) send() error {
	if len(c.iov) == 0 {
		return nil
	}
	c.out = c.iov // WriteTo consumes its receiver; c.iov keeps the array
	n, err := c.out.WriteTo(c.w)
	c.out = nil
	c.n += uint64(n)
	clear(c.iov) // no reference to a payload outlives the write
	c.iov, c.hdr = c.iov[:0], c.hdr[:0]
	return err
}

// reset drops the batch unsent (the connection failed while it was built).
func (c *chunkWriter) reset() {
	clear(c.iov)
	c.iov, c.hdr = c.iov[:0], c.hdr[:0]
}

// message writes one message (head then body) to the connection.
func (c *chunkWriter) message(csid int, typ byte, ts uint32, msid uint32, head, body []byte) error {
	if err := c.add(csid, typ, ts, msid, head, body); err != nil {
		return err
	}
	return c.send()
}

// flush sends what a buffered writer holds (TLS); a no-op on plain TCP.
func (c *chunkWriter) flush() error {
	if b, ok := c.w.(*bufio.Writer); ok {
		return b.Flush()
	}
	return nil
}

// rtmpMsg is one message the server sent that the reader kept.
type rtmpMsg struct {
	typ  byte
	csid uint32
	ts   uint32
	msid uint32
	body []byte // valid until the next read
}

// chunkStream is the reader's state for one chunk stream id.
type chunkStream struct {
	id      uint32
	ts      uint32
	delta   uint32
	length  uint32
	typ     byte
	msid    uint32
	ext     bool   // the last header had an extended timestamp
	started bool   // a header was seen: type 1-3 chunks may follow
	got     uint32 // bytes of the current message so far
	keep    bool   // the current message is kept (not discarded)
	buf     []byte
}

// chunkReader reads the server's chunk stream within bounds: at most
// rtmpMaxStreams chunk streams, a kept message at most rtmpMaxKept bytes;
// media and oversized messages are read and dropped as they arrive. Every
// protocol violation is an error that says what the server did; it never
// panics on any input.
type chunkReader struct {
	r       *bufio.Reader
	size    uint32 // the server's chunk size
	streams []*chunkStream
	skipped uint64 // bytes of messages not kept
	tmp     [16]byte
}

func newChunkReader(r *bufio.Reader) *chunkReader {
	return &chunkReader{r: r, size: 128}
}

// errProtocol marks the server breaking the RTMP protocol (as opposed to
// the connection failing).
var errProtocol = errors.New("the server broke the RTMP protocol")

func protoErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errProtocol, fmt.Sprintf(format, a...))
}

func (c *chunkReader) stream(id uint32) (*chunkStream, error) {
	for _, s := range c.streams {
		if s.id == id {
			return s, nil
		}
	}
	if len(c.streams) >= rtmpMaxStreams {
		return nil, protoErr("it uses more than %d chunk streams", rtmpMaxStreams)
	}
	s := &chunkStream{id: id}
	c.streams = append(c.streams, s)
	return s, nil
}

func (c *chunkReader) full(n int) ([]byte, error) {
	b := c.tmp[:n]
	_, err := io.ReadFull(c.r, b)
	return b, err
}

func u24(b []byte) uint32 { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }

// next returns the next message the reader keeps.
func (c *chunkReader) next() (rtmpMsg, error) {
	for {
		m, ok, err := c.chunk()
		if err != nil || ok {
			return m, err
		}
	}
}

// chunk reads one chunk; ok is true when it completed a kept message.
func (c *chunkReader) chunk() (m rtmpMsg, ok bool, err error) {
	b0, err := c.r.ReadByte()
	if err != nil {
		return m, false, err
	}
	fmtc := b0 >> 6
	id := uint32(b0 & 0x3F)
	switch id {
	case 0:
		b, err := c.full(1)
		if err != nil {
			return m, false, err
		}
		id = 64 + uint32(b[0])
	case 1:
		b, err := c.full(2)
		if err != nil {
			return m, false, err
		}
		id = 64 + uint32(b[0]) + uint32(b[1])<<8
	}
	s, err := c.stream(id)
	if err != nil {
		return m, false, err
	}
	hl := [4]int{11, 7, 3, 0}[fmtc]
	h, err := c.full(hl)
	if err != nil {
		return m, false, err
	}
	if fmtc != 0 && !s.started {
		return m, false, protoErr("chunk stream %d continues (chunk type %d) a message it never started", id, fmtc)
	}
	if fmtc != 3 && s.got != 0 {
		return m, false, protoErr("chunk stream %d starts a new message (chunk type %d) inside one of %d bytes", id, fmtc, s.length)
	}
	var t uint32
	if fmtc < 3 {
		t = u24(h)
		s.ext = t == 0xFFFFFF
	}
	if s.ext {
		e, err := c.full(4)
		if err != nil {
			return m, false, err
		}
		if fmtc < 3 {
			t = binary.BigEndian.Uint32(e)
		}
	}
	switch fmtc {
	case 0:
		s.ts, s.delta = t, 0
	case 1, 2:
		s.delta = t
		s.ts += t
	case 3:
		if s.got == 0 {
			s.ts += s.delta
		}
	}
	if fmtc <= 1 {
		s.length, s.typ = u24(h[3:]), h[6]
		if fmtc == 0 {
			s.msid = binary.LittleEndian.Uint32(h[7:])
		}
	}
	s.started = true
	if s.got == 0 {
		s.keep = s.length <= rtmpMaxKept && s.typ != msgAudio && s.typ != msgVideo && s.typ != msgAggregate
		s.buf = s.buf[:0]
	}
	k := min(c.size, s.length-s.got)
	if s.keep {
		if cap(s.buf) < int(s.length) {
			nb := make([]byte, len(s.buf), s.length)
			copy(nb, s.buf)
			s.buf = nb
		}
		at := len(s.buf)
		s.buf = s.buf[:at+int(k)]
		if _, err := io.ReadFull(c.r, s.buf[at:]); err != nil {
			return m, false, err
		}
	} else {
		if _, err := c.r.Discard(int(k)); err != nil {
			return m, false, err
		}
		c.skipped += uint64(k)
	}
	s.got += k
	if s.got < s.length {
		return m, false, nil
	}
	s.got = 0
	if !s.keep {
		return m, false, nil
	}
	m = rtmpMsg{typ: s.typ, csid: id, ts: s.ts, msid: s.msid, body: s.buf}
	if err := c.control(m); err != nil {
		return m, false, err
	}
	return m, true, nil
}

// control applies the protocol control messages that change how the
// stream is read.
func (c *chunkReader) control(m rtmpMsg) error {
	switch m.typ {
	case msgSetChunkSize:
		if len(m.body) < 4 {
			return protoErr("a Set Chunk Size message of %d bytes", len(m.body))
		}
		n := binary.BigEndian.Uint32(m.body)
		if n == 0 || n > 0x7FFFFFFF {
			return protoErr("chunk size %d (allowed 1 to 2147483647)", n)
		}
		// Any size is fine: what is kept is bounded by message length.
		c.size = n
	case msgAbort:
		if len(m.body) < 4 {
			return nil
		}
		id := binary.BigEndian.Uint32(m.body)
		for _, s := range c.streams {
			if s.id == id {
				s.got, s.buf = 0, s.buf[:0]
			}
		}
	}
	return nil
}
