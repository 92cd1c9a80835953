// Package vt is the darwin encoder backend: H.264 through one
// VideoToolbox compression session and AAC-LC through an AudioToolbox
// AudioConverter, registered with package encoder as "videotoolbox".
//
// The cgo code builds only on darwin; the helpers in this file's siblings
// without a build tag (the magic-cookie parser and the AAC timestamp rule)
// are plain Go and are tested on every platform.
package vt
