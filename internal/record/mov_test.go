package record

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// boxPaths lists the boxes of an ISO-BMFF/QuickTime file as paths
// ("moov/trak/mdia/minf/stbl/stsd/mp4a/wave/frma"), the moov only, with
// the payload of each leaf.
func boxPaths(t testing.TB, path string) map[string][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	var walk func(b []byte, prefix string)
	walk = func(b []byte, prefix string) {
		for p := 0; p+8 <= len(b); {
			n := int(binary.BigEndian.Uint32(b[p:]))
			if n < 8 || p+n > len(b) {
				return
			}
			typ := string(b[p+4 : p+8])
			box := b[p : p+n]
			name := prefix + typ
			if _, dup := out[name]; dup {
				name += "#2" // second trak, second hdlr
			}
			out[name] = box[8:]
			child := -1
			switch typ {
			case "moov", "trak", "mdia", "minf", "stbl", "edts", "dinf", "mvex", "udta", "wave":
				child = 8
			case "stsd":
				child = 16
			case "avc1":
				child = 86
			case "mp4a":
				if n > 12 {
					switch binary.BigEndian.Uint16(box[16:]) {
					case 0:
						child = 36
					case 1:
						child = 52
					}
				}
			}
			if child > 0 && (prefix != "" || typ == "moov") {
				walk(box[child:], name+"/")
			}
			p += n
		}
	}
	walk(b, "")
	for k := range out {
		if !strings.HasPrefix(k, "moov") {
			delete(out, k)
		}
	}
	return out
}

// --format mov is laid out as QuickTime wants it (issue 12 item 2), box by
// box as FFmpeg's mov muxer writes a fragmented movie: version-1 sound
// description with wave{frma, mp4a, esds, terminator} and chan, mhlr/dhlr
// handlers, a data handler in minf. What livecap adds is edts (AAC
// priming, B-frames), mehd, udta's chapter room and colr (nclc); nothing
// FFmpeg writes is missing. --format mp4 keeps the ISO layout (mp4a
// version 0, esds inside, nclx colour, no wave or chan).
func TestMOVLayout(t *testing.T) {
	needTool(t, "ffmpeg")
	s := makeStream(t, streamSpec{secs: 2, fps: 30, keyint: 30, rate: 48000, channels: 1})
	ref := filepath.Join(t.TempDir(), "ffmpeg.mov")
	run(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30:duration=2", "-f", "lavfi", "-i", "sine=d=2",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "1", "-movflags", "frag_keyframe+empty_moov+default_base_moof", "-f", "mov", ref)
	want := boxPaths(t, ref)
	for _, format := range []string{"mov", "mp4"} {
		dir := t.TempDir()
		if err, _, _ := record(t, Options{Dir: dir, Format: format, Segment: time.Hour, Info: s.info}, s.packets); err != nil {
			t.Fatal(err)
		}
		files := segmentFiles(t, dir)
		if len(files) != 1 {
			t.Fatalf("files %v", files)
		}
		got := boxPaths(t, files[0])
		wave := "moov/trak#2/mdia/minf/stbl/stsd/mp4a/wave"
		mp4a := "moov/trak#2/mdia/minf/stbl/stsd/mp4a"
		if format == "mp4" {
			if _, ok := got[wave]; ok {
				t.Errorf("mp4: a QuickTime wave box in an ISO file")
			}
			if _, ok := got[mp4a+"/esds"]; !ok {
				t.Errorf("mp4: no esds directly in mp4a")
			}
			if c := got["moov/trak/mdia/minf/stbl/stsd/avc1/colr"]; len(c) != 11 || string(c[:4]) != "nclx" {
				t.Errorf("mp4: colr %q, want nclx", c)
			}
			continue
		}
		var missing, extra []string
		for k := range want {
			if _, ok := got[k]; !ok {
				missing = append(missing, k)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				extra = append(extra, k)
			}
		}
		if len(missing) > 0 {
			t.Errorf("mov: boxes FFmpeg writes that livecap does not: %v", missing)
		}
		for _, k := range extra {
			switch {
			case strings.HasSuffix(k, "/edts"), strings.HasSuffix(k, "/elst"), k == "moov/mvex/mehd",
				k == "moov/udta/chpl", k == "moov/udta/free",
				strings.HasSuffix(k, "/avc1/colr"): // FFmpeg writes colr only for a stream that signals colour

			default:
				t.Errorf("mov: box %s that FFmpeg does not write", k)
			}
		}
		// The sound description: version 1, compression ID -2, 1024
		// samples per packet, 2 bytes per sample, as FFmpeg writes it.
		b, _ := os.ReadFile(files[0])
		i := strings.Index(string(b), "mp4a\x00\x00\x00\x00\x00\x00\x00\x01")
		if i < 0 {
			t.Fatal("mov: no mp4a sample entry")
		}
		e := b[i+4:]
		if v, cid, spp, bps := binary.BigEndian.Uint16(e[8:]), binary.BigEndian.Uint16(e[20:]), binary.BigEndian.Uint32(e[28:]), binary.BigEndian.Uint32(e[40:]); v != 1 || cid != 0xfffe || spp != 1024 || bps != 2 {
			t.Errorf("mov: sound description version %d, compression ID %#x, %d samples per packet, %d bytes per sample; want 1, 0xfffe, 1024, 2", v, cid, spp, bps)
		}
		if f := got[wave+"/frma"]; string(f) != "mp4a" {
			t.Errorf("mov: frma %q", f)
		}
		if c := got[mp4a+"/chan"]; len(c) != 16 || binary.BigEndian.Uint32(c[4:]) != 100<<16|1 {
			t.Errorf("mov: chan % x, want kAudioChannelLayoutTag_Mono", c)
		}
		if string(got["moov/trak/mdia/hdlr"][4:8]) != "mhlr" || string(got["moov/trak/mdia/minf/hdlr"][4:12]) != "dhlrurl " {
			t.Errorf("mov: handlers are not QuickTime's mhlr/dhlr")
		}
		if c := got["moov/trak/mdia/minf/stbl/stsd/avc1/colr"]; len(c) != 10 || string(c[:4]) != "nclc" {
			t.Errorf("mov: colr %q, want nclc", c)
		}
		// Read by GStreamer (audio decoded) and mediainfo as QuickTime.
		if a := gstDemux(t, files[0], "audio_0", true); a.buffers < 80 {
			t.Errorf("mov: GStreamer decodes %d audio buffers", a.buffers)
		}
		if mi := readMediaInfo(t, files[0]); mi.General["Format_Profile"] != "QuickTime" || mi.Audio["Format"] != "AAC" {
			t.Errorf("mov: mediainfo reads %q / %q", mi.General["Format_Profile"], mi.Audio["Format"])
		}
	}
}
