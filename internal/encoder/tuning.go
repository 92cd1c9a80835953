package encoder

import (
	"fmt"
	"strings"
)

// Tuning is what a user chooses of the H.264 encoder beyond size, rate and
// keyframes (--preset, --h264-profile, --rate-control). Every backend maps
// it onto its own controls; the zero value is each backend's default.
type Tuning struct {
	// Preset trades encoding speed for quality, in x264's names
	// (ultrafast ... veryslow); "" is veryfast. VideoToolbox has no
	// presets: the faster half asks it to prioritise speed over quality.
	Preset string
	// Profile is the H.264 profile: "baseline", "main" or "high" ("" is
	// high), the most the stream may use (x264 signals a lower one when the
	// preset needs no more, as ultrafast does).
	Profile string
	// RateControl: "vbr" (the default: the average bit rate, a one-second
	// window capped at it) or "cbr" (constant: the stream is padded with
	// filler up to the bit rate, as ingest servers prefer).
	RateControl string
}

// Presets are the allowed Tuning.Preset values, fastest first.
var Presets = []string{"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"}

// Profiles are the allowed Tuning.Profile values.
var Profiles = []string{"baseline", "main", "high"}

// RateControls are the allowed Tuning.RateControl values.
var RateControls = []string{"cbr", "vbr"}

// DefaultTuning is what the zero Tuning means.
var DefaultTuning = Tuning{Preset: "veryfast", Profile: "high", RateControl: "vbr"}

// WithDefaults fills the empty fields from DefaultTuning.
func (t Tuning) WithDefaults() Tuning {
	if t.Preset == "" {
		t.Preset = DefaultTuning.Preset
	}
	if t.Profile == "" {
		t.Profile = DefaultTuning.Profile
	}
	if t.RateControl == "" {
		t.RateControl = DefaultTuning.RateControl
	}
	return t
}

// Check says which field is not allowed, in the flag's words.
func (t Tuning) Check() error {
	if t.Preset != "" && !in(Presets, t.Preset) {
		return fmt.Errorf("invalid --preset %q: must be one of %s", t.Preset, strings.Join(Presets, ", "))
	}
	if t.Profile != "" && !in(Profiles, t.Profile) {
		return fmt.Errorf("invalid --h264-profile %q: must be baseline, main or high", t.Profile)
	}
	if t.RateControl != "" && !in(RateControls, t.RateControl) {
		return fmt.Errorf("invalid --rate-control %q: must be cbr or vbr", t.RateControl)
	}
	return nil
}

// SpeedOverQuality is the preset's half: the presets faster than medium.
func (t Tuning) SpeedOverQuality() bool {
	for _, p := range Presets[:5] {
		if t.WithDefaults().Preset == p {
			return true
		}
	}
	return false
}

func in(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
