package record

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/livecap/livecap/internal/media"
)

// Timescales. Video uses 90 kHz, which every common frame rate divides
// closely enough (the sample durations are computed from absolute
// timestamps, so rounding never accumulates). Audio uses its sample rate,
// so the edit list can trim priming to the exact sample. The movie
// timescale (mvhd, tkhd, elst, mehd) is the audio sample rate too, so that
// an empty edit holding a segment's audio back is exact to the sample
// (FFmpeg starts the track there, and joined files then neither gap nor
// overlap); 32-bit fields hold 24 hours at 48 kHz. Without audio it is
// 1 ms.
const (
	videoTimescale = 90000
	movieTimescale = 1000 // without audio
)

const (
	videoTrackID = 1
	audioTrackID = 2
	// sample_flags (ISO/IEC 14496-12 8.8.3.1): a sync sample depends on
	// nothing; any other is a non-sync sample that depends on others.
	flagsSync    = 0x02000000
	flagsNonSync = 0x01010000
)

// Marker is the text of the udta/©swr box livecap writes into every moov
// (QuickTime's "encoding software", which FFmpeg and mediainfo show as
// the encoder). The start-up scan touches only files that carry it.
const Marker = "livecap"

// appendMarker appends the ©swr box naming livecap.
func appendMarker(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(8+4+len(Marker)))
	dst = append(dst, "\xa9swr"...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(Marker)))
	dst = binary.BigEndian.AppendUint16(dst, 0x55c4) // language "und"
	return append(dst, Marker...)
}

// Handler names, in every hdlr livecap writes.
const (
	videoHandlerName = "livecap Video Handler"
	soundHandlerName = "livecap Sound Handler"
	dataHandlerName  = "livecap Data Handler"
)

// scale converts a media time to ticks of timescale ts, rounding to the
// nearest tick so that the 1024-sample AAC steps stay exactly 1024.
func scale(d time.Duration, ts int64) int64 {
	neg := d < 0
	if neg {
		d = -d
	}
	q, r := int64(d)/int64(time.Second), int64(d)%int64(time.Second)
	v := q*ts + (r*ts+int64(time.Second)/2)/int64(time.Second)
	if neg {
		return -v
	}
	return v
}

// movieTicks is a duration in movie ticks of timescale ts, rounded to the
// nearest tick.
func movieTicks(d time.Duration, ts int64) uint32 {
	if d <= 0 {
		return 0
	}
	return uint32(min(scale(d, ts), math.MaxUint32))
}

// ceilTicks is a duration in ticks of ts, rounded up.
func ceilTicks(d time.Duration, ts int64) uint32 {
	if d <= 0 {
		return 0
	}
	q, r := int64(d)/int64(time.Second), int64(d)%int64(time.Second)
	v := q*ts + (r*ts+int64(time.Second)-1)/int64(time.Second)
	return uint32(min(v, math.MaxUint32))
}

// ticksDuration converts ticks of timescale ts back to a duration.
func ticksDuration(n, ts int64) time.Duration {
	if ts <= 0 {
		return 0
	}
	return time.Duration(n/ts)*time.Second + time.Duration((n%ts)*int64(time.Second)/ts)
}

// edit is one edit list entry: dur in movie ticks, mediaTime in the
// track's media ticks; mediaTime -1 is an empty edit.
type edit struct {
	dur       uint32
	mediaTime int32
}

// initLayout says where the fields patched at finalization live in the
// encoded init segment (offsets from the start of the file).
type initLayout struct {
	mvhdDur int64   // mvhd v0 duration
	mehdDur int64   // mehd v0 fragment_duration
	tkhdDur []int64 // per track, tkhd v0 duration
	elst    []int64 // per track, start of the elst box
}

// initSpec is what an init segment describes.
type initSpec struct {
	info    media.StreamInfo
	mov     bool // QuickTime layout
	created time.Time
	edits   [][]edit // per track: video, then audio
	movieTS uint32   // mvhd timescale
	buf     []byte   // encoded into (reused when it is large enough)
	// entries, when set, keeps the encoded sample entries (avc1, mp4a):
	// they are the same in every segment of a recording.
	entries *[2][]byte
}

// sampleEntry writes track k's sample entry with build, or the bytes it
// wrote for an earlier segment.
func (s initSpec) sampleEntry(w *boxWriter, k int, build func()) {
	if s.entries == nil {
		build()
		return
	}
	if b := s.entries[k]; b != nil {
		w.raw(b)
		return
	}
	start := len(w.b)
	build()
	s.entries[k] = append([]byte(nil), w.b[start:]...)
}

