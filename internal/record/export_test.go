package record

import "testing"

// Helpers for the external tests of this package (package record_test),
// which drive the recorder through internal/session.
var (
	ListFiles      = listFiles
	DecodeErrors   = decodeErrors
	OnsetsFromZero = onsetsFromZero
)

// VideoKeys decodes the video track of path and lists each frame's key flag.
func VideoKeys(t testing.TB, path string) []bool {
	fr := videoFrames(t, path)
	keys := make([]bool, len(fr))
	for i, f := range fr {
		keys[i] = f.key
	}
	return keys
}
