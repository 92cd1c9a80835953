//go:build linux && cgo

package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/livecap/livecap/internal/clock"
	"github.com/livecap/livecap/internal/media"
)

// Linux capture goes through libavdevice, FFmpeg's device layer:
//
//   - cameras: v4l2 (raw YUYV, NV12, I420, UYVY and RGB are converted to
//     I420; MJPEG is decoded first), at the device format that matches the
//     requested size and rate;
//   - microphones: pulse (PulseAudio, and PipeWire's pulse server) and alsa;
//   - screens: x11grab (X display screens, "screen" / "screen:N"), scaled
//     to the requested size; with system audio as the pulse monitor of the
//     default output ("--audio system").
//
// One clock: V4L2 buffers are stamped by the kernel on CLOCK_MONOTONIC,
// which is the clock Go's monotonic time reads on Linux; x11grab, pulse and
// alsa stamp CLOCK_REALTIME (pulse and alsa minus the latency they report,
// so the stamp is the capture instant of the packet's first sample). The
// kind is detected on each device's first packet; realtime stamps are moved
// onto the monotonic clock with the realtime-monotonic offset read at that
// packet (so a wall clock step does not move the media), and monotonic
// time onto the session with one paired reading taken at open. The session
// then runs audio through its drift compensation (clock.AudioAligner).

const (
	// openTimeout bounds opening a device (a hung X or pulse server).
	openTimeout = 10 * time.Second
	// firstFrameTimeout bounds the wait for a device's first picture or
	// audio packet: a loopback camera nobody feeds, a stalled driver.
	firstFrameTimeout = 5 * time.Second
	// listTimeout bounds the listing of pulse and alsa sources.
	listTimeout = 3 * time.Second
	// pollInterval is how long a reader sleeps when a nonblocking device
	// has nothing yet. Capture times come from the device, so this adds no
	// timing error, only delivery delay.
	pollInterval = 2 * time.Millisecond
)

type linuxPlatform struct{}

// camFormats maps the V4L2 pixel formats livecap reads to the name
// libavdevice's v4l2 input takes as input_format, in order of preference
// (raw 4:2:0 first, then packed 4:2:2, RGB, and MJPEG, which costs a
// decode).
var camFormats = []struct {
	fourcc uint32
	name   string
}{
	{fourcc('N', 'V', '1', '2'), "nv12"},
	{fourcc('Y', 'U', '1', '2'), "yuv420p"},
	{fourcc('Y', 'U', 'Y', 'V'), "yuyv422"},
	{fourcc('U', 'Y', 'V', 'Y'), "uyvy422"},
	{fourcc('R', 'G', 'B', '3'), "rgb24"},
	{fourcc('B', 'G', 'R', '3'), "bgr24"},
	{fourcc('M', 'J', 'P', 'G'), "mjpeg"},
	{fourcc('J', 'P', 'E', 'G'), "mjpeg"},
}

func fourcc(a, b, c, d byte) uint32 {
	return uint32(a) | uint32(b)<<8 | uint32(c)<<16 | uint32(d)<<24
}

func fourccString(f uint32) string {
	b := []byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)}
	return strings.TrimRight(string(b), " \x00")
}

// formatName is the libavdevice input_format for a fourcc, or "".
func formatName(f uint32) string {
	for _, c := range camFormats {
		if c.fourcc == f {
			return c.name
		}
	}
	return ""
}

func formatRank(f uint32) int {
	for i, c := range camFormats {
		if c.fourcc == f {
			return i
		}
	}
	return len(camFormats)
}

