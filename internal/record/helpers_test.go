package record

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/h264"
	"github.com/livecap/livecap/internal/media"
)

// stream is an encoded H.264 + AAC stream made by ffmpeg, cut into the
// packets our encoders would hand to the fan-out.
type stream struct {
	info    media.StreamInfo
	packets []*media.Packet // in PTS order, audio and video interleaved
}

type streamSpec struct {
	secs     int
	fps      int
	keyint   int // frames between IDRs
	rate     int
	channels int
}

var streamCache sync.Map

// makeStream encodes spec with ffmpeg (libx264, no B-frames, an AUD per
// access unit; FFmpeg's AAC in ADTS). The audio is a 1 kHz beep of 50 ms at
// every second + 0.5 s, to find the alignment in the files.
func makeStream(t testing.TB, spec streamSpec) *stream {
	t.Helper()
	if v, ok := streamCache.Load(spec); ok {
		return v.(*stream)
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	dir := t.TempDir()
	vf, af := filepath.Join(dir, "v.h264"), filepath.Join(dir, "a.aac")
	run(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i",
		fmt.Sprintf("testsrc2=size=320x180:rate=%d:duration=%d", spec.fps, spec.secs),
		"-c:v", "libx264", "-pix_fmt", "yuv420p", "-bf", "0", "-g", strconv.Itoa(spec.keyint),
		"-keyint_min", strconv.Itoa(spec.keyint), "-sc_threshold", "0", "-b:v", "400k",
		"-bsf:v", "h264_metadata=aud=insert", "-f", "h264", vf)
	run(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i",
		fmt.Sprintf("aevalsrc='if(between(mod(t,1),0.5,0.55),0.8*sin(2*PI*1000*t),0)':s=%d:d=%d", spec.rate, spec.secs),
		"-ac", strconv.Itoa(spec.channels), "-c:a", "aac", "-b:a", "96k", "-f", "adts", af)
	vb, err := os.ReadFile(vf)
	if err != nil {
		t.Fatal(err)
	}
	ab, err := os.ReadFile(af)
	if err != nil {
		t.Fatal(err)
	}
	s := &stream{}
	vc := &media.VideoConfig{Width: 320, Height: 180, FPS: spec.fps, Bitrate: 400000}
	var vp []*media.Packet
	var au []byte
	key := false
	flushAU := func() {
		if len(au) == 0 {
			return
		}
		i := len(vp)
		vp = append(vp, &media.Packet{Kind: media.Video, PTS: frameTime(i, spec.fps), DTS: frameTime(i, spec.fps),
			Duration: frameTime(i+1, spec.fps) - frameTime(i, spec.fps), Key: key, Data: au, Seq: uint64(i)})
		au, key = nil, false
	}
	for nal, rest := h264.NextNAL(vb); nal != nil; nal, rest = h264.NextNAL(rest) {
		switch nal[0] & 0x1f {
		case 9:
			flushAU()
		case 7:
			if vc.SPS == nil {
				vc.SPS = nal
			}
		case 8:
			if vc.PPS == nil {
				vc.PPS = nal
			}
		default:
			if nal[0]&0x1f == 5 {
				key = true
			}
			au = binary.BigEndian.AppendUint32(au, uint32(len(nal)))
			au = append(au, nal...)
		}
	}
	flushAU()
	ac := &media.AudioConfig{SampleRate: spec.rate, Channels: spec.channels, Priming: 1024, FrameSize: 1024, Bitrate: 96000}
	var ap []*media.Packet
	for len(ab) >= 7 {
		if ab[0] != 0xff || ab[1]&0xf0 != 0xf0 {
			t.Fatal("bad ADTS sync")
		}
		hl := 7
		if ab[1]&1 == 0 {
			hl = 9
		}
		flen := int(ab[3]&3)<<11 | int(ab[4])<<3 | int(ab[5])>>5
		if ac.ASC == nil {
			obj := ab[2]>>6 + 1
			sri := (ab[2] >> 2) & 0xf
			ch := (ab[2]&1)<<2 | ab[3]>>6
			ac.ASC = []byte{obj<<3 | sri>>1, sri<<7 | ch<<3}
		}
		i := len(ap)
		// FFmpeg's AAC encoder primes with 1024 samples: the first frame's
		// PTS is -1024 samples, as the media.Packet contract says.
		pts := sampleTime(int64(i)*1024-1024, spec.rate)
		ap = append(ap, &media.Packet{Kind: media.Audio, PTS: pts, DTS: pts,
			Duration: sampleTime(int64(i)*1024, spec.rate) - pts, Key: true, Data: ab[hl:flen], Seq: uint64(i)})
		ab = ab[flen:]
	}
	s.info = media.StreamInfo{Video: vc, Audio: ac}
	s.packets = append(vp, ap...)
	// Interleave as an encoder pair would: by PTS, audio a little behind.
	sort.SliceStable(s.packets, func(i, j int) bool { return arrival(s.packets[i]) < arrival(s.packets[j]) })
	streamCache.Store(spec, s)
	return s
}

func arrival(p *media.Packet) time.Duration {
	if p.Kind == media.Audio {
		return p.PTS + p.Duration + 15*time.Millisecond
	}
	return p.PTS
}

func frameTime(i, fps int) time.Duration {
	return time.Duration(int64(i) * int64(time.Second) / int64(fps))
}

func sampleTime(n int64, rate int) time.Duration {
	// Round to nearest, as an encoder stamping sample counts would.
	return time.Duration(math.Round(float64(n) * float64(time.Second) / float64(rate)))
}

func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// keyReqs records keyframe requests.
type keyReqs struct {
	mu  sync.Mutex
	ats []time.Duration
}

func (k *keyReqs) RequestKeyframe(at time.Duration) {
	k.mu.Lock()
	k.ats = append(k.ats, at)
	k.mu.Unlock()
}

type probeOut struct {
	Streams []struct {
		CodecType    string `json:"codec_type"`
		CodecName    string `json:"codec_name"`
		StartTime    string `json:"start_time"`
		Duration     string `json:"duration"`
		NbReadFrames string `json:"nb_read_frames"`
		Channels     int    `json:"channels"`
	} `json:"streams"`
	Format struct {
		FormatName string            `json:"format_name"`
		Duration   string            `json:"duration"`
		Tags       map[string]string `json:"tags"`
	} `json:"format"`
}

func probe(t testing.TB, path string) probeOut {
	t.Helper()
	out := run(t, "ffprobe", "-v", "error", "-count_frames", "-show_entries",
		"stream=codec_type,codec_name,start_time,duration,nb_read_frames,channels:format=format_name,duration:format_tags=major_brand",
		"-of", "json", path)
	var p probeOut
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	return p
}

func (p probeOut) stream(kind string) (codec string, start, dur float64, frames int) {
	for _, s := range p.Streams {
		if s.CodecType == kind {
			start, _ = strconv.ParseFloat(s.StartTime, 64)
			dur, _ = strconv.ParseFloat(s.Duration, 64)
			frames, _ = strconv.Atoi(s.NbReadFrames)
			return s.CodecName, start, dur, frames
		}
	}
	return "", 0, 0, 0
}

type frameInfo struct {
	key bool
	pts float64
}

// videoFrames decodes the video track and lists its frames.
func videoFrames(t testing.TB, path string) []frameInfo {
	t.Helper()
	out := run(t, "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=key_frame,pts_time", "-of", "csv=p=0", path)
	var fr []frameInfo
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l == "" {
			continue
		}
		f := strings.Split(l, ",")
		pts, _ := strconv.ParseFloat(f[1], 64)
		fr = append(fr, frameInfo{key: f[0] == "1", pts: pts})
	}
	return fr
}