// buildInit encodes ftyp+moov for a fragmented file: an empty sample table
// per track, an edit list per track so that presentation starts at the
// segment's first video frame, and mvex with mehd and trex. moov is the
// last box, so that udta (appendMarker) can follow inside it. With mov, the boxes are laid out as QuickTime (and
// FFmpeg's mov muxer) write them: hdlr with component types, a data
// handler in minf, a version-1 sound description with wave and chan, and
// nclc colour.
func buildInit(s initSpec) ([]byte, initLayout, error) {
	var lay initLayout
	v, a := s.info.Video, s.info.Audio
	if v == nil || len(v.SPS) < 4 || len(v.PPS) == 0 {
		return nil, lay, fmt.Errorf("video parameter sets: SPS of %d and PPS of %d bytes", len(v.SPS), len(v.PPS))
	}
	ntracks := 1
	if a != nil {
		ntracks = 2
	}
	if len(s.edits) != ntracks {
		return nil, lay, fmt.Errorf("init segment: %d edit lists for %d tracks", len(s.edits), ntracks)
	}
	var created uint32
	if secs := s.created.Unix() + 2082844800; secs > 0 && secs <= math.MaxUint32 {
		created = uint32(secs) // seconds since 1904
	}
	// Room for the chapter space too (control.go), appended to moov.
	w := &boxWriter{b: s.buf[:0]}
	if need := 1536 + len(v.SPS) + len(v.PPS) + chapterSpace; cap(w.b) < need {
		w.b = make([]byte, 0, need)
	}

	ftyp := w.open("ftyp")
	if s.mov {
		// A QuickTime movie: players and ffprobe treat "qt  " files as MOV.
		w.str("qt  ")
		w.u32(0x20050300)
		w.str("qt  ")
	} else {
		// iso6 covers tfdt v1 and default-base-is-moof; avc1/mp41 for older readers.
		w.str("isom")
		w.u32(0x200)
		w.str("isomiso6avc1mp41")
	}
	w.end(ftyp)

	moov := w.open("moov")
	mvhd := w.full("mvhd", 0, 0)
	w.u32(created)
	w.u32(created)
	w.u32(s.movieTS)
	lay.mvhdDur = int64(len(w.b))
	w.u32(0) // duration, patched
	w.u32(0x00010000)
	w.u16(0x0100)
	w.zero(10)
	w.matrix()
	w.zero(24)
	w.u32(uint32(ntracks + 1)) // next_track_ID
	w.end(mvhd)

	// Video track.
	trak := w.open("trak")
	lay.tkhdDur = append(lay.tkhdDur, tkhd(w, created, videoTrackID, false, v.Width, v.Height))
	lay.elst = append(lay.elst, edts(w, s.edits[0]))
	mdia := w.open("mdia")
	mdhd(w, created, videoTimescale)
	hdlr(w, s.mov, "mhlr", "vide", videoHandlerName)
	minf := w.open("minf")
	vmhd := w.full("vmhd", 0, 1)
	w.zero(8)
	w.end(vmhd)
	dinf(w, s.mov)
	stbl := w.open("stbl")
	stsd := w.full("stsd", 0, 0)
	w.u32(1)
	s.sampleEntry(w, 0, func() { avc1(w, v, s.mov) })
	w.end(stsd)
	emptyTables(w)
	w.end(stbl)
	w.end(minf)
	w.end(mdia)
	w.end(trak)

	if a != nil {
		if a.SampleRate <= 0 || len(a.ASC) == 0 {
			return nil, lay, fmt.Errorf("audio config: rate %d, AudioSpecificConfig of %d bytes", a.SampleRate, len(a.ASC))
		}
		trak := w.open("trak")
		lay.tkhdDur = append(lay.tkhdDur, tkhd(w, created, audioTrackID, true, 0, 0))
		lay.elst = append(lay.elst, edts(w, s.edits[1]))
		mdia := w.open("mdia")
		mdhd(w, created, uint32(a.SampleRate))
		hdlr(w, s.mov, "mhlr", "soun", soundHandlerName)
		minf := w.open("minf")
		smhd := w.full("smhd", 0, 0)
		w.zero(4)
		w.end(smhd)
		dinf(w, s.mov)
		stbl := w.open("stbl")
		stsd := w.full("stsd", 0, 0)
		w.u32(1)
		s.sampleEntry(w, 1, func() { mp4a(w, a, s.mov) })
		w.end(stsd)
		emptyTables(w)
		w.end(stbl)
		w.end(minf)
		w.end(mdia)
		w.end(trak)
	}

	mvex := w.open("mvex")
	mehd := w.full("mehd", 0, 0) // first child of mvex, as 14496-12 orders it
	lay.mehdDur = int64(len(w.b))
	w.u32(0)
	w.end(mehd)
	for id := uint32(1); id <= uint32(ntracks); id++ {
		trex := w.full("trex", 0, 0)
		w.u32(id)
		w.u32(1) // sample description index
		w.zero(12)
		w.end(trex)
	}
	w.end(mvex)

	// udta (the marker and room for chapters) is appended by the
	// recorder: control.go addChapterSpace.
	w.end(moov)
	return w.b, lay, nil
}

