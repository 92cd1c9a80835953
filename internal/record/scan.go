package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Recovered describes a recording found unfinished in a record folder.
type Recovered struct {
	Path string
	// Size before the repair, and Kept after it: the end of the last
	// complete fragment (moof followed by its whole mdat).
	Size, Kept int64
	Fragments  int // complete fragments kept
	// Finalized is false when the file was never closed cleanly (its
	// duration fields were still 0): a crash or power cut.
	Finalized bool
	// Repaired is true when the file was changed: a trailing incomplete
	// box cut off, and the durations written from its fragments.
	Repaired bool
	// Duration is the media time the file holds, as now written in it.
	Duration time.Duration
	// Problem says what was wrong, for the report.
	Problem string
}

// Scan looks at every .mp4/.mov file in dir that livecap wrote (its moov
// carries the udta/©swr marker) and reports those left unfinished by a
// crash: never finalized, or ending in an incomplete fragment. Such a file
// is repaired in place: a trailing incomplete fragment is cut off and the
// duration fields are written from the fragments, so that players which
// trust headers show the real length, and a later scan finds the file
// finished and says nothing. A segment interrupted before its first
// fragment was linked into place (a hidden .NAME.partial) is given its
// name. Files without the marker are never opened for writing, whatever
// their name; no file is removed except a .partial that is a second name
// of its finished segment.
func Scan(dir string) ([]Recovered, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("record: scan %s: %w", dir, err)
	}
	var out []Recovered
	var errs []error
	names := map[string]bool{}
	for _, e := range ents {
		names[e.Name()] = true
	}
	for _, e := range ents {
		n := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(dir, n)
		if strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".partial") {
			final := strings.TrimSuffix(strings.TrimPrefix(n, "."), ".partial")
			if !isSegmentName(final) || !hasMarker(path) {
				continue
			}
			if names[final] {
				a, aerr := os.Stat(path)
				b, berr := os.Stat(filepath.Join(dir, final))
				if aerr == nil && berr == nil && os.SameFile(a, b) {
					os.Remove(path) // linked, and killed before the old name went
				}
				continue
			}
			if err := os.Link(path, filepath.Join(dir, final)); err != nil {
				errs = append(errs, fmt.Errorf("record: scan: naming %s: %w", path, err))
				continue
			}
			os.Remove(path)
			syncDir(dir)
			n, path = final, filepath.Join(dir, final)
		} else if !isSegmentName(n) {
			continue
		}
		rec, ok, err := scanFile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			out = append(out, rec)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, errors.Join(errs...)
}

func isSegmentName(n string) bool {
	return strings.HasSuffix(n, ".mp4") || strings.HasSuffix(n, ".mov")
}

// hasMarker reads the file's top-level boxes, read-only, and reports
// whether its moov carries livecap's marker.
func hasMarker(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false
	}
	moov, ok := findMoov(f, st.Size())
	return ok && moovMarked(moov)
}

// findMoov returns the moov box of a file that starts with ftyp, read
// into memory (bounded), if it comes before any media data.
func findMoov(f io.ReaderAt, size int64) ([]byte, bool) {
	var hdr [8]byte
	for pos := int64(0); pos+8 <= size; {
		if _, err := f.ReadAt(hdr[:], pos); err != nil {
			return nil, false
		}
		bs := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		if pos == 0 && typ != "ftyp" {
			return nil, false
		}
		if bs < 8 || pos+bs > size {
			return nil, false
		}
		if typ == "moov" {
			if bs > 16<<20 {
				return nil, false // livecap's init is a few kB
			}
			b := make([]byte, bs)
			if _, err := f.ReadAt(b, pos); err != nil && err != io.EOF {
				return nil, false
			}
			return b, true
		}
		if typ != "ftyp" && typ != "free" && typ != "skip" && typ != "wide" {
			return nil, false
		}
		pos += bs
	}
	return nil, false
}

// moovMarked: moov/udta/©swr starts with the marker.
func moovMarked(moov []byte) bool {
	found := false
	walkBoxes(moov, 8, func(typ string, b []byte) {
		if typ != "udta" {
			return
		}
		walkBoxes(b, 8, func(typ string, b []byte) {
			if typ == "\xa9swr" && len(b) >= 12+len(Marker) && string(b[12:12+len(Marker)]) == Marker {
				found = true
			}
		})
	})
	return found
}

// walkBoxes calls fn for each well-formed child box of b from offset off.
func walkBoxes(b []byte, off int, fn func(typ string, box []byte)) {
	for p := off; p+8 <= len(b); {
		bs := int(binary.BigEndian.Uint32(b[p:]))
		if bs < 8 || p+bs > len(b) {
			return
		}
		fn(string(b[p+4:p+8]), b[p:p+bs])
		p += bs
	}
}