// fpsString is how a rate reads in lists: "30", "29.97", "7.5".
func fpsString(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

func (f v4l2Format) rate() float64 {
	if f.fpsNum > 0 && f.fpsDen > 0 {
		return float64(f.fpsNum) / float64(f.fpsDen)
	}
	return 0
}

// String is how a device format reads in lists and errors:
// "1280x720@30 mjpeg", "{16-1920}x{16-1080} yuyv422".
func (f v4l2Format) String() string {
	name := formatName(f.fourcc)
	if name == "" {
		name = fourccString(f.fourcc) + " (not supported)"
	}
	size := fmt.Sprintf("%dx%d", f.w, f.h)
	if f.w == 0 {
		size = fmt.Sprintf("{%d-%d}x{%d-%d}", f.wmin, f.wmax, f.hmin, f.hmax)
	}
	switch {
	case f.rate() > 0:
		size += "@" + fpsString(f.rate())
	case f.fpsMax > 0:
		size += "@" + fpsString(f.fpsMin) + "-" + fpsString(f.fpsMax)
	}
	return size + " " + name
}

// offers lists a node's formats, deduplicated, for `livecap devices` and
// for errors.
func (n v4l2Node) offers() []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range n.formats {
		s := f.String()
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// sameRate is "exactly" for frame rates: within 0.2 %, so that a camera's
// 30000/1001 answers --fps 30.
func sameRate(have float64, want int) bool {
	return math.Abs(have-float64(want)) <= 0.002*float64(want)
}

func (f v4l2Format) fits(w, h, fps int) bool {
	if f.w != 0 {
		if f.w != w || f.h != h {
			return false
		}
	} else if w < f.wmin || w > f.wmax || h < f.hmin || h > f.hmax ||
		(w-f.wmin)%max(f.wstep, 1) != 0 || (h-f.hmin)%max(f.hstep, 1) != 0 {
		return false
	}
	switch {
	case f.rate() > 0:
		return sameRate(f.rate(), fps)
	case f.fpsMax > 0:
		return float64(fps) >= f.fpsMin*0.998 && float64(fps) <= f.fpsMax*1.002
	}
	return true // the driver does not enumerate rates: ask for it
}

// chooseCamFormat picks the format of node that matches w x h @ fps
// exactly, preferring raw 4:2:0 over packed and MJPEG; on a mismatch the
// error lists what the device offers.
func chooseCamFormat(n v4l2Node, w, h, fps int) (v4l2Format, error) {
	var best *v4l2Format
	for i := range n.formats {
		f := &n.formats[i]
		if formatName(f.fourcc) == "" || !f.fits(w, h, fps) {
			continue
		}
		if best == nil || formatRank(f.fourcc) < formatRank(best.fourcc) {
			best = f
		}
	}
	if best != nil {
		return *best, nil
	}
	offers := n.offers()
	if len(offers) > 24 {
		offers = append(offers[:24], fmt.Sprintf("and %d more (livecap devices)", len(offers)-24))
	}
	if len(offers) == 0 {
		offers = []string{"no formats"}
	}
	return v4l2Format{}, fmt.Errorf("%w: camera %s has no %dx%d@%d format; it offers: %s (choose with --size and --fps)",
		ErrDevice, n.label(), w, h, fps, strings.Join(offers, ", "))
}

func (n v4l2Node) label() string {
	if n.card != "" {
		return fmt.Sprintf("%s (%q)", n.path, n.card)
	}
	return n.path
}

// videoNodes lists /dev/video* in numeric order.
func videoNodes() []string {
	paths, _ := filepath.Glob("/dev/video*")
	num := func(p string) int {
		i, err := strconv.Atoi(strings.TrimPrefix(p, "/dev/video"))
		if err != nil {
			return math.MaxInt
		}
		return i
	}
	sort.Slice(paths, func(i, j int) bool { return num(paths[i]) < num(paths[j]) })
	return paths
}

// cameras returns the V4L2 nodes that capture video (metadata and output
// nodes of the same camera are left out), with the problems met.
func cameras() ([]v4l2Node, []string) {
	var out []v4l2Node
	var notes []string
	for _, p := range videoNodes() {
		n, err := queryV4L2(p)
		switch {
		case err != nil:
			notes = append(notes, fmt.Sprintf("%s: %v%s", p, err, permissionHint(err)))
		case n.capture:
			out = append(out, n)
		}
	}
	return out, notes
}

func permissionHint(err error) string {
	if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
		return " (add your user to the \"video\" group: sudo usermod -aG video $USER, then log in again)"
	}
	return ""
}

// audioDev is one microphone (or monitor) that pulse or alsa offers.
type audioDev struct {
	api     string // "pulse" or "alsa"
	name    string // what the API opens
	desc    string
	def     bool
	monitor bool // a pulse monitor of an output (system audio), not a microphone
}

func (a audioDev) id() string { return a.api + ":" + a.name }

// withTimeout runs f on its own goroutine and gives up after d (a hung
// server never hangs livecap; the goroutine finishes on its own).
func withTimeout[T any](d time.Duration, f func() (T, error)) (T, error) {
	type res struct {
		v   T
		err error
	}
	c := make(chan res, 1)
	go func() {
		v, err := f()
		c <- res{v, err}
	}()
	select {
	case r := <-c:
		return r.v, r.err
	case <-time.After(d):
		var zero T
		return zero, fmt.Errorf("no answer within %v", d)
	}
}

// pulseSources lists the pulse server's sources; err says why there are
// none (no server).
func pulseSources() ([]audioDev, error) {
	type list struct {
		s   []lavSource
		def int
	}
	l, err := withTimeout(listTimeout, func() (list, error) {
		s, def, err := lavList("pulse")
		return list{s, def}, err
	})
	if err != nil {
		return nil, fmt.Errorf("no PulseAudio/PipeWire server answers (%v)", err)
	}
	var out []audioDev
	for i, s := range l.s {
		out = append(out, audioDev{api: "pulse", name: s.name, desc: s.desc, def: i == l.def,
			monitor: strings.HasSuffix(s.name, ".monitor")})
	}
	return out, nil
}

// alsaSources lists ALSA capture PCMs when the machine has a sound card.
func alsaSources() ([]audioDev, error) {
	cards, _ := os.ReadFile("/proc/asound/cards")
	if len(strings.TrimSpace(string(cards))) == 0 || strings.Contains(string(cards), "no soundcards") {
		return nil, errors.New("no ALSA sound card")
	}
	type list struct {
		s   []lavSource
		def int
	}
	l, err := withTimeout(listTimeout, func() (list, error) {
		s, def, err := lavList("alsa")
		return list{s, def}, err
	})
	if err != nil {
		return nil, fmt.Errorf("ALSA: %v", err)
	}
	var out []audioDev
	for i, s := range l.s {
		if s.name == "null" || s.name == "" {
			continue
		}
		out = append(out, audioDev{api: "alsa", name: s.name, desc: s.desc, def: i == l.def})
	}
	return out, nil
}

// microphones lists pulse sources, then ALSA capture devices.
func microphones() ([]audioDev, []string, error) {
	var notes []string
	p, perr := pulseSources()
	if perr != nil {
		notes = append(notes, perr.Error())
	}
	a, aerr := alsaSources()
	if aerr != nil && len(p) == 0 {
		notes = append(notes, aerr.Error())
	}
	return append(p, a...), notes, perr
}

// xDisplay returns $DISPLAY without its screen number (":0.1" -> ":0").
func xDisplay() string {
	d := os.Getenv("DISPLAY")
	if i := strings.LastIndex(d, ":"); i >= 0 {
		if j := strings.Index(d[i:], "."); j >= 0 {
			d = d[:i+j]
		}
	}
	return d
}

type xScreen struct {
	n    int
	url  string
	w, h int
}

// screens lists the screens of the X display in $DISPLAY.
func screens() ([]xScreen, error) {
	disp := xDisplay()
	if disp == "" {
		return nil, errors.New("no X display (DISPLAY is not set); screen capture needs X11 (Xorg, Xvfb, or XWayland, which shows only X11 windows)")
	}
	var out []xScreen
	for n := 0; n < 8; n++ {
		url := fmt.Sprintf("%s.%d", disp, n)
		s, err := withTimeout(listTimeout, func() (xScreen, error) {
			d, err := lavOpen("x11grab", url, nil, false)
			if err != nil {
				return xScreen{}, err
			}
			defer d.close()
			vi := d.videoInfo()
			return xScreen{n: n, url: url, w: vi.w, h: vi.h}, nil
		})
		if err != nil {
			if n == 0 {
				return nil, fmt.Errorf("X display %s: %v", disp, err)
			}
			break
		}
		out = append(out, s)
	}
	return out, nil
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

// Open implements Platform: it opens the devices, waits for the first
// picture and audio packet (bounded), and returns a source that delivers
// from then on.
func (linuxPlatform) Open(v *VideoRequest, a *AudioRequest, base clock.Clock) (Source, error) {
	if v == nil && a == nil {
		return nil, fmt.Errorf("%w: neither video nor audio requested", ErrDevice)
	}
	s := &linuxSource{
		vq:    make(chan *media.VideoFrame, 8),
		aq:    make(chan *media.AudioBuffer, 64),
		errc:  make(chan error, 2),
		stop:  make(chan struct{}),
		free:  make(chan []byte, 12),
		first: make(chan firstResult, 2),
	}
	// Monotonic time to session time, from one paired reading (Go's
	// monotonic clock is CLOCK_MONOTONIC on Linux: no drift between them).
	g1 := base.Now()
	mono, _ := hostClocks()
	g2 := base.Now()
	s.monoOff = g1 + (g2-g1)/2 - mono
	s.base = base
	t0 := time.Now()

	ok := false
	defer func() {
		if !ok {
			s.shutdown()
		}
	}()
	if v != nil {
		if err := s.openVideo(v); err != nil {
			return nil, err
		}
	}
	if a != nil {
		if err := s.openAudio(a); err != nil {
			return nil, err
		}
	}
	// Both readers run; wait for each one's first delivery.
	want := 0
	if s.hasV {
		want++
	}
	if s.hasA {
		want++
	}
	deadline := time.After(firstFrameTimeout)
	for got := 0; got < want; got++ {
		select {
		case r := <-s.first:
			if r.err != nil {
				return nil, r.err
			}
			if r.video {
				s.firstVideo = time.Since(t0)
			} else {
				s.firstAudio = time.Since(t0)
			}
		case <-deadline:
			var late []string
			if s.hasV && s.firstVideo == 0 {
				late = append(late, fmt.Sprintf("%s delivered no picture", s.vname))
			}
			if s.hasA && s.firstAudio == 0 {
				late = append(late, fmt.Sprintf("%s delivered no audio", s.aname))
			}
			hint := ""
			if s.hasV && s.firstVideo == 0 && s.vkind == "camera" {
				hint = " (is anything feeding it? a loopback device needs its writer running)"
			}
			return nil, fmt.Errorf("%w: %s within %v%s", ErrDevice, strings.Join(late, " and "), firstFrameTimeout, hint)
		}
	}
	ok = true
	return s, nil
}

type firstResult struct {
	video bool
	err   error
}

func (s *linuxSource) openVideo(v *VideoRequest) error {
	w, h, fps := v.Width, v.Height, v.FPS
	if fps <= 0 {
		fps = 30
	}
	if v.Device == "screen" || strings.HasPrefix(v.Device, "screen:") {
		// Opened directly, not listed first: an X server with no other
		// client (Xvfb without -noreset) resets when the listing's
		// connection closes, and refuses the next one meanwhile.
		n, err := screenNumber(v.Device)
		if err != nil {
			return err
		}
		disp := xDisplay()
		if disp == "" {
			_, err := screens()
			return fmt.Errorf("%w: %v", ErrDevice, err)
		}
		url := fmt.Sprintf("%s.%d", disp, n)
		d, err := openDevice(openTimeout, "x11grab", url, map[string]string{"framerate": strconv.Itoa(fps)}, false)
		if err != nil {
			if _, rerr := resolveScreen(v.Device); rerr != nil {
				return rerr // says what the display has
			}
			return fmt.Errorf("%w: X screen %s: %v", ErrDevice, url, err)
		}
		vi := d.videoInfo()
		if w <= 0 || h <= 0 {
			w, h = vi.w&^1, vi.h&^1
		}
		s.vname, s.vkind = fmt.Sprintf("X screen %s (%dx%d)", url, vi.w, vi.h), "screen"
		s.vdev = d
	} else {
		node, err := resolveCamera(v.Device)
		if err != nil {
			return err
		}
		if w <= 0 || h <= 0 {
			w, h = 1280, 720
		}
		f, err := chooseCamFormat(node, w, h, fps)
		if err != nil {
			return err
		}
		s.vname, s.vkind = "camera "+node.label(), "camera"
		s.vformat = f.String()
		opts := map[string]string{
			"input_format": formatName(f.fourcc),
			"video_size":   fmt.Sprintf("%dx%d", w, h),
			"framerate":    strconv.Itoa(fps),
		}
		d, err := openDevice(openTimeout, "v4l2", node.path, opts, true)
		if err != nil {
			var le *lavError
			switch {
			case errors.As(err, &le) && le.is(codeBusy):
				return fmt.Errorf("%w: camera %s is busy: another program is capturing from it (%v)", ErrDevice, node.label(), err)
			case errors.As(err, &le) && le.is(codeAccess):
				return fmt.Errorf("%w: camera %s: %v%s", ErrPermission, node.label(), err, permissionHint(syscall.EACCES))
			}
			return fmt.Errorf("%w: camera %s at %s: %v; it offers: %s", ErrDevice, node.label(), f, err, strings.Join(node.offers(), ", "))
		}
		vi := d.videoInfo()
		if vi.w != w || vi.h != h {
			d.close()
			return fmt.Errorf("%w: camera %s gave %dx%d when asked for %dx%d %s", ErrDevice, node.label(), vi.w, vi.h, w, h, formatName(f.fourcc))
		}
		s.vdev = d
	}
	if w%2 != 0 || h%2 != 0 {
		s.vdev.close()
		return fmt.Errorf("%w: %s: size %dx%d must be even", ErrDevice, s.vname, w, h)
	}
	if err := s.vdev.videoSetup(w, h); err != nil {
		s.vdev.close()
		return fmt.Errorf("%w: %s: %v", ErrDevice, s.vname, err)
	}
	s.w, s.h, s.fps, s.hasV = w, h, fps, true
	s.wg.Add(1)
	go s.readVideo()
	return nil
}

func (s *linuxSource) openAudio(a *AudioRequest) error {
	rate, ch := a.SampleRate, a.Channels
	if rate <= 0 {
		rate = 48000
	}
	if ch <= 0 {
		ch = 2
	}
	m, err := resolveMic(a.Device)
	if err != nil {
		return err
	}
	what := "microphone"
	if m.monitor {
		what = "audio source"
	}
	s.aname = fmt.Sprintf("%s %s", what, m.id())
	if m.desc != "" && m.desc != m.name {
		s.aname += fmt.Sprintf(" (%q)", m.desc)
	}
	opts := map[string]string{"sample_rate": strconv.Itoa(rate), "channels": strconv.Itoa(ch)}
	nonblock := false
	if m.api == "pulse" {
		opts["name"] = "livecap"
		opts["stream_name"] = "livecap capture"
		// 10 ms fragments: what the pipeline's audio buffers hold.
		opts["fragment_size"] = strconv.Itoa(rate / 100 * ch * 2)
	} else {
		nonblock = true
	}
	d, err := openDevice(openTimeout, m.api, m.name, opts, nonblock)
	if err != nil {
		var le *lavError
		if errors.As(err, &le) && le.is(codeBusy) {
			return fmt.Errorf("%w: %s is busy: another program is using it (%v)", ErrDevice, s.aname, err)
		}
		return fmt.Errorf("%w: %s: %v", ErrDevice, s.aname, err)
	}
	if err := d.audioSetup(rate, ch); err != nil {
		d.close()
		return fmt.Errorf("%w: %s: %v", ErrDevice, s.aname, err)
	}
	s.adev = d
	s.rate, s.ch, s.hasA, s.aapi = rate, ch, true, m.api
	s.wg.Add(1)
	go s.readAudio()
	return nil
}

// linuxSource is a running set of libavdevice inputs. Each device has its
// own reader goroutine (the reads block in C); Run's goroutine delivers,
// so a slow consumer costs dropped pictures (counted), never a stalled
// device.
type linuxSource struct {
	base       clock.Clock
	monoOff    time.Duration // session time = CLOCK_MONOTONIC + monoOff
	vdev, adev *lavDev
	vname      string
	vkind      string
	vformat    string
	aname      string
	aapi       string
	w, h, fps  int
	hasV       bool
	rate, ch   int
	hasA       bool

	vq       chan *media.VideoFrame
	aq       chan *media.AudioBuffer
	errc     chan error
	first    chan firstResult
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	free     chan []byte
	running  atomic.Bool

	firstVideo, firstAudio time.Duration
	skipped                atomic.Uint64 // pictures lost: unusable, or the consumer behind
	aDropped               atomic.Uint64
	lost                   atomic.Value // string: why a device stopped
	lastV, lastA           atomic.Int64 // UnixNano of the last packet read
}

// LostReason implements LossReporter: the device error that stopped a
// reader, or "".
func (s *linuxSource) LostReason() string {
	if r, _ := s.lost.Load().(string); r != "" {
		return r
	}
	// No error, no data: a read that waits (a suspended pulse source, a
	// stalled server or driver).
	now := time.Now().UnixNano()
	var quiet []string
	if s.hasV && now-s.lastV.Load() > int64(2*time.Second) {
		quiet = append(quiet, s.vname+" delivers nothing")
	}
	if s.hasA && now-s.lastA.Load() > int64(2*time.Second) {
		hint := ""
		if s.aapi == "pulse" {
			hint = " (its sink or source suspended, or the sound server stalled)"
		}
		quiet = append(quiet, s.aname+" delivers nothing"+hint)
	}
	return strings.Join(quiet, "; ")
}

// Close stops the readers and closes the devices of a source that was
// opened and will not be run (Run closes them itself when it returns).
func (s *linuxSource) Close() error {
	s.shutdown()
	return nil
}

func (s *linuxSource) Video() (int, int, int, bool) { return s.w, s.h, s.fps, s.hasV }
func (s *linuxSource) Audio() (int, int, bool)      { return s.rate, s.ch, s.hasA }

// Skipped reports pictures lost on the way: unusable ones (a short V4L2
// buffer, a corrupt JPEG) and ones dropped because the consumer fell
// behind. A longer interval between pictures is not counted: a camera
// lowers its rate in low light, and x11grab delivers a late picture rather
// than none.
func (s *linuxSource) Skipped() uint64 { return s.skipped.Load() }

var (
	_ SkipCounter  = (*linuxSource)(nil)
	_ LossReporter = (*linuxSource)(nil)
	_ io.Closer    = (*linuxSource)(nil)
)

// Dropped reports video frames and audio buffers dropped because the
// consumer fell behind (video counts are included in Skipped).
func (s *linuxSource) Dropped() (video, audio uint64) { return s.skipped.Load(), s.aDropped.Load() }

// SourceNames names the devices, for the started event and the banner.
func (s *linuxSource) SourceNames() (video, audio string) {
	if s.hasV {
		video = s.vname
		if s.vformat != "" {
			video += " " + s.vformat
		}
	}
	if s.hasA {
		audio = s.aname
	}
	return video, audio
}

// FirstFrame reports how long after Open began the first picture and the
// first audio packet arrived.
func (s *linuxSource) FirstFrame() (video, audio time.Duration) { return s.firstVideo, s.firstAudio }

// clockKind of a device's timestamps, detected on its first packet.
type clockKind int

const (
	clockUnknown clockKind = iota
	clockMono
	clockReal
	clockArrival // neither: stamp on arrival
)

// toSession maps a device timestamp onto the session timeline.
func (s *linuxSource) toSession(pts time.Duration, kind *clockKind) time.Duration {
	mono, real := hostClocks()
	near := func(ts, now time.Duration) bool { return ts > now-10*time.Second && ts < now+time.Second }
	if *kind == clockUnknown {
		switch {
		case pts != 0 && near(pts, real):
			*kind = clockReal
		case pts != 0 && near(pts, mono):
			*kind = clockMono
		default:
			*kind = clockArrival
		}
	}
	switch *kind {
	case clockMono:
		return pts + s.monoOff
	case clockReal:
		return pts - (real - mono) + s.monoOff
	}
	return mono + s.monoOff
}

func (s *linuxSource) report(first *bool, video bool, err error) {
	if !*first {
		*first = true
		if err != nil {
			err = fmt.Errorf("%w: %v", ErrDevice, err)
		}
		s.first <- firstResult{video: video, err: err}
		return
	}
	// After the first frame, a device error means the source is lost
	// (a camera unplugged: ENODEV; the sound server gone).
	s.lost.Store(err.Error())
	err = fmt.Errorf("%w: %v", ErrSourceLost, err)
	select {
	case s.errc <- err:
	default:
	}
}

func (s *linuxSource) stopped() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

func (s *linuxSource) readVideo() {
	defer s.wg.Done()
	defer s.vdev.close()
	size := s.w * s.h * 3 / 2
	last := time.Duration(-1)
	var kind clockKind
	first := false
	var buf []byte
	for !s.stopped() {
		if buf == nil {
			select {
			case buf = <-s.free:
			default:
				buf = make([]byte, size)
			}
		}
		pts, err := s.vdev.readVideo(buf)
		switch {
		case err == errAgain:
			time.Sleep(pollInterval)
			continue
		case err == errBadFrame:
			if first {
				s.skipped.Add(1)
			}
			continue
		case err != nil:
			s.report(&first, true, fmt.Errorf("%s: %v", s.vname, err))
			return
		}
		s.lastV.Store(time.Now().UnixNano())
		t := s.toSession(pts, &kind)
		if t <= last {
			if first {
				s.skipped.Add(1) // a repeated or backwards stamp: the encoder needs rising PTS
			}
			continue
		}
		last = t
		if !first {
			s.report(&first, true, nil)
		}
		if !s.running.Load() {
			continue // before Run: the session has not started
		}
		f := &media.VideoFrame{PTS: t, Width: s.w, Height: s.h, Format: media.I420}
		ys, cs := s.w*s.h, (s.w/2)*(s.h/2)
		f.Planes = [3][]byte{buf[:ys], buf[ys : ys+cs], buf[ys+cs : ys+2*cs]}
		f.Strides = [3]int{s.w, s.w / 2, s.w / 2}
		b := buf
		var once sync.Once
		f.Release = func() {
			once.Do(func() {
				select {
				case s.free <- b:
				default:
				}
			})
		}
		buf = nil
		select {
		case s.vq <- f:
		default:
			s.skipped.Add(1)
			f.Release()
		}
	}
}

func (s *linuxSource) readAudio() {
	defer s.wg.Done()
	defer s.adev.close()
	buf := make([]float32, s.rate*s.ch) // one second: far more than a packet
	var kind clockKind
	first := false
	var settle audioSettle
	start := time.Now()
	for !s.stopped() {
		n, pts, err := s.adev.readAudio(buf, s.ch)
		switch {
		case err == errAgain:
			time.Sleep(pollInterval)
			continue
		case err != nil:
			if s.aapi == "pulse" {
				err = fmt.Errorf("the PulseAudio/PipeWire server stopped the stream or went away (%v)", err)
			}
			s.report(&first, false, fmt.Errorf("%s: %v", s.aname, err))
			return
		case n == 0:
			continue
		}
		s.lastA.Store(time.Now().UnixNano())
		t := s.toSession(pts, &kind)
		if !first {
			if !settle.add(t-s.base.Now(), time.Since(start)) {
				continue
			}
			s.report(&first, false, nil)
		}
		if !s.running.Load() {
			continue
		}
		b := &media.AudioBuffer{PTS: t, SampleRate: s.rate, Channels: s.ch, Samples: append([]float32(nil), buf[:n*s.ch]...)}
		select {
		case s.aq <- b:
		default:
			s.aDropped.Add(1)
		}
	}
}

// audioSettle holds the first audio back until the device's stamps make
// sense. A sound server reports the latency of a stream that has just
// started from the state of its source before the stream asked for low
// latency: a pulse null sink that was idle renders in 2 s blocks, so its
// monitor's first packets come 1.9 s late, stamped 600 ms in the past, and
// FFmpeg's time filter then takes a second to slew (overshooting into the
// future). Audio is used once the stamps of settleCount packets in a row
// lie in the past by less than maxLatency and agree with each other within
// settleSpread; after settleMax it is used whatever the stamps say.
type audioSettle struct {
	lags []time.Duration
}

const (
	settleCount  = 20
	settleSpread = 20 * time.Millisecond
	maxLatency   = 250 * time.Millisecond
	settleMax    = 4 * time.Second
)

// add takes one packet's stamp relative to its arrival (negative: in the
// past) and reports whether audio can be used from this packet on.
func (a *audioSettle) add(lag, since time.Duration) bool {
	if since > settleMax {
		return true
	}
	if lag > 5*time.Millisecond || lag < -maxLatency {
		a.lags = a.lags[:0]
		return false
	}
	a.lags = append(a.lags, lag)
	if len(a.lags) > settleCount {
		a.lags = a.lags[1:]
	}
	if len(a.lags) < settleCount {
		return false
	}
	lo, hi := a.lags[0], a.lags[0]
	for _, l := range a.lags {
		lo, hi = min(lo, l), max(hi, l)
	}
	return hi-lo <= settleSpread
}

// Run delivers media until ctx is done or a device fails.
func (s *linuxSource) Run(ctx context.Context, v VideoFunc, a AudioFunc) error {
	s.running.Store(true)
	defer s.shutdown()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-s.errc:
			return err
		case f := <-s.vq:
			if v != nil {
				v(f)
			} else {
				f.Release()
			}
		case b := <-s.aq:
			if a != nil {
				a(b)
			}
		}
	}
}

// shutdown stops the readers and waits for them to close their devices
// (bounded, 1 s: a read stuck in a driver or a silent sound server never
// holds up the stop; that reader closes its device when its read returns).
func (s *linuxSource) shutdown() {
	s.stopOnce.Do(func() {
		s.running.Store(false)
		close(s.stop)
		done := make(chan struct{})
		go func() {
			s.wg.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(time.Second):
		}
		for {
			select {
			case f := <-s.vq:
				f.Release()
			case <-s.aq:
			default:
				return
			}
		}
	})
}
