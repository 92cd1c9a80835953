package main

// Encoder controls (--preset, --h264-profile, --rate-control) and what an
// ingest server accepts (--max-bitrate per destination, a keyframe at
// least every 4 s): refused before anything starts.

import (
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/session"
)

// MaxIngestKeyint is the longest keyframe interval livecap sends to a
// destination: YouTube, Twitch and Facebook ask for 2 s and reject or
// degrade streams over 4 s.
const MaxIngestKeyint = 4 * time.Second

func addEncodingFlags(fl *pflag.FlagSet, f *streamFlags) {
	fl.StringVar(&f.preset, "preset", "", "encoder speed against quality: "+strings.Join(encoder.Presets, ", ")+" (default veryfast; VideoToolbox: the faster half prioritises speed)")
	fl.StringVar(&f.h264Profile, "h264-profile", "", "H.264 profile: baseline, main or high (default high; the most the stream may use)")
	fl.StringVar(&f.rateControl, "rate-control", "", "cbr (constant, padded with filler: what ingest servers prefer) or vbr (default: the average, capped per second)")
	fl.StringArrayVar(&f.maxBitrate, "max-bitrate", nil, "refuse to start when video+audio exceed what a destination accepts: RATE for every destination, or NAME=RATE / INDEX=RATE for one (repeatable)")
}

// encoding checks the encoder controls and the destinations' limits
// against the validated config c.
func (f *streamFlags) encoding(c *session.Config) error {
	c.Tuning = encoder.Tuning{Preset: f.preset, Profile: f.h264Profile, RateControl: f.rateControl}
	if err := c.Tuning.Check(); err != nil {
		return usageErr("%v", err)
	}
	if len(c.Destinations) == 0 {
		if len(f.maxBitrate) > 0 {
			return usageErr("invalid --max-bitrate: it needs a destination (--rtmp, --srt, ...)")
		}
		return nil
	}
	if c.KeyInterval > MaxIngestKeyint {
		return usageErr("invalid --keyint %s with a destination: ingest servers reject keyframes further apart than %s (2s is what they ask for)", c.KeyInterval, MaxIngestKeyint)
	}
	total := c.Bitrate + c.AudioBitrate
	for _, v := range f.maxBitrate {
		who, rate := "", v
		if eq := strings.IndexByte(v, '='); eq >= 0 {
			who, rate = v[:eq], v[eq+1:]
		}
		limit, err := parseBitrate("max-bitrate", rate)
		if err != nil {
			return err
		}
		matched := false
		for i, d := range c.Destinations {
			name := strconv.Itoa(i + 1)
			if d.Name != "" {
				name = d.Name
			}
			if who != "" && who != name && who != strconv.Itoa(i+1) {
				continue
			}
			matched = true
			if total > limit {
				return usageErr("invalid --bitrate %s + --audio-bitrate %s for destination %s: %s in all, over its --max-bitrate %s",
					fmtBps(c.Bitrate), fmtBps(c.AudioBitrate), name, fmtBps(total), fmtBps(limit))
			}
		}
		if !matched {
			var names []string
			for i, d := range c.Destinations {
				if d.Name != "" {
					names = append(names, d.Name)
				} else {
					names = append(names, strconv.Itoa(i+1))
				}
			}
			return usageErr("invalid --max-bitrate %q: no destination %q (have %s)", v, who, strings.Join(names, ", "))
		}
	}
	return nil
}

func fmtBps(bps int) string {
	if bps%1_000_000 == 0 {
		return strconv.Itoa(bps/1_000_000) + "M"
	}
	if bps%1000 == 0 {
		return strconv.Itoa(bps/1000) + "k"
	}
	return strconv.Itoa(bps)
}
