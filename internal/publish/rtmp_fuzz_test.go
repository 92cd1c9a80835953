package publish

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// serverReplies is a well-behaved server's side after the handshake: the
// seed from which the fuzzers explore.
func serverReplies(junk bool) []byte {
	var out bytes.Buffer
	w := chunkWriter{w: &out, size: 128}
	msg := func(csid int, typ byte, msid uint32, body []byte) { _ = w.message(csid, typ, 0, msid, nil, body) }
	msg(2, 5, 0, binary.BigEndian.AppendUint32(nil, 2500000))
	msg(2, msgSetChunkSize, 0, binary.BigEndian.AppendUint32(nil, 4096))
	w.size = 4096
	if junk {
		msg(3, msgCommandAMF0, 0, []byte{0x02, 0xFF, 0xFF, 'x'})
		msg(3, msgCommandAMF0, 0, amfObject(amfString(nil, "onFCPublish"), []amfProp{{"code", "NetStream.Publish.Start"}}))
		msg(2, msgUserCtrl, 0, []byte{0, 6, 0, 0, 0, 1})
	}
	r := amfNumber(amfString(nil, "_result"), 1)
	r = amfObject(r, []amfProp{{"fmsVer", "FMS/3,0,1,123"}})
	r = amfObject(r, []amfProp{{"level", "status"}, {"code", "NetConnection.Connect.Success"}})
	msg(3, msgCommandAMF0, 0, r)
	msg(3, msgCommandAMF0, 0, amfNumber(amfNull(amfNumber(amfString(nil, "_result"), 4)), 1))
	s := amfNull(amfNumber(amfString(nil, "onStatus"), 0))
	s = amfObject(s, []amfProp{{"level", "status"}, {"code", "NetStream.Publish.Start"}})
	msg(5, msgCommandAMF0, 1, s)
	return out.Bytes()
}

// FuzzChunkReader feeds arbitrary server bytes to the chunk reader and the
// command decoder: no panic, and the state it keeps stays within its
// bounds whatever the bytes announce.
func FuzzChunkReader(f *testing.F) {
	f.Add(serverReplies(false))
	f.Add(serverReplies(true))
	// Chunk size 2^31-1 and a 16 MiB command.
	f.Add([]byte{2, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF, 3, 0, 0, 0, 0xFF, 0xFF, 0xFF, 20, 0, 0, 0, 0, 2, 0, 1})
	// Extended timestamps, type 1-3 chunks, a three-byte chunk stream id.
	f.Add([]byte{0x41, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 1, 0xC1, 0, 0, 0, 0, 0x80, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog()()
		cr := newChunkReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			m, err := cr.next()
			if err != nil {
				break
			}
			if len(m.body) > rtmpMaxKept {
				t.Fatalf("kept a message of %d bytes", len(m.body))
			}
			if m.typ == msgCommandAMF0 {
				decodeCommand(m.body)
			}
		}
		if len(cr.streams) > rtmpMaxStreams {
			t.Fatalf("%d chunk streams kept", len(cr.streams))
		}
		for _, s := range cr.streams {
			if cap(s.buf) > rtmpMaxKept {
				t.Fatalf("a chunk stream holds %d bytes", cap(s.buf))
			}
		}
	})
}

// FuzzRTMPServerBytes runs the whole client read path (handshake, chunk
// reader, commands, the set-up's waits, the read loop's recovery) against
// a server that sends the handshake and then the fuzzer's bytes: the
// connection attempt ends with a one-line error or a session, never with a
// panic (the read loop recovers one into an error, which fails here) and
// never with the key in the error.
func FuzzRTMPServerBytes(f *testing.F) {
	f.Add(serverReplies(false))
	f.Add(serverReplies(true))
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF})
	d, err := ParseDestination("rtmp://127.0.0.1:1935/live/" + rtmpKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog()()
		cli, srv := net.Pipe()
		o := &Options{Info: benchInfo(), Log: zerolog.Nop(), ConnectTimeout: 2 * time.Second, WriteTimeout: time.Second,
			Dial: func(context.Context, string, string) (net.Conn, error) { return cli, nil }}
		go func() {
			defer srv.Close()
			go func() { _, _ = io.Copy(io.Discard, srv) }()
			s := make([]byte, 1+2*rtmpHandshakeSize)
			s[0] = 3
			if _, err := srv.Write(s); err != nil {
				return
			}
			_, _ = srv.Write(data)
		}()
		c := &rtmpConnector{d: d, o: o}
		ses, err := c.connect(context.Background())
		if err != nil {
			msg := err.Error()
			if strings.Contains(msg, "reading it failed") {
				t.Fatalf("the read loop panicked: %v", err)
			}
			if strings.Contains(msg, rtmpKey) || strings.Contains(msg, "\n") {
				t.Fatalf("error leaks the key or spans lines: %q", msg)
			}
			return
		}
		rs := ses.(*rtmpSession)
		rs.close()
		<-rs.dead
		if rs.readErr != nil && strings.Contains(rs.readErr.Error(), "reading it failed") {
			t.Fatalf("the read loop panicked: %v", rs.readErr)
		}
	})
}
