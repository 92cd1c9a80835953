package testpeers

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// StreamReport is what ffprobe found after decoding a whole file.
type StreamReport struct {
	Codecs       map[string]string // codec_type -> codec_name
	Frames       map[string]int    // codec_type -> decoded frames
	DecodeErrors string            // whatever the decoders complained about
	// NonMonotonic counts packets whose DTS went backwards, per type.
	NonMonotonic map[string]int
	// First and last packet times per type, seconds.
	First, Last map[string]float64
}

// Probe decodes every frame of file with ffprobe and reports codecs, frame
// counts, decoder errors and timestamp order.
func Probe(t testing.TB, file string) StreamReport {
	t.Helper()
	Need(t, "ffprobe")
	r := StreamReport{Codecs: map[string]string{}, Frames: map[string]int{}, NonMonotonic: map[string]int{},
		First: map[string]float64{}, Last: map[string]float64{}}
	var stderr bytes.Buffer
	cmd := exec.Command("ffprobe", "-v", "error", "-count_frames",
		"-show_entries", "stream=codec_type,codec_name,nb_read_frames", "-of", "csv=p=0", file)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v: %s", file, err, stderr.String())
	}
	r.DecodeErrors = strings.TrimSpace(stderr.String())
	for _, l := range Trim(string(out)) {
		f := strings.Split(l, ",")
		if len(f) < 3 {
			continue
		}
		r.Codecs[f[1]] = f[0]
		n, _ := strconv.Atoi(f[2])
		r.Frames[f[1]] = n
	}
	cmd = exec.Command("ffprobe", "-v", "error", "-show_entries", "packet=codec_type,dts_time", "-of", "csv=p=0", file)
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe packets %s: %v", file, err)
	}
	last := map[string]float64{}
	for _, l := range Trim(string(out)) {
		f := strings.Split(l, ",")
		if len(f) < 2 {
			continue
		}
		ts, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			continue
		}
		typ := f[0]
		if v, ok := last[typ]; ok && ts < v {
			r.NonMonotonic[typ]++
		}
		if _, ok := r.First[typ]; !ok {
			r.First[typ] = ts
		}
		last[typ] = ts
		r.Last[typ] = ts
	}
	return r
}

// GstFrames decodes an FLV file with GStreamer (flvdemux, avdec_h264,
// avdec_aac) and counts the decoded video frames and audio buffers: a
// second reader besides FFmpeg. One pipeline per track: fakesink's
// last-message notifications, which are what is counted, coalesce when
// two sinks run at once. It fails the test when a pipeline does.
func GstFrames(t testing.TB, file string) (video, audio int) {
	t.Helper()
	Need(t, "gst-launch-1.0")
	count := func(pad, chain string) int {
		args := append([]string{"-v", "filesrc", "location=" + file, "!", "flvdemux", "name=d", pad, "!", "queue"},
			strings.Fields(chain)...)
		args = append(args, "!", "fakesink", "name=sink", "silent=false", "sync=false")
		out, err := exec.Command("gst-launch-1.0", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("gst-launch %s: %v: %s", file, err, lastLines(string(out), 10))
		}
		n := 0
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "chain") && strings.Contains(l, "(sink:sink)") {
				n++
			}
		}
		return n
	}
	return count("d.video", "! h264parse ! avdec_h264"), count("d.audio", "! aacparse ! avdec_aac")
}

func lastLines(s string, n int) string {
	l := Trim(s)
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
