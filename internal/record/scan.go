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