// decodeErrors runs a full decode and returns what ffmpeg complained about.
func decodeErrors(t testing.TB, path string) string {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-v", "error", "-i", path, "-f", "null", "-")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// onsets finds the starts of beeps (|x| > 0.2 after 20 ms of quiet).
func onsets(pcm []float32, rate int) []int {
	var on []int
	quiet := rate / 50
	last := -quiet - 1
	for i, x := range pcm {
		if x > 0.2 || x < -0.2 {
			if i-last > quiet {
				on = append(on, i)
			}
			last = i
		}
	}
	return on
}

// audioPCMFromZero decodes the audio on the file's presentation clock:
// padded with silence from time 0 (as a player leaves it silent before the
// first sample) with aresample's first_pts, mono float32 at 48 kHz.
func audioPCMFromZero(t testing.TB, path string) []float32 {
	t.Helper()
	out := run(t, "ffmpeg", "-v", "error", "-copyts", "-i", path, "-map", "0:a", "-af", "aresample=first_pts=0,atrim=start=0", "-ac", "1", "-f", "f32le", "-")
	pcm := make([]float32, len(out)/4)
	for i := range pcm {
		pcm[i] = math.Float32frombits(binary.LittleEndian.Uint32(out[4*i:]))
	}
	return pcm
}

// onsetsFromZero finds the beep onsets on the file's presentation clock.
func onsetsFromZero(t testing.TB, path string) []float64 {
	t.Helper()
	var s []float64
	for _, o := range onsets(audioPCMFromZero(t, path), 48000) {
		s = append(s, float64(o)/48000)
	}
	return s
}
