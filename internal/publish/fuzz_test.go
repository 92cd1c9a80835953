package publish

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/media"
)

// Fuzz targets for what the publishers parse or build from outside data.
// Under plain `go test` they run their seeds (f.Add and testdata/fuzz);
// `go test -run XXX -fuzz FuzzX -fuzztime 60s ./internal/publish` explores.

// FuzzParseDestination builds URLs from fuzzed parts (host, port, app and
// the secrets: RTMP key and query, SRT streamid and passphrase) and checks
// that ParseDestination never panics and that no secret shows in
// Redacted(), String(), the error text or the output of Redact on a line
// that embeds the URL. The same input is also parsed as a raw string.
//
// A secret may legitimately appear when it is also a public part (a key
// "live" under the application "live") or a word of the fixed message
// text; to tell that apart, every output is compared with the output for
// the same URL whose secrets are replaced by placeholders of the same
// length: a secret found in both comes from elsewhere.
func FuzzParseDestination(f *testing.F) {
	f.Add(uint8(0), "live.example.com", uint16(0), "app", "SecretKey42", "", "", "", "dial error near ")
	f.Add(uint8(1), "h", uint16(4443), "a/b", "k3y-with/slash", "auth=TokEn&x=1", "", "", "")
	f.Add(uint8(2), "127.0.0.1", uint16(9000), "", "", "", "publish:room/SeCrEt", "passphrase-0123", "srt error: ")
	f.Add(uint8(2), "h", uint16(9000), "", "", "pbkeylen=16&latency=200", "#!::r=live/id", "short", "")
	f.Add(uint8(1), "::1", uint16(443), "live", "ke y%2F?#", "token=a b", "", "", "x")
	f.Add(uint8(3), "h", uint16(0), "app", "SecretKey42", "", "", "", "")
	f.Fuzz(func(t *testing.T, scheme uint8, host string, port uint16, app, key, query, streamID, pass, prefix string) {
		defer watchdog()()
		u, secrets := buildURL(scheme, host, port, app, key, query, streamID, pass)
		// Placeholders: same lengths (the passphrase length is checked),
		// plain letters that the secrets do not contain.
		ph := func(s string) string { return placeholder(s, secrets) }
		q2 := ph(query)
		if scheme%4 == 2 {
			q2 = query // SRT options after the secrets are public
		}
		u2, _ := buildURL(scheme, host, port, app, ph(key), q2, ph(streamID), ph(pass))
		// Redact knows our schemes only: an http URL is refused by
		// ParseDestination and never reaches a library's error text.
		ours := scheme%4 != 3
		// Nor can Redact, which sees text without knowing the secrets, tell
		// where a URL ends when it holds a quote, a bracket or a space:
		// there it ends the URL, like any scanner of free text. (Our own
		// destination's errors go through scrub, which knows the secrets.)
		ours = ours && !strings.ContainsAny(u, "\"'<> \t\n\r\v\f")
		out, out2 := parseOutputs(u, prefix, ours), parseOutputs(u2, prefix, ours)
		for _, s := range secrets {
			for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
				if len(form) < 4 || strings.Contains(prefix, form) {
					continue
				}
				if strings.Contains(out, form) && !strings.Contains(out2, form) {
					t.Fatalf("secret %q leaks from %q:\n%s", form, u, out)
				}
			}
		}
		// The raw form: whatever string, no panic, one line.
		if d, err := ParseDestination(u); err == nil {
			if strings.ContainsAny(d.Redacted(), "\n\r") {
				t.Fatalf("redacted form on several lines: %q", d.Redacted())
			}
			// The redacted form is itself a valid destination of the same
			// kind: what we log can be pasted back with a new key.
			if d2, err := ParseDestination(d.Redacted()); err == nil && d2.Redacted() != d.Redacted() {
				t.Fatalf("redacted form is not stable: %q then %q", d.Redacted(), d2.Redacted())
			}
		} else if strings.ContainsAny(err.Error(), "\n\r") {
			t.Fatalf("error on several lines: %q", err)
		}
		_ = Redact(prefix + host + key)
	})
}

// watchdog panics if one input takes over 10 s: the fuzzer has no time
// limit of its own, and a panic makes it keep the input that hangs.
func watchdog() (stop func()) {
	t := time.AfterFunc(10*time.Second, func() { panic("fuzz: one input took over 10 s") })
	return func() { t.Stop() }
}

