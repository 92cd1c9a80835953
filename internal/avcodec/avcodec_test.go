//go:build linux && cgo

package avcodec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	mch264 "github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/h264"
	"github.com/livecap/livecap/internal/media"
)

// collector keeps every packet the encoder emits.
type collector struct{ pkts []*media.Packet }

func (c *collector) out(p *media.Packet) { c.pkts = append(c.pkts, p) }

// testFrame draws frame i: a diagonal gradient that scrolls, a dark box that
// moves across, and a full white picture every fps frames (like the test
// source's flash, which must not trigger a keyframe). Strides are padded
// past the width so the copy must honour them.
func testFrame(w, h, fps, i int, format media.PixelFormat, pts time.Duration) *media.VideoFrame {
	ys := w + 32
	y := make([]byte, ys*h)
	flash := i%fps == 0
	bx, by := (i*7)%(w-32), (i*3)%(h-32)
	for r := 0; r < h; r++ {
		for c := 0; c < w; c++ {
			v := byte(16 + (r+c+4*i)%200)
			if c >= bx && c < bx+32 && r >= by && r < by+32 {
				v = 30
			}
			if flash {
				v = 235
			}
			y[r*ys+c] = v
		}
	}
	cw, ch := w/2, h/2
	f := &media.VideoFrame{PTS: pts, Width: w, Height: h, Format: format}
	f.Planes[0], f.Strides[0] = y, ys
	u := byte(128 + (i % 40))
	v := byte(128 - (i % 40))
	if flash {
		u, v = 128, 128
	}
	switch format {
	case media.I420:
		cs := cw + 16
		up, vp := make([]byte, cs*ch), make([]byte, cs*ch)
		for k := range up {
			up[k], vp[k] = u, v
		}
		f.Planes[1], f.Planes[2] = up, vp
		f.Strides[1], f.Strides[2] = cs, cs
	case media.NV12:
		cs := w + 16
		uv := make([]byte, cs*ch)
		for r := 0; r < ch; r++ {
			for c := 0; c < cw; c++ {
				uv[r*cs+2*c], uv[r*cs+2*c+1] = u, v
			}
		}
		f.Planes[1], f.Strides[1] = uv, cs
	}
	return f
}

// framePTS gives frame i an irregular capture time (a base offset and a
// few µs of jitter), so the test sees whether PTS survive exactly.
func framePTS(i, fps int) time.Duration {
	return 1500*time.Millisecond + time.Duration(i)*time.Second/time.Duration(fps) + time.Duration((i*7919)%5000)*time.Nanosecond
}

func nalTypes(t *testing.T, avcc []byte) []byte {
	t.Helper()
	var types []byte
	for len(avcc) > 0 {
		if len(avcc) < 4 {
			t.Fatalf("truncated AVCC length prefix")
		}
		n := int(binary.BigEndian.Uint32(avcc))
		if n == 0 || 4+n > len(avcc) {
			t.Fatalf("bad AVCC NAL length %d with %d bytes left", n, len(avcc)-4)
		}
		types = append(types, avcc[4]&0x1f)
		avcc = avcc[4+n:]
	}
	return types
}

