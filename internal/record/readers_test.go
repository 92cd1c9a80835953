package record

import (
	"bytes"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The readers every file is checked with besides FFmpeg: GStreamer
// (qtdemux, avdec_h264, avdec_aac) and mediainfo. Each helper skips the
// test when the tool is missing (scripts/setup.sh installs them).

func needTool(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Skipf("%s not installed", n)
		}
	}
}

// gstPad is what GStreamer's qtdemux hands downstream on one pad.
type gstPad struct {
	buffers  int
	segments []gstSegment
	pts      []float64 // seconds, buffer PTS as qtdemux stamps them (media time)
	dur      []float64
}

type gstSegment struct{ start, stop, time float64 }

var (
	reChain   = regexp.MustCompile(`chain   \*+ \(fakesink\d:sink\) \(\d+ bytes, dts: [^,]*, pts: ([0-9:.]+|none), duration: ([0-9:.]+|none)`)
	reSegment = regexp.MustCompile(`start=\(guint64\)(\d+), stop=\(guint64\)(\d+), time=\(guint64\)(\d+)`)
)

func gstClock(s string) float64 {
	var h, m int
	var sec float64
	if _, err := fmt.Sscanf(s, "%d:%d:%f", &h, &m, &sec); err != nil {
		return -1
	}
	return float64(h*3600+m*60) + sec
}

// gstDemux runs qtdemux on path and reports one pad ("video_0" or
// "audio_0") as fakesink sees it, with parse (h264parse/aacparse) and
// decode (avdec_*) elements in front when decode is set.
func gstDemux(t testing.TB, path, pad string, decode bool) gstPad {
	t.Helper()
	needTool(t, "gst-launch-1.0")
	chain := []string{}
	if decode {
		if strings.HasPrefix(pad, "video") {
			chain = []string{"h264parse", "!", "avdec_h264", "!"}
		} else {
			chain = []string{"aacparse", "!", "avdec_aac", "!"}
		}
	}
	args := append([]string{"-v", "filesrc", "location=" + path, "!", "qtdemux", "name=d", "d." + pad, "!"}, chain...)
	args = append(args, "fakesink", "silent=false")
	out, err := exec.Command("gst-launch-1.0", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("gst-launch-1.0 on %s: %v\n%s", path, err, tailBytes(out, 2000))
	}
	var p gstPad
	for _, l := range strings.Split(string(out), "\n") {
		if !strings.Contains(l, "fakesink0") {
			continue
		}
		if m := reChain.FindStringSubmatch(l); m != nil {
			p.buffers++
			p.pts = append(p.pts, gstClock(m[1]))
			p.dur = append(p.dur, gstClock(m[2]))
			continue
		}
		if strings.Contains(l, "type: segment") {
			if m := reSegment.FindStringSubmatch(l); m != nil {
				a, _ := strconv.ParseFloat(m[1], 64)
				b, _ := strconv.ParseFloat(m[2], 64)
				c, _ := strconv.ParseFloat(m[3], 64)
				p.segments = append(p.segments, gstSegment{a / 1e9, b / 1e9, c / 1e9})
			}
		}
	}
	return p
}

// gstFrames decodes the video with GStreamer and returns the MD5 of each
// picture as I420, in presentation order.
func gstFrames(t testing.TB, path string, width, height int) [][md5.Size]byte {
	t.Helper()
	needTool(t, "gst-launch-1.0")
	cmd := exec.Command("gst-launch-1.0", "-q", "filesrc", "location="+path, "!", "qtdemux", "name=d", "d.video_0", "!",
		"h264parse", "!", "avdec_h264", "!", "videoconvert", "!", "video/x-raw,format=I420", "!", "fdsink", "fd=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("GStreamer decode of %s: %v\n%s", path, err, stderr.String())
	}
	return frameHashes(out, width*height*3/2)
}

// ffFrames decodes the video with FFmpeg and returns the same hashes.
func ffFrames(t testing.TB, path string, extra ...string) [][md5.Size]byte {
	t.Helper()
	args := append([]string{"-v", "error"}, extra...)
	// passthrough: one picture per decoded frame, none duplicated to
	// fill the timeline up to the audio's earlier start.
	args = append(args, "-i", path, "-map", "0:v:0", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-")
	out := run(t, "ffmpeg", args...)
	w, h := 0, 0
	probeOut := run(t, "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", path)
	fmt.Sscanf(strings.TrimSpace(string(probeOut)), "%d,%d", &w, &h)
	return frameHashes(out, w*h*3/2)
}

func frameHashes(raw []byte, size int) [][md5.Size]byte {
	if size <= 0 {
		return nil
	}
	var h [][md5.Size]byte
	for len(raw) >= size {
		h = append(h, md5.Sum(raw[:size]))
		raw = raw[size:]
	}
	return h
}

// mediaInfo is the part of mediainfo's JSON the tests read.
type mediaInfo struct {
	General, Video, Audio map[string]string
}

func readMediaInfo(t testing.TB, path string) mediaInfo {
	t.Helper()
	needTool(t, "mediainfo")
	out := run(t, "mediainfo", "--Output=JSON", path)
	var doc struct {
		Media struct {
			Track []map[string]any `json:"track"`
		} `json:"media"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("mediainfo %s: %v", path, err)
	}
	var mi mediaInfo
	for _, tr := range doc.Media.Track {
		m := map[string]string{}
		for k, v := range tr {
			if s, ok := v.(string); ok {
				m[k] = s
			}
		}
		switch m["@type"] {
		case "General":
			mi.General = m
		case "Video":
			mi.Video = m
		case "Audio":
			mi.Audio = m
		}
	}
	return mi
}

func tailBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
