package publish

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"github.com/livecap/livecap/internal/h264"
	"github.com/livecap/livecap/internal/media"
)

// tsMuxer turns packets into MPEG-TS on one connection's timeline. It is
// apart from the SRT socket so that it can be measured and fuzzed on its
// own, writing into any io.Writer.
type tsMuxer struct {
	sps, pps []byte
	mux      *mpegts.Writer
	vt, at   *mpegts.Track

	started bool
	base    time.Duration

	// Reused per access unit, so that muxing allocates only inside
	// mediacommon.
	nalus [][]byte
	aus   [1][]byte
}

func newTSMuxer(w io.Writer, info media.StreamInfo) (*tsMuxer, error) {
	v := info.Video
	if v == nil || len(v.SPS) == 0 || len(v.PPS) == 0 {
		return nil, errors.New("video config has no SPS/PPS")
	}
	m := &tsMuxer{sps: v.SPS, pps: v.PPS}
	// Video first: the first track written carries the PCR.
	m.vt = &mpegts.Track{Codec: &tscodecs.H264{}}
	tracks := []*mpegts.Track{m.vt}
	if a := info.Audio; a != nil {
		var asc mpeg4audio.AudioSpecificConfig
		if err := asc.Unmarshal(a.ASC); err != nil {
			return nil, fmt.Errorf("audio config: AudioSpecificConfig is not valid: %v", err)
		}
		m.at = &mpegts.Track{Codec: &tscodecs.MPEG4Audio{Config: asc}}
		tracks = append(tracks, m.at)
	}
	m.mux = &mpegts.Writer{W: w, Tracks: tracks}
	if err := m.mux.Initialize(); err != nil {
		return nil, err
	}
	return m, nil
}

// ts90k maps session time to 90 kHz TS time. TS time is 33 bits and wraps
// (after 26.5 hours), which receivers expect; the multiplication is split
// so that it cannot overflow int64 for any Duration.
func ts90k(d time.Duration) int64 {
	t := d + tsOffset
	return int64(t/time.Second)*90000 + int64(t%time.Second)*9/100000
}

// write muxes one packet. sent is false for what is skipped: media before
// the first keyframe of the connection, audio without an audio track, and
// empty access units (nothing to decode, and an H.264 access unit of no
// NAL unit is not valid TS).
func (m *tsMuxer) write(p *media.Packet) (sent bool, err error) {
	if len(p.Data) == 0 {
		return false, nil
	}
	if !m.started {
		if p.Kind != media.Video || !p.Key {
			return false, nil
		}
		m.started, m.base = true, p.DTS
	}
	if p.Kind == media.Audio {
		if m.at == nil || p.PTS < m.base {
			return false, nil // audio from before the first keyframe sent
		}
		m.aus[0] = p.Data
		err = m.mux.WriteMPEG4Audio(m.at, ts90k(p.PTS), m.aus[:])
		m.aus[0] = nil // do not keep the packet alive
		return err == nil, err
	}
	// mediacommon prepends an AUD when the access unit does not start with
	// one, allocating a new slice of NAL units each time; ours is in place.
	m.nalus = append(m.nalus[:0], h264.AUD)
	if p.Key {
		// In-band parameter sets before each IDR: a TS receiver can join
		// (or resume) at any keyframe.
		m.nalus = append(m.nalus, m.sps, m.pps)
	}
	m.nalus, err = h264.AppendNALs(m.nalus, p.Data)
	if err == nil {
		err = m.mux.WriteH264(m.vt, ts90k(p.PTS), ts90k(p.DTS), m.nalus)
	}
	clear(m.nalus)
	return err == nil, err
}
