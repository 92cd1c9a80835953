package publish

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/testpeers"
)

// tsReport is what parseTS read from a transport stream.
type tsReport struct {
	packets    int
	pcrs       []tsPCR // in packet order
	pats, pmts []int   // packet indices
	pmtTypes   []byte  // stream types in the (last) PMT
	pes        map[uint16]int
	dts        map[uint16]int // PES with a DTS field
	ccErrors   []string
	psiErrors  []string
}

type tsPCR struct {
	at int   // packet index
	v  int64 // 90 kHz base
}

// parseTS reads a TS written by tsMuxer, checking what a TS analyzer
// checks first (TR 101 290 priority 1 and 2): sync bytes, continuity
// counters per PID (payload packets count up by one, adaptation-only
// packets repeat), PAT and PMT CRCs, and collects PCRs and table positions.
func parseTS(t *testing.T, b []byte) tsReport {
	t.Helper()
	if len(b)%tsPacket != 0 {
		t.Fatalf("%d bytes: not whole TS packets", len(b))
	}
	r := tsReport{pes: map[uint16]int{}, dts: map[uint16]int{}}
	last := map[uint16]int{}
	for i := 0; i < len(b); i += tsPacket {
		p := b[i : i+tsPacket]
		n := i / tsPacket
		r.packets++
		if p[0] != 0x47 {
			t.Fatalf("packet %d: sync byte %#x", n, p[0])
		}
		pid := uint16(p[1]&0x1F)<<8 | uint16(p[2])
		pusi := p[1]&0x40 != 0
		afc := p[3] >> 4 & 3
		cc := int(p[3] & 0x0F)
		hasPayload := afc&1 != 0
		if prev, ok := last[pid]; ok {
			want := prev
			if hasPayload {
				want = (prev + 1) & 15
			}
			if cc != want {
				r.ccErrors = append(r.ccErrors, fmt.Sprintf("packet %d pid %#x: cc %d after %d", n, pid, cc, prev))
			}
		}
		last[pid] = cc
		pos := 4
		if afc&2 != 0 {
			l := int(p[4])
			if l > 0 && p[5]&0x10 != 0 {
				a := p[6:]
				base := int64(a[0])<<25 | int64(a[1])<<17 | int64(a[2])<<9 | int64(a[3])<<1 | int64(a[4]>>7)
				r.pcrs = append(r.pcrs, tsPCR{at: n, v: base})
			}
			pos += 1 + l
		}
		if !hasPayload || !pusi {
			continue
		}
		pl := p[pos:]
		switch pid {
		case pidPAT, pidPMT:
			sec := pl[1+pl[0]:]
			sl := int(binary.BigEndian.Uint16(sec[1:]) & 0x0FFF)
			body := sec[:3+sl-4]
			if crc := binary.BigEndian.Uint32(sec[3+sl-4:]); crc != crc32MPEG(body) {
				r.psiErrors = append(r.psiErrors, fmt.Sprintf("packet %d: CRC", n))
			}
			if pid == pidPAT {
				r.pats = append(r.pats, n)
			} else {
				r.pmts = append(r.pmts, n)
				r.pmtTypes = r.pmtTypes[:0]
				es := body[12:]
				for len(es) >= 5 {
					r.pmtTypes = append(r.pmtTypes, es[0])
					es = es[5+int(binary.BigEndian.Uint16(es[3:])&0x0FFF):]
				}
			}
		default:
			if !bytes.HasPrefix(pl, []byte{0, 0, 1}) {
				t.Fatalf("packet %d pid %#x: PES without a start code", n, pid)
			}
			r.pes[pid]++
			if pl[7]&0xC0 == 0xC0 {
				r.dts[pid]++
			}
		}
	}
	return r
}

// timeAt is the time of packet n interpolated between the PCRs around it
// (how analyzers time a packet), in 90 kHz; ok is false outside the PCRs.
func (r tsReport) timeAt(n int) (int64, bool) {
	for k := 1; k < len(r.pcrs); k++ {
		a, b := r.pcrs[k-1], r.pcrs[k]
		if n >= a.at && n <= b.at {
			return a.v + (b.v-a.v)*int64(n-a.at)/int64(b.at-a.at), true
		}
	}
	return 0, false
}

