//go:build darwin

package capture

/*
#include <stdlib.h>
#include "avf_darwin.h"
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// listing collects what lc_list_* report through lcItem and lcFormat.
type listing struct {
	mu     sync.Mutex
	items  []item
	ranges []FrameRange
}

type item struct {
	kind, index, a, b int
	name, uid         string
}

//export lcItem
func lcItem(ctx C.uintptr_t, kind, index, a, b C.int, name, uid *C.char) {
	l := cgo.Handle(ctx).Value().(*listing)
	it := item{kind: int(kind), index: int(index), a: int(a), b: int(b)}
	if name != nil {
		it.name = C.GoString(name)
	}
	if uid != nil {
		it.uid = C.GoString(uid)
	}
	l.mu.Lock()
	l.items = append(l.items, it)
	l.mu.Unlock()
}

//export lcFormat
func lcFormat(ctx C.uintptr_t, format, rng, w, h C.int, minFPS, maxFPS C.double,
	minV C.int64_t, minTS C.int32_t, maxV C.int64_t, maxTS C.int32_t) {
	l := cgo.Handle(ctx).Value().(*listing)
	r := FrameRange{Format: int(format), Range: int(rng), Width: int(w), Height: int(h),
		MinFPS: float64(minFPS), MaxFPS: float64(maxFPS),
		MinDuration: CMTime{Value: int64(minV), Scale: int32(minTS)},
		MaxDuration: CMTime{Value: int64(maxV), Scale: int32(maxTS)}}
	l.mu.Lock()
	l.ranges = append(l.ranges, r)
	l.mu.Unlock()
}

func list(f func(ctx C.uintptr_t)) *listing {
	l := &listing{}
	h := cgo.NewHandle(l)
	defer h.Delete()
	f(C.uintptr_t(h))
	return l
}

func devices() []item { return list(func(c C.uintptr_t) { C.lc_list_devices(c) }).items }

func formats(uid string) []FrameRange {
	cu := C.CString(uid)
	defer C.free(unsafe.Pointer(cu))
	return list(func(c C.uintptr_t) { C.lc_list_formats(cu, c) }).ranges
}

// screenAllowed asks without prompting (CGPreflightScreenCaptureAccess).
func screenAllowed() bool { return C.lc_screen_access() == 1 }

const screenPane = "System Settings > Privacy & Security > Screen & System Audio Recording (Screen Recording before macOS 15)"

// screens lists displays through ScreenCaptureKit, which prompts for the
// screen recording permission when it is undetermined: only when a screen
// is requested, or when the permission is known to be granted.
func screens() ([]item, error) {
	var cerr *C.char
	var denied C.int
	var rc C.int
	l := list(func(c C.uintptr_t) { rc = C.lc_list_screens(c, &cerr, &denied) })
	if rc != 0 {
		msg := C.GoString(cerr)
		C.free(unsafe.Pointer(cerr))
		if denied != 0 {
			return nil, fmt.Errorf("%w: %s; allow it in %s for this terminal or app, then start it again", ErrPermission, msg, screenPane)
		}
		return nil, fmt.Errorf("%w: %s", ErrDevice, msg)
	}
	return l.items, nil
}

// DevicesNotes is what `livecap devices` shows: every camera and
// microphone, the screens when screen recording is allowed, and as notes
// (not failures) what could not be listed and why. It never prompts.
func (darwinPlatform) DevicesNotes() ([]Device, []string) {
	var out []Device
	var notes []string
	seen := map[string]bool{}
	for _, d := range devices() {
		dev := Device{Index: d.index, Name: d.name, ID: d.uid}
		if d.kind == C.LC_CAMERA {
			dev.Kind = "video"
			dev.Formats = Offered(formats(d.uid))
		} else {
			dev.Kind = "audio"
		}
		// The first of each kind is what an empty --video/--audio picks.
		dev.Default = !seen[dev.Kind]
		seen[dev.Kind] = true
		out = append(out, dev)
	}
	if !screenAllowed() {
		notes = append(notes, "screens are not listed: screen recording is not allowed for this terminal or app (allow it in "+screenPane+"; --video screen asks)")
		return out, notes
	}
	scr, err := screens()
	if err != nil {
		notes = append(notes, "screens are not listed: "+err.Error())
	}
	for _, s := range scr {
		out = append(out, Device{Kind: "screen", Index: s.index, Name: fmt.Sprintf("Display %d", s.index),
			ID: fmt.Sprintf("screen:%d", s.index), Formats: []string{fmt.Sprintf("%dx%d", s.a, s.b)}})
	}
	return out, notes
}

func (p darwinPlatform) Devices() ([]Device, error) {
	out, notes := p.DevicesNotes()
	if len(out) == 0 && len(notes) > 0 {
		return nil, fmt.Errorf("%w: no camera or microphone found; %s", ErrDevice, strings.Join(notes, "; "))
	}
	return out, nil
}

// pick resolves --video/--audio (index, unique ID or name) among devices of
// one kind; empty picks the first (the system lists the built-in first).
func pick(all []item, kind int, what, want string) (item, error) {
	var devs []item
	var names []string
	for _, d := range all {
		if d.kind == kind {
			devs = append(devs, d)
			names = append(names, fmt.Sprintf("%d: %q (%s)", d.index, d.name, d.uid))
		}
	}
	if len(devs) == 0 {
		return item{}, fmt.Errorf("%w: no %s found", ErrDevice, what)
	}
	if want == "" {
		return devs[0], nil
	}
	if i, err := strconv.Atoi(want); err == nil {
		for _, d := range devs {
			if d.index == i {
				return d, nil
			}
		}
	}
	for _, d := range devs {
		if d.uid == want {
			return d, nil
		}
	}
	for _, d := range devs {
		if strings.EqualFold(d.name, want) {
			return d, nil
		}
	}
	return item{}, fmt.Errorf("%w: no %s %q (have: %s)", ErrDevice, what, want, strings.Join(names, ", "))
}

func authorize(audio bool) error {
	a := C.int(0)
	what, pane := "camera", "Camera"
	if audio {
		a, what, pane = 1, "microphone", "Microphone"
	}
	switch C.lc_authorize(a, permissionWait) {
	case C.LC_AUTH_OK:
		return nil
	case C.LC_AUTH_RESTRICTED:
		return fmt.Errorf("%w: %s access is restricted on this Mac (device management or parental controls)", ErrPermission, what)
	case C.LC_AUTH_TIMEOUT:
		return fmt.Errorf("%w: nobody answered the %s permission prompt within %d s; allow it in System Settings > Privacy & Security > %s, then start it again", ErrPermission, what, permissionWait, pane)
	}
	return fmt.Errorf("%w: %s access denied; allow it for this terminal or app in System Settings > Privacy & Security > %s, then start it again", ErrPermission, what, pane)
}
