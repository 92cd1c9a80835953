//go:build linux && cgo

package avcodec

import (
	"testing"
	"time"

	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/h264"
	"github.com/livecap/livecap/internal/media"
)

// --h264-profile is the SPS's profile_idc (at most); --rate-control cbr pads the
// stream with filler NAL units up to the bit rate, vbr does not.
func TestTuning(t *testing.T) {
	const w, h, fps, n = 320, 240, 30, 60
	idc := map[string]byte{"baseline": 66, "main": 77, "high": 100, "": 100}
	for _, tc := range []encoder.Tuning{
		{Profile: "baseline"}, {Profile: "main"}, {Profile: "high", Preset: "ultrafast"}, {}, {RateControl: "cbr"}, {RateControl: "vbr", Preset: "medium"},
	} {
		var c collector
		e := openVideo(t, encoder.VideoSettings{Width: w, Height: h, FPS: fps, Bitrate: 1_500_000, KeyInterval: time.Second, Tuning: tc}, c.out)
		// The profile is the most the stream may use: x264 signals a lower
		// one when the preset needs no more (ultrafast has no CABAC).
		if got := e.Config().SPS[1]; got != idc[tc.Profile] && (tc.Preset != "ultrafast" || got > idc[tc.Profile]) {
			t.Errorf("%+v: profile_idc %d, want %d", tc, got, idc[tc.Profile])
		}
		for i := 0; i < n; i++ {
			if err := e.Encode(testFrame(w, h, fps, i, media.I420, time.Duration(i)*time.Second/fps)); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
		fillers, bytes := 0, 0
		for _, p := range c.pkts {
			bytes += len(p.Data)
			for _, nal := range h264.SplitNALs(p.Data, 4) {
				if len(nal) > 0 && nal[0]&0x1f == 12 {
					fillers++
				}
			}
		}
		kbps := bytes * 8 / 1000 / (n / fps)
		if cbr := tc.RateControl == "cbr"; cbr != (fillers > 0) {
			t.Errorf("%+v: %d filler NAL units (%d kbit/s), want them only with cbr", tc, fillers, kbps)
		}
		t.Logf("%+v: %d packets, %d kbit/s, %d fillers", tc, len(c.pkts), kbps, fillers)
	}
	if _, err := OpenVideo(encoder.VideoSettings{Width: w, Height: h, FPS: fps, Bitrate: 1_000_000, KeyInterval: time.Second,
		Tuning: encoder.Tuning{Profile: "extended"}}, func(*media.Packet) {}); err == nil {
		t.Error("profile extended accepted")
	}
}
