package capture

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// This file is the plain-Go half of the darwin camera format choice (the
// Objective-C half, avf_darwin.m, only lists and applies): it is built on
// every platform so that the choice is unit-tested on Linux.
//
// AVFoundation describes what a camera offers as formats (a size), each with
// one or more AVFrameRateRange: continuous (1-30 fps), a single value
// (exactly 30.000030 fps: a 1/30 s duration rounded by the driver to its own
// time scale), or several single values (5, 10, 15, 30). Setting
// activeVideoMinFrameDuration to a duration that no range of the active
// format contains raises NSInvalidArgumentException, so the choice keeps
// every range separate and applies the chosen range's own durations when
// the rate is one of its single values.

// CMTime is a rational duration as AVFoundation reports it: Value/Scale
// seconds.
type CMTime struct {
	Value int64
	Scale int32
}

// Seconds returns the duration in seconds (0 for an invalid time).
func (t CMTime) Seconds() float64 {
	if t.Scale <= 0 {
		return 0
	}
	return float64(t.Value) / float64(t.Scale)
}

// FrameRange is one AVFrameRateRange of one device format.
type FrameRange struct {
	Format         int // index in AVCaptureDevice.formats
	Range          int // index in the format's videoSupportedFrameRateRanges
	Width, Height  int
	MinFPS, MaxFPS float64
	// MinDuration is the range's minFrameDuration (1/MaxFPS, exactly as the
	// device has it), MaxDuration its maxFrameDuration (1/MinFPS).
	MinDuration, MaxDuration CMTime
}

// single reports whether the range holds one rate only.
func (r FrameRange) single() bool {
	return r.MinDuration == r.MaxDuration || math.Abs(r.MaxFPS-r.MinFPS) <= rateTolerance(r.MaxFPS)
}

func (r FrameRange) String() string {
	if r.single() {
		return fmt.Sprintf("%dx%d@%s", r.Width, r.Height, rateString(r.MaxFPS))
	}
	return fmt.Sprintf("%dx%d@%s-%s", r.Width, r.Height, rateString(r.MinFPS), rateString(r.MaxFPS))
}

// rateString prints a rate with up to 3 decimals and no trailing zeros:
// 30, 29.97, 30 (for 30.000030), 7.5.
func rateString(f float64) string {
	s := fmt.Sprintf("%.3f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// rateTolerance is how far apart two rates may be and still be the same
// rate: 0.01 % (30.000030 is 30, 29.97 is not 30).
func rateTolerance(fps float64) float64 { return fps * 1e-4 }

// FormatChoice is what to apply to the camera.
type FormatChoice struct {
	Format        int
	Width, Height int
	// FPS is the rate delivered (what the range says, e.g. 30.000030).
	FPS float64
	// Duration is the frame duration to set as both
	// activeVideoMinFrameDuration and activeVideoMaxFrameDuration.
	Duration CMTime
	Range    FrameRange
}

// Offered lists the distinct ranges, as users read them.
func Offered(rs []FrameRange) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rs {
		s := r.String()
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// ChooseFormat picks a format and frame duration for a request: exact size
// when asked (else 1280x720 when offered, else the device's first format's
// size); a range that holds the requested rate num/den (0: 30 fps, or the
// highest rate of the size when none holds 30). A single-value range gives
// its own duration; a continuous one the requested duration den/num,
// clamped to the range. Nothing fits: an error naming the request and
// everything the device offers.
func ChooseFormat(name string, rs []FrameRange, w, h, num, den int) (FormatChoice, error) {
	if len(rs) == 0 {
		return FormatChoice{}, fmt.Errorf("%w: camera %q reports no formats", ErrDevice, name)
	}
	if den <= 0 {
		den = 1
	}
	var cands []FrameRange
	of := func(w, h int) []FrameRange {
		var c []FrameRange
		for _, r := range rs {
			if r.Width == w && r.Height == h {
				c = append(c, r)
			}
		}
		return c
	}
	if w > 0 || h > 0 {
		cands = of(w, h)
	} else if cands = of(1280, 720); len(cands) == 0 {
		cands = of(rs[0].Width, rs[0].Height)
	}
	wantNum, wantDen := num, den
	if num <= 0 {
		wantNum, wantDen = 30, 1
	}
	want := float64(wantNum) / float64(wantDen)
	// Single-value ranges first: their rate is exact, a continuous range
	// of the same format is the fallback.
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].single() && !cands[j].single() })
	for _, r := range cands {
		if c, ok := fit(r, want, wantNum, wantDen); ok {
			return c, nil
		}
	}
	if num <= 0 && len(cands) > 0 {
		// No 30 fps at this size: its highest rate.
		best := cands[0]
		for _, r := range cands[1:] {
			if r.MaxFPS > best.MaxFPS {
				best = r
			}
		}
		if best.MaxFPS > 0 {
			return FormatChoice{Format: best.Format, Width: best.Width, Height: best.Height, FPS: best.MaxFPS,
				Duration: best.MinDuration, Range: best}, nil
		}
	}
	size := "its default size"
	if w > 0 || h > 0 {
		size = fmt.Sprintf("%dx%d", w, h)
	} else if len(cands) > 0 {
		size = fmt.Sprintf("%dx%d", cands[0].Width, cands[0].Height)
	}
	rate := rateString(want)
	if wantDen != 1 {
		rate = fmt.Sprintf("%s (%d/%d)", rate, wantNum, wantDen)
	}
	return FormatChoice{}, fmt.Errorf("%w: camera %q has no %s format at %s fps (offers: %s)",
		ErrDevice, name, size, rate, strings.Join(Offered(rs), ", "))
}

// fit applies one range to the wanted rate.
func fit(r FrameRange, want float64, num, den int) (FormatChoice, bool) {
	tol := rateTolerance(want)
	if want < r.MinFPS-tol || want > r.MaxFPS+tol {
		return FormatChoice{}, false
	}
	c := FormatChoice{Format: r.Format, Width: r.Width, Height: r.Height, Range: r}
	switch {
	case r.single():
		// The device's own duration: 1/30 s is not 1/30.000030 s, and
		// only the latter is in the range.
		c.Duration, c.FPS = r.MinDuration, r.MaxFPS
	case math.Abs(want-r.MaxFPS) <= tol:
		c.Duration, c.FPS = r.MinDuration, r.MaxFPS
	case math.Abs(want-r.MinFPS) <= tol:
		c.Duration, c.FPS = r.MaxDuration, r.MinFPS
	default:
		if den > math.MaxInt32 || num > math.MaxInt32 {
			return FormatChoice{}, false
		}
		c.Duration, c.FPS = CMTime{Value: int64(den), Scale: int32(num)}, want
	}
	return c, true
}