func openVideo(t testing.TB, s encoder.VideoSettings, out encoder.Output) *VideoEncoder {
	t.Helper()
	e, err := OpenVideo(s, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestVideoKeyframesAndTimestamps(t *testing.T) {
	const w, h, fps, n, forceAt = 320, 240, 30, 150, 75
	var c collector
	e := openVideo(t, encoder.VideoSettings{Width: w, Height: h, FPS: fps, Bitrate: 500_000, KeyInterval: 2 * time.Second, Realtime: true}, c.out)
	for i := 0; i < n; i++ {
		if i == forceAt {
			e.ForceKeyframe()
		}
		if err := e.Encode(testFrame(w, h, fps, i, media.I420, framePTS(i, fps))); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(c.pkts) != n {
		t.Fatalf("%d packets for %d frames", len(c.pkts), n)
	}
	var idrs []int
	for i, p := range c.pkts {
		if p.Kind != media.Video {
			t.Fatalf("packet %d: kind %v", i, p.Kind)
		}
		if want := framePTS(i, fps); p.PTS != want || p.DTS != want {
			t.Fatalf("packet %d: PTS %v DTS %v, want both %v", i, p.PTS, p.DTS, want)
		}
		if p.Duration != 33333333 {
			t.Fatalf("packet %d: duration %v", i, p.Duration)
		}
		types := nalTypes(t, p.Data)
		hasIDR := false
		for _, ty := range types {
			switch ty {
			case h264.NALSPS, h264.NALPPS, h264.NALAUD:
				t.Fatalf("packet %d carries NAL type %d (types %v)", i, ty, types)
			case h264.NALIDR:
				hasIDR = true
			}
		}
		if hasIDR != p.Key {
			t.Fatalf("packet %d: Key %v but IDR slice present %v", i, p.Key, hasIDR)
		}
		if p.Key {
			idrs = append(idrs, i)
		}
	}
	// Periodic IDRs every 60 frames, the forced one at 75 restarting the
	// count, and nothing at the white flashes (every 30 frames).
	want := []int{0, 60, forceAt, forceAt + 60}
	if !equalInts(idrs, want) {
		t.Fatalf("IDRs at frames %v, want %v", idrs, want)
	}
	for k := 1; k < len(idrs); k++ {
		if idrs[k]-idrs[k-1] > 60 {
			t.Fatalf("IDR interval %d frames exceeds keyint 60", idrs[k]-idrs[k-1])
		}
	}
	if n-1-idrs[len(idrs)-1] > 60 {
		t.Fatalf("last IDR at %d of %d frames", idrs[len(idrs)-1], n)
	}
}

func TestForceKeyframeIsExactlyNextFrame(t *testing.T) {
	const w, h, fps = 160, 96, 25
	var c collector
	e := openVideo(t, encoder.VideoSettings{Width: w, Height: h, FPS: fps, Bitrate: 300_000, KeyInterval: 10 * time.Second}, c.out)
	forced := map[int]bool{7: true, 8: true, 20: true, 41: true}
	for i := 0; i < 50; i++ {
		if forced[i] {
			e.ForceKeyframe()
			e.ForceKeyframe() // two requests still mean one IDR
		}
		if err := e.Encode(testFrame(w, h, fps, i, media.NV12, time.Duration(i)*40*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	for i, p := range c.pkts {
		if want := i == 0 || forced[i]; p.Key != want {
			t.Errorf("frame %d: key %v, want %v", i, p.Key, want)
		}
	}
}

func TestVideoConfigSPS(t *testing.T) {
	for _, sz := range [][2]int{{320, 180}, {1280, 720}} {
		e := openVideo(t, encoder.VideoSettings{Width: sz[0], Height: sz[1], FPS: 30, Bitrate: 2_000_000, KeyInterval: 2 * time.Second}, func(*media.Packet) {})
		cfg := e.Config()
		if cfg.Width != sz[0] || cfg.Height != sz[1] || cfg.FPS != 30 || cfg.Bitrate != 2_000_000 {
			t.Fatalf("config %+v", cfg)
		}
		if len(cfg.PPS) == 0 || cfg.PPS[0]&0x1f != h264.NALPPS {
			t.Fatalf("PPS % x", cfg.PPS)
		}
		if cfg.SPS[0]&0x1f != h264.NALSPS {
			t.Fatalf("SPS NAL header %#x", cfg.SPS[0])
		}
		var sps mch264.SPS
		if err := sps.Unmarshal(cfg.SPS); err != nil {
			t.Fatal(err)
		}
		if sps.ProfileIdc != 100 {
			t.Errorf("profile_idc %d, want 100 (High)", sps.ProfileIdc)
		}
		if sps.Width() != sz[0] || sps.Height() != sz[1] {
			t.Errorf("SPS says %dx%d, want %dx%d", sps.Width(), sps.Height(), sz[0], sz[1])
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if err := e.Close(); err != nil { // idempotent
			t.Fatal(err)
		}
		if err := e.Encode(testFrame(sz[0], sz[1], 30, 0, media.I420, 0)); err == nil {
			t.Fatal("Encode after Close succeeded")
		}
	}
}

// sine returns n interleaved frames of a 440 Hz tone (a different phase per
// channel), starting at sample offset off.
func sine(rate, ch, off, n int) []float32 {
	s := make([]float32, n*ch)
	for i := 0; i < n; i++ {
		for c := 0; c < ch; c++ {
			s[i*ch+c] = float32(0.4 * math.Sin(2*math.Pi*440*float64(off+i)/float64(rate)+float64(c)))
		}
	}
	return s
}

// encodeSine feeds total sample frames in 10 ms buffers.
func encodeSine(t testing.TB, e *AudioEncoder, rate, ch, total int, base time.Duration) {
	t.Helper()
	chunk := rate / 100
	for off := 0; off < total; off += chunk {
		n := min(chunk, total-off)
		b := &media.AudioBuffer{PTS: base + samplesToDuration(int64(off), rate), SampleRate: rate, Channels: ch, Samples: sine(rate, ch, off, n)}
		if err := e.Encode(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestAudioPacketsAndPriming(t *testing.T) {
	const rate, total = 48000, 48000 + 300 // a partial last frame
	base := 1234567 * time.Microsecond
	for _, ch := range []int{1, 2} {
		var c collector
		e, err := OpenAudio(encoder.AudioSettings{SampleRate: rate, Channels: ch, Bitrate: 64000 * ch}, c.out)
		if err != nil {
			t.Fatal(err)
		}
		cfg := e.Config()
		// AudioSpecificConfig: object type 2 (LC), frequency index 3
		// (48 kHz), channel configuration ch.
		if err := checkASC(cfg.ASC, []byte{0x11, 0x80 | byte(ch<<3)}); err != "" {
			t.Errorf("%d ch: %s", ch, err)
		}
		if cfg.Priming != 1024 || cfg.FrameSize != 1024 || cfg.SampleRate != rate || cfg.Channels != ch {
			t.Errorf("%d ch: config %+v", ch, cfg)
		}
		encodeSine(t, e, rate, ch, total, base)
		// ceil(total/1024) frames of input, plus one for the priming.
		frames := (total + 1023) / 1024
		if len(c.pkts) != frames+1 {
			t.Fatalf("%d ch: %d packets, want %d", ch, len(c.pkts), frames+1)
		}
		for i, p := range c.pkts {
			want := base + samplesToDuration(int64(i*1024-1024), rate)
			if p.PTS != want || p.DTS != want || !p.Key || p.Kind != media.Audio || len(p.Data) == 0 {
				t.Fatalf("%d ch: packet %d: PTS %v DTS %v key %v len %d; want PTS %v",
					ch, i, p.PTS, p.DTS, p.Key, len(p.Data), want)
			}
			if i > 0 && c.pkts[i-1].PTS+c.pkts[i-1].Duration != p.PTS {
				t.Fatalf("%d ch: gap before packet %d", ch, i)
			}
		}
		if got, want := c.pkts[0].PTS, base-21333333; got != want {
			t.Errorf("%d ch: first PTS %v, want %v (base - 1024 samples)", ch, got, want)
		}
		e.Close()
		e.Close()
	}
}

// writeAnnexB writes the packets as an H.264 elementary stream, with SPS
// and PPS in front of every IDR, as a decoder joining at any IDR needs.
func writeAnnexB(path string, cfg media.VideoConfig, pkts []*media.Packet) error {
	var b bytes.Buffer
	sc := []byte{0, 0, 0, 1}
	for _, p := range pkts {
		if p.Key {
			b.Write(sc)
			b.Write(cfg.SPS)
			b.Write(sc)
			b.Write(cfg.PPS)
		}
		for d := p.Data; len(d) > 0; {
			n := int(binary.BigEndian.Uint32(d))
			b.Write(sc)
			b.Write(d[4 : 4+n])
			d = d[4+n:]
		}
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// writeADTS writes raw AAC frames with ADTS headers derived from the ASC.
func writeADTS(path string, cfg media.AudioConfig, pkts []*media.Packet) error {
	objType := cfg.ASC[0] >> 3
	freqIdx := (cfg.ASC[0]&7)<<1 | cfg.ASC[1]>>7
	chCfg := (cfg.ASC[1] >> 3) & 0xf
	var b bytes.Buffer
	for _, p := range pkts {
		l := len(p.Data) + 7
		b.Write([]byte{
			0xff, 0xf1,
			(objType-1)<<6 | freqIdx<<2 | chCfg>>2,
			(chCfg&3)<<6 | byte(l>>11),
			byte(l >> 3),
			byte(l&7)<<5 | 0x1f,
			0xfc,
		})
		b.Write(p.Data)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func ffprobeCount(t *testing.T, path, stream string) int {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", stream,
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("ffprobe %s: %q", path, out)
	}
	return n
}

func ffmpegDecode(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("ffmpeg decode of %s: %v\n%s", path, err, out)
	}
}

func TestStreamsDecodeWithFFmpeg(t *testing.T) {
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed (the test needs the real decoder): %v", tool, err)
		}
	}
	dir := t.TempDir()
	const w, h, fps, n = 352, 288, 30, 90
	for _, format := range []media.PixelFormat{media.I420, media.NV12} {
		var c collector
		e := openVideo(t, encoder.VideoSettings{Width: w, Height: h, FPS: fps, Bitrate: 800_000, KeyInterval: time.Second}, c.out)
		for i := 0; i < n; i++ {
			if i == 45 {
				e.ForceKeyframe()
			}
			if err := e.Encode(testFrame(w, h, fps, i, format, time.Duration(i)*time.Second/fps)); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "v"+strconv.Itoa(int(format))+".h264")
		if err := writeAnnexB(path, e.Config(), c.pkts); err != nil {
			t.Fatal(err)
		}
		ffmpegDecode(t, path)
		if got := ffprobeCount(t, path, "v:0"); got != n {
			t.Errorf("format %d: ffprobe counts %d frames, encoded %d", format, got, n)
		}
	}
	for _, ch := range []int{1, 2} {
		var c collector
		e, err := OpenAudio(encoder.AudioSettings{SampleRate: 48000, Channels: ch, Bitrate: 96000}, c.out)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		encodeSine(t, e, 48000, ch, 2*48000+100, 0)
		path := filepath.Join(dir, "a"+strconv.Itoa(ch)+".aac")
		if err := writeADTS(path, e.Config(), c.pkts); err != nil {
			t.Fatal(err)
		}
		ffmpegDecode(t, path)
		if got := ffprobeCount(t, path, "a:0"); got != len(c.pkts) {
			t.Errorf("%d ch: ffprobe counts %d AAC frames, encoded %d", ch, got, len(c.pkts))
		}
		out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=channels,sample_rate,profile", "-of", "csv=p=0", path).CombinedOutput()
		if err != nil {
			t.Fatalf("ffprobe: %v\n%s", err, out)
		}
		if got, want := strings.TrimSpace(string(out)), "LC,48000,"+strconv.Itoa(ch); got != want {
			t.Errorf("%d ch: ffprobe says %q, want %q", ch, got, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	nop := func(*media.Packet) {}
	good := encoder.VideoSettings{Width: 320, Height: 240, FPS: 30, Bitrate: 1_000_000, KeyInterval: 2 * time.Second}
	for _, mod := range []func(*encoder.VideoSettings){
		func(s *encoder.VideoSettings) { s.Width = 321 },
		func(s *encoder.VideoSettings) { s.Height = 0 },
		func(s *encoder.VideoSettings) { s.FPS = 0 },
		func(s *encoder.VideoSettings) { s.Bitrate = 0 },
		func(s *encoder.VideoSettings) { s.KeyInterval = 0 },
	} {
		s := good
		mod(&s)
		if e, err := OpenVideo(s, nop); err == nil {
			e.Close()
			t.Errorf("OpenVideo(%+v) succeeded", s)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("multi-line error %q", err)
		}
	}
	bad := good
	bad.Preset = "turbo"
	if _, err := OpenVideo(bad, nop); err == nil || !strings.Contains(err.Error(), "turbo") {
		t.Errorf("bad preset: %v", err)
	}
	good.Preset = "ultrafast"
	e := openVideo(t, good, nop)
	if err := e.Encode(testFrame(160, 120, 30, 0, media.I420, 0)); err == nil {
		t.Error("a frame of the wrong size was accepted")
	}
	f := testFrame(320, 240, 30, 0, media.I420, time.Second)
	f.Planes[1] = f.Planes[1][:10]
	if err := e.Encode(f); err == nil {
		t.Error("a short chroma plane was accepted")
	}
	if err := e.Encode(testFrame(320, 240, 30, 0, media.I420, time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := e.Encode(testFrame(320, 240, 30, 1, media.I420, time.Second)); err == nil {
		t.Error("a repeated PTS was accepted")
	}

	for _, s := range []encoder.AudioSettings{
		{SampleRate: 47999, Channels: 2, Bitrate: 128000},
		{SampleRate: 48000, Channels: 0, Bitrate: 128000},
		{SampleRate: 48000, Channels: 2, Bitrate: 0},
	} {
		if a, err := OpenAudio(s, nop); err == nil {
			a.Close()
			t.Errorf("OpenAudio(%+v) succeeded", s)
		}
	}
	a, err := OpenAudio(encoder.AudioSettings{SampleRate: 48000, Channels: 2, Bitrate: 128000}, nop)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Encode(&media.AudioBuffer{SampleRate: 44100, Channels: 2, Samples: make([]float32, 20)}); err == nil {
		t.Error("a 44.1 kHz buffer was accepted by a 48 kHz encoder")
	}
}

func TestRegistered(t *testing.T) {
	b, err := encoder.Default(Name)
	if err != nil {
		t.Fatal(err)
	}
	if b.Name() != "libavcodec" {
		t.Fatalf("name %q", b.Name())
	}
	var c collector
	ve, err := b.OpenVideo(encoder.VideoSettings{Width: 64, Height: 64, FPS: 30, Bitrate: 100_000, KeyInterval: time.Second}, c.out)
	if err != nil {
		t.Fatal(err)
	}
	ve.Close()
	ae, err := b.OpenAudio(encoder.AudioSettings{SampleRate: 44100, Channels: 2, Bitrate: 128000}, c.out)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkASC(ae.Config().ASC, []byte{0x12, 0x10}); err != "" {
		t.Errorf("44.1 kHz stereo: %s", err)
	}
	ae.Close()
}

// checkASC compares an AudioSpecificConfig with the expected 2-byte AAC-LC
// form. FFmpeg's encoder may append the backward-compatible sync extension
// that says explicitly "no SBR" (syncExtensionType 0x2b7, object type 5,
// sbrPresentFlag 0): 56 e5 00.
func checkASC(asc, want []byte) string {
	if len(asc) < 2 || !bytes.Equal(asc[:2], want) {
		return fmt.Sprintf("ASC % x, want % x", asc, want)
	}
	if rest := asc[2:]; len(rest) > 0 && !bytes.Equal(rest, []byte{0x56, 0xe5, 0x00}) {
		return fmt.Sprintf("ASC % x: unexpected extension % x", asc, rest)
	}
	return ""
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestForceKeyframeFromOtherGoroutine runs under -race: requests arrive from
// the recorder's and publishers' goroutines while the pipeline encodes.
func TestForceKeyframeFromOtherGoroutine(t *testing.T) {
	const w, h, fps, n = 128, 96, 30, 60
	var c collector
	e := openVideo(t, encoder.VideoSettings{Width: w, Height: h, FPS: fps, Bitrate: 200_000, KeyInterval: 100 * time.Second}, c.out)
	asked := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range asked {
			e.ForceKeyframe()
		}
	}()
	for i := 0; i < n; i++ {
		if i%10 == 5 {
			asked <- struct{}{}
			// Wait until the request is surely stored: the next Encode
			// must see it.
			for !e.forceKey.Load() {
				time.Sleep(time.Millisecond)
			}
		}
		if err := e.Encode(testFrame(w, h, fps, i, media.I420, time.Duration(i)*time.Second/fps)); err != nil {
			t.Fatal(err)
		}
	}
	close(asked)
	<-done
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	for i, p := range c.pkts {
		if want := i == 0 || i%10 == 5; p.Key != want {
			t.Errorf("frame %d: key %v, want %v", i, p.Key, want)
		}
	}
}

// A session can end before its first frame or buffer: Flush must then be a
// no-op, and a second Flush too.
func TestFlushWithoutInput(t *testing.T) {
	var c collector
	v := openVideo(t, encoder.VideoSettings{Width: 64, Height: 64, FPS: 30, Bitrate: 100_000, KeyInterval: time.Second}, c.out)
	a, err := OpenAudio(encoder.AudioSettings{SampleRate: 48000, Channels: 1, Bitrate: 64000}, c.out)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for k := 0; k < 2; k++ {
		if err := v.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.pkts) != 0 {
		t.Fatalf("%d packets from empty encoders", len(c.pkts))
	}
	if err := a.Encode(&media.AudioBuffer{SampleRate: 48000, Channels: 1, Samples: make([]float32, 10)}); err == nil {
		t.Error("Encode after Flush succeeded")
	}
}
