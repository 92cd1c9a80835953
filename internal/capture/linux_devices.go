//go:build linux && cgo

package capture

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

func permissionHint(err error) string {
	if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
		return " (add your user to the \"video\" group: sudo usermod -aG video $USER, then log in again)"
	}
	return ""
}

// DevicesNotes lists cameras, microphones and screens, with one note for
// each kind that could not be listed (no pulse server, no DISPLAY).
func (linuxPlatform) DevicesNotes() ([]Device, []string) {
	var out []Device
	cams, notes := cameras()
	if len(cams) == 0 && len(notes) == 0 {
		notes = append(notes, "no V4L2 camera (no capture device under /dev/video*)")
	}
	for i, c := range cams {
		out = append(out, Device{Kind: "video", Index: i, Name: c.card, ID: c.path, API: "v4l2", Default: i == 0, Formats: c.offers()})
	}
	mics, mnotes, _ := microphones()
	notes = append(notes, mnotes...)
	def := defaultMic(mics)
	for i, m := range mics {
		name := m.desc
		if name == "" {
			name = m.name
		}
		out = append(out, Device{Kind: "audio", Index: i, Name: name, ID: m.id(), API: m.api, Default: def != nil && m == *def})
	}
	if hasPulse(mics) {
		out = append(out, Device{Kind: "audio", Index: len(mics), Name: "system audio (monitor of the default output)", ID: "system", API: "pulse"})
	}
	scr, err := screens()
	if err != nil {
		notes = append(notes, err.Error())
	}
	for _, s := range scr {
		out = append(out, Device{Kind: "screen", Index: s.n, Name: "X screen " + s.url, ID: fmt.Sprintf("screen:%d", s.n), API: "x11grab",
			Formats: []string{fmt.Sprintf("%dx%d (scaled to --size)", s.w, s.h)}})
	}
	return out, notes
}

// Devices implements Platform.
func (p linuxPlatform) Devices() ([]Device, error) {
	d, _ := p.DevicesNotes()
	return d, nil
}

// defaultMic is the microphone used when --audio is not given: the pulse
// server's default source unless it is a monitor (that is system audio,
// not a microphone), else its first real source, else ALSA's default.
func defaultMic(mics []audioDev) *audioDev {
	for i, m := range mics {
		if m.api == "pulse" && m.def && !m.monitor {
			return &mics[i]
		}
	}
	for i, m := range mics {
		if m.api == "pulse" && !m.monitor {
			return &mics[i]
		}
	}
	for _, want := range []string{"default", "sysdefault"} {
		for i, m := range mics {
			if m.api == "alsa" && (m.name == want || strings.HasPrefix(m.name, want+":")) {
				return &mics[i]
			}
		}
	}
	for i, m := range mics {
		if m.api == "alsa" {
			return &mics[i]
		}
	}
	return nil
}

// Defaults reports whether a default camera and a default microphone
// exist, and why not: what `livecap stream` without --video/--audio uses.
func (linuxPlatform) Defaults() (camera, mic bool, why []string) {
	cams, notes := cameras()
	mics, mnotes, _ := microphones()
	if len(cams) == 0 {
		why = append(why, "no V4L2 camera (/dev/video*)")
		why = append(why, notes...)
	}
	if defaultMic(mics) == nil {
		if len(mics) > 0 {
			why = append(why, "no microphone (only monitors of outputs)")
		} else {
			why = append(why, "no microphone")
		}
		why = append(why, mnotes...)
	}
	return len(cams) > 0, defaultMic(mics) != nil, why
}

func resolveCamera(want string) (v4l2Node, error) {
	if strings.HasPrefix(want, "/") {
		n, err := queryV4L2(want)
		switch {
		case errors.Is(err, syscall.ENOENT):
			return n, fmt.Errorf("%w: %s does not exist%s", ErrDevice, want, cameraList())
		case errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM):
			return n, fmt.Errorf("%w: %s: %v%s", ErrPermission, want, err, permissionHint(err))
		case err != nil:
			return n, fmt.Errorf("%w: %s is not a V4L2 device (%v)%s", ErrDevice, want, err, cameraList())
		case !n.capture:
			what := "it captures no video"
			if n.caps&0x00800000 != 0 { // V4L2_CAP_META_CAPTURE
				what = "it is a metadata node"
			} else if n.caps&0x00000002 != 0 { // V4L2_CAP_VIDEO_OUTPUT
				what = "it is an output (nothing is writing to this loopback device, or it is the writer's side)"
			}
			return n, fmt.Errorf("%w: %s is not a video capture device: %s%s", ErrDevice, n.label(), what, cameraList())
		}
		return n, nil
	}
	cams, notes := cameras()
	if len(cams) == 0 {
		extra := ""
		if len(notes) > 0 {
			extra = " (" + strings.Join(notes, "; ") + ")"
		}
		return v4l2Node{}, fmt.Errorf("%w: no camera: no V4L2 capture device under /dev/video*%s (use --video none for sound only, or --video screen)", ErrDevice, extra)
	}
	if want == "" {
		return cams[0], nil
	}
	if i, err := strconv.Atoi(want); err == nil {
		if i >= 0 && i < len(cams) {
			return cams[i], nil
		}
		return v4l2Node{}, fmt.Errorf("%w: no camera %d%s", ErrDevice, i, cameraList())
	}
	for _, c := range cams {
		if strings.EqualFold(c.card, want) || c.bus == want {
			return c, nil
		}
	}
	return v4l2Node{}, fmt.Errorf("%w: no camera %q%s", ErrDevice, want, cameraList())
}

