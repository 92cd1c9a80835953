package capture

import (
	"errors"
	"strings"
	"testing"
)

// single builds a single-value range the way AVFoundation reports one:
// duration value/scale, rate scale/value.
func single(format, rng, w, h int, value int64, scale int32) FrameRange {
	fps := float64(scale) / float64(value)
	d := CMTime{Value: value, Scale: scale}
	return FrameRange{Format: format, Range: rng, Width: w, Height: h, MinFPS: fps, MaxFPS: fps, MinDuration: d, MaxDuration: d}
}

func span(format, w, h int, minFPS, maxFPS float64, minDur, maxDur CMTime) FrameRange {
	return FrameRange{Format: format, Width: w, Height: h, MinFPS: minFPS, MaxFPS: maxFPS, MinDuration: minDur, MaxDuration: maxDur}
}

func TestChooseFormat(t *testing.T) {
	// FaceTime HD cameras report 30.000030 fps: a duration of 1/30 s
	// rounded to the driver's time scale. 1/30 is outside that range.
	facetime := []FrameRange{single(0, 0, 1280, 720, 33333, 1000000), single(1, 0, 1920, 1080, 33333, 1000000)}
	// A UVC webcam with discrete rates per format.
	discrete := []FrameRange{
		single(0, 0, 640, 480, 1, 5), single(0, 1, 640, 480, 1, 10), single(0, 2, 640, 480, 1, 15), single(0, 3, 640, 480, 1, 30),
		single(1, 0, 1280, 720, 1, 10), single(1, 1, 1280, 720, 1, 30),
	}
	// NTSC-rate camera: 30000/1001 exactly.
	ntsc := []FrameRange{single(0, 0, 1920, 1080, 1001, 30000)}
	// Continuous 1..30 (most built-in and capture-card formats).
	continuous := []FrameRange{span(0, 1280, 720, 1, 30, CMTime{1, 30}, CMTime{1, 1})}

	cases := []struct {
		name     string
		rs       []FrameRange
		w, h     int
		num, den int
		format   int
		dur      CMTime
		fps      float64
		err      string
	}{
		{"single 30.000030, ask 30", facetime, 1280, 720, 30, 1, 0, CMTime{33333, 1000000}, 1000000.0 / 33333, ""},
		{"single 30.000030, default", facetime, 0, 0, 0, 0, 0, CMTime{33333, 1000000}, 1000000.0 / 33333, ""},
		{"single 30.000030, 1080p", facetime, 1920, 1080, 30, 1, 1, CMTime{33333, 1000000}, 1000000.0 / 33333, ""},
		{"single 30.000030, ask 29.97", facetime, 1280, 720, 30000, 1001, 0, CMTime{}, 0, "no 1280x720 format at 29.97 (30000/1001) fps (offers: 1280x720@30, 1920x1080@30)"},
		{"single 30.000030, ask 25", facetime, 1280, 720, 25, 1, 0, CMTime{}, 0, "at 25 fps"},
		{"discrete 15", discrete, 640, 480, 15, 1, 0, CMTime{1, 15}, 15, ""},
		{"discrete 5", discrete, 640, 480, 5, 1, 0, CMTime{1, 5}, 5, ""},
		{"discrete 30 at 720p", discrete, 1280, 720, 30, 1, 1, CMTime{1, 30}, 30, ""},
		{"discrete 20 is not offered", discrete, 640, 480, 20, 1, 0, CMTime{}, 0, "offers: 640x480@5, 640x480@10, 640x480@15, 640x480@30, 1280x720@10, 1280x720@30"},
		{"discrete default picks 720p30", discrete, 0, 0, 0, 0, 1, CMTime{1, 30}, 30, ""},
		{"29.97 as 30000/1001", ntsc, 1920, 1080, 30000, 1001, 0, CMTime{1001, 30000}, 30000.0 / 1001, ""},
		{"29.97 refuses 30", ntsc, 1920, 1080, 30, 1, 0, CMTime{}, 0, "offers: 1920x1080@29.97"},
		{"29.97 default takes the highest", ntsc, 0, 0, 0, 0, 0, CMTime{1001, 30000}, 30000.0 / 1001, ""},
		{"continuous 1..30, ask 30", continuous, 1280, 720, 30, 1, 0, CMTime{1, 30}, 30, ""},
		{"continuous 1..30, ask 29.97", continuous, 1280, 720, 30000, 1001, 0, CMTime{1001, 30000}, 30000.0 / 1001, ""},
		{"continuous 1..30, ask 12", continuous, 1280, 720, 12, 1, 0, CMTime{1, 12}, 12, ""},
		{"continuous 1..30, ask 1", continuous, 1280, 720, 1, 1, 0, CMTime{1, 1}, 1, ""},
		{"continuous 1..30, ask 60", continuous, 1280, 720, 60, 1, 0, CMTime{}, 0, "offers: 1280x720@1-30"},
		{"unknown size", continuous, 640, 360, 30, 1, 0, CMTime{}, 0, "no 640x360 format"},
	}
	for _, c := range cases {
		got, err := ChooseFormat("Cam", c.rs, c.w, c.h, c.num, c.den)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, ErrDevice) {
				t.Errorf("%s: err = %v, want ErrDevice containing %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got.Format != c.format || got.Duration != c.dur {
			t.Errorf("%s: format %d duration %d/%d, want format %d duration %d/%d", c.name,
				got.Format, got.Duration.Value, got.Duration.Scale, c.format, c.dur.Value, c.dur.Scale)
		}
		if d := got.FPS - c.fps; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: fps %v, want %v", c.name, got.FPS, c.fps)
		}
		// Whatever is applied lies inside the chosen range: this is what
		// AVFoundation checks before it throws.
		if s := got.Duration.Seconds(); s < got.Range.MinDuration.Seconds()-1e-12 || s > got.Range.MaxDuration.Seconds()+1e-12 {
			t.Errorf("%s: duration %v s outside the range %v..%v s", c.name, s, got.Range.MinDuration.Seconds(), got.Range.MaxDuration.Seconds())
		}
	}
}

func TestChooseFormatNoFormats(t *testing.T) {
	if _, err := ChooseFormat("Cam", nil, 0, 0, 0, 0); err == nil || !errors.Is(err, ErrDevice) {
		t.Fatalf("no formats: err = %v", err)
	}
}
