// Package input reads pre-encoded H.264 + AAC media from an MP4 or MOV file
// (fragmented, as livecap records, or progressive, as ffmpeg writes by
// default) and hands its access units to the fan-out as media.Packets, with
// no decoding and no re-encoding. `livecap stream --input FILE` uses it to
// restream a recording, and the benchmarks use it to measure what livecap
// costs apart from the encoder.
//
// Timestamps follow package media: one timeline, zero at the presentation
// time of the first video frame (after the track's edit list), audio PTS
// including the AAC priming named by the audio edit list (so the first audio
// packets may be negative), PTS == DTS for video without B-frames.
//
// The file is streamed: a progressive file's sample tables (about 40 bytes
// per sample) and one fragment at a time of a fragmented file are held in
// memory, and each sample's bytes are read only when its packet is emitted.
//
// Pre-encoded input cannot honour a keyframe request: the keyframes are the
// ones in the file. A recorder that asks for an IDR at a segment boundary
// therefore cuts its segment at the next keyframe of the file, and a
// publisher that reconnects resumes at the next keyframe.
package input

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/avc"
	"github.com/Eyevinn/mp4ff/bits"
	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/livecap/livecap/internal/h264"
	"github.com/livecap/livecap/internal/media"
)

// Limits on sizes read from the file. Every size is also checked against
// the size of the file itself, so a damaged or hostile file can make the
// reader allocate at most a small multiple of its own size.
const (
	maxMoov = 256 << 20 // a 10-hour progressive moov is ~30 MB
	// A moof describes a second or a few of media in a few kB. mp4ff may
	// allocate up to ~1000x a moof's size (a 16-byte trun may announce
	// 1024 default-valued samples), so the cap matters more than for moov.
	maxMoof       = 16 << 20
	maxSampleSize = 64 << 20 // one access unit (a 4K intra frame is a few MB)
)

// Options control how Run emits packets.
type Options struct {
	// Realtime paces packets in real time: each leaves at the instant Run
	// started plus its DTS (relative to the first packet's). The command
	// line sets it unless --fast is given; when false, packets leave as
	// fast as out accepts them.
	Realtime bool
	// Loop restarts at the end of the file, timestamps continuing so that
	// each track stays monotonic across the seam.
	Loop bool
	// Clock, when set, stamps Packet.Encoded (the session clock, so that
	// latency figures share the pipeline's timeline). When nil, Encoded is
	// the time since Run started.
	Clock media.Clock
}

// Reader reads one file. It is not safe for concurrent use; Run may be
// called more than once (each call starts from the beginning of the file).
type Reader struct {
	ra   io.ReaderAt
	c    io.Closer
	size int64
	o    Options

	movieTimescale uint32
	// otherVideo names the video tracks that are not H.264 ("hev1"):
	// restreamed without, so the session refuses the file.
	otherVideo   []string
	video, audio *track
	tracks       []*track // the non-nil of video, audio
	info         media.StreamInfo
	zero         time.Duration // presentation time of the first video frame

	pos     int64 // next top-level box to look at for a moof
	fragEOF bool  // no more moofs
	// Truncated is set when samples were dropped because the file ends
	// inside their data (a recording cut short by a crash).
	truncated bool
}

type sample struct {
	off  int64
	size uint32
	dur  uint32
	dts  int64 // track timescale
	cto  int32
	sync bool
}

type track struct {
	kind       media.Kind
	id         uint32
	timescale  int64
	mediaTime  int64         // first non-empty edit's media_time, track ticks
	emptyEdit  time.Duration // leading empty edits
	lengthSize int           // NAL length size (video)
	trex       *mp4.TrexBox
	avc        *mp4.VisualSampleEntryBox // video sample entry
	mp4a       *mp4.AudioSampleEntryBox  // audio sample entry

	base    []sample // from the moov's sample table; never modified
	baseEnd int64    // decode time after the last base sample
	queue   []sample // pending samples, queue[head:] not yet emitted
	head    int
	nextDTS int64 // decode time after the last queued sample
	done    bool  // the file ends inside this track's data

	seq             uint64
	gotKey          bool
	passFirst       time.Duration
	passEnd         time.Duration
	passStarted     bool
	truncatedSample bool
}