func cameraList() string {
	cams, _ := cameras()
	if len(cams) == 0 {
		return "; no camera found"
	}
	var s []string
	for i, c := range cams {
		s = append(s, fmt.Sprintf("%d: %s", i, c.label()))
	}
	return "; cameras: " + strings.Join(s, ", ")
}

func resolveMic(want string) (audioDev, error) {
	if want == "system" {
		if _, err := pulseSources(); err != nil {
			return audioDev{}, fmt.Errorf("%w: system audio (--audio system) needs PulseAudio or PipeWire's pulse server: %v", ErrDevice, err)
		}
		return audioDev{api: "pulse", name: "@DEFAULT_MONITOR@", desc: "system audio (monitor of the default output)", monitor: true}, nil
	}
	if api, name, ok := strings.Cut(want, ":"); ok && (api == "pulse" || api == "alsa") {
		if api == "pulse" {
			srcs, err := pulseSources()
			if err != nil {
				return audioDev{}, fmt.Errorf("%w: microphone %q: %v", ErrDevice, want, err)
			}
			for _, s := range srcs {
				if s.name == name {
					return s, nil
				}
			}
			if !strings.HasPrefix(name, "@") {
				return audioDev{}, fmt.Errorf("%w: pulse has no source %q%s", ErrDevice, name, micList(srcs))
			}
		}
		return audioDev{api: api, name: name, desc: name}, nil
	}
	mics, notes, _ := microphones()
	if want == "" {
		if m := defaultMic(mics); m != nil {
			return *m, nil
		}
		why := ""
		if len(notes) > 0 {
			why = " (" + strings.Join(notes, "; ") + ")"
		}
		return audioDev{}, fmt.Errorf("%w: no microphone%s%s (use --audio none for no sound, or --audio system for what the machine plays)", ErrDevice, why, micList(mics))
	}
	if i, err := strconv.Atoi(want); err == nil {
		if i >= 0 && i < len(mics) {
			return mics[i], nil
		}
		if i == len(mics) && hasPulse(mics) {
			return resolveMic("system") // listed last by `livecap devices`
		}
		return audioDev{}, fmt.Errorf("%w: no microphone %d%s", ErrDevice, i, micList(mics))
	}
	for _, m := range mics {
		if m.name == want || strings.EqualFold(m.desc, want) {
			return m, nil
		}
	}
	return audioDev{}, fmt.Errorf("%w: no microphone %q%s", ErrDevice, want, micList(mics))
}

func hasPulse(mics []audioDev) bool {
	for _, m := range mics {
		if m.api == "pulse" {
			return true
		}
	}
	return false
}

func micList(mics []audioDev) string {
	if len(mics) == 0 {
		return ""
	}
	var s []string
	for i, m := range mics {
		s = append(s, fmt.Sprintf("%d: %s", i, m.id()))
	}
	return "; audio sources: " + strings.Join(s, ", ")
}

// screenNumber parses "screen" / "screen:N".
func screenNumber(want string) (int, error) {
	n := 0
	if rest, ok := strings.CutPrefix(want, "screen:"); ok {
		i, err := strconv.Atoi(rest)
		if err != nil || i < 0 {
			return 0, fmt.Errorf("%w: screen %q not understood (allowed: screen, screen:N with N from `livecap devices`)", ErrDevice, want)
		}
		n = i
	}
	return n, nil
}

func resolveScreen(want string) (xScreen, error) {
	n, err := screenNumber(want)
	if err != nil {
		return xScreen{}, err
	}
	scr, err := screens()
	if err != nil {
		return xScreen{}, fmt.Errorf("%w: %v", ErrDevice, err)
	}
	for _, s := range scr {
		if s.n == n {
			return s, nil
		}
	}
	return xScreen{}, fmt.Errorf("%w: screen:%d does not exist (X display %s has %d screen(s): screen:0..screen:%d)", ErrDevice, n, xDisplay(), len(scr), len(scr)-1)
}
