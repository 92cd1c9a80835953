package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/livecap/livecap/internal/media"
)

// muxer is what every segment's boxes are built with: the stream
// description, the container flavour and scratch buffers reused for every
// fragment (one recorder goroutine uses them).
type muxer struct {
	info    media.StreamInfo
	mov     bool
	created time.Time
	hasA    bool
	aRate   int64
	movieTS int64         // movie timescale: the audio rate, or 1000 without audio
	frameD  time.Duration // nominal video frame duration (for the last frame)
	// withUdta appends moov's udta (the livecap marker and the chapter
	// space, control.go) to an encoded init.
	withUdta func(*segment, []byte) []byte

	moof   []byte
	iov    [][]byte
	tracks [2]trackFrag
	elst   []byte
	// initB is the last init segment encoded: a segment's init lives only
	// until its first fragment is written, so the next one reuses it.
	initB   []byte
	mfra    []byte
	entries [2][]byte // encoded sample entries (initSpec.entries)
}

// segment is one file of the recording: the video from its first IDR (at
// start) up to the next segment's IDR (end, once cut) and the audio that
// plays meanwhile. It owns its file: the fragments are appended to it
// (the first one creates it) and finalize closes it with the real
// durations.
//
// Video timing: the track's decode timeline starts at the IDR's DTS
// (startDTS, tfdt 0); each sample's duration is the DTS step to the next
// frame and its composition offset PTS-DTS, so B-frames keep their order;
// the edit list starts presentation at the IDR's PTS. Without frame
// reordering PTS = DTS and the edit starts at 0.
type segment struct {
	file     *segFile
	index    int
	start    time.Duration // S: PTS of its first video frame (an IDR)
	startDTS time.Duration // that IDR's DTS
	end      time.Duration // once cut: PTS of the next segment's IDR
	endDTS   time.Duration // and its DTS
	cut      bool

	video   []*media.Packet // not yet written; the last one waits for its duration
	aFrom   time.Duration   // audio with PTS >= aFrom belongs here
	aLast   time.Duration   // PTS of the last audio packet written
	aAny    bool
	a0      time.Duration // origin of the audio track: PTS of its first sample
	init    bool          // init segment built (and written with the first fragment)
	initB   []byte
	lay     initLayout
	edits   [][]edit
	seq     uint32
	vBase   int64         // next video tfdt (ticks from startDTS)
	aEnd    int64         // end of the audio written (ticks from a0)
	presEnd time.Duration // end of the presentation of the video written
	frames  int
	ra      [2][]randomAccess // sync samples, for mfra
	chap    *chapters         // the reserved udta box with chapters (control.go)
}

// addVideo holds a video packet until the next one gives its duration.
func (s *segment) addVideo(p *media.Packet) { s.video = append(s.video, p) }

// written reports whether any byte of the segment reached the disk.
func (s *segment) written() bool { return s.file.good > 0 }