// Open opens path and reads its header: the moov box, and for a fragmented
// file the first fragment, enough to fill Info.
func Open(path string, o Options) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("input: %w", err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("input: %s is not a regular file", path)
	}
	r, err := newReader(f, st.Size(), o)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("input %s: %w", path, err)
	}
	r.c = f
	return r, nil
}

// newReader does the work of Open on any ReaderAt of known size (the fuzz
// target feeds it bytes).
func newReader(ra io.ReaderAt, size int64, o Options) (*Reader, error) {
	r := &Reader{ra: ra, size: size, o: o}
	if err := r.readMoov(); err != nil {
		return nil, err
	}
	if err := r.fill(r.video); err != nil {
		return nil, err
	}
	if err := r.fill(r.audio); err != nil {
		return nil, err
	}
	if err := r.setInfo(); err != nil {
		return nil, err
	}
	return r, nil
}

// Info describes the streams: SPS/PPS from the avcC record, the
// AudioSpecificConfig from the esds, sizes, a frame-rate estimate and the
// AAC priming from the audio edit list (0 without one).
func (r *Reader) Info() media.StreamInfo { return r.info }

// OtherVideo lists the sample entries ("hev1", "av01") of video tracks the
// reader cannot restream (only H.264 is).
func (r *Reader) OtherVideo() []string { return r.otherVideo }

// Truncated reports whether the file ended inside sample data that was
// therefore skipped (a recording cut short by a crash).
func (r *Reader) Truncated() bool { return r.truncated }

// Close closes the file.
func (r *Reader) Close() error {
	if r.c == nil {
		return nil
	}
	return r.c.Close()
}

// boxHeader is a top-level box as found in the file.
type boxHeader struct {
	typ       string
	start     int64
	size      int64 // clamped to the end of the file when truncated
	hdrLen    int64
	truncated bool // the box claims to run past the end of the file
}

var errNoBox = errors.New("no box")

