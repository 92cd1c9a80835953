//go:build darwin

package vt

// These run only on a Mac (the macOS workflow, macos-14): 2 s of livecap's
// test pattern through VideoToolbox and AudioToolbox, checked the way a
// user would: the parameter sets and the AudioSpecificConfig say what was
// asked for, and ffprobe decodes every frame of what was written.

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/capture/testsrc"
	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/media"
)

func needFFprobe(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Skip("ffprobe not installed (brew install ffmpeg): the encoded files cannot be decoded to check them")
	}
	return p
}

type collect struct {
	mu  sync.Mutex
	pks []*media.Packet
}

func (c *collect) out(p *media.Packet) {
	c.mu.Lock()
	c.pks = append(c.pks, p)
	c.mu.Unlock()
}

// ffprobeCount decodes a file and returns the named stream entries.
func ffprobe(t *testing.T, bin, format, path string) map[string]string {
	t.Helper()
	out, err := exec.Command(bin, "-v", "error", "-f", format, "-count_frames", "-select_streams", "0",
		"-show_entries", "stream=codec_name,profile,width,height,sample_rate,channels,nb_read_frames",
		"-of", "default=nw=1", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok {
			m[k] = v
		}
	}
	return m
}

func TestVideoToolboxEncodesTestPattern(t *testing.T) {
	bin := needFFprobe(t)
	const w, h, fps = 640, 360, 30
	var c collect
	enc, err := backend{}.OpenVideo(encoder.VideoSettings{Width: w, Height: h, FPS: fps, Bitrate: 1_500_000,
		KeyInterval: time.Second, Realtime: false}, c.out)
	if err != nil {
		t.Fatalf("open VideoToolbox: %v", err)
	}
	defer enc.Close()
	if ws := enc.(*videoEnc).Warnings(); len(ws) > 0 {
		t.Logf("encoder warnings: %q", ws)
	}
	src, err := testsrc.New(testsrc.Options{Width: w, Height: h, FPS: fps, Video: true, Duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	frames := 0
	var encErr error
	err = src.Run(context.Background(), func(f *media.VideoFrame) {
		defer f.Release()
		frames++
		if e := enc.Encode(f); e != nil && encErr == nil {
			encErr = e
		}
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if encErr != nil {
		t.Fatalf("encode: %v", encErr)
	}
	if err := enc.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	cfg := enc.Config()
	if len(cfg.SPS) < 4 || cfg.SPS[0]&0x1f != 7 {
		t.Fatalf("SPS %x is not an SPS NAL unit", cfg.SPS)
	}
	if len(cfg.PPS) < 1 || cfg.PPS[0]&0x1f != 8 {
		t.Fatalf("PPS %x is not a PPS NAL unit", cfg.PPS)
	}
	if profile := cfg.SPS[1]; profile != 100 {
		t.Errorf("SPS profile_idc %d, want 100 (High)", profile)
	}
	c.mu.Lock()
	pks := c.pks
	c.mu.Unlock()
	dropped := enc.(*videoEnc).Skipped()
	if frames != 2*fps || len(pks)+int(dropped) != frames {
		t.Fatalf("%d frames in, %d packets out, %d dropped", frames, len(pks), dropped)
	}
	if !pks[0].Key {
		t.Error("the first packet is not a keyframe")
	}
	keys := 0
	for i, p := range pks {
		if p.Key {
			keys++
		}
		if i > 0 && p.DTS <= pks[i-1].DTS {
			t.Fatalf("packet %d DTS %v after %v", i, p.DTS, pks[i-1].DTS)
		}
	}
	if keys < 2 {
		t.Errorf("%d keyframes in 2 s with a 1 s key interval", keys)
	}
	// Annex-B: parameter sets, then each AU's 4-byte lengths as start codes.
	var b bytes.Buffer
	sc := []byte{0, 0, 0, 1}
	for _, p := range pks {
		if p.Key {
			b.Write(sc)
			b.Write(cfg.SPS)
			b.Write(sc)
			b.Write(cfg.PPS)
		}
		for d := p.Data; len(d) >= 4; {
			n := int(binary.BigEndian.Uint32(d))
			if n <= 0 || 4+n > len(d) {
				t.Fatalf("bad AVCC length %d in a %d-byte AU", n, len(p.Data))
			}
			b.Write(sc)
			b.Write(d[4 : 4+n])
			d = d[4+n:]
		}
	}
	path := filepath.Join(t.TempDir(), "vt.h264")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	m := ffprobe(t, bin, "h264", path)
	if m["codec_name"] != "h264" || m["width"] != strconv.Itoa(w) || m["height"] != strconv.Itoa(h) {
		t.Errorf("ffprobe reads %v, want h264 %dx%d", m, w, h)
	}
	if n, _ := strconv.Atoi(m["nb_read_frames"]); n != len(pks) {
		t.Errorf("ffprobe decoded %s frames, want %d", m["nb_read_frames"], len(pks))
	}
}

func TestAudioToolboxEncodesTestTone(t *testing.T) {
	bin := needFFprobe(t)
	const rate, ch = 48000, 2
	var c collect
	enc, err := backend{}.OpenAudio(encoder.AudioSettings{SampleRate: rate, Channels: ch, Bitrate: 128_000}, c.out)
	if err != nil {
		t.Fatalf("open AudioToolbox: %v", err)
	}
	defer enc.Close()
	cfg := enc.Config()
	// AudioSpecificConfig: object type 2 (AAC-LC), frequency index 3
	// (48000 Hz), channel configuration 2.
	if len(cfg.ASC) < 2 {
		t.Fatalf("ASC %x too short", cfg.ASC)
	}
	obj, freq, chans := cfg.ASC[0]>>3, (cfg.ASC[0]&7)<<1|cfg.ASC[1]>>7, (cfg.ASC[1]>>3)&0xf
	if obj != 2 || freq != 3 || chans != ch {
		t.Errorf("ASC %x: object %d frequency index %d channels %d, want 2 3 %d", cfg.ASC, obj, freq, chans, ch)
	}
	if cfg.Priming <= 0 || cfg.Priming > 4096 {
		t.Errorf("priming %d samples", cfg.Priming)
	}
	src, err := testsrc.New(testsrc.Options{SampleRate: rate, Channels: ch, Audio: true, Duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	samples := 0
	var encErr error
	if err := src.Run(context.Background(), nil, func(b *media.AudioBuffer) {
		samples += b.Frames()
		if e := enc.Encode(b); e != nil && encErr == nil {
			encErr = e
		}
	}); err != nil {
		t.Fatal(err)
	}
	if encErr != nil {
		t.Fatalf("encode: %v", encErr)
	}
	if err := enc.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	c.mu.Lock()
	pks := c.pks
	c.mu.Unlock()
	// Every input sample and the priming come out, in 1024-sample frames.
	want := (samples + cfg.Priming) / 1024
	if len(pks) < want || len(pks) > want+2 {
		t.Errorf("%d packets for %d samples + %d priming, want about %d", len(pks), samples, cfg.Priming, want)
	}
	// ADTS for ffprobe.
	var b bytes.Buffer
	for _, p := range pks {
		n := len(p.Data) + 7
		b.Write([]byte{0xff, 0xf1, byte(1<<6 | 3<<2 | ch>>2), byte((ch&3)<<6 | n>>11), byte(n >> 3), byte(n&7<<5 | 0x1f), 0xfc})
		b.Write(p.Data)
	}
	path := filepath.Join(t.TempDir(), "at.aac")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	m := ffprobe(t, bin, "aac", path)
	if m["codec_name"] != "aac" || m["sample_rate"] != strconv.Itoa(rate) || m["channels"] != strconv.Itoa(ch) {
		t.Errorf("ffprobe reads %v, want aac %d Hz %d ch", m, rate, ch)
	}
	if n, _ := strconv.Atoi(m["nb_read_frames"]); n != len(pks) {
		t.Errorf("ffprobe decoded %s frames, want %d", m["nb_read_frames"], len(pks))
	}
}
