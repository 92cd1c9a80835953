// Package e2e runs the livecap binary the way users and scripts do, against
// real peers on 127.0.0.1, and reads back every file and stream with
// ffprobe/ffmpeg.
package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "livecap-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "livecap")
	build := exec.Command("go", "build", "-o", binary, "../cmd/livecap")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cannot build livecap:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result of one livecap run.
type result struct {
	code           int
	stdout, stderr string
}

// livecap runs the binary with args to its end, bounded by timeout.
func livecap(t *testing.T, timeout time.Duration, env []string, args ...string) result {
	t.Helper()
	r := startRun(t, env, args...)
	code := r.wait(timeout)
	return result{code: code, stdout: r.out.String(), stderr: r.stderr()}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// segments lists the recorded files in dir, sorted by name.
func segments(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if n := e.Name(); strings.HasSuffix(n, ".mp4") || strings.HasSuffix(n, ".mov") {
			files = append(files, filepath.Join(dir, n))
		}
	}
	sort.Strings(files)
	return files
}

type probeStream struct {
	CodecType    string `json:"codec_type"`
	CodecName    string `json:"codec_name"`
	Profile      string `json:"profile"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	SampleRate   string `json:"sample_rate"`
	Channels     int    `json:"channels"`
	NbReadFrames string `json:"nb_read_frames"`
	StartTime    string `json:"start_time"`
	Duration     string `json:"duration"`
}

type probeResult struct {
	Streams []probeStream `json:"streams"`
	Format  struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
}

func (p probeResult) stream(kind string) *probeStream {
	for i := range p.Streams {
		if p.Streams[i].CodecType == kind {
			return &p.Streams[i]
		}
	}
	return nil
}

func (s *probeStream) frames() int {
	n, _ := strconv.Atoi(s.NbReadFrames)
	return n
}

func (s *probeStream) seconds(v string) float64 {
	f, _ := strconv.ParseFloat(v, 64)
	return f
}

// probe counts frames of every stream with ffprobe.
func probe(t *testing.T, path string) probeResult {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames",
		"-show_entries", "stream=codec_type,codec_name,profile,width,height,sample_rate,channels,nb_read_frames,start_time,duration:format=format_name,duration",
		"-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var r probeResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// videoFrames lists pts and key flags of every video frame.
type frameInfo struct {
	PTS float64
	Key bool
}

func videoFrames(t *testing.T, path string) []frameInfo {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe packets %s: %v", path, err)
	}
	var fs []frameInfo
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, ",")
		if len(parts) < 2 {
			continue
		}
		pts, _ := strconv.ParseFloat(parts[0], 64)
		fs = append(fs, frameInfo{PTS: pts, Key: strings.Contains(parts[1], "K")})
	}
	return fs
}

// decodeErrors fully decodes a file and returns what ffmpeg reported.
func decodeErrors(t *testing.T, path string) string {
	t.Helper()
	out, _ := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	return strings.TrimSpace(string(out))
}
