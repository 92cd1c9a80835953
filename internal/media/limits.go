package media

import "fmt"

// Limits of what livecap captures and encodes. The command line checks
// them before anything starts, and the sources and encoders check the same
// numbers, so a value the flags accept is never refused later (a source
// may need more: the test pattern's barcode needs 68x32, see
// internal/testpattern).
const (
	MinWidth, MinHeight = 16, 16
	MaxWidth, MaxHeight = 7680, 4320 // 8K UHD
	MinFPS, MaxFPS      = 1, 120
	// Bit rates, bits per second (video and audio alike).
	MinBitrate, MaxBitrate   = 1_000, 500_000_000
	MinChannels, MaxChannels = 1, 2
)

// SampleRates are the audio rates livecap encodes (AAC at 44.1 or 48 kHz
// is what every ingest server and player takes).
var SampleRates = []int{44100, 48000}

// CheckSize reports whether w×h can be encoded: even (4:2:0 chroma covers
// the picture exactly) and within the limits.
func CheckSize(w, h int) error {
	if w < MinWidth || h < MinHeight || w > MaxWidth || h > MaxHeight || w%2 != 0 || h%2 != 0 {
		return fmt.Errorf("size %dx%d not allowed: width and height must be even, from %dx%d to %dx%d",
			w, h, MinWidth, MinHeight, MaxWidth, MaxHeight)
	}
	return nil
}

// CheckFPS reports whether fps is within the limits.
func CheckFPS(fps int) error {
	if fps < MinFPS || fps > MaxFPS {
		return fmt.Errorf("frame rate %d not allowed: must be from %d to %d", fps, MinFPS, MaxFPS)
	}
	return nil
}

// CheckBitrate reports whether bps is within the limits.
func CheckBitrate(bps int) error {
	if bps < MinBitrate || bps > MaxBitrate {
		return fmt.Errorf("bit rate %d bit/s not allowed: must be from %d to %d", bps, MinBitrate, MaxBitrate)
	}
	return nil
}