// flush writes one fragment of s: the video held (each duration known
// from the next frame's DTS, the last one's from vEndDTS) and the audio of
// audio (in PTS order) that belongs to s with PTS < aEnd and whose duration
// is known. last is set for the segment's last fragment: the audio then
// ends exactly at aEnd (the next segment's start), the duration of the
// frame straddling it cut short, so that the files joined end to end
// keep the audio's timing (the frame still decodes whole). The first
// fragment carries the init segment and creates the file. It reports how
// many video and audio samples went out.
func (s *segment) flush(m *muxer, audio []*media.Packet, vEndDTS, aEnd time.Duration, final, last bool) (nv, na int, err error) {
	vt, at := &m.tracks[0], &m.tracks[1]
	vt.samples, at.samples = vt.samples[:0], at.samples[:0]
	vt.bytes, at.bytes = 0, 0
	vt.id, vt.flags = videoTrackID, true
	at.id = audioTrackID
	iov := append(m.iov[:0], nil, nil) // init (or nothing), moof+mdat header

	// Video, in decode order. Each frame's end is the next one's start:
	// scaled once.
	var dts int64
	if len(s.video) > 0 {
		dts = scale(s.video[0].DTS-s.startDTS, videoTimescale)
	}
	for i, p := range s.video {
		next := vEndDTS
		if i+1 < len(s.video) {
			next = s.video[i+1].DTS
		}
		end := scale(next-s.startDTS, videoTimescale)
		d := end - dts
		if d <= 0 {
			d = 1
		}
		fl := uint32(flagsNonSync)
		if p.Key {
			fl = flagsSync
		}
		var cto int64
		if p.PTS != p.DTS {
			cto = scale(p.PTS-s.startDTS, videoTimescale) - dts
		}
		vt.samples = append(vt.samples, sample{dur: uint32(d), size: uint32(len(p.Data)), flags: fl, cto: int32(cto)})
		dts = end
		vt.bytes += len(p.Data)
		iov = append(iov, p.Data)
	}
	vt.base = uint64(s.vBase)

	// Audio.
	aFirst, aN := -1, 0
	if m.hasA {
		for i, p := range audio {
			if p.PTS < s.aFrom || (s.aAny && p.PTS <= s.aLast) {
				continue
			}
			if s.init && p.PTS < s.a0 {
				continue // arrived after the track origin was fixed
			}
			if p.PTS >= aEnd {
				break
			}
			if i+1 >= len(audio) && !final {
				break // its duration is not known yet: it waits for the next fragment
			}
			if aFirst < 0 {
				aFirst = i
			}
			aN++
		}
	}
	if !s.init {
		a0 := s.start
		if aFirst >= 0 {
			a0 = audio[aFirst].PTS
		}
		if err := s.prepareInit(m, a0); err != nil {
			return 0, 0, err
		}
	}
	if aN > 0 {
		start := scale(audio[aFirst].PTS-s.a0, m.aRate)
		at.base = uint64(start)
		for i := aFirst; i < aFirst+aN; i++ {
			p := audio[i]
			next := p.PTS + p.Duration
			if i+1 < len(audio) {
				next = audio[i+1].PTS
			}
			if last {
				next = min(next, aEnd)
			}
			end := scale(next-s.a0, m.aRate)
			d := end - start
			if d <= 0 {
				d = 1
			}
			if i+1 < len(audio) && next == audio[i+1].PTS {
				start = end // the next frame starts where this one ends
			} else if i+1 < len(audio) {
				start = scale(audio[i+1].PTS-s.a0, m.aRate)
			}
			at.samples = append(at.samples, sample{dur: uint32(d), size: uint32(len(p.Data))})
			at.bytes += len(p.Data)
			iov = append(iov, p.Data)
		}
	}
	if len(vt.samples) == 0 && len(at.samples) == 0 {
		m.iov = iov[:0]
		return 0, 0, nil // nothing to write: the file is made with its first samples
	}
	moofAt := uint64(s.file.good)
	if !s.init {
		iov[0] = s.initB
		moofAt += uint64(len(s.initB))
	}
	s.seq++
	m.moof = appendMoof(m.moof[:0], s.seq, m.tracks[:])
	iov[1] = m.moof
	bufs := iov
	for len(bufs) > 0 && len(bufs[0]) == 0 {
		bufs = bufs[1:]
	}
	err = s.file.append(bufs)
	clear(iov) // do not keep packets alive through the scratch slice
	m.iov = iov[:0]
	if err != nil {
		return 0, 0, err
	}
	s.init, s.initB = true, nil

	// Account for what is now on disk.
	for i, smp := range vt.samples {
		p := s.video[i]
		if p.Key {
			s.ra[0] = append(s.ra[0], randomAccess{time: uint64(int64(s.vBase) + int64(smp.cto)), moof: moofAt, traf: 1, sample: uint32(i + 1)})
		}
		pts := p.PTS + time.Duration(int64(smp.dur)*int64(time.Second)/videoTimescale)
		s.presEnd = max(s.presEnd, pts)
		s.vBase += int64(smp.dur)
	}
	if len(at.samples) > 0 {
		traf := uint8(1)
		if len(vt.samples) > 0 {
			traf = 2
		}
		s.ra[1] = append(s.ra[1], randomAccess{time: at.base, moof: moofAt, traf: traf, sample: 1})
		s.aEnd = int64(at.base)
		for _, smp := range at.samples {
			s.aEnd += int64(smp.dur)
		}
		s.aAny, s.aLast = true, audio[aFirst+aN-1].PTS
	}
	nv, na = len(vt.samples), len(at.samples)
	s.frames += nv
	for _, p := range s.video {
		p.Release() // on disk, and read no more
	}
	clear(s.video)
	s.video = s.video[:0]
	return nv, na, nil
}

// prepareInit fixes the audio origin and the edit lists of s and encodes
// its init segment (written with its first fragment).
func (s *segment) prepareInit(m *muxer, a0 time.Duration) error {
	s.a0 = a0
	// Video: presentation starts at the IDR, cto(IDR) after its decode.
	s.edits = [][]edit{{{dur: 0, mediaTime: int32(scale(s.start-s.startDTS, videoTimescale))}}}
	if m.hasA {
		if a0 <= s.start {
			// Skip the priming (first segment): the first presented
			// sample is the one at S.
			s.edits = append(s.edits, []edit{{dur: 0, mediaTime: int32(scale(s.start-a0, m.aRate))}})
		} else {
			// Audio starts after the video (a later segment's first frame
			// at or after its cut, or a microphone slower than the
			// camera): an empty edit holds it back, exact to the sample
			// in the movie timescale.
			s.edits = append(s.edits, []edit{{dur: movieTicks(a0-s.start, m.movieTS), mediaTime: -1}, {dur: 0, mediaTime: 0}})
			s.aFrom = max(s.aFrom, a0)
		}
	}
	b, lay, err := buildInit(initSpec{info: m.info, mov: m.mov, created: m.created, edits: s.edits, movieTS: uint32(m.movieTS), buf: m.initB, entries: &m.entries})
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if m.withUdta != nil {
		b = m.withUdta(s, b)
	}
	s.lay, s.initB, m.initB = lay, b, b
	return nil
}