// intervals returns the largest PCR interval and the largest interval
// between PATs (and between PMTs), in milliseconds.
func (r tsReport) intervals() (pcr, pat, pmt float64) {
	for k := 1; k < len(r.pcrs); k++ {
		pcr = max(pcr, float64(r.pcrs[k].v-r.pcrs[k-1].v)/90)
	}
	table := func(at []int) float64 {
		worst := 0.0
		prev, have := int64(0), false
		for _, n := range at {
			t, ok := r.timeAt(n)
			if !ok {
				continue
			}
			if have {
				worst = max(worst, float64(t-prev)/90)
			}
			prev, have = t, true
		}
		return worst
	}
	return pcr, table(r.pats), table(r.pmts)
}

// synthStream makes seconds of packets at fps: an IDR every second (20 kB),
// P-frames of 3 kB, AAC frames of 300 bytes at 48 kHz when audio is set,
// interleaved by DTS; skip drops the video frames in [skip, skip+200 ms).
func synthStream(fps int, audio bool, seconds int, skip time.Duration, bframes bool) []*media.Packet {
	var out []*media.Packet
	nv := fps * seconds
	frame := time.Second / time.Duration(fps)
	for i := 0; i < nv; i++ {
		dts := time.Duration(i) * frame
		if skip > 0 && dts >= skip && dts < skip+200*time.Millisecond {
			continue
		}
		key := i%fps == 0
		n := 3000
		typ := byte(0x41)
		if key {
			n, typ = 20000, 0x65
		}
		d := make([]byte, 4+n)
		binary.BigEndian.PutUint32(d, uint32(n))
		d[4] = typ
		pts := dts
		if bframes && !key {
			pts = dts + frame // a reordered stream: PTS runs one frame ahead
		}
		out = append(out, &media.Packet{Kind: media.Video, Key: key, PTS: pts, DTS: dts, Duration: frame, Data: d})
	}
	if audio {
		af := 1024 * time.Second / 48000
		for i := 0; time.Duration(i)*af < time.Duration(seconds)*time.Second; i++ {
			pts := time.Duration(i-1) * af
			out = append(out, &media.Packet{Kind: media.Audio, PTS: pts, DTS: pts, Duration: af, Data: make([]byte, 300)})
		}
	}
	sortByDTS(out)
	return out
}

