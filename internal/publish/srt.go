package publish

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"
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
	if o.Info.Audio != nil {
		var asc mpeg4audio.AudioSpecificConfig
		if err := asc.Unmarshal(o.Info.Audio.ASC); err != nil {
			return nil, fmt.Errorf("audio config: AudioSpecificConfig is not valid: %v", err)
		}
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
		abortSRT(sock)
		<-done
	case <-ctx.Done():
		abortSRT(sock)
		<-done
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

	mux    *mpegts.Writer
	vt, at *mpegts.Track
	buf    [srtPayload]byte
	n      int
	bytes  atomic.Uint64

	watchdog *time.Timer
	stalled  atomic.Bool
	closed   sync.Once

	started bool
	base    time.Duration
	nalus   [][]byte
}

func (s *srtSession) initMux() error {
	// Video first: the first track written carries the PCR.
	s.vt = &mpegts.Track{Codec: &tscodecs.H264{}}
	tracks := []*mpegts.Track{s.vt}
	if a := s.o.Info.Audio; a != nil {
		var asc mpeg4audio.AudioSpecificConfig
		if err := asc.Unmarshal(a.ASC); err != nil {
			return err
		}
		s.at = &mpegts.Track{Codec: &tscodecs.MPEG4Audio{Config: asc}}
		tracks = append(tracks, s.at)
	}
	s.mux = &mpegts.Writer{W: s, Tracks: tracks}
	return s.mux.Initialize()
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

func ts90k(d time.Duration) int64 {
	return int64(d+tsOffset) * 9 / 100000
}

func (s *srtSession) write(p *media.Packet) error {
	if !s.started {
		if p.Kind != media.Video || !p.Key {
			return nil
		}
		s.started, s.base = true, p.DTS
	}
	if p.Kind == media.Audio && (s.at == nil || p.PTS < s.base) {
		return nil // audio from before the first keyframe sent
	}
	s.watchdog.Reset(s.o.WriteTimeout)
	var err error
	if p.Kind == media.Video {
		s.nalus = s.nalus[:0]
		if p.Key {
			// In-band parameter sets before each IDR: a TS receiver can
			// join (or resume) at any keyframe.
			v := s.o.Info.Video
			s.nalus = append(s.nalus, v.SPS, v.PPS)
		}
		s.nalus, err = splitAVCC(s.nalus, p.Data)
		if err == nil {
			err = s.mux.WriteH264(s.vt, ts90k(p.PTS), ts90k(p.DTS), s.nalus)
		}
	} else {
		err = s.mux.WriteMPEG4Audio(s.at, ts90k(p.PTS), [][]byte{p.Data})
	}
	if err == nil {
		err = s.flush() // one access unit per flush: no media waits in our buffer
	}
	s.watchdog.Stop()
	if err != nil {
		if s.stalled.Load() {
			return fmt.Errorf("srt %s: the peer has not accepted data for %v", s.d.Redacted(), s.o.WriteTimeout)
		}
		return fmt.Errorf("srt %s: %s", s.d.Redacted(), s.d.scrub(err.Error()))
	}
	return nil
}

func (s *srtSession) sent() uint64 { return s.bytes.Load() }

func (s *srtSession) close() {
	s.closed.Do(func() {
		s.watchdog.Stop()
		s.sock.Close()
	})
}

// splitAVCC appends the NAL units of a length-prefixed access unit.
func splitAVCC(dst [][]byte, b []byte) ([][]byte, error) {
	for len(b) > 0 {
		if len(b) < 4 {
			return dst, errors.New("truncated NAL length")
		}
		n := int(binary.BigEndian.Uint32(b))
		b = b[4:]
		if n > len(b) || n == 0 {
			return dst, errors.New("bad NAL length")
		}
		dst = append(dst, b[:n])
		b = b[n:]
	}
	return dst, nil
}
