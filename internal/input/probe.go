package input

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Track is one track of a file as its header describes it.
type Track struct {
	ID    uint32
	Kind  string // "video", "audio", or the handler type of another track
	Codec string // the sample entry: avc1, avc3, hvc1, hev1, mp4a, ...
	// Used is true for the H.264 video and AAC audio tracks livecap
	// restreams (the first of each).
	Used bool
}

func trackKind(handler string) string {
	switch handler {
	case "vide":
		return "video"
	case "soun":
		return "audio"
	}
	return strings.TrimSpace(handler)
}

// ErrUnsupported is wrapped by every refusal of a file for what it holds
// (errors.Is), as opposed to a file that cannot be read.
var ErrUnsupported = errors.New("unsupported input")

// UnsupportedError says why a file cannot be restreamed and what it holds.
type UnsupportedError struct {
	Reason string
	Tracks []Track
}

func (e *UnsupportedError) Error() string {
	var found []string
	for _, t := range e.Tracks {
		found = append(found, fmt.Sprintf("track %d %s %s", t.ID, t.Kind, t.Codec))
	}
	if len(found) == 0 {
		return e.Reason + " (the file has no track)"
	}
	return e.Reason + " (found: " + strings.Join(found, ", ") + ")"
}

func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

// checkTracks refuses a file without an H.264 video track: livecap
// restreams H.264 only (HEVC and every other video codec is refused), and
// a recording and a stream both start at a video keyframe, so audio alone
// is refused too. AAC-LC audio is optional.
func checkTracks(found []Track, haveVideo bool) error {
	if haveVideo {
		return nil
	}
	for _, t := range found {
		if t.Kind == "video" {
			codec := t.Codec
			switch codec {
			case "hvc1", "hev1":
				codec = "HEVC (" + codec + ")"
			}
			return &UnsupportedError{Reason: fmt.Sprintf("video track %d is %s: H.264 only (avc1/avc3)", t.ID, codec), Tracks: found}
		}
	}
	return &UnsupportedError{Reason: "no video track: H.264 video is needed (audio-only input is not supported)", Tracks: found}
}

// Probe reads the header of path (its moov box only, no sample) and lists
// its tracks. The error is an *UnsupportedError (errors.Is
// ErrUnsupported) when livecap cannot restream the file for what it holds
// (no H.264 video: HEVC, another codec, or audio only), and another error
// when the file cannot be read as MP4/MOV. Open accepts a file with AAC
// and no H.264 video (Info().Video is nil, OtherVideo names what the
// video is); Probe is the check to make before anything starts.
func Probe(path string) ([]Track, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("input: %s is not a regular file", path)
	}
	r := &Reader{ra: f, size: st.Size()}
	if err := r.readMoov(); err != nil {
		return r.found, fmt.Errorf("input %s: %w", path, err)
	}
	if err := checkTracks(r.found, r.video != nil); err != nil {
		return r.found, fmt.Errorf("input %s: %w", path, err)
	}
	return r.found, nil
}