func (r *Reader) readHeader(pos int64) (boxHeader, error) {
	var b [16]byte
	if r.size-pos < 8 {
		return boxHeader{}, errNoBox
	}
	if _, err := r.ra.ReadAt(b[:8], pos); err != nil {
		return boxHeader{}, err
	}
	h := boxHeader{typ: string(b[4:8]), start: pos, hdrLen: 8}
	size := uint64(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
	switch size {
	case 0: // to the end of the file
		size = uint64(r.size - pos)
	case 1:
		if r.size-pos < 16 {
			return boxHeader{}, errNoBox
		}
		if _, err := r.ra.ReadAt(b[8:16], pos+8); err != nil {
			return boxHeader{}, err
		}
		size = 0
		for _, c := range b[8:16] {
			size = size<<8 | uint64(c)
		}
		h.hdrLen = 16
	}
	if size < uint64(h.hdrLen) {
		return boxHeader{}, fmt.Errorf("box %q at offset %d has size %d, smaller than its header", h.typ, pos, size)
	}
	if size > uint64(r.size-pos) {
		h.truncated = true
		size = uint64(r.size - pos)
	}
	h.size = int64(size)
	return h, nil
}

// rethrow makes decodeBox re-panic instead of returning an error, so that
// the fuzz target sees a panic inside mp4ff rather than hiding it.
var rethrow = false

// decodeBox decodes one whole box held in buf. mp4ff decodes from a
// bounded slice, so no allocation can exceed the box. A panic in the parser
// on a damaged file becomes an error: a bad input file must not bring down
// a live stream.
func decodeBox(buf []byte, pos int64) (b mp4.Box, err error) {
	defer func() {
		if p := recover(); p != nil {
			if rethrow {
				panic(p)
			}
			b, err = nil, fmt.Errorf("malformed box at offset %d: %v", pos, p)
		}
	}()
	return mp4.DecodeBoxSR(uint64(pos), bits.NewFixedSliceReader(buf))
}

func (r *Reader) readBox(h boxHeader, limit int64) ([]byte, error) {
	if h.truncated {
		return nil, fmt.Errorf("box %q at offset %d runs past the end of the %d-byte file", h.typ, h.start, r.size)
	}
	if h.size > limit {
		return nil, fmt.Errorf("box %q at offset %d is %d bytes; at most %d are accepted", h.typ, h.start, h.size, limit)
	}
	buf := make([]byte, h.size)
	if _, err := r.ra.ReadAt(buf, h.start); err != nil {
		return nil, fmt.Errorf("reading box %q at offset %d: %w", h.typ, h.start, err)
	}
	if h.hdrLen == 16 {
		// mp4ff accepts a 64-bit size only on mdat; a small box has no
		// need of one, so rewrite the header in the 32-bit form.
		if h.size-8 > 0xffffffff {
			return nil, fmt.Errorf("box %q at offset %d is too large", h.typ, h.start)
		}
		buf = buf[8:]
		sz := uint32(h.size - 8)
		buf[0], buf[1], buf[2], buf[3] = byte(sz>>24), byte(sz>>16), byte(sz>>8), byte(sz)
		copy(buf[4:8], h.typ)
	}
	return buf, nil
}

func (r *Reader) readMoov() error {
	for pos := int64(0); pos < r.size; {
		h, err := r.readHeader(pos)
		if err != nil {
			if err == errNoBox {
				break
			}
			return err
		}
		if h.typ == "moov" {
			buf, err := r.readBox(h, maxMoov)
			if err != nil {
				return err
			}
			lengthSizes := patchAvcC(buf)
			b, err := decodeBox(buf, h.start)
			if err != nil {
				return fmt.Errorf("moov: %w", err)
			}
			moov, ok := b.(*mp4.MoovBox)
			if !ok {
				return fmt.Errorf("moov at offset %d did not decode as a movie box", h.start)
			}
			return r.setTracks(moov, lengthSizes)
		}
		if h.truncated {
			break
		}
		pos += h.size
	}
	return errors.New("no moov box: not an MP4/MOV file, or a recording whose header was never written")
}

func (r *Reader) setTracks(moov *mp4.MoovBox, lengthSizes []int) error {
	if moov.Mvhd != nil {
		r.movieTimescale = moov.Mvhd.Timescale
	}
	var seen []string
	for i, trak := range moov.Traks {
		if trak == nil || trak.Tkhd == nil || trak.Mdia == nil || trak.Mdia.Mdhd == nil || trak.Mdia.Hdlr == nil ||
			trak.Mdia.Minf == nil || trak.Mdia.Minf.Stbl == nil || trak.Mdia.Minf.Stbl.Stsd == nil {
			continue
		}
		stsd := trak.Mdia.Minf.Stbl.Stsd
		kind := trak.Mdia.Hdlr.HandlerType
		t := &track{id: trak.Tkhd.TrackID, timescale: int64(trak.Mdia.Mdhd.Timescale)}
		switch {
		case kind == "vide" && r.video == nil && stsd.AvcX != nil && stsd.AvcX.AvcC != nil:
			t.kind = media.Video
			t.avc = stsd.AvcX
			t.lengthSize = 4
			if i < len(lengthSizes) && lengthSizes[i] != 0 {
				t.lengthSize = lengthSizes[i]
			}
		case kind == "soun" && r.audio == nil && stsd.Mp4a != nil && esdsOf(stsd.Mp4a) != nil:
			t.kind = media.Audio
			t.mp4a = stsd.Mp4a
		default:
			seen = append(seen, fmt.Sprintf("track %d: %s %s", trak.Tkhd.TrackID, kind, sampleEntryName(stsd)))
			if kind == "vide" {
				r.otherVideo = append(r.otherVideo, sampleEntryName(stsd))
			}
			continue
		}
		if t.timescale == 0 {
			return fmt.Errorf("track %d: media timescale is 0", t.id)
		}
		r.setEdits(t, trak)
		if moov.Mvex != nil {
			for _, trex := range moov.Mvex.Trexs {
				if trex != nil && trex.TrackID == t.id {
					t.trex = trex
				}
			}
		}
		base, err := r.stblSamples(t, trak.Mdia.Minf.Stbl)
		if err != nil {
			return fmt.Errorf("track %d: %w", t.id, err)
		}
		t.base = slices.Clip(base)
		if len(base) > 0 {
			last := base[len(base)-1]
			t.baseEnd = last.dts + int64(last.dur)
		}
		if t.kind == media.Video {
			r.video = t
		} else {
			r.audio = t
		}
	}
	if r.video == nil && r.audio == nil {
		return fmt.Errorf("H.264 video and AAC audio only: no H.264 (avc1/avc3) video or AAC (mp4a) audio track (found: %v)", seen)
	}
	for _, t := range []*track{r.video, r.audio} {
		if t != nil {
			r.tracks = append(r.tracks, t)
		}
	}
	r.rewind()
	return nil
}

func sampleEntryName(stsd *mp4.StsdBox) string {
	for _, c := range stsd.Children {
		if c != nil {
			return c.Type()
		}
	}
	return "(no sample entry)"
}

// esdsOf finds the esds of an mp4a entry: directly inside it (MP4), or
// inside its wave box (QuickTime sound description version 1).
func esdsOf(e *mp4.AudioSampleEntryBox) *mp4.EsdsBox {
	if e.Esds != nil {
		return e.Esds
	}
	if e.Wave != nil {
		return e.Wave.Esds
	}
	return nil
}

func (r *Reader) setEdits(t *track, trak *mp4.TrakBox) {
	if trak.Edts == nil || len(trak.Edts.Elst) == 0 || trak.Edts.Elst[0] == nil {
		return
	}
	for _, e := range trak.Edts.Elst[0].Entries {
		if e.MediaTime == -1 {
			if r.movieTimescale != 0 && e.SegmentDuration < 1<<62 {
				t.emptyEdit += ticks(int64(e.SegmentDuration), int64(r.movieTimescale))
			}
			continue
		}
		t.mediaTime = e.MediaTime
		return
	}
}

// ticks converts a count of timescale units to a duration without
// overflowing for any timescale that fits in 32 bits.
func ticks(n, timescale int64) time.Duration {
	return time.Duration(n/timescale)*time.Second + time.Duration((n%timescale)*int64(time.Second)/timescale)
}

// present maps a media time of t onto the movie timeline.
func (t *track) present(n int64) time.Duration {
	return ticks(n-t.mediaTime, t.timescale) + t.emptyEdit
}

// stblSamples expands a progressive sample table into one entry per sample,
// checking every count against what the file can hold.
func (r *Reader) stblSamples(t *track, stbl *mp4.StblBox) ([]sample, error) {
	if stbl.Stsz == nil || stbl.Stsz.SampleNumber == 0 {
		return nil, nil
	}
	stsz := stbl.Stsz
	count := uint64(stsz.SampleNumber)
	if stsz.SampleUniformSize == 0 {
		count = uint64(len(stsz.SampleSize))
	} else if count > uint64(r.size)/uint64(stsz.SampleUniformSize) {
		return nil, fmt.Errorf("stsz: %d samples of %d bytes do not fit in a %d-byte file", count, stsz.SampleUniformSize, r.size)
	}
	if stbl.Stts == nil || stbl.Stsc == nil || (stbl.Stco == nil && stbl.Co64 == nil) {
		return nil, errors.New("sample table lacks stts, stsc or stco/co64")
	}
	s := make([]sample, count)
	for i := range s {
		if stsz.SampleUniformSize != 0 {
			s[i].size = stsz.SampleUniformSize
		} else {
			s[i].size = stsz.SampleSize[i]
		}
		s[i].sync = true
	}
	// Decode times.
	i := 0
	for e := 0; e < len(stbl.Stts.SampleCount) && e < len(stbl.Stts.SampleTimeDelta) && i < len(s); e++ {
		for n := uint32(0); n < stbl.Stts.SampleCount[e] && i < len(s); n++ {
			s[i].dur = stbl.Stts.SampleTimeDelta[e]
			i++
		}
	}
	var dts int64
	for i := range s {
		s[i].dts = dts
		dts += int64(s[i].dur)
	}
	// Composition offsets.
	if c := stbl.Ctts; c != nil {
		for e := 0; e < len(c.SampleOffset) && e+1 < len(c.EndSampleNr); e++ {
			for n := uint64(c.EndSampleNr[e]); n < uint64(c.EndSampleNr[e+1]) && n < count; n++ {
				s[n].cto = c.SampleOffset[e]
			}
		}
	}
	// Sync samples; without stss every sample is one.
	if stbl.Stss != nil && t.kind == media.Video {
		for i := range s {
			s[i].sync = false
		}
		for _, n := range stbl.Stss.SampleNumber {
			if n >= 1 && uint64(n) <= count {
				s[n-1].sync = true
			}
		}
	}
	// Offsets: chunks hold runs of consecutive samples.
	var chunks []uint64
	if stbl.Co64 != nil {
		chunks = stbl.Co64.ChunkOffset
	} else {
		chunks = make([]uint64, len(stbl.Stco.ChunkOffset))
		for i, o := range stbl.Stco.ChunkOffset {
			chunks[i] = uint64(o)
		}
	}
	si := 0
	entries := stbl.Stsc.Entries
	for e, ent := range entries {
		last := uint64(len(chunks))
		if e+1 < len(entries) {
			last = min(last, uint64(entries[e+1].FirstChunk)-1)
		}
		for c := uint64(ent.FirstChunk); c >= 1 && c <= last && si < len(s); c++ {
			off := chunks[c-1]
			for k := uint32(0); k < ent.SamplesPerChunk && si < len(s); k++ {
				s[si].off = int64(min(off, uint64(r.size)))
				off += uint64(s[si].size)
				si++
			}
		}
	}
	s = s[:si]
	for i := range s {
		if s[i].off+int64(s[i].size) > r.size {
			r.truncated = true
			s = s[:i]
			break
		}
	}
	return s, nil
}

// patchAvcC finds the avcC record of each trak in a moov box (held in buf),
// returns its NAL length size (by trak index; 0 when none), and rewrites the
// field to 4 bytes in buf, because mp4ff refuses other sizes and the reader
// converts the samples itself.
func patchAvcC(buf []byte) []int {
	var sizes []int
	var walk func(b []byte, skip int, trak int)
	walk = func(b []byte, skip int, trak int) {
		pos := skip
		for pos+8 <= len(b) {
			size := int(uint32(b[pos])<<24 | uint32(b[pos+1])<<16 | uint32(b[pos+2])<<8 | uint32(b[pos+3]))
			if size < 8 || size > len(b)-pos {
				return
			}
			box := b[pos : pos+size]
			switch string(box[4:8]) {
			case "trak":
				sizes = append(sizes, 0)
				walk(box, 8, len(sizes)-1)
			case "mdia", "minf", "stbl":
				walk(box, 8, trak)
			case "stsd":
				walk(box, 16, trak)
			case "avc1", "avc3":
				walk(box, 8+78, trak)
			case "avcC":
				if n := h264.ConfigLengthSize(box[8:]); n != 0 && trak >= 0 {
					sizes[trak] = n
					h264.SetConfigLengthSize4(box[8:])
				}
			}
			pos += size
		}
	}
	walk(buf, 8, -1)
	return sizes
}

// rewind sets every track back to the start of the file.
func (r *Reader) rewind() {
	r.pos = 0
	r.fragEOF = false
	for _, t := range r.tracks {
		t.queue = t.base
		t.head = 0
		t.nextDTS = t.baseEnd
		t.done = false
		t.gotKey = false
		t.passStarted = false
	}
}

func (t *track) pending() int {
	if t == nil {
		return 0
	}
	return len(t.queue) - t.head
}

// maxQueued bounds the read-ahead: when one track has ended (audio
// shorter than video) or a file groups long runs of one track, fill stops
// looking for the other track's next sample once this many samples wait,
// instead of reading the rest of the file's fragment headers into memory.
const maxQueued = 1 << 16

func (r *Reader) queued() int {
	n := 0
	for _, t := range r.tracks {
		n += t.pending()
	}
	return n
}

// fill reads fragments until t has a pending sample, the file ends or the
// read-ahead is full.
func (r *Reader) fill(t *track) error {
	for t != nil && t.pending() == 0 && !r.fragEOF && r.queued() < maxQueued {
		if err := r.readFragment(); err != nil {
			return err
		}
	}
	return nil
}

// readFragment parses the next moof, queueing its samples; at the end of
// the file it sets fragEOF.
func (r *Reader) readFragment() error {
	for r.pos < r.size {
		h, err := r.readHeader(r.pos)
		if err != nil {
			if err == errNoBox {
				break
			}
			return err
		}
		if h.truncated {
			// A recording cut short: whatever follows is incomplete.
			if h.typ == "moof" {
				r.truncated = true
			}
			break
		}
		r.pos += h.size
		if h.typ != "moof" {
			continue
		}
		buf, err := r.readBox(h, maxMoof)
		if err != nil {
			return err
		}
		b, err := decodeBox(buf, h.start)
		if err != nil {
			return fmt.Errorf("moof: %w", err)
		}
		moof, ok := b.(*mp4.MoofBox)
		if !ok {
			return fmt.Errorf("moof at offset %d did not decode as a fragment", h.start)
		}
		r.addFragment(moof, h.start)
		return nil
	}
	r.pos = r.size
	r.fragEOF = true
	return nil
}

func (r *Reader) trackByID(id uint32) *track {
	for _, t := range r.tracks {
		if t.id == id {
			return t
		}
	}
	return nil
}

func (r *Reader) addFragment(moof *mp4.MoofBox, moofStart int64) {
	prevEnd := moofStart
	for i, traf := range moof.Trafs {
		if traf == nil || traf.Tfhd == nil {
			continue
		}
		tfhd := traf.Tfhd
		t := r.trackByID(tfhd.TrackID)
		var trex *mp4.TrexBox
		dts := int64(0)
		if t != nil {
			trex = t.trex
			dts = t.nextDTS
		}
		// ISO/IEC 14496-12 8.8.7: without an explicit base, the first traf
		// starts at the moof and each later one where the previous ended.
		base := prevEnd
		switch {
		case tfhd.HasBaseDataOffset():
			base = int64(tfhd.BaseDataOffset)
		case tfhd.DefaultBaseIfMoof() || i == 0:
			base = moofStart
		}
		if traf.Tfdt != nil {
			dts = int64(traf.Tfdt.BaseMediaDecodeTime())
		}
		pos := base
		for _, trun := range traf.Truns {
			if trun == nil {
				continue
			}
			trun.AddSampleDefaultValues(tfhd, trex)
			if trun.HasDataOffset() {
				pos = base + int64(trun.DataOffset)
			}
			for _, s := range trun.Samples {
				if t != nil && !t.done {
					if pos < 0 || pos > r.size || int64(s.Size) > r.size-pos {
						// The file ends inside this fragment's data.
						t.done = true
						r.truncated = true
					} else {
						t.push(sample{
							off:  pos,
							size: s.Size,
							dur:  s.Dur,
							dts:  dts,
							cto:  s.CompositionTimeOffset,
							sync: t.kind == media.Audio || !mp4.DecodeSampleFlags(s.Flags).SampleIsNonSync,
						})
					}
				}
				pos += int64(s.Size)
				dts += int64(s.Dur)
			}
		}
		prevEnd = pos
		if t != nil {
			t.nextDTS = dts
		}
	}
}

func (t *track) push(s sample) {
	// Drop what was emitted before growing, so the queue holds at most a
	// couple of fragments; never write into base, which is shared by loops.
	if t.head > 0 && t.head == len(t.queue) {
		if len(t.base) > 0 && &t.queue[0] == &t.base[0] {
			t.queue = nil
		} else {
			t.queue = t.queue[:0]
		}
		t.head = 0
	}
	t.queue = append(t.queue, s)
}

// next returns the pending sample with the smallest decode time across the
// tracks, reading fragments as needed; ok is false at the end of the file.
func (r *Reader) next() (t *track, s sample, ok bool, err error) {
	for _, tr := range r.tracks {
		if err := r.fill(tr); err != nil {
			return nil, sample{}, false, err
		}
	}
	var best time.Duration
	for _, tr := range r.tracks {
		if tr.pending() == 0 {
			continue
		}
		d := tr.present(tr.queue[tr.head].dts)
		if t == nil || d < best {
			t, best = tr, d
		}
	}
	if t == nil {
		return nil, sample{}, false, nil
	}
	s = t.queue[t.head]
	t.head++
	return t, s, true, nil
}

func (r *Reader) setInfo() error {
	if v := r.video; v != nil {
		if v.pending() == 0 {
			return errors.New("the video track has no samples")
		}
		first := v.queue[v.head]
		r.zero = v.present(first.dts + int64(first.cto))
		cfg, err := r.videoConfig(v)
		if err != nil {
			return err
		}
		r.info.Video = cfg
	} else {
		r.zero = r.audio.emptyEdit
	}
	if a := r.audio; a != nil {
		cfg, err := r.audioConfig(a)
		if err != nil {
			return err
		}
		r.info.Audio = cfg
	}
	return nil
}

// estimate returns the median sample duration and the bitrate of the
// samples known so far (all of a progressive file, the first fragment of a
// fragmented one).
func estimate(t *track) (medianDur uint32, bitrate int) {
	q := t.queue[t.head:]
	var durs []uint32
	var bytes, ticks int64
	for i, s := range q {
		if i < 301 {
			durs = append(durs, s.dur)
		}
		bytes += int64(s.size)
		ticks += int64(s.dur)
	}
	if len(durs) > 0 {
		sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
		medianDur = durs[len(durs)/2]
	}
	if ticks > 0 {
		bitrate = int(float64(bytes) * 8 * float64(t.timescale) / float64(ticks))
	}
	return medianDur, bitrate
}

func (r *Reader) videoConfig(v *track) (*media.VideoConfig, error) {
	rec := v.avc.AvcC.DecConfRec
	cfg := &media.VideoConfig{Width: int(v.avc.Width), Height: int(v.avc.Height)}
	if len(rec.SPSnalus) > 0 {
		cfg.SPS = rec.SPSnalus[0]
	}
	if len(rec.PPSnalus) > 0 {
		cfg.PPS = rec.PPSnalus[0]
	}
	if cfg.SPS == nil || cfg.PPS == nil {
		// avc3: the parameter sets travel in band, at the first keyframe.
		s := v.queue[v.head]
		if s.size <= maxSampleSize {
			data := make([]byte, s.size)
			if _, err := r.ra.ReadAt(data, s.off); err != nil {
				return nil, fmt.Errorf("reading the first video sample: %w", err)
			}
			for _, nal := range h264.SplitNALs(data, v.lengthSize) {
				switch {
				case len(nal) == 0:
				case h264.Type(nal) == h264.NALSPS && cfg.SPS == nil:
					cfg.SPS = nal
				case h264.Type(nal) == h264.NALPPS && cfg.PPS == nil:
					cfg.PPS = nal
				}
			}
		}
	}
	if cfg.SPS == nil || cfg.PPS == nil {
		return nil, fmt.Errorf("track %d: no SPS/PPS in avcC nor in the first sample", v.id)
	}
	if cfg.Width == 0 || cfg.Height == 0 {
		sps, err := avc.ParseSPSNALUnit(cfg.SPS, false)
		if err != nil {
			return nil, fmt.Errorf("track %d: no size in the sample entry and an unreadable SPS: %w", v.id, err)
		}
		cfg.Width, cfg.Height = int(sps.Width), int(sps.Height)
	}
	d, br := estimate(v)
	if d > 0 {
		cfg.FPS = int((v.timescale + int64(d)/2) / int64(d))
	}
	cfg.Bitrate = br
	return cfg, nil
}

func (r *Reader) audioConfig(a *track) (*media.AudioConfig, error) {
	esds := esdsOf(a.mp4a)
	dcd := esds.DecConfigDescriptor
	if dcd == nil || dcd.DecSpecificInfo == nil || len(dcd.DecSpecificInfo.DecConfig) == 0 {
		return nil, fmt.Errorf("track %d: esds has no AudioSpecificConfig", a.id)
	}
	ascBytes := dcd.DecSpecificInfo.DecConfig
	asc, err := aac.DecodeAudioSpecificConfig(bytes.NewReader(ascBytes))
	if err != nil {
		return nil, fmt.Errorf("track %d: AudioSpecificConfig %x: %w (AAC-LC is supported)", a.id, ascBytes, err)
	}
	if asc.ObjectType != aac.AAClc {
		return nil, fmt.Errorf("track %d: AAC object type %d; only AAC-LC (2) is supported", a.id, asc.ObjectType)
	}
	cfg := &media.AudioConfig{
		SampleRate: asc.SamplingFrequency,
		Channels:   int(asc.ChannelConfiguration),
		ASC:        ascBytes,
		FrameSize:  1024,
	}
	if cfg.Channels == 7 {
		cfg.Channels = 8 // channel configuration 7 is 7.1
	}
	if cfg.Channels == 0 || cfg.Channels > 8 {
		cfg.Channels = int(a.mp4a.ChannelCount)
	}
	if cfg.SampleRate <= 0 {
		return nil, fmt.Errorf("track %d: AudioSpecificConfig %x has no sample rate", a.id, ascBytes)
	}
	if a.mediaTime > 0 && a.mediaTime < 1<<32 {
		// In samples at the codec's rate (the track timescale usually is
		// that rate already), rounded to the nearest.
		cfg.Priming = int((a.mediaTime*int64(cfg.SampleRate) + a.timescale/2) / a.timescale)
	}
	if a.pending() > 0 {
		_, cfg.Bitrate = estimate(a)
	}
	return cfg, nil
}

// ErrNoSamples is returned by Run when Loop is set and a pass over the file
// yields no packet (looping would spin).
var ErrNoSamples = errors.New("input: the file holds no samples")

// Run emits every packet of the file, video and audio merged in decode
// order, through out (which must not keep the packet's Data for writing:
// packets are immutable once handed over). It returns nil at the end of the
// input (never, with Loop) or once ctx is done, and an error if the file
// cannot be read.
func (r *Reader) Run(ctx context.Context, out func(*media.Packet)) error {
	r.rewind()
	for _, t := range r.tracks {
		t.seq = 0
	}
	start := time.Now()
	var (
		offset   time.Duration
		first    = true
		firstDTS time.Duration
		timer    *time.Timer
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		n := 0
		for {
			if ctx.Err() != nil {
				return nil
			}
			t, s, ok, err := r.next()
			if err != nil {
				return fmt.Errorf("input: %w", err)
			}
			if !ok {
				break
			}
			if t.kind == media.Video && !t.gotKey {
				// A decoder can start nowhere but at a keyframe.
				if !s.sync {
					continue
				}
				t.gotKey = true
			}
			pk, err := r.packet(t, s)
			if err != nil {
				return fmt.Errorf("input: %w", err)
			}
			if len(pk.Data) == 0 {
				// An empty sample (or one of nothing but parameter sets)
				// is no access unit a decoder or muxer wants.
				continue
			}
			if !t.passStarted {
				t.passStarted = true
				t.passFirst = pk.DTS
			}
			t.passEnd = pk.DTS + pk.Duration
			pk.PTS += offset
			pk.DTS += offset
			t.seq++
			if first {
				first = false
				firstDTS = pk.DTS
			}
			if r.o.Realtime {
				wait := time.Until(start.Add(pk.DTS - firstDTS))
				if wait > 0 {
					if timer == nil {
						timer = time.NewTimer(wait)
					} else {
						timer.Reset(wait)
					}
					select {
					case <-ctx.Done():
						return nil
					case <-timer.C:
					}
				}
			}
			if r.o.Clock != nil {
				pk.Encoded = r.o.Clock.Now()
			} else {
				pk.Encoded = time.Since(start)
			}
			out(pk)
			n++
		}
		if !r.o.Loop {
			return nil
		}
		if n == 0 {
			return ErrNoSamples
		}
		// Start the next pass where every track's previous one ended.
		var step time.Duration
		for _, t := range r.tracks {
			if t.passStarted && t.passEnd-t.passFirst > step {
				step = t.passEnd - t.passFirst
			}
		}
		offset += step
		r.rewind()
	}
}

// packet reads the bytes of one sample and makes its packet (timestamps
// relative to the file, before any loop offset).
func (r *Reader) packet(t *track, s sample) (*media.Packet, error) {
	if s.size > maxSampleSize {
		return nil, fmt.Errorf("%s sample at offset %d is %d bytes; at most %d are accepted", t.kind, s.off, s.size, maxSampleSize)
	}
	data := make([]byte, s.size)
	if _, err := r.ra.ReadAt(data, s.off); err != nil {
		return nil, fmt.Errorf("reading %s sample at offset %d: %w", t.kind, s.off, err)
	}
	pk := &media.Packet{
		Kind:     t.kind,
		DTS:      t.present(s.dts) - r.zero,
		Duration: ticks(int64(s.dur), t.timescale),
		Key:      s.sync,
		Seq:      t.seq,
	}
	pk.PTS = pk.DTS
	if t.kind == media.Video {
		pk.PTS = t.present(s.dts+int64(s.cto)) - r.zero
		var err error
		if pk.Data, err = h264.ToAVCC(data, t.lengthSize); err != nil {
			return nil, fmt.Errorf("video sample at offset %d: %w", s.off, err)
		}
	} else {
		pk.Data = data
	}
	return pk, nil
}