// scanFile walks the top-level boxes of one file. ok is false for a file
// that needs nothing (finished and whole) or is not ours.
func scanFile(path string) (rec Recovered, ok bool, err error) {
	if !hasMarker(path) {
		return rec, false, nil // not written by livecap: never touched
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return rec, false, fmt.Errorf("record: scan %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return rec, false, err
	}
	rec = Recovered{Path: path, Size: st.Size()}
	var (
		pos, good  int64
		moovAt     int64 = -1
		moov       []byte
		moofOpen   bool
		finalized  bool
		hdr        [16]byte
		fragStarts []int64
	)
	for pos < rec.Size {
		n, _ := f.ReadAt(hdr[:], pos)
		if n < 8 {
			rec.Problem = fmt.Sprintf("a box header cut short at byte %d", pos)
			break
		}
		size := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		if size == 1 {
			if n < 16 {
				rec.Problem = fmt.Sprintf("a box header cut short at byte %d", pos)
				break
			}
			size = int64(binary.BigEndian.Uint64(hdr[8:16]))
		} else if size == 0 {
			size = rec.Size - pos // to the end of the file, by definition
		}
		if size < 8 {
			rec.Problem = fmt.Sprintf("box %q at byte %d has impossible size %d", typ, pos, size)
			break
		}
		if pos+size > rec.Size {
			rec.Problem = fmt.Sprintf("box %q at byte %d is cut short (%d of %d bytes)", typ, pos, rec.Size-pos, size)
			break
		}
		switch typ {
		case "moov":
			moovAt = pos
			moov = make([]byte, size)
			if _, err := f.ReadAt(moov, pos); err != nil && err != io.EOF {
				return rec, false, fmt.Errorf("record: scan %s: %w", path, err)
			}
			finalized = movieDuration(moov) > 0
			good = pos + size
		case "moof":
			moofOpen = true
			fragStarts = append(fragStarts, pos)
		case "mdat":
			if moofOpen {
				rec.Fragments++
				moofOpen = false
			}
			good = pos + size
		default:
			if !moofOpen {
				good = pos + size
			}
		}
		pos += size
	}
	if moofOpen && len(fragStarts) > rec.Fragments {
		fragStarts = fragStarts[:rec.Fragments]
	}
	if rec.Problem == "" && moofOpen {
		rec.Problem = "the last fragment has no media data"
	}
	rec.Finalized = finalized
	rec.Kept = good
	if rec.Problem == "" && finalized {
		return rec, false, nil
	}
	if rec.Problem == "" {
		rec.Problem = "not finalized (the recording was interrupted), every fragment whole"
	}
	if good < rec.Size {
		if err := f.Truncate(good); err != nil {
			return rec, true, fmt.Errorf("record: repair %s: %w", path, err)
		}
		rec.Repaired = true
	}
	if !finalized && moovAt >= 0 && len(fragStarts) > 0 {
		d, err := writeDurations(f, moovAt, moov, fragStarts)
		if err != nil {
			return rec, true, fmt.Errorf("record: repair %s: %w", path, err)
		}
		rec.Duration, rec.Repaired = d, true
		rec.Problem += "; durations written from its fragments"
	}
	if rec.Repaired {
		if err := f.Sync(); err != nil {
			return rec, true, fmt.Errorf("record: repair %s: %w", path, err)
		}
	}
	return rec, true, nil
}

// movieDuration reads mvhd's duration from a moov box.
func movieDuration(moov []byte) uint64 {
	var d uint64
	walkBoxes(moov, 8, func(typ string, b []byte) {
		if typ != "mvhd" || len(b) < 32 {
			return
		}
		if b[8] == 1 && len(b) >= 44 {
			d = binary.BigEndian.Uint64(b[32:])
		} else {
			d = uint64(binary.BigEndian.Uint32(b[24:]))
		}
	})
	return d
}

// scanTrack is what the repair learns of one track.
type scanTrack struct {
	id        uint32
	timescale int64
	edits     []edit
	decodeEnd int64 // media ticks: end of the last sample's decode time
	presEnd   int64 // media ticks: end of the last sample's presentation
	any       bool
}

// writeDurations is finalization after the fact: the durations of every
// complete fragment, written where finalize would have (mvhd, mehd, tkhd,
// elst of the moov at moovAt).
func writeDurations(f *os.File, moovAt int64, moov []byte, frags []int64) (time.Duration, error) {
	lay := initLayout{}
	var tracks []*scanTrack
	var walk func(b []byte, base int64, from int)
	var cur *scanTrack
	walk = func(b []byte, base int64, from int) {
		for p := from; p+8 <= len(b); {
			bs := int(binary.BigEndian.Uint32(b[p:]))
			if bs < 8 || p+bs > len(b) {
				return
			}
			typ := string(b[p+4 : p+8])
			box := b[p : p+bs]
			at := base + int64(p)
			switch typ {
			case "trak":
				cur = &scanTrack{}
				tracks = append(tracks, cur)
				walk(box, at, 8)
			case "mdia", "edts", "mvex":
				walk(box, at, 8)
			case "mvhd":
				lay.mvhdDur = at + 24
			case "mehd":
				lay.mehdDur = at + 12
			case "tkhd":
				if cur != nil && bs >= 32 && box[8] == 0 {
					lay.tkhdDur = append(lay.tkhdDur, at+28)
					cur.id = binary.BigEndian.Uint32(box[20:])
				}
			case "mdhd":
				if cur != nil && bs >= 24 {
					cur.timescale = int64(binary.BigEndian.Uint32(box[20:]))
				}
			case "elst":
				if cur != nil && bs >= 16 && box[8] == 0 {
					n := int(binary.BigEndian.Uint32(box[12:]))
					for i := 0; i < n && 16+12*i+12 <= bs; i++ {
						e := box[16+12*i:]
						cur.edits = append(cur.edits, edit{dur: binary.BigEndian.Uint32(e), mediaTime: int32(binary.BigEndian.Uint32(e[4:]))})
					}
					lay.elst = append(lay.elst, at)
				}
			}
			p += bs
		}
	}
	walk(moov, moovAt, 8)
	if lay.mvhdDur == 0 || len(lay.tkhdDur) != len(tracks) || len(lay.elst) != len(tracks) {
		return 0, errors.New("the movie header is not laid out as livecap writes it")
	}
	byID := map[uint32]*scanTrack{}
	for _, t := range tracks {
		if t.timescale <= 0 {
			return 0, fmt.Errorf("track %d has no timescale", t.id)
		}
		byID[t.id] = t
	}
	for _, at := range frags {
		if err := scanFragment(f, at, byID); err != nil {
			return 0, err
		}
	}
	// Each track presents from its edit's media time to its last sample's
	// end; the movie is the longest, and no less than any track's media.
	var longest time.Duration
	var durs []uint32
	for _, t := range tracks {
		var d time.Duration
		if t.any && len(t.edits) > 0 {
			last := t.edits[len(t.edits)-1]
			var empty time.Duration
			for _, e := range t.edits[:len(t.edits)-1] {
				empty += time.Duration(e.dur) * time.Millisecond
			}
			d = empty + time.Duration((t.presEnd-int64(last.mediaTime))*int64(time.Second)/t.timescale)
			raw := time.Duration(t.decodeEnd * int64(time.Second) / t.timescale)
			longest = max(longest, d, raw+time.Millisecond-1)
		}
		durs = append(durs, movieTicks(max(0, d)))
	}
	edits := make([][]edit, len(tracks))
	for i, t := range tracks {
		edits[i] = t.edits
	}
	var scratch []byte
	if err := patchDurations(filePatcher{f}, lay, edits, uint32(longest/time.Millisecond), durs, &scratch); err != nil {
		return 0, err
	}
	if len(durs) > 0 {
		return time.Duration(durs[0]) * time.Millisecond, nil
	}
	return 0, nil
}

// scanFragment reads one moof and extends each track's decode and
// presentation ends by its samples.
func scanFragment(f *os.File, at int64, tracks map[uint32]*scanTrack) error {
	var hdr [8]byte
	if _, err := f.ReadAt(hdr[:], at); err != nil {
		return err
	}
	size := int64(binary.BigEndian.Uint32(hdr[:]))
	if size < 8 || size > maxScanMoof {
		return fmt.Errorf("fragment at %d: moof of %d bytes", at, size)
	}
	moof := make([]byte, size)
	if _, err := f.ReadAt(moof, at); err != nil {
		return err
	}
	walkBoxes(moof, 8, func(typ string, traf []byte) {
		if typ != "traf" {
			return
		}
		var t *scanTrack
		var base int64
		walkBoxes(traf, 8, func(typ string, b []byte) {
			switch typ {
			case "tfhd":
				if len(b) >= 16 {
					t = tracks[binary.BigEndian.Uint32(b[12:])]
				}
			case "tfdt":
				if len(b) >= 20 && b[8] == 1 {
					base = int64(binary.BigEndian.Uint64(b[12:]))
				} else if len(b) >= 16 {
					base = int64(binary.BigEndian.Uint32(b[12:]))
				}
			case "trun":
				if t == nil || len(b) < 16 {
					return
				}
				flags := binary.BigEndian.Uint32(b[8:]) & 0xffffff
				n := int(binary.BigEndian.Uint32(b[12:]))
				p := 16
				if flags&trunDataOffset != 0 {
					p += 4
				}
				if flags&0x4 != 0 {
					p += 4 // first sample flags
				}
				dts := base
				for i := 0; i < n; i++ {
					var dur, cto int64
					if flags&trunDuration != 0 {
						if p+4 > len(b) {
							return
						}
						dur = int64(binary.BigEndian.Uint32(b[p:]))
						p += 4
					}
					if flags&trunSize != 0 {
						p += 4
					}
					if flags&trunFlags != 0 {
						p += 4
					}
					if flags&trunCTO != 0 {
						if p+4 > len(b) {
							return
						}
						cto = int64(int32(binary.BigEndian.Uint32(b[p:])))
						p += 4
					}
					t.presEnd = max(t.presEnd, dts+cto+dur)
					dts += dur
					t.any = true
				}
				t.decodeEnd = max(t.decodeEnd, dts)
			}
		})
	})
	return nil
}

// maxScanMoof bounds what the scan reads of one fragment header.
const maxScanMoof = 16 << 20

type filePatcher struct{ f *os.File }

func (p filePatcher) patch(off int64, b []byte) error {
	_, err := p.f.WriteAt(b, off)
	return err
}
