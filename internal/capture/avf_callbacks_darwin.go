//go:build darwin

package capture

/*
#include <stdlib.h>
#include "avf_darwin.h"
*/
import "C"

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/livecap/livecap/internal/media"
)

// sources maps the handle given to C to its source. A lookup after close
// finds nothing (unlike a deleted cgo.Handle, which panics), so a late
// system callback cannot crash the process.
var (
	sources    sync.Map // uintptr -> *source
	nextSource atomic.Uintptr
)

func lookup(h C.uintptr_t) *source {
	v, ok := sources.Load(uintptr(h))
	if !ok {
		return nil
	}
	return v.(*source)
}

//export lcVideo
func lcVideo(h C.uintptr_t, pb unsafe.Pointer, w, hgt C.int, hostNS C.int64_t) {
	s := lookup(h)
	if s == nil || !s.running.Load() {
		C.lc_pixbuf_release(pb)
		return
	}
	f := nativeFrame(pb, time.Duration(hostNS)+s.offset, int(w), int(hgt))
	select {
	case s.vq <- f:
	default:
		s.vDropped.Add(1)
		f.Release()
	}
}

// nativeFrame wraps a retained CVPixelBuffer; Release drops that reference
// once.
func nativeFrame(pb unsafe.Pointer, pts time.Duration, w, h int) *media.VideoFrame {
	f := &media.VideoFrame{PTS: pts, Width: w, Height: h, Format: media.Native, Native: pb}
	var once sync.Once
	f.Release = func() { once.Do(func() { C.lc_pixbuf_release(pb) }) }
	return f
}

//export lcAudio
func lcAudio(h C.uintptr_t, samples *C.float, frames, channels, rate C.int, hostNS C.int64_t) {
	s := lookup(h)
	if s == nil || !s.running.Load() || frames <= 0 || channels <= 0 {
		return
	}
	n := int(frames) * int(channels)
	b := &media.AudioBuffer{
		PTS:        time.Duration(hostNS) + s.offset,
		SampleRate: int(rate),
		Channels:   int(channels),
		Samples:    append([]float32(nil), unsafe.Slice((*float32)(unsafe.Pointer(samples)), n)...),
	}
	select {
	case s.aq <- b:
	default:
		s.aDropped.Add(1)
	}
}

//export lcDropped
func lcDropped(h C.uintptr_t) {
	if s := lookup(h); s != nil {
		s.lateDrops.Add(1)
	}
}

//export lcLost
func lcLost(h C.uintptr_t, reason C.int, msg *C.char) {
	s := lookup(h)
	if s == nil {
		return
	}
	m := C.GoString(msg)
	s.lostMu.Lock()
	if s.lost == "" {
		s.lost = m
	}
	s.lostMu.Unlock()
	select {
	case s.lostC <- struct{}{}:
	default:
	}
}

// LostReason implements LossReporter: what the system said when the
// camera was disconnected, the capture session failed or screen capture
// was stopped.
func (s *source) LostReason() string {
	s.lostMu.Lock()
	defer s.lostMu.Unlock()
	return s.lost
}
