package session

import (
	"errors"
	"fmt"
)

// ConfigError: a value the session could not use, found while opening
// what it names (an --input file that is not H.264+AAC, test source
// options out of range, an --on-segment program that does not run).
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// DeviceError: the capture device is missing or cannot be opened (a
// permission refusal also wraps capture.ErrPermission).
type DeviceError struct{ Err error }

func (e *DeviceError) Error() string { return e.Err.Error() }
func (e *DeviceError) Unwrap() error { return e.Err }

// DiskRefusedError: free disk is under the estimate and DiskCheck is
// "refuse"; nothing started.
type DiskRefusedError struct{ Msg string }

func (e *DiskRefusedError) Error() string { return e.Msg + " (--disk-check refuse)" }

// RecordingError: the recording failed (it wraps record.ErrDiskLow or
// record.ErrDiskFull when the disk was the cause).
type RecordingError struct{ Err error }

func (e *RecordingError) Error() string { return e.Err.Error() }
func (e *RecordingError) Unwrap() error { return e.Err }

// GaveUpError: streaming only, and every destination gave up.
type GaveUpError struct{ Err error }

func (e *GaveUpError) Error() string { return "every destination gave up: " + e.Err.Error() }
func (e *GaveUpError) Unwrap() error { return e.Err }

// SkippedError: more frames were skipped than Config.MaxSkipped allows.
type SkippedError struct {
	Skipped, Produced uint64 // skipped frames; frames the source produced (encoded + skipped)
	Limit             SkipLimit
}

func (e *SkippedError) Error() string {
	return fmt.Sprintf("%d of %d frames skipped (%.1f%%), more than --max-skipped %s allows: the source or the encoder could not keep up",
		e.Skipped, e.Produced, percent(e.Skipped, e.Produced), e.Limit)
}

var (
	// ErrAudioOnly: recordings and streams need a video track.
	ErrAudioOnly = errors.New("audio only is not supported: recordings and streams need a video track")
	// ErrNoStreamInfo: the encoder produced no stream configuration in time.
	ErrNoStreamInfo = errors.New("the encoder produced no stream configuration within 15s")
	// ErrInterrupted: a second signal stopped the session at once, without
	// draining (files stay playable up to their last fragment).
	ErrInterrupted = errors.New("second interrupt: stopped at once")
)