// tkhd writes a track header and returns the offset of its duration.
func tkhd(w *boxWriter, created uint32, id uint32, audio bool, width, height int) int64 {
	off := w.full("tkhd", 0, 3) // enabled, in movie
	w.u32(created)
	w.u32(created)
	w.u32(id)
	w.u32(0)
	dur := int64(len(w.b))
	w.u32(0) // duration, patched
	w.zero(8)
	w.u16(0) // layer
	if audio {
		w.u16(1)      // alternate group
		w.u16(0x0100) // volume 1.0
	} else {
		w.u16(0)
		w.u16(0)
	}
	w.u16(0)
	w.matrix()
	w.u32(uint32(width) << 16)
	w.u32(uint32(height) << 16)
	w.end(off)
	return dur
}

// edts writes an edit list and returns the offset of its elst box, which
// finalization rewrites in place (the entry count never changes).
func edts(w *boxWriter, edits []edit) int64 {
	e := w.open("edts")
	off := int64(len(w.b))
	w.b = encodeElst(w.b, edits)
	w.end(e)
	return off
}

// encodeElst encodes an elst box (v0) with the given entries.
func encodeElst(dst []byte, edits []edit) []byte {
	n := 16 + 12*len(edits)
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	dst = append(dst, "elst"...)
	dst = binary.BigEndian.AppendUint32(dst, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(edits)))
	for _, e := range edits {
		dst = binary.BigEndian.AppendUint32(dst, e.dur)
		dst = binary.BigEndian.AppendUint32(dst, uint32(e.mediaTime))
		dst = binary.BigEndian.AppendUint32(dst, 0x00010000) // rate 1.0
	}
	return dst
}

// mdhd writes a media header. Its duration is 0: a fragmented file's
// samples are in the fragments.
func mdhd(w *boxWriter, created, timescale uint32) {
	off := w.full("mdhd", 0, 0)
	w.u32(created)
	w.u32(created)
	w.u32(timescale)
	w.u32(0)
	w.u16(0x55c4) // language "und"
	w.u16(0)
	w.end(off)
}

// hdlr writes a handler box: ISO form (pre_defined 0, a C string) or the
// QuickTime form (component type, a counted string).
func hdlr(w *boxWriter, mov bool, component, subtype, name string) {
	off := w.full("hdlr", 0, 0)
	if mov {
		w.str(component)
	} else {
		w.u32(0)
	}
	w.str(subtype)
	w.zero(12)
	if mov {
		w.pascal(name)
	} else {
		w.str(name)
		w.u8(0)
	}
	w.end(off)
}

// dinf: the media data is in this file. QuickTime also wants the data
// handler's hdlr in minf, ahead of dinf.
func dinf(w *boxWriter, mov bool) {
	if mov {
		hdlr(w, true, "dhlr", "url ", dataHandlerName)
	}
	d := w.open("dinf")
	dref := w.full("dref", 0, 0)
	w.u32(1)
	u := w.full("url ", 0, 1) // self-contained
	w.end(u)
	w.end(dref)
	w.end(d)
}

// emptyTables: a fragmented file's sample table holds no samples.
func emptyTables(w *boxWriter) {
	for _, t := range [...]string{"stts", "stsc"} {
		off := w.full(t, 0, 0)
		w.u32(0)
		w.end(off)
	}
	stsz := w.full("stsz", 0, 0)
	w.u32(0)
	w.u32(0)
	w.end(stsz)
	stco := w.full("stco", 0, 0)
	w.u32(0)
	w.end(stco)
}
