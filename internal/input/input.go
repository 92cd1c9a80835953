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
	"fmt"
	"io"
	"os"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

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
}

// Reader reads one file. It is not safe for concurrent use; Run may be
// called more than once (each call starts from the beginning of the file).
type Reader struct {
	ra   io.ReaderAt
	c    io.Closer
	size int64
	o    Options

	movieTimescale uint32
	video, audio   *track
	tracks         []*track // the non-nil of video, audio
	info           media.StreamInfo
	zero           time.Duration // presentation time of the first video frame

	found   []Track // every track of the moov, for Probe and refusals
	pos     int64   // next top-level box to look at for a moof
	fragEOF bool    // no more moofs
	// Truncated is set when samples were dropped because the file ends
	// inside their data (a recording cut short by a crash).
	truncated bool

	pool    *media.SlabPool // read-ahead windows and packets
	win     *media.Slab     // current read-ahead window (nil: none)
	winOff  int64           // file offset of win.B[0]
	winLen  int             // bytes of win read
	reads   int             // sample reads (preads), for tests
	hdr     [16]byte        // readHeader's buffer (a ReaderAt's argument escapes)
	moofBuf []byte          // the last moof read (parseMoof keeps nothing of it)
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
	ctoShift   int64         // video: how much earlier DTS is put so that PTS >= DTS (negative ctts)
	trex       *mp4.TrexBox
	avc        *mp4.VisualSampleEntryBox // video sample entry
	mp4a       *mp4.AudioSampleEntryBox  // audio sample entry

	base    []sample // from the moov's sample table; never modified
	baseEnd int64    // decode time after the last base sample
	queue   []sample // pending samples, queue[head:] not yet emitted
	head    int
	nextDTS int64 // decode time after the last queued sample
	done    bool  // the file ends inside this track's data
	// headAt is present(dts) of queue[head] when headOK: next compares
	// the tracks' heads on every call, and the packet reuses it.
	headAt time.Duration
	headOK bool
	// durTicks/dur: the last sample duration converted (most are alike).
	durTicks uint32
	dur      time.Duration

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
	r := &Reader{ra: ra, size: size, o: o, pool: slabs}
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

// slabs is shared by every Reader: a looped or reopened input reuses the
// windows the sinks gave back.
var slabs = media.NewSlabPool(readAhead)

// Info describes the streams: SPS/PPS from the avcC record, the
// AudioSpecificConfig from the esds, sizes, a frame-rate estimate and the
// AAC priming from the audio edit list (0 without one).
func (r *Reader) Info() media.StreamInfo { return r.info }

// OtherVideo lists the sample entries ("hev1", "av01") of video tracks the
// reader cannot restream (only H.264 is).
func (r *Reader) OtherVideo() []string {
	var other []string
	for _, t := range r.found {
		if t.Kind == "video" && !t.Used {
			other = append(other, t.Codec)
		}
	}
	return other
}

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

// ticks converts a count of timescale units to a duration without
// overflowing for any timescale that fits in 32 bits.
func ticks(n, timescale int64) time.Duration {
	return time.Duration(n/timescale)*time.Second + time.Duration((n%timescale)*int64(time.Second)/timescale)
}

// present maps a media time of t onto the movie timeline.
func (t *track) present(n int64) time.Duration {
	return ticks(n-t.mediaTime, t.timescale) + t.emptyEdit
}
