package input

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/livecap/livecap/internal/media"
)

// readFragmentMp4ff is readFragment as it was with mp4ff's decoder: the
// reference parseMoof must agree with.
func (r *Reader) readFragmentMp4ff() error {
	for r.pos < r.size {
		h, err := r.readHeader(r.pos)
		if err != nil {
			if err == errNoBox {
				break
			}
			return err
		}
		if h.truncated {
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

// allSamples reads every fragment of path with read and returns the
// samples queued per track.
func allSamples(t *testing.T, path string, mp4ff bool) (map[media.Kind][]sample, bool) {
	t.Helper()
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.rewind()
	for !r.fragEOF {
		read := r.readFragment
		if mp4ff {
			read = r.readFragmentMp4ff
		}
		if err := read(); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	out := map[media.Kind][]sample{}
	for _, tr := range r.tracks {
		out[tr.kind] = tr.queue
	}
	return out, r.truncated
}

// TestMoofParserMatchesMp4ff reads fragmented files of every layout we
// meet (ffmpeg's with either base-offset style, with B-frames and negative
// composition offsets, livecap's own recordings) with the moof parser and
// with mp4ff's decoder: every sample must come out the same, and the
// parser must not allocate per fragment.
func TestMoofParserMatchesMp4ff(t *testing.T) {
	dir := t.TempDir()
	files := []string{
		filepath.Join("testdata", "seed-frag.mp4"),
		filepath.Join("testdata", "seed-frag-moof.mp4"),
		makeFile(t, dir, "bframes.mp4", 3, "-bf", "2", "-movflags", "+frag_keyframe+empty_moov+negative_cts_offsets"),
		makeFile(t, dir, "trex.mp4", 3, "-movflags", "+frag_keyframe+empty_moov+default_base_moof"),
		makeFile(t, dir, "cmaf.mp4", 3, "-bf", "1", "-movflags", "+cmaf+frag_every_frame"),
	}
	for _, path := range files {
		got, gotTrunc := allSamples(t, path, false)
		want, wantTrunc := allSamples(t, path, true)
		n := 0
		for k, w := range want {
			n += len(w)
			if !reflect.DeepEqual(got[k], w) {
				t.Errorf("%s %s: %d samples from the parser, %d from mp4ff, differing", filepath.Base(path), k, len(got[k]), len(w))
			}
		}
		if gotTrunc != wantTrunc || n == 0 {
			t.Errorf("%s: truncated %v vs %v, %d samples", filepath.Base(path), gotTrunc, wantTrunc, n)
		}
	}
	// No allocation per fragment once the buffer has the size of a moof.
	r, err := Open(files[0], Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	allocs := testing.AllocsPerRun(20, func() {
		r.rewind()
		for !r.fragEOF {
			for _, tr := range r.tracks {
				tr.head = len(tr.queue) // emitted: the queue is reused
			}
			if err := r.readFragment(); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs > 0 {
		t.Errorf("%.1f allocations per pass over %s; want 0", allocs, files[0])
	}
}
