//go:build linux && cgo

package capture

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

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
