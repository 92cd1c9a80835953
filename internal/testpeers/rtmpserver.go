package testpeers

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// RTMPMode is how an RTMPServer behaves.
type RTMPMode int

const (
	// RTMPGood answers like an ingest and records when each media
	// message arrived (Arrivals).
	RTMPGood RTMPMode = iota
	// RTMPGarbage completes the handshake, then sends random bytes.
	RTMPGarbage
	// RTMPHuge announces a 2^31-1 chunk size, then 16 MiB messages on 61
	// chunk streams.
	RTMPHuge
	// RTMPStall completes the handshake, then reads and never answers.
	RTMPStall
	// RTMPCloseInHandshake sends part of its handshake and closes.
	RTMPCloseInHandshake
	// RTMPDropAfterPublish accepts the publish, reads media for DropAfter,
	// then closes (nginx's "deny publish" looks like this to a client).
	RTMPDropAfterPublish
	// RTMPAlreadyPublishing refuses the publish as nginx does when the
	// name is in use: onStatus NetStream.Publish.BadName, then closes.
	RTMPAlreadyPublishing
)

// Arrival is one media message as the server received it.
type Arrival struct {
	Video bool
	TS    uint32 // RTMP timestamp, ms
	At    time.Time
	Bytes int
}

// RTMPServer is a Go RTMP ingest of our own that can misbehave on purpose.
type RTMPServer struct {
	Port      int
	Mode      RTMPMode
	DropAfter time.Duration
	// Junk, in RTMPGood mode, sends commands a client must skip before
	// every answer: one that does not decode and an onFCPublish without
	// a transaction id (as ffmpeg -listen does).
	Junk bool

	Conns     atomic.Int32 // connections accepted
	Publishes atomic.Int32 // publishes accepted
	BytesSent atomic.Int64 // what the server sent (hostile modes: the flood)

	l        net.Listener
	mu       sync.Mutex
	arrivals []Arrival
	conns    []net.Conn
}

// StartRTMPServer listens on a free port; it stops when the test ends.
func StartRTMPServer(t testing.TB, mode RTMPMode) *RTMPServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &RTMPServer{Port: l.Addr().(*net.TCPAddr).Port, Mode: mode, DropAfter: 300 * time.Millisecond, l: l}
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// URL is rtmp://127.0.0.1:PORT/live/KEY.
func (s *RTMPServer) URL(key string) string {
	return fmt.Sprintf("rtmp://127.0.0.1:%d/live/%s", s.Port, key)
}

// Arrivals returns the media messages received so far.
func (s *RTMPServer) Arrivals() []Arrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Arrival(nil), s.arrivals...)
}

// Close stops the server and its connections.
func (s *RTMPServer) Close() {
	s.l.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
}

func (s *RTMPServer) accept() {
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		s.Conns.Add(1)
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		go func() {
			defer c.Close()
			_ = s.serve(c)
		}()
	}
}