// buildURL assembles a destination URL and lists the secrets in it.
func buildURL(scheme uint8, host string, port uint16, app, key, query, streamID, pass string) (string, []string) {
	host = hostChars(host)
	hp := host
	if strings.Contains(host, ":") {
		hp = "[" + host + "]"
	}
	if port != 0 {
		hp += ":" + strconv.Itoa(int(port))
	}
	var secrets []string
	switch scheme % 4 {
	case 0, 1:
		sch := "rtmp"
		if scheme%4 == 1 {
			sch = "rtmps"
		}
		var segs []string
		for _, s := range strings.Split(app, "/") {
			segs = append(segs, url.PathEscape(s))
		}
		u := sch + "://" + hp + "/" + strings.Join(segs, "/") + "/" + url.PathEscape(key)
		secrets = append(secrets, key)
		if query != "" {
			q := strings.NewReplacer("#", "%23", " ", "%20").Replace(query)
			u += "?" + q
			secrets = append(secrets, q)
		}
		return u, secrets
	case 2:
		u := "srt://" + hp
		var q []string
		if streamID != "" {
			q = append(q, "streamid="+url.QueryEscape(streamID))
			secrets = append(secrets, streamID)
		}
		if pass != "" {
			q = append(q, "passphrase="+url.QueryEscape(pass))
			secrets = append(secrets, pass)
		}
		if query != "" {
			// Public options (or junk) after the secrets.
			q = append(q, strings.NewReplacer("#", "%23", " ", "%20").Replace(query))
		}
		if len(q) > 0 {
			u += "?" + strings.Join(q, "&")
		}
		return u, secrets
	default:
		// An unsupported scheme with a key in its path.
		secrets = append(secrets, key)
		return "http://" + hp + "/" + url.PathEscape(app) + "/" + url.PathEscape(key), secrets
	}
}

// hostChars keeps what a host name or IP literal may hold.
func hostChars(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == ':' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "h"
	}
	return b.String()
}

// placeholder returns a run of one letter, as long as s (in bytes), using
// a letter that none of the secrets contains.
func placeholder(s string, secrets []string) string {
	all := strings.Join(secrets, "")
	for _, c := range "QZXJKVWqzxjkvw" {
		if !strings.ContainsRune(all, c) {
			return strings.Repeat(string(c), len(s))
		}
	}
	return strings.Repeat("Q", len(s))
}

// parseOutputs is everything ParseDestination and Redact let out for u.
func parseOutputs(u, prefix string, redact bool) string {
	var b strings.Builder
	d, err := ParseDestination(u)
	if err != nil {
		b.WriteString(err.Error())
	} else {
		b.WriteString(d.Redacted())
		b.WriteString("\n")
		b.WriteString(d.String())
		b.WriteString("\n")
		b.WriteString(d.scrub("dial " + u + ": connection refused"))
	}
	if !redact {
		return b.String()
	}
	b.WriteString("\n")
	b.WriteString(Redact(prefix + u + " failed"))
	b.WriteString("\n")
	b.WriteString(Redact(prefix + `"` + u + `"`))
	return b.String()
}

// auRecord decodes the fuzzer's bytes into packets: per packet a flags
// byte (bit 0 audio, bit 1 key, bit 2 raw payload), a DTS step in ms
// (int32, negative allowed: late or reordered packets) and a size. The
// payload is either well-formed AVCC (video) made from a pattern or, with
// the raw bit, bytes taken from the input as they are.
type auRecord struct {
	data  []byte
	dts   time.Duration
	bytes int // made so far: capped, to keep each input fast
}

func (a *auRecord) next() (*media.Packet, bool) {
	if len(a.data) < 7 || a.bytes > 1<<20 {
		return nil, false
	}
	fl := a.data[0]
	step := int32(binary.BigEndian.Uint32(a.data[1:5]))
	size := int(binary.BigEndian.Uint16(a.data[5:7]))
	a.data = a.data[7:]
	a.bytes += size
	a.dts += time.Duration(step) * time.Millisecond
	p := &media.Packet{Kind: media.Video, Key: fl&2 != 0, PTS: a.dts, DTS: a.dts, Duration: time.Second / 30}
	if fl&1 != 0 {
		p.Kind = media.Audio
		p.Key = true
	}
	if fl&4 != 0 {
		size = min(size, len(a.data))
		p.Data, a.data = a.data[:size], a.data[size:]
		return p, true
	}
	if p.Kind == media.Audio || size < 5 {
		p.Data = bytes.Repeat([]byte{fl}, size)
		return p, true
	}
	p.Data = make([]byte, size)
	binary.BigEndian.PutUint32(p.Data, uint32(size-4))
	p.Data[4] = 0x41
	if p.Key {
		p.Data[4] = 0x65
	}
	for i := 5; i < size; i++ {
		p.Data[i] = byte(i*7) | 1 // no start code emulation, irrelevant here
	}
	return p, true
}

