package input

import (
	"errors"
	"fmt"
	"slices"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/livecap/livecap/internal/h264"
	"github.com/livecap/livecap/internal/media"
)

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
	for i, trak := range moov.Traks {
		if trak == nil || trak.Tkhd == nil || trak.Mdia == nil || trak.Mdia.Mdhd == nil || trak.Mdia.Hdlr == nil ||
			trak.Mdia.Minf == nil || trak.Mdia.Minf.Stbl == nil || trak.Mdia.Minf.Stbl.Stsd == nil {
			continue
		}
		stsd := trak.Mdia.Minf.Stbl.Stsd
		kind := trak.Mdia.Hdlr.HandlerType
		r.found = append(r.found, Track{ID: trak.Tkhd.TrackID, Kind: trackKind(kind), Codec: sampleEntryName(stsd)})
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
			continue
		}
		r.found[len(r.found)-1].Used = true
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
		return &UnsupportedError{Reason: "H.264 video and AAC audio only: no H.264 (avc1/avc3) video or AAC (mp4a) audio track", Tracks: r.found}
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
