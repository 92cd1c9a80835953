package pipeline

import "errors"

// EncoderError is a failure of the video or audio encoder: opening it,
// encoding or flushing. Package main maps it to its exit code.
type EncoderError struct{ Err error }

func (e *EncoderError) Error() string { return e.Err.Error() }
func (e *EncoderError) Unwrap() error { return e.Err }

func encoderErr(err error) error { return &EncoderError{Err: err} }

// ErrNoMedia: the source has neither video nor audio.
var ErrNoMedia = errors.New("nothing to capture: the source has neither video nor audio")