func (s *RTMPServer) serve(c net.Conn) error {
	br := bufio.NewReader(c)
	c01 := make([]byte, 1537)
	if _, err := io.ReadFull(br, c01); err != nil {
		return err
	}
	if s.Mode == RTMPCloseInHandshake {
		_, _ = c.Write(append([]byte{3}, make([]byte, 700)...))
		return nil
	}
	s1 := make([]byte, 1536)
	out := append([]byte{3}, s1...)
	out = append(out, c01[1:]...) // S2 echoes C1
	if _, err := c.Write(out); err != nil {
		return err
	}
	if _, err := io.ReadFull(br, make([]byte, 1536)); err != nil {
		return err
	}
	w := &srvWriter{c: c, size: 128, sent: &s.BytesSent}
	switch s.Mode {
	case RTMPGarbage:
		r := rand.New(rand.NewPCG(1, 2))
		buf := make([]byte, 64<<10)
		for i := range buf {
			buf[i] = byte(r.Uint32())
		}
		for {
			n, err := c.Write(buf)
			s.BytesSent.Add(int64(n))
			if err != nil {
				return err
			}
		}
	case RTMPHuge:
		// Chunk size 2^31-1 and whole 16 MiB messages (command type, so
		// that a reader cannot skip them as media) on 4 chunk streams;
		// then, back at 128-byte chunks, 16 MiB messages started on 57
		// more streams at once: a reader that buffers what is announced
		// holds 61 x 16 MiB.
		if err := w.msg(2, 1, 0, 0, binary.BigEndian.AppendUint32(nil, math.MaxInt32)); err != nil {
			return err
		}
		w.size = math.MaxInt32
		body := make([]byte, 64<<10) // streamed: the server itself stays small
		for csid := 3; csid < 7; csid++ {
			if err := w.first(csid, 20, 1<<24-1, nil); err != nil {
				return err
			}
			for left := 1<<24 - 1; left > 0; left -= len(body) {
				n, err := w.c.Write(body[:min(left, len(body))])
				s.BytesSent.Add(int64(n))
				if err != nil {
					return err
				}
			}
		}
		if err := w.msg(2, 1, 0, 0, binary.BigEndian.AppendUint32(nil, 128)); err != nil {
			return err
		}
		w.size = 128
		for csid := 7; csid < 64; csid++ {
			if err := w.first(csid, 20, 1<<24-1, body[:128]); err != nil {
				return err
			}
		}
		_, _ = io.Copy(io.Discard, br)
		return nil
	case RTMPStall:
		_, _ = io.Copy(io.Discard, br)
		return nil
	}
	r := &srvReader{r: br, size: 128, streams: map[uint32]*srvStream{}}
	var pubDeadline time.Time
	for {
		if !pubDeadline.IsZero() {
			_ = c.SetReadDeadline(pubDeadline)
		}
		m, err := r.next()
		if err != nil {
			return err
		}
		switch m.typ {
		case 1:
			if len(m.body) >= 4 {
				r.size = binary.BigEndian.Uint32(m.body) & 0x7FFFFFFF
			}
		case 8, 9:
			if len(m.body) > 1 && m.body[1] == 0 {
				break // a sequence header, not media
			}
			s.mu.Lock()
			s.arrivals = append(s.arrivals, Arrival{Video: m.typ == 9, TS: m.ts, At: time.Now(), Bytes: len(m.body)})
			s.mu.Unlock()
		case 20:
			name, txn := cmdName(m.body)
			if s.Junk && (name == "connect" || name == "createStream" || name == "publish") {
				_ = w.msg(3, 20, 0, 0, []byte{0x02, 0xFF, 0xFF, 'x'})
				_ = w.msg(3, 20, 0, 0, amfObj(amfStr(nil, "onFCPublish"), "code", "NetStream.Publish.Start"))
			}
			switch name {
			case "connect":
				_ = w.msg(2, 5, 0, 0, binary.BigEndian.AppendUint32(nil, 2500000))
				b := amfNum(amfStr(nil, "_result"), txn)
				b = amfObj(b, "fmsVer", "FMS/3,0,1,123")
				b = amfObj(b, "level", "status", "code", "NetConnection.Connect.Success", "description", "Connection succeeded.")
				_ = w.msg(3, 20, 0, 0, b)
			case "createStream":
				b := append(amfNum(amfStr(nil, "_result"), txn), 0x05)
				_ = w.msg(3, 20, 0, 0, amfNum(b, 1))
			case "publish":
				if s.Mode == RTMPAlreadyPublishing {
					b := append(amfNum(amfStr(nil, "onStatus"), 0), 0x05)
					b = amfObj(b, "level", "error", "code", "NetStream.Publish.BadName", "description", "Already publishing")
					_ = w.msg(5, 20, 0, 1, b)
					time.Sleep(50 * time.Millisecond)
					return nil
				}
				b := append(amfNum(amfStr(nil, "onStatus"), 0), 0x05)
				b = amfObj(b, "level", "status", "code", "NetStream.Publish.Start", "description", "Start publishing")
				_ = w.msg(5, 20, 0, 1, b)
				s.Publishes.Add(1)
				if s.Mode == RTMPDropAfterPublish {
					pubDeadline = time.Now().Add(s.DropAfter)
				}
			}
		}
	}
}

// The server side of the chunk stream: enough for what clients send.

type srvWriter struct {
	c    net.Conn
	size int
	sent *atomic.Int64
}

