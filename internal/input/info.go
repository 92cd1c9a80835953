package input

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/avc"

	"github.com/livecap/livecap/internal/h264"
	"github.com/livecap/livecap/internal/media"
)

func (r *Reader) setInfo() error {
	if v := r.video; v != nil {
		if v.pending() == 0 {
			return errors.New("the video track has no samples")
		}
		first := v.queue[v.head]
		r.zero = v.present(first.dts + int64(first.cto))
		for _, s := range v.queue[v.head:] {
			v.ctoShift = max(v.ctoShift, -int64(s.cto))
		}
		cfg, err := r.videoConfig(v)
		if err != nil {
			return err
		}
		r.info.Video = cfg
	} else {
		r.zero = r.audio.emptyEdit
	}
	if a := r.audio; a != nil {
		cfg, err := r.audioConfig(a)
		if err != nil {
			return err
		}
		r.info.Audio = cfg
	}
	return nil
}

// estimate returns the median sample duration and the bitrate of the
// samples known so far (all of a progressive file, the first fragment of a
// fragmented one).
func estimate(t *track) (medianDur uint32, bitrate int) {
	q := t.queue[t.head:]
	var durs []uint32
	var bytes, ticks int64
	for i, s := range q {
		if i < 301 {
			durs = append(durs, s.dur)
		}
		bytes += int64(s.size)
		ticks += int64(s.dur)
	}
	if len(durs) > 0 {
		sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
		medianDur = durs[len(durs)/2]
	}
	if ticks > 0 {
		bitrate = int(float64(bytes) * 8 * float64(t.timescale) / float64(ticks))
	}
	return medianDur, bitrate
}

func (r *Reader) videoConfig(v *track) (*media.VideoConfig, error) {
	rec := v.avc.AvcC.DecConfRec
	cfg := &media.VideoConfig{Width: int(v.avc.Width), Height: int(v.avc.Height)}
	if len(rec.SPSnalus) > 0 {
		cfg.SPS = rec.SPSnalus[0]
	}
	if len(rec.PPSnalus) > 0 {
		cfg.PPS = rec.PPSnalus[0]
	}
	if cfg.SPS == nil || cfg.PPS == nil {
		// avc3: the parameter sets travel in band, at the first keyframe.
		s := v.queue[v.head]
		if s.size <= maxSampleSize {
			data := make([]byte, s.size)
			if _, err := r.ra.ReadAt(data, s.off); err != nil {
				return nil, fmt.Errorf("reading the first video sample: %w", err)
			}
			for _, nal := range h264.SplitNALs(data, v.lengthSize) {
				switch {
				case len(nal) == 0:
				case h264.Type(nal) == h264.NALSPS && cfg.SPS == nil:
					cfg.SPS = nal
				case h264.Type(nal) == h264.NALPPS && cfg.PPS == nil:
					cfg.PPS = nal
				}
			}
		}
	}
	if cfg.SPS == nil || cfg.PPS == nil {
		return nil, fmt.Errorf("track %d: no SPS/PPS in avcC nor in the first sample", v.id)
	}
	if cfg.Width == 0 || cfg.Height == 0 {
		sps, err := avc.ParseSPSNALUnit(cfg.SPS, false)
		if err != nil {
			return nil, fmt.Errorf("track %d: no size in the sample entry and an unreadable SPS: %w", v.id, err)
		}
		cfg.Width, cfg.Height = int(sps.Width), int(sps.Height)
	}
	d, br := estimate(v)
	if d > 0 {
		cfg.FPS = int((v.timescale + int64(d)/2) / int64(d))
	}
	cfg.Bitrate = br
	return cfg, nil
}

func (r *Reader) audioConfig(a *track) (*media.AudioConfig, error) {
	esds := esdsOf(a.mp4a)
	dcd := esds.DecConfigDescriptor
	if dcd == nil || dcd.DecSpecificInfo == nil || len(dcd.DecSpecificInfo.DecConfig) == 0 {
		return nil, fmt.Errorf("track %d: esds has no AudioSpecificConfig", a.id)
	}
	ascBytes := dcd.DecSpecificInfo.DecConfig
	asc, err := aac.DecodeAudioSpecificConfig(bytes.NewReader(ascBytes))
	if err != nil {
		return nil, fmt.Errorf("track %d: AudioSpecificConfig %x: %w (AAC-LC is supported)", a.id, ascBytes, err)
	}
	if asc.ObjectType != aac.AAClc {
		return nil, fmt.Errorf("track %d: AAC object type %d; only AAC-LC (2) is supported", a.id, asc.ObjectType)
	}
	cfg := &media.AudioConfig{
		SampleRate: asc.SamplingFrequency,
		Channels:   int(asc.ChannelConfiguration),
		ASC:        ascBytes,
		FrameSize:  1024,
	}
	if cfg.Channels == 7 {
		cfg.Channels = 8 // channel configuration 7 is 7.1
	}
	if cfg.Channels == 0 || cfg.Channels > 8 {
		cfg.Channels = int(a.mp4a.ChannelCount)
	}
	if cfg.SampleRate <= 0 {
		return nil, fmt.Errorf("track %d: AudioSpecificConfig %x has no sample rate", a.id, ascBytes)
	}
	if a.mediaTime > 0 && a.mediaTime < 1<<32 {
		// In samples at the codec's rate (the track timescale usually is
		// that rate already), rounded to the nearest.
		cfg.Priming = int((a.mediaTime*int64(cfg.SampleRate) + a.timescale/2) / a.timescale)
	}
	if a.pending() > 0 {
		_, cfg.Bitrate = estimate(a)
	}
	return cfg, nil
}