func sortByDTS(p []*media.Packet) {
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && p[j].DTS < p[j-1].DTS; j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

func muxAll(t *testing.T, info media.StreamInfo, pk []*media.Packet) []byte {
	t.Helper()
	var out bytes.Buffer
	m, err := newTSMuxer(&out, info)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pk {
		if _, err := m.write(p); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

// TestTSTiming: PCR at most every 40 ms, PAT and PMT at least every 100 ms,
// continuity counters without a fault, at 25, 30 and 60 fps, with and
// without audio, with a 200 ms hole in the video, and with B-frames.
func TestTSTiming(t *testing.T) {
	type tc struct {
		fps     int
		audio   bool
		skip    time.Duration
		bframes bool
	}
	var cases []tc
	for _, fps := range []int{25, 30, 60} {
		for _, audio := range []bool{true, false} {
			cases = append(cases, tc{fps: fps, audio: audio})
		}
	}
	cases = append(cases, tc{fps: 25, skip: 3 * time.Second}, tc{fps: 30, audio: true, skip: 3 * time.Second},
		tc{fps: 30, audio: true, bframes: true})
	for _, c := range cases {
		name := fmt.Sprintf("%dfps audio=%v", c.fps, c.audio)
		if c.skip > 0 {
			name += " 200ms-hole"
		}
		if c.bframes {
			name += " B-frames"
		}
		t.Run(name, func(t *testing.T) {
			info := benchInfo()
			if !c.audio {
				info.Audio = nil
			}
			pk := synthStream(c.fps, c.audio, 10, c.skip, c.bframes)
			r := parseTS(t, muxAll(t, info, pk))
			pcr, pat, pmt := r.intervals()
			t.Logf("%d TS packets, %d PCRs, %d PATs: max PCR interval %.1f ms, PAT %.1f ms, PMT %.1f ms",
				r.packets, len(r.pcrs), len(r.pats), pcr, pat, pmt)
			if pcr > 40 {
				t.Errorf("PCR interval %.1f ms, want <= 40", pcr)
			}
			if pat > 100 || pmt > 100 || pat == 0 {
				t.Errorf("PAT interval %.1f ms, PMT %.1f ms, want <= 100", pat, pmt)
			}
			if len(r.pats) != len(r.pmts) {
				t.Errorf("%d PATs, %d PMTs", len(r.pats), len(r.pmts))
			}
			if len(r.ccErrors) > 0 || len(r.psiErrors) > 0 {
				t.Errorf("continuity errors %v; PSI errors %v", r.ccErrors, r.psiErrors)
			}
			wantTypes := []byte{streamH264}
			if c.audio {
				wantTypes = append(wantTypes, streamADTS)
			}
			if !bytes.Equal(r.pmtTypes, wantTypes) {
				t.Errorf("PMT stream types %x, want %x", r.pmtTypes, wantTypes)
			}
			video := 0
			for _, p := range pk {
				if p.Kind == media.Video {
					video++
				}
			}
			if r.pes[pidVideo] != video {
				t.Errorf("%d video PES for %d frames", r.pes[pidVideo], video)
			}
			// TS PES carry PTS and DTS: DTS exactly when they differ.
			wantDTS := 0
			if c.bframes {
				wantDTS = video - 10 // every frame but the IDRs
			}
			if r.dts[pidVideo] != wantDTS {
				t.Errorf("%d video PES with a DTS, want %d", r.dts[pidVideo], wantDTS)
			}
		})
	}
}

// TestTSReadBack muxes a real H.264/AAC stream, retimed to 25, 30 and 60
// fps, to a file and reads it back with ffprobe and with GStreamer's
// tsdemux (decoding every frame with avdec_h264 and avdec_aac).
func TestTSReadBack(t *testing.T) {
	testpeers.Need(t, "ffprobe", "gst-launch-1.0", "gst-discoverer-1.0")
	src := testpeers.MakePackets(t, 3)
	for _, fps := range []int{25, 30, 60} {
		for _, audio := range []bool{true, false} {
			t.Run(fmt.Sprintf("%dfps audio=%v", fps, audio), func(t *testing.T) {
				info := src.Info
				var pk []*media.Packet
				video := 0
				for _, p := range src.Packets {
					c := *p
					if c.Kind == media.Video {
						c.DTS = time.Duration(c.Seq) * time.Second / time.Duration(fps)
						c.PTS = c.DTS
						video++
					} else if !audio {
						continue
					} else {
						c.DTS = c.DTS * 30 / time.Duration(fps) // keep A/V together
						c.PTS = c.DTS
					}
					pk = append(pk, &c)
				}
				if !audio {
					info.Audio = nil
				}
				sortByDTS(pk)
				b := muxAll(t, info, pk)
				f := filepath.Join(t.TempDir(), "out.ts")
				if err := os.WriteFile(f, b, 0o644); err != nil {
					t.Fatal(err)
				}
				r := testpeers.Probe(t, f)
				if r.Frames["video"] != video || r.DecodeErrors != "" {
					t.Errorf("ffprobe: %v frames of %d, errors %q", r.Frames, video, r.DecodeErrors)
				}
				// GStreamer: every video frame decoded by tsdemux + avdec.
				pipe := "filesrc location=" + f + " ! tsdemux name=d d. ! queue ! h264parse ! avdec_h264 ! fakesink name=v silent=false sync=false"
				if audio {
					pipe += " d. ! queue ! aacparse ! avdec_aac ! fakesink sync=false"
				}
				out, err := exec.Command("gst-launch-1.0", append([]string{"-v"}, strings.Fields(pipe)...)...).CombinedOutput()
				if err != nil {
					t.Fatalf("gst-launch: %v\n%s", err, lastLines(string(out), 10))
				}
				frames := strings.Count(string(out), "/GstPipeline:pipeline0/GstFakeSink:v: last-message = chain")
				if frames != video {
					t.Errorf("GStreamer decoded %d video frames of %d", frames, video)
				}
				disc, err := exec.Command("gst-discoverer-1.0", f).CombinedOutput()
				if err != nil || !strings.Contains(string(disc), "H.264") || (audio && !strings.Contains(string(disc), "AAC")) {
					t.Errorf("gst-discoverer: %v\n%s", err, disc)
				}
				t.Logf("ffprobe %v; GStreamer %d video frames; %d bytes", r.Frames, frames, len(b))
			})
		}
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