func (w *srvWriter) msg(csid int, typ byte, ts uint32, msid uint32, body []byte) error {
	n := len(body)
	h := []byte{byte(csid), byte(ts >> 16), byte(ts >> 8), byte(ts), byte(n >> 16), byte(n >> 8), byte(n), typ}
	h = binary.LittleEndian.AppendUint32(h, msid)
	for first := true; first || len(body) > 0; first = false {
		if !first {
			h = []byte{0xC0 | byte(csid)}
		}
		k := min(w.size, len(body))
		if _, err := w.c.Write(h); err != nil {
			return err
		}
		m, err := w.c.Write(body[:k])
		w.sent.Add(int64(len(h) + m))
		if err != nil {
			return err
		}
		body = body[k:]
	}
	return nil
}

// first sends only the first chunk of a message of n bytes.
func (w *srvWriter) first(csid int, typ byte, n int, chunk []byte) error {
	h := []byte{byte(csid), 0, 0, 0, byte(n >> 16), byte(n >> 8), byte(n), typ, 0, 0, 0, 0}
	m, err := w.c.Write(append(h, chunk...))
	w.sent.Add(int64(m))
	return err
}

type srvStream struct {
	ts, delta, length, msid uint32
	typ                     byte
	buf                     []byte
}

type srvReader struct {
	r       *bufio.Reader
	size    uint32
	streams map[uint32]*srvStream
}

type srvMsg struct {
	typ  byte
	ts   uint32
	body []byte
}

func (r *srvReader) next() (srvMsg, error) {
	for {
		b0, err := r.r.ReadByte()
		if err != nil {
			return srvMsg{}, err
		}
		f, id := b0>>6, uint32(b0&0x3F)
		if id < 2 {
			return srvMsg{}, fmt.Errorf("multi-byte chunk stream ids are not used by our client")
		}
		st := r.streams[id]
		if st == nil {
			st = &srvStream{}
			r.streams[id] = st
		}
		h := make([]byte, [4]int{11, 7, 3, 0}[f])
		if _, err := io.ReadFull(r.r, h); err != nil {
			return srvMsg{}, err
		}
		var t uint32
		if f < 3 {
			t = uint32(h[0])<<16 | uint32(h[1])<<8 | uint32(h[2])
		}
		if f < 3 && t == 0xFFFFFF || f == 3 && st.ts >= 0xFFFFFF {
			e := make([]byte, 4)
			if _, err := io.ReadFull(r.r, e); err != nil {
				return srvMsg{}, err
			}
			if f < 3 {
				t = binary.BigEndian.Uint32(e)
			}
		}
		switch f {
		case 0:
			st.ts = t
		case 1, 2:
			st.ts += t
		}
		if f <= 1 {
			st.length, st.typ = uint32(h[3])<<16|uint32(h[4])<<8|uint32(h[5]), h[6]
			if f == 0 {
				st.msid = binary.LittleEndian.Uint32(h[7:])
			}
		}
		k := min(r.size, st.length-uint32(len(st.buf)))
		at := len(st.buf)
		st.buf = append(st.buf, make([]byte, k)...)
		if _, err := io.ReadFull(r.r, st.buf[at:]); err != nil {
			return srvMsg{}, err
		}
		if uint32(len(st.buf)) == st.length {
			m := srvMsg{typ: st.typ, ts: st.ts, body: st.buf}
			st.buf = nil
			return m, nil
		}
	}
}

func cmdName(b []byte) (string, float64) {
	if len(b) < 3 || b[0] != 0x02 {
		return "", 0
	}
	n := int(binary.BigEndian.Uint16(b[1:]))
	if len(b) < 3+n {
		return "", 0
	}
	name := string(b[3 : 3+n])
	b = b[3+n:]
	if len(b) >= 9 && b[0] == 0 {
		return name, math.Float64frombits(binary.BigEndian.Uint64(b[1:]))
	}
	return name, 0
}

func amfStr(b []byte, s string) []byte {
	b = append(b, 0x02)
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func amfNum(b []byte, f float64) []byte {
	b = append(b, 0x00)
	return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
}

// amfObj appends an object of string properties (key, value, ...).
func amfObj(b []byte, kv ...string) []byte {
	b = append(b, 0x03)
	for i := 0; i+1 < len(kv); i += 2 {
		b = binary.BigEndian.AppendUint16(b, uint16(len(kv[i])))
		b = append(b, kv[i]...)
		b = amfStr(b, kv[i+1])
	}
	return append(b, 0, 0, 0x09)
}