// duration is the presentation time the file's video holds: from its IDR
// to the end of the last frame written (the next segment's IDR, for a cut
// one).
func (s *segment) duration() time.Duration {
	return max(0, s.presEnd-s.start)
}

// durations are what finalization writes: each track's presented
// duration (tkhd, and the end of its edit list) and the movie's (mvhd,
// mehd), in movie ticks. The movie lasts as long as its longest track and
// never less than the media time any track's fragments reach (before
// edits, rounded up): GStreamer's qtdemux compares that media time with
// the movie duration and, when a fragment runs past it, re-times the
// streams and drops the last frame. The first segment's audio carries
// 1024 samples of priming before its presentation starts, so its movie
// declares 21 ms (at 48 kHz) more than its tracks present.
func (s *segment) durations(m *muxer) (movie uint32, tracks []uint32) {
	video := s.duration()
	tracks = append(tracks, movieTicks(video, m.movieTS))
	longest := video
	raw := ticksDuration(s.vBase, videoTimescale)
	if m.hasA && len(s.edits) > 1 {
		var audio time.Duration
		if s.aAny {
			e := s.edits[1]
			if len(e) > 1 {
				audio = ticksDuration(int64(e[0].dur), m.movieTS)
			}
			media := ticksDuration(s.aEnd, m.aRate)
			audio += max(0, media-ticksDuration(int64(e[len(e)-1].mediaTime), m.aRate))
			raw = max(raw, media)
		}
		tracks = append(tracks, movieTicks(audio, m.movieTS))
		longest = max(longest, audio)
	}
	return max(movieTicks(longest, m.movieTS), ceilTicks(raw, m.movieTS)), tracks
}

// finalize patches the durations into the init segment (so that players
// which trust headers show them), writes mfra after a clean close, syncs
// and closes the file.
func (s *segment) finalize(m *muxer, clean bool) error {
	f := s.file
	var err error
	if s.init && f.good > 0 {
		movie, tracks := s.durations(m)
		err = patchDurations(f, s.lay, s.edits, movie, tracks, &m.elst)
		if err == nil && clean {
			m.mfra = appendMfra(m.mfra[:0], s.ra[:len(s.edits)])
			m.iov = append(m.iov[:0], m.mfra)
			err = f.append(m.iov)
			clear(m.iov)
			m.iov = m.iov[:0]
			var we *writeError
			if errors.As(err, &we) {
				err = nil // no room for the index: the file is whole without it
			}
		}
		if err != nil {
			err = fmt.Errorf("record: finalize %s: %w", f.path, err)
		}
	}
	if cerr := f.close(); cerr != nil && err == nil {
		err = fmt.Errorf("record: close %s: %w", f.path, cerr)
	}
	return err
}

// patcher is where duration fields are rewritten: an open segment file,
// or a file being repaired by the scan.
type patcher interface {
	patch(off int64, b []byte) error
}

// patchDurations writes the movie duration into mvhd and mehd, each
// track's presented duration into its tkhd, and rewrites each track's
// edit list so that its last edit ends with the track. mdhd stays 0: the
// media is in the fragments (FFmpeg takes a non-zero mdhd for the
// presented duration and would misplace joined files).
func patchDurations(f patcher, lay initLayout, edits [][]edit, movie uint32, tracks []uint32, scratch *[]byte) error {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], movie)
	if err := f.patch(lay.mvhdDur, b[:]); err != nil {
		return err
	}
	if lay.mehdDur > 0 {
		if err := f.patch(lay.mehdDur, b[:]); err != nil {
			return err
		}
	}
	for i, off := range lay.tkhdDur {
		if i >= len(tracks) {
			break
		}
		binary.BigEndian.PutUint32(b[:], tracks[i])
		if err := f.patch(off, b[:]); err != nil {
			return err
		}
		if i >= len(edits) || i >= len(lay.elst) || len(edits[i]) == 0 {
			continue
		}
		e := edits[i]
		rest := tracks[i]
		for j := range e[:len(e)-1] {
			rest -= min(rest, e[j].dur)
		}
		e[len(e)-1].dur = rest
		*scratch = encodeElst((*scratch)[:0], e)
		if err := f.patch(lay.elst[i], *scratch); err != nil {
			return err
		}
	}
	return nil
}
