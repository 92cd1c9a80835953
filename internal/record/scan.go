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
)

// Recovered describes a recording found unfinished in a record folder.
type Recovered struct {
	Path string
	// Size before the repair, and Kept after it: the end of the last
	// complete fragment (moof followed by its whole mdat).
	Size, Kept int64
	Fragments  int // complete fragments kept
	// Finalized is false when the file was never closed cleanly (its
	// duration fields are still 0): a crash or power cut.
	Finalized bool
	// Repaired is true when a trailing incomplete box was cut off.
	Repaired bool
	// Problem says what was wrong, for the report.
	Problem string
}

// Scan looks at every .mp4/.mov file in dir written as a fragmented
// recording and reports those left unfinished by a crash: never finalized,
// or ending in an incomplete fragment. A trailing incomplete fragment is cut
// off so that the file is whole; nothing else is changed, no file is
// removed or overwritten. Files that are not fragmented recordings are left
// alone.
func Scan(dir string) ([]Recovered, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("record: scan %s: %w", dir, err)
	}
	var out []Recovered
	var errs []error
	for _, e := range ents {
		n := e.Name()
		if !e.Type().IsRegular() || !(strings.HasSuffix(n, ".mp4") || strings.HasSuffix(n, ".mov")) {
			continue
		}
		rec, ok, err := scanFile(filepath.Join(dir, n))
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

// scanFile walks the top-level boxes of one file. ok is false for a file
// that needs nothing (finished and whole) or is not ours to judge.
func scanFile(path string) (rec Recovered, ok bool, err error) {
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
		sawMoov    bool
		moofOpen   bool
		finalized  bool
		hdr        [16]byte
		firstIsTyp bool
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
		if pos == 0 {
			firstIsTyp = typ == "ftyp"
			if !firstIsTyp {
				return rec, false, nil // not an ISO-BMFF file we wrote
			}
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
			sawMoov = true
			d, err := movieDuration(f, pos, size)
			if err != nil {
				return rec, false, fmt.Errorf("record: scan %s: %w", path, err)
			}
			finalized = d > 0
			good = pos + size
		case "moof":
			moofOpen = true
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
	if !sawMoov {
		// Not a fragmented recording (or its header never reached the
		// disk): nothing here can be made playable, and nothing is removed.
		if rec.Problem == "" {
			return rec, false, nil
		}
		rec.Kept = rec.Size
		rec.Problem += "; no movie header, left as is"
		return rec, true, nil
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
		if err := f.Sync(); err != nil {
			return rec, true, fmt.Errorf("record: repair %s: %w", path, err)
		}
		rec.Repaired = true
	}
	return rec, true, nil
}

// movieDuration reads mvhd's duration from the moov at off.
func movieDuration(f *os.File, off, size int64) (uint64, error) {
	if size > 16<<20 {
		return 0, fmt.Errorf("moov of %d bytes is not ours", size)
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, off); err != nil && err != io.EOF {
		return 0, err
	}
	for p := int64(8); p+8 <= size; {
		bs := int64(binary.BigEndian.Uint32(b[p:]))
		if bs < 8 || p+bs > size {
			break
		}
		if string(b[p+4:p+8]) == "mvhd" && bs >= 32 {
			if b[p+8] == 1 && bs >= 44 {
				return binary.BigEndian.Uint64(b[p+32:]), nil
			}
			return uint64(binary.BigEndian.Uint32(b[p+24:])), nil
		}
		p += bs
	}
	return 0, errors.New("moov without mvhd")
}