// FuzzFLVTag writes arbitrary packets (sizes, keyframe flags, timestamps
// that jump, go back, cross the 24-bit extended-timestamp boundary and the
// 32-bit wrap) through the RTMP timeline and chunk writer at any chunk size,
// then reads the chunk stream back with an independent parser: every
// message must be well framed, on a chunk stream id below 32, carry exactly
// the FLV header and payload, and its timestamp must never go backwards
// per track (modulo 2^32).
func FuzzFLVTag(f *testing.F) {
	f.Add([]byte{2, 0, 0, 0, 0, 0, 40, 1, 0, 0, 0, 21, 0, 9, 0, 0, 0, 0, 33, 0x10, 0}, uint16(4095), int64(0))
	// 4h39m: extended timestamps on a chunked message.
	f.Add([]byte{2, 0, 0, 0, 0, 0x20, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x20, 0, 1, 0, 0, 0, 0, 0, 9}, uint16(127), int64(-5e9))
	// Backwards and then 30 days on: clamping and the 2^32 wrap.
	f.Add([]byte{2, 0, 0, 0, 0, 0, 5, 0, 0xFF, 0xFF, 0xFF, 0, 0, 6, 0, 0x9A, 0x7E, 0xC8, 0, 0, 7, 1, 0x9A, 0x7E, 0xC8, 0, 3}, uint16(0), int64(1<<40))
	f.Add([]byte{6, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7}, uint16(1), int64(0))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16, first int64) {
		defer watchdog()()
		var out bytes.Buffer
		s := &rtmpSession{msid: 1}
		s.cw = chunkWriter{w: &out, size: int(chunk) + 1}
		tl := &s.tl
		type sentTag struct {
			p  *media.Packet
			ts uint32
		}
		var sent []sentTag
		src := auRecord{data: data, dts: time.Duration(first)}
		for n := 0; n < 256; n++ {
			p, ok := src.next()
			if !ok {
				break
			}
			ts, ok := tl.stamp(p)
			if !ok {
				continue
			}
			if err := s.tag(p, ts); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, sentTag{p, ts})
			if len(sent)%(1+int(chunk)%5) == 0 { // batches of 1 to 5 tags
				if err := s.cw.send(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := s.cw.send(); err != nil {
			t.Fatal(err)
		}
		r := specReader{b: out.Bytes(), size: s.cw.size}
		var lastV, lastA uint32
		var haveV, haveA bool
		for i, s := range sent {
			m, err := r.message()
			if err != nil {
				t.Fatalf("message %d of %d: %v", i, len(sent), err)
			}
			if m.csid >= 32 || m.csid < 2 {
				t.Fatalf("chunk stream id %d", m.csid)
			}
			if m.ts != s.ts || m.msid != 1 {
				t.Fatalf("message %d: ts %d msid %d, want %d 1", i, m.ts, m.msid, s.ts)
			}
			var wantTyp byte = msgVideo
			head := 5
			if s.p.Kind == media.Audio {
				wantTyp, head = msgAudio, 2
			}
			if m.typ != wantTyp || len(m.body) != head+len(s.p.Data) || !bytes.Equal(m.body[head:], s.p.Data) {
				t.Fatalf("message %d: type %d, %d bytes, want type %d, %d bytes", i, m.typ, len(m.body), wantTyp, head+len(s.p.Data))
			}
			if s.p.Kind == media.Video {
				if key := m.body[0]>>4 == 1; key != s.p.Key || m.body[0]&0xF != 7 || m.body[1] != 1 {
					t.Fatalf("message %d: video tag header % x for key=%v", i, m.body[:5], s.p.Key)
				}
				if haveV && int32(m.ts-lastV) < 0 {
					t.Fatalf("video timestamp went back: %d after %d", m.ts, lastV)
				}
				lastV, haveV = m.ts, true
			} else {
				if m.body[0] != 0xAF || m.body[1] != 1 {
					t.Fatalf("message %d: audio tag header % x", i, m.body[:2])
				}
				if haveA && int32(m.ts-lastA) < 0 {
					t.Fatalf("audio timestamp went back: %d after %d", m.ts, lastA)
				}
				lastA, haveA = m.ts, true
			}
		}
		if len(r.b) != 0 {
			t.Fatalf("%d bytes after the last message", len(r.b))
		}
	})
}

