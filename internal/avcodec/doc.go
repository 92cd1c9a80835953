// Package avcodec is the Linux encoder backend: a thin cgo wrapper over
// FFmpeg's libavcodec that encodes H.264 through libx264 and AAC-LC through
// FFmpeg's native "aac" encoder. It registers itself with package encoder as
// "libavcodec" from init, so the pipeline only needs a blank import:
//
//	import _ "github.com/livecap/livecap/internal/avcodec"
//
// The implementation is built only on linux with cgo (pkg-config libavcodec
// libavutil, FFmpeg 5.1 or newer). Elsewhere the package is empty: darwin
// uses the VideoToolbox backend in internal/vt.
package avcodec
