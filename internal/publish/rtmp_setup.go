package publish

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/livecap/livecap/internal/h264"
)

// The RTMP set-up: handshake, connect, createStream, publish, headers, and
// the commands the server answers with.

// rtmpCmd is a command message from the server, its AMF0 values decoded.
type rtmpCmd struct {
	name string
	txn  float64
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

func (s *rtmpSession) setup(ctx context.Context) error {
	d := s.d
	br := bufio.NewReaderSize(s.conn, 16<<10)
	if err := rtmpHandshake(br, s.conn); err != nil {
		return fmt.Errorf("rtmp handshake with %s: %s", d.hostPort(), d.scrub(err.Error()))
	}
	go s.readLoop(br)

	// Our chunk size first: every message after it uses 4096-byte chunks.
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], rtmpChunkSize)
	if err := s.cw.message(csidControl, msgSetChunkSize, 0, 0, nil, b[:]); err != nil {
		return s.writeErr(err)
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
		if f, ok := a.(float64); ok && f >= 1 && f < 1<<32 {
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
		return s.writeErr(err)
	}
	if err := s.flush(); err != nil {
		return err
	}
	r, err = s.await(ctx, "publish", func(c rtmpCmd) bool {
		if c.name != "onStatus" {
			return false
		}
		_, code, _ := c.info()
		return strings.HasPrefix(code, "NetStream.Publish") || code == "NetStream.Failed"
	})
	if err != nil {
		return err
	}
	if level, code, desc := r.info(); code != "NetStream.Publish.Start" || level == "error" {
		return s.refused(code, desc)
	}
	if err := s.sendHeaders(); err != nil {
		if s.broken.Load() {
			return fmt.Errorf("%w: the server accepted the publish, then dropped it at once (a refusal, as nginx's deny publish does, or an unstable ingest)", err)
		}
		return err
	}
	return nil
}

// refused names a publish refusal.
func (s *rtmpSession) refused(code, desc string) error {
	why := ""
	if code == "NetStream.Publish.BadName" || strings.Contains(strings.ToLower(desc), "already publishing") {
		why = "the stream key is already being published (another encoder, or our previous connection not gone yet): "
	}
	return fmt.Errorf("rtmp server refused to publish on %s: %s%s %s", s.d.Redacted(), why, code, s.d.scrub(desc))
}

// sendHeaders sends onMetaData and the AVC/AAC sequence headers at time 0,
// before any media: a receiver cannot decode anything without them.
func (s *rtmpSession) sendHeaders() error {
	info := s.o.Info
	if err := s.cw.message(csidData, msgDataAMF0, 0, s.msid, nil, onMetaData(info)); err != nil {
		return s.writeErr(err)
	}
	if v := info.Video; v != nil {
		var h [flvVideoHeaderLen]byte
		flvVideoHeader(h[:], true, flvAVCSequenceHeader, 0)
		if len(v.SPS) < 4 || len(v.PPS) == 0 {
			return fmt.Errorf("video config has no SPS/PPS")
		}
		if err := s.cw.message(csidVideo, msgVideo, 0, s.msid, h[:], h264.DecoderConfig(v.SPS, v.PPS)); err != nil {
			return s.writeErr(err)
		}
	}
	if a := info.Audio; a != nil {
		var h [flvAudioHeaderLen]byte
		flvAudioHeader(h[:], flvAACSequenceHeader)
		if err := s.cw.message(csidAudio, msgAudio, 0, s.msid, h[:], a.ASC); err != nil {
			return s.writeErr(err)
		}
	}
	return s.flush()
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
					if what == "publish" {
						return c, s.refused(code, desc)
					}
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
			return rtmpCmd{}, fmt.Errorf("rtmp %s on %s: %s", what, s.d.Redacted(), s.hangupText(what))
		case <-ctx.Done():
			return rtmpCmd{}, ctx.Err()
		}
	}
}

// hangupText says why the read side ended while waiting for what.
func (s *rtmpSession) hangupText(what string) string {
	err := s.readErr
	switch {
	case errors.Is(err, errProtocol):
		return s.d.scrub(err.Error())
	case isTimeout(err):
		return fmt.Sprintf("no answer within %v", s.o.ConnectTimeout)
	case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed):
		return s.d.scrub(err.Error())
	}
	switch what {
	case "connect":
		return fmt.Sprintf("the server closed the connection instead of answering connect (is the application %q right?)", s.d.App)
	case "publish":
		return "the server closed the connection instead of answering publish: it refused the stream (publishing not allowed from here, a wrong stream key, or the key already in use)"
	}
	return "the server closed the connection"
}

// decodeCommand decodes a command: its name, a transaction id if there is
// one (ffmpeg -listen sends onFCPublish without), and the values after.
func decodeCommand(b []byte) (rtmpCmd, bool) {
	d := amfDecoder{b: b}
	vals, _ := d.decodeAll()
	if len(vals) == 0 {
		return rtmpCmd{}, false
	}
	name, ok := vals[0].(string)
	if !ok {
		return rtmpCmd{}, false
	}
	c := rtmpCmd{name: name}
	vals = vals[1:]
	if len(vals) > 0 {
		if t, ok := vals[0].(float64); ok {
			c.txn, vals = t, vals[1:]
		}
	}
	c.args = vals
	return c, true
}
