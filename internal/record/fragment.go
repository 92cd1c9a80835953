package record

import "encoding/binary"

// sample is one trun entry. cto is the signed composition offset
// (presentation minus decode time, in the track's ticks): 0 without frame
// reordering.
type sample struct {
	dur, size, flags uint32
	cto              int32
}

// trackFrag is one track's part of a fragment.
type trackFrag struct {
	id      uint32
	base    uint64 // tfdt: decode time of the first sample
	flags   bool   // per-sample flags (video)
	samples []sample
	bytes   int
}

// hasCTO says whether any sample of the fragment is presented at another
// time than it is decoded: only then does the trun carry offsets.
func (t *trackFrag) hasCTO() bool {
	for _, s := range t.samples {
		if s.cto != 0 {
			return true
		}
	}
	return false
}

// trun flags (ISO/IEC 14496-12 8.8.8.1).
const (
	trunDataOffset = 0x000001
	trunDuration   = 0x000100
	trunSize       = 0x000200
	trunFlags      = 0x000400
	trunCTO        = 0x000800
)

// appendMoof encodes moof (mfhd, one traf per track that has samples) and
// the mdat header into dst. It is written by hand, into a reused buffer,
// because it is the only per-fragment box: no allocation per sample.
// Sample data follows in mdat in track order. A track whose samples carry
// composition offsets gets a version-1 trun (signed offsets, 14496-12
// 8.8.8): the offsets livecap writes are never negative, but version 1 is
// what says so for readers that check.
func appendMoof(dst []byte, seq uint32, tracks []trackFrag) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 'm', 'o', 'o', 'f')
	dst = binary.BigEndian.AppendUint32(dst, 16)
	dst = append(dst, "mfhd"...)
	dst = binary.BigEndian.AppendUint32(dst, 0)
	dst = binary.BigEndian.AppendUint32(dst, seq)
	var offBuf [4]int // positions of the data_offset fields, patched below
	offsets := offBuf[:0]
	for i := range tracks {
		t := &tracks[i]
		if len(t.samples) == 0 {
			continue
		}
		per := 8
		flags := uint32(trunDataOffset | trunDuration | trunSize)
		if t.flags {
			per += 4
			flags |= trunFlags
		}
		version := uint32(0)
		cto := t.hasCTO()
		if cto {
			per += 4
			flags |= trunCTO
			version = 1
		}
		trunLen := 20 + per*len(t.samples)
		trafLen := 8 + 16 + 20 + trunLen
		dst = binary.BigEndian.AppendUint32(dst, uint32(trafLen))
		dst = append(dst, "traf"...)
		dst = binary.BigEndian.AppendUint32(dst, 16)
		dst = append(dst, "tfhd"...)
		dst = binary.BigEndian.AppendUint32(dst, 0x020000) // default-base-is-moof
		dst = binary.BigEndian.AppendUint32(dst, t.id)
		dst = binary.BigEndian.AppendUint32(dst, 20)
		dst = append(dst, "tfdt"...)
		dst = binary.BigEndian.AppendUint32(dst, 1<<24) // version 1: 64-bit time
		dst = binary.BigEndian.AppendUint64(dst, t.base)
		dst = binary.BigEndian.AppendUint32(dst, uint32(trunLen))
		dst = append(dst, "trun"...)
		dst = binary.BigEndian.AppendUint32(dst, version<<24|flags)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(t.samples)))
		offsets = append(offsets, len(dst))
		dst = append(dst, 0, 0, 0, 0)
		for _, s := range t.samples {
			dst = binary.BigEndian.AppendUint32(dst, s.dur)
			dst = binary.BigEndian.AppendUint32(dst, s.size)
			if t.flags {
				dst = binary.BigEndian.AppendUint32(dst, s.flags)
			}
			if cto {
				dst = binary.BigEndian.AppendUint32(dst, uint32(s.cto))
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

// randomAccess is one tfra entry: a sync sample, where its fragment
// starts and which sample of its traf (and trun) it is.
type randomAccess struct {
	time   uint64 // presentation time, track ticks
	moof   uint64 // file offset of the moof
	traf   uint8  // 1-based: the track's traf in that moof
	sample uint32 // 1-based, in the traf's only trun
}

// appendMfra encodes the movie fragment random access box written at a
// clean close (14496-12 8.8.9): one tfra per track (version 1, 64-bit
// times and offsets, 1-byte traf/trun/sample numbers when they fit), and
// mfro giving mfra's size so that a reader finds it from the end of the
// file without scanning every fragment.
func appendMfra(dst []byte, tracks [][]randomAccess) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 'm', 'f', 'r', 'a')
	for i, entries := range tracks {
		big := false
		for _, e := range entries {
			if e.sample > 0xff {
				big = true
			}
		}
		sizes := uint32(0)
		per := 16 + 3
		if big {
			sizes = 3 // sample number in 4 bytes
			per = 16 + 2 + 4
		}
		n := 12 + 12 + per*len(entries)
		dst = binary.BigEndian.AppendUint32(dst, uint32(n))
		dst = append(dst, "tfra"...)
		dst = binary.BigEndian.AppendUint32(dst, 1<<24)
		dst = binary.BigEndian.AppendUint32(dst, uint32(i+1)) // track_ID
		dst = binary.BigEndian.AppendUint32(dst, sizes)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(entries)))
		for _, e := range entries {
			dst = binary.BigEndian.AppendUint64(dst, e.time)
			dst = binary.BigEndian.AppendUint64(dst, e.moof)
			dst = append(dst, e.traf, 1) // each traf has one trun
			if big {
				dst = binary.BigEndian.AppendUint32(dst, e.sample)
			} else {
				dst = append(dst, byte(e.sample))
			}
		}
	}
	dst = binary.BigEndian.AppendUint32(dst, 16)
	dst = append(dst, "mfro"...)
	dst = binary.BigEndian.AppendUint32(dst, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(dst)-start+4))
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst
}
