package testpeers

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
)

// Packets is an encoded flash+beep test stream made by ffmpeg (libx264
// without B-frames, FFmpeg's aac), split into media.Packets the way our
// encoders deliver them: AVCC access units without SPS/PPS, raw AAC frames
// with PTS that include the encoder's 1024-sample priming. Every second a
// white frame flashes and a 1 kHz beep starts, at the same instant.
type Packets struct {
	Info    media.StreamInfo
	Packets []*media.Packet // in DTS order
	// KeyRequests counts RequestKeyframe calls (it implements
	// media.KeyframeRequester; keyframes are every second regardless).
	KeyRequests atomic.Int64
}

// RequestKeyframe implements media.KeyframeRequester.
func (p *Packets) RequestKeyframe(time.Duration) { p.KeyRequests.Add(1) }

// MakePackets encodes seconds of the test stream at 320x240@30, fps 30,
// keyframe every second, 48 kHz stereo.
func MakePackets(t testing.TB, seconds int) *Packets {
	t.Helper()
	return makePackets(t, seconds, 320, 240, 600000, false)
}

// MakePacketsCBR is MakePackets at width x height and a constant bitrate
// (x264 CBR with filler), for tests that need a stream heavier than a link.
func MakePacketsCBR(t testing.TB, seconds, width, height, bitrate int) *Packets {
	t.Helper()
	return makePackets(t, seconds, width, height, bitrate, true)
}

func makePackets(t testing.TB, seconds, width, height, bitrate int, cbr bool) *Packets {
	t.Helper()
	Need(t, "ffmpeg")
	dir := t.TempDir()
	h264, aac := filepath.Join(dir, "v.h264"), filepath.Join(dir, "a.aac")
	const fps, rate = 30, 48000
	args := []string{"-v", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=s=%dx%d:r=%d:d=%d,drawbox=c=white:t=fill:enable='lt(mod(t\\,1)\\,0.02)'", width, height, fps, seconds),
		"-f", "lavfi", "-i", fmt.Sprintf("aevalsrc='0.5*sin(2*PI*1000*t)*lt(mod(t\\,1)\\,0.1)|0.5*sin(2*PI*1000*t)*lt(mod(t\\,1)\\,0.1)':s=%d:d=%d", rate, seconds),
		"-map", "0:v", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-bf", "0",
		"-g", fmt.Sprint(fps), "-b:v", fmt.Sprint(bitrate), "-pix_fmt", "yuv420p"}
	if cbr {
		args = append(args, "-minrate", fmt.Sprint(bitrate), "-maxrate", fmt.Sprint(bitrate), "-bufsize", fmt.Sprint(bitrate/2),
			"-x264-params", "aud=1:nal-hrd=cbr")
	} else {
		args = append(args, "-x264-params", "aud=1")
	}
	args = append(args, "-f", "h264", h264,
		"-map", "1:a", "-c:a", "aac", "-b:a", "96k", "-f", "adts", aac)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	p := &Packets{}
	vb, err := os.ReadFile(h264)
	if err != nil {
		t.Fatal(err)
	}
	vc := &media.VideoConfig{Width: width, Height: height, FPS: fps, Bitrate: bitrate}
	var au []byte
	key := false
	n := 0
	flush := func() {
		if len(au) == 0 {
			return
		}
		pts := time.Duration(n) * time.Second / fps
		p.Packets = append(p.Packets, &media.Packet{Kind: media.Video, PTS: pts, DTS: pts, Duration: time.Second / fps,
			Key: key, Data: au, Seq: uint64(n)})
		n++
		au, key = nil, false
	}
	for _, nal := range splitAnnexB(vb) {
		switch nal[0] & 0x1f {
		case 9: // AUD starts an access unit
			flush()
		case 7:
			vc.SPS = append([]byte(nil), nal...)
		case 8:
			vc.PPS = append([]byte(nil), nal...)
		case 6: // SEI (x264's version string): not needed
		default:
			if nal[0]&0x1f == 5 {
				key = true
			}
			au = binary.BigEndian.AppendUint32(au, uint32(len(nal)))
			au = append(au, nal...)
		}
	}
	flush()
	p.Info.Video = vc

	ab, err := os.ReadFile(aac)
	if err != nil {
		t.Fatal(err)
	}
	var pkts mpeg4audio.ADTSPackets
	if err := pkts.Unmarshal(ab); err != nil {
		t.Fatal(err)
	}
	asc := mpeg4audio.AudioSpecificConfig{Type: pkts[0].Type, SampleRate: pkts[0].SampleRate, ChannelConfig: pkts[0].ChannelConfig}
	ascb, err := asc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p.Info.Audio = &media.AudioConfig{SampleRate: rate, Channels: 2, ASC: ascb, Priming: 1024, FrameSize: 1024, Bitrate: 96000}
	for i, a := range pkts {
		pts := time.Duration(i*1024-1024) * time.Second / rate
		p.Packets = append(p.Packets, &media.Packet{Kind: media.Audio, PTS: pts, DTS: pts, Duration: 1024 * time.Second / rate,
			Key: true, Data: a.AU, Seq: uint64(i)})
	}
	sort.SliceStable(p.Packets, func(i, j int) bool { return p.Packets[i].DTS < p.Packets[j].DTS })
	return p
}

func splitAnnexB(b []byte) [][]byte {
	var out [][]byte
	start := -1
	for i := 0; i+2 < len(b); {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				out = append(out, bytes.TrimRight(b[start:i], "\x00"))
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start >= 0 && start < len(b) {
		out = append(out, b[start:])
	}
	return out
}

// Play publishes the packets to hub at their media pace (real time) from
// now, until the end or ctx is done; it does not close the hub.
func (p *Packets) Play(ctx context.Context, hub *fanout.Hub) {
	start := time.Now()
	first := p.Packets[0].DTS
	for _, pk := range p.Packets {
		if d := time.Until(start.Add(pk.DTS - first)); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			return
		}
		hub.Publish(pk)
	}
}
