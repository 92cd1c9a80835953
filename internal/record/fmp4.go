package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/livecap/livecap/internal/media"
)

// Timescales. Video uses 90 kHz, which every common frame rate divides
// closely enough (the sample durations are computed from absolute PTS, so
// rounding never accumulates). Audio uses its sample rate, so the edit list
// can trim priming to the exact sample. The movie timescale (mvhd, tkhd,
// elst, mehd) is 1 ms: 32-bit fields then hold 49 days.
const (
	videoTimescale = 90000
	movieTimescale = 1000
)

const (
	videoTrackID = 1
	// sample_flags (ISO/IEC 14496-12 8.8.3.1): a sync sample depends on
	// nothing; any other is a non-sync sample that depends on others.
	flagsSync    = 0x02000000
	flagsNonSync = 0x01010000
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

// ceilMs is a duration in movie ticks, rounded up so that an edit never
// ends before the last sample it should show starts.
func ceilMs(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	v := (int64(d) + int64(time.Millisecond) - 1) / int64(time.Millisecond)
	if v > math.MaxUint32 {
		v = math.MaxUint32
	}
	return uint32(v)
}

// edit is one edit list entry in movie ticks; mediaTime -1 is an empty edit.
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

// buildInit encodes ftyp+moov for a fragmented file: an (empty) sample
// table per track, mvex with mehd and trex, and an edit list per track so
// that presentation starts at the segment's first video frame.
func buildInit(info media.StreamInfo, format string, created time.Time, edits [][]edit) ([]byte, initLayout, error) {
	var lay initLayout
	init := mp4.NewMP4Init()
	if format == "mov" {
		// A QuickTime movie: players and ffprobe treat "qt  " files as MOV.
		init.AddChild(mp4.NewFtyp("qt  ", 0x20050300, []string{"qt  "}))
	} else {
		// iso6 covers tfdt v1 and default-base-is-moof; avc1/mp41 for older readers.
		init.AddChild(mp4.NewFtyp("isom", 0x200, []string{"isom", "iso6", "avc1", "mp41"}))
	}
	moov := mp4.NewMoovBox()
	init.AddChild(moov)
	mvhd := mp4.CreateMvhd()
	mvhd.Timescale = movieTimescale
	secs := created.Unix() + mp4.EpochDiffS
	if secs > 0 && secs <= math.MaxUint32 {
		mvhd.CreationTime, mvhd.ModificationTime = uint64(secs), uint64(secs)
	}
	moov.AddChild(mvhd)
	mvex := mp4.NewMvexBox()
	mvex.AddChild(&mp4.MehdBox{}) // first child of mvex, as 14496-12 orders it
	moov.AddChild(mvex)

	ti := 0
	addEdits := func(trak *mp4.TrakBox) {
		elst := &mp4.ElstBox{}
		for _, e := range edits[ti] {
			elst.Entries = append(elst.Entries, mp4.ElstEntry{SegmentDuration: uint64(e.dur), MediaTime: int64(e.mediaTime), MediaRateInteger: 1})
		}
		edts := &mp4.EdtsBox{}
		edts.AddChild(elst)
		// edts belongs right after tkhd; AddChild would append it after mdia.
		trak.Edts = edts
		trak.Children = append([]mp4.Box{trak.Children[0], edts}, trak.Children[1:]...)
		ti++
	}
	if v := info.Video; v != nil {
		trak := init.AddEmptyTrack(videoTimescale, "video", "und")
		if err := trak.SetAVCDescriptor("avc1", [][]byte{v.SPS}, [][]byte{v.PPS}, true); err != nil {
			return nil, lay, fmt.Errorf("video parameter sets: %w", err)
		}
		addEdits(trak)
	}
	if a := info.Audio; a != nil {
		trak := init.AddEmptyTrack(uint32(a.SampleRate), "audio", "und")
		// The esds carries the encoder's own AudioSpecificConfig: mp4ff's
		// SetAACDescriptor rebuilds one that always says stereo.
		esds := mp4.CreateEsdsBox(a.ASC)
		esds.DecConfigDescriptor.AvgBitrate = uint32(a.Bitrate)
		esds.DecConfigDescriptor.MaxBitrate = uint32(a.Bitrate)
		rate := a.SampleRate
		if rate > math.MaxUint16 {
			rate = 0 // the 16.16 field cannot hold it; the esds is authoritative
		}
		mp4a := mp4.CreateAudioSampleEntryBox("mp4a", uint16(a.Channels), 16, uint16(rate), esds)
		trak.Mdia.Minf.Stbl.Stsd.AddChild(mp4a)
		addEdits(trak)
	}
	var buf bytes.Buffer
	if err := init.Encode(&buf); err != nil {
		return nil, lay, fmt.Errorf("encode init segment: %w", err)
	}
	b := buf.Bytes()
	if err := locate(b, 0, int64(len(b)), &lay); err != nil {
		return nil, lay, err
	}
	if lay.mvhdDur == 0 || lay.mehdDur == 0 || len(lay.tkhdDur) != len(edits) || len(lay.elst) != len(edits) {
		return nil, lay, errors.New("init segment: mvhd/mehd/tkhd/elst not where expected")
	}
	return b, lay, nil
}

// locate walks the encoded init and records the offsets of the fields
// patched when a file is finalized. All those boxes are version 0.
func locate(b []byte, start, end int64, lay *initLayout) error {
	for p := start; p+8 <= end; {
		size := int64(binary.BigEndian.Uint32(b[p:]))
		typ := string(b[p+4 : p+8])
		if size < 8 || p+size > end {
			return fmt.Errorf("init segment: bad box %q at %d", typ, p)
		}
		switch typ {
		case "moov", "trak", "edts", "mvex":
			if err := locate(b, p+8, p+size, lay); err != nil {
				return err
			}
		case "mvhd":
			lay.mvhdDur = p + 24
		case "mehd":
			lay.mehdDur = p + 12
		case "tkhd":
			lay.tkhdDur = append(lay.tkhdDur, p+28)
		case "elst":
			lay.elst = append(lay.elst, p)
		}
		p += size
	}
	return nil
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

// sample is one trun entry.
type sample struct {
	dur, size, flags uint32
}

// trackFrag is one track's part of a fragment.
type trackFrag struct {
	id      uint32
	base    uint64 // tfdt
	flags   bool   // per-sample flags (video)
	samples []sample
	bytes   int
}

// appendMoof encodes moof (mfhd, one traf per track that has samples) and
// the mdat header into dst. It is written by hand, into a reused buffer,
// because it is the only per-fragment box: no allocation per sample.
// Sample data follows in mdat in track order.
func appendMoof(dst []byte, seq uint32, tracks []trackFrag) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 'm', 'o', 'o', 'f')
	dst = binary.BigEndian.AppendUint32(dst, 16)
	dst = append(dst, "mfhd"...)
	dst = binary.BigEndian.AppendUint32(dst, 0)
	dst = binary.BigEndian.AppendUint32(dst, seq)
	var offsets []int // positions of the data_offset fields, patched below
	var offBuf [4]int
	offsets = offBuf[:0]
	for _, t := range tracks {
		if len(t.samples) == 0 {
			continue
		}
		per := 8
		trunFlags := uint32(0x000001 | 0x000100 | 0x000200) // data offset, duration, size
		if t.flags {
			per = 12
			trunFlags |= 0x000400
		}
		trunSize := 20 + per*len(t.samples)
		trafSize := 8 + 16 + 20 + trunSize
		dst = binary.BigEndian.AppendUint32(dst, uint32(trafSize))
		dst = append(dst, "traf"...)
		dst = binary.BigEndian.AppendUint32(dst, 16)
		dst = append(dst, "tfhd"...)
		dst = binary.BigEndian.AppendUint32(dst, 0x020000) // default-base-is-moof
		dst = binary.BigEndian.AppendUint32(dst, t.id)
		dst = binary.BigEndian.AppendUint32(dst, 20)
		dst = append(dst, "tfdt"...)
		dst = binary.BigEndian.AppendUint32(dst, 1<<24) // version 1: 64-bit time
		dst = binary.BigEndian.AppendUint64(dst, t.base)
		dst = binary.BigEndian.AppendUint32(dst, uint32(trunSize))
		dst = append(dst, "trun"...)
		dst = binary.BigEndian.AppendUint32(dst, trunFlags)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(t.samples)))
		offsets = append(offsets, len(dst))
		dst = append(dst, 0, 0, 0, 0)
		for _, s := range t.samples {
			dst = binary.BigEndian.AppendUint32(dst, s.dur)
			dst = binary.BigEndian.AppendUint32(dst, s.size)
			if t.flags {
				dst = binary.BigEndian.AppendUint32(dst, s.flags)
			}
		}
	}
	moofSize := len(dst) - start
	binary.BigEndian.PutUint32(dst[start:], uint32(moofSize))
	off := moofSize + 8
	i := 0
	total := 0
	for _, t := range tracks {
		if len(t.samples) == 0 {
			continue
		}
		binary.BigEndian.PutUint32(dst[offsets[i]:], uint32(off))
		off += t.bytes
		total += t.bytes
		i++
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(8+total))
	dst = append(dst, "mdat"...)
	return dst
}