// specReader parses the RTMP chunk stream our writer produces, from the
// specification (RTMP 1.0, 5.3.1), independently of chunkWriter.
type specReader struct {
	b    []byte
	size int
}

type chunkMsg struct {
	csid int
	typ  byte
	ts   uint32
	msid uint32
	body []byte
}

func (r *specReader) take(n int) ([]byte, error) {
	if len(r.b) < n {
		return nil, io.ErrUnexpectedEOF
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b, nil
}

func (r *specReader) message() (chunkMsg, error) {
	var m chunkMsg
	h, err := r.take(12)
	if err != nil {
		return m, err
	}
	if h[0]>>6 != 0 {
		return m, fmt.Errorf("first chunk of a message has fmt %d, want 0", h[0]>>6)
	}
	m.csid = int(h[0] & 0x3F)
	if m.csid < 2 {
		return m, fmt.Errorf("multi-byte chunk basic header (csid field %d)", m.csid)
	}
	m.ts = uint32(h[1])<<16 | uint32(h[2])<<8 | uint32(h[3])
	n := int(h[4])<<16 | int(h[5])<<8 | int(h[6])
	m.typ = h[7]
	m.msid = binary.LittleEndian.Uint32(h[8:12])
	ext := m.ts == 0xFFFFFF
	if ext {
		e, err := r.take(4)
		if err != nil {
			return m, err
		}
		m.ts = binary.BigEndian.Uint32(e)
		if m.ts < 0xFFFFFF {
			return m, fmt.Errorf("extended timestamp %d that fits 24 bits", m.ts)
		}
	}
	for len(m.body) < n || n == 0 {
		if len(m.body) > 0 {
			c, err := r.take(1)
			if err != nil {
				return m, err
			}
			if c[0] != 0xC0|byte(m.csid) {
				return m, fmt.Errorf("continuation header %#x on csid %d", c[0], m.csid)
			}
			if ext {
				e, err := r.take(4)
				if err != nil {
					return m, err
				}
				if binary.BigEndian.Uint32(e) != m.ts {
					return m, fmt.Errorf("continuation repeats timestamp %d, first chunk has %d", binary.BigEndian.Uint32(e), m.ts)
				}
			}
		}
		k := min(r.size, n-len(m.body))
		b, err := r.take(k)
		if err != nil {
			return m, err
		}
		m.body = append(m.body, b...)
		if n == 0 {
			break
		}
	}
	return m, nil
}

// FuzzTSAccessUnit muxes arbitrary packets (well-formed AVCC or raw bytes,
// any timestamps, with and without an audio track) through the SRT path's
// MPEG-TS muxer into a buffer: no panic, and whatever it writes is whole
// 188-byte TS packets, each starting with the sync byte. Packets it refuses
// (bad AVCC) are an error, never a partial packet.
func FuzzTSAccessUnit(f *testing.F) {
	f.Add([]byte{2, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 33, 0x10, 0, 1, 0, 0, 0, 21, 0, 9}, true, int64(0))
	f.Add([]byte{6, 0, 0, 0, 0, 0, 9, 0, 0, 0, 5, 0x65, 1, 2, 3, 4, 0, 0, 0, 0, 33, 0, 0}, false, int64(-1e10))
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 8, 6, 0x7F, 0xFF, 0xFF, 0xFF, 0, 9, 1, 0x80, 0, 0, 0, 0, 5}, true, int64(1<<62))
	f.Fuzz(func(t *testing.T, data []byte, withAudio bool, first int64) {
		defer watchdog()()
		info := benchInfo()
		if !withAudio {
			info.Audio = nil
		}
		var out bytes.Buffer
		m, err := newTSMuxer(&out, info)
		if err != nil {
			t.Fatal(err)
		}
		src := auRecord{data: data, dts: time.Duration(first)}
		for n := 0; n < 256; n++ {
			p, ok := src.next()
			if !ok {
				break
			}
			before := out.Len()
			if _, err := m.write(p); err != nil && out.Len() != before {
				t.Fatalf("a refused packet wrote %d bytes", out.Len()-before)
			}
			if out.Len()%188 != 0 {
				t.Fatalf("%d bytes of TS after packet %d: not whole TS packets", out.Len(), n)
			}
		}
		b := out.Bytes()
		for i := 0; i < len(b); i += 188 {
			if b[i] != 0x47 {
				t.Fatalf("TS packet %d starts with %#x, not the sync byte", i/188, b[i])
			}
		}
	})
}
