package record

// Repair of a file a crash left unfinished: its durations written after the fact (Scan).

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"
)

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
	movieTS := int64(movieTimescale)
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
				if bs >= 24 {
					movieTS = int64(binary.BigEndian.Uint32(box[20:]))
				}
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
	if lay.mvhdDur == 0 || movieTS <= 0 || len(lay.tkhdDur) != len(tracks) || len(lay.elst) != len(tracks) {
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
	var longest, rawMax time.Duration
	var durs []uint32
	for _, t := range tracks {
		var d time.Duration
		if t.any && len(t.edits) > 0 {
			last := t.edits[len(t.edits)-1]
			var empty time.Duration
			for _, e := range t.edits[:len(t.edits)-1] {
				empty += ticksDuration(int64(e.dur), movieTS)
			}
			d = empty + time.Duration((t.presEnd-int64(last.mediaTime))*int64(time.Second)/t.timescale)
			raw := time.Duration(t.decodeEnd * int64(time.Second) / t.timescale)
			longest = max(longest, d)
			rawMax = max(rawMax, raw)
		}
		durs = append(durs, movieTicks(max(0, d), movieTS))
	}
	edits := make([][]edit, len(tracks))
	for i, t := range tracks {
		edits[i] = t.edits
	}
	var scratch []byte
	movie := max(movieTicks(longest, movieTS), ceilTicks(rawMax, movieTS))
	if err := patchDurations(filePatcher{f}, lay, edits, movie, durs, &scratch); err != nil {
		return 0, err
	}
	if len(durs) > 0 {
		return ticksDuration(int64(durs[0]), movieTS), nil
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
