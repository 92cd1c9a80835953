package analyze

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/livecap/livecap/internal/testpattern"
)

// probeInfo is what ffprobe says about the first video and audio streams.
type probeInfo struct {
	hasVideo, hasAudio bool
	width, height      int
	fps                float64 // nominal, from r_frame_rate (0 if unknown)
	sampleRate         int
}

func probe(ctx context.Context, ffprobe, path string) (*probeInfo, error) {
	out, err := exec.CommandContext(ctx, ffprobe, "-v", "error",
		"-show_entries", "stream=codec_type,width,height,r_frame_rate,sample_rate",
		"-of", "json", path).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("ffprobe %s: %s", path, firstLine(ee.Stderr))
		}
		return nil, fmt.Errorf("ffprobe %s: %w", path, err)
	}
	var doc struct {
		Streams []struct {
			CodecType  string `json:"codec_type"`
			Width      int    `json:"width"`
			Height     int    `json:"height"`
			RFrameRate string `json:"r_frame_rate"`
			SampleRate string `json:"sample_rate"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("ffprobe %s: unreadable output: %w", path, err)
	}
	pi := &probeInfo{}
	for _, s := range doc.Streams {
		switch {
		case s.CodecType == "video" && !pi.hasVideo && s.Width > 0 && s.Height > 0:
			pi.hasVideo, pi.width, pi.height = true, s.Width, s.Height
			if a, b, ok := strings.Cut(s.RFrameRate, "/"); ok {
				n, _ := strconv.ParseFloat(a, 64)
				d, _ := strconv.ParseFloat(b, 64)
				if d > 0 {
					pi.fps = n / d
				}
			}
		case s.CodecType == "audio" && !pi.hasAudio:
			pi.hasAudio = true
			pi.sampleRate, _ = strconv.Atoi(s.SampleRate)
		}
	}
	return pi, nil
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:] // ffmpeg puts the reason last
	}
	if s == "" {
		return "failed"
	}
	return s
}

// decoded is one file's raw measurements, timestamps in microseconds on the
// file's own timeline (as a player presents it).
type decoded struct {
	frames   []frameInfo
	framePTS []int64
	key      []bool // the decoder marked the picture a keyframe
	// decodeErrors counts the decoder's and ffmpeg's error lines;
	// errorLines keeps the first few.
	decodeErrors int
	errorLines   []string
	// audio frames as decoded: presentation time of the first sample and
	// sample count; sample positions of onsets index into their
	// concatenation.
	audPTS     []int64
	audSamples []int64
	sampleRate int
	// det read this file's audio from its sample position base on (it may
	// have read earlier files before).
	det  *beepDetector
	base int64
}

// showinfo / ashowinfo lines, with -loglevel level+info, look like
//
//	[Parsed_showinfo_2 @ 0x55] [info] n:   0 pts:      0 pts_time:0 ... iskey:1 type:I ...
//	[Parsed_ashowinfo_2 @ 0x55] [info] n:0 pts:0 pts_time:0 ... rate:48000 nb_samples:1024 ...
//
// and a decoder's complaint like
//
//	[h264 @ 0x55] [error] error while decoding MB 4 5, bytestream 12
//
// They are read with plain byte searches: no regular expression to build
// on every run of livecap.
var (
	vInfoTag = []byte("Parsed_showinfo_")
	aInfoTag = []byte("Parsed_ashowinfo_")
	errorTag = []byte("] [error] ")
	fatalTag = []byte("] [fatal] ")
)

// field returns the value after " key" (key includes its colon) up to the
// next space, skipping the spaces showinfo pads numbers with.
func field(line []byte, key string) ([]byte, bool) {
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		return nil, false
	}
	v := bytes.TrimLeft(line[i+len(key):], " ")
	if j := bytes.IndexByte(v, ' '); j >= 0 {
		v = v[:j]
	}
	return v, true
}

// maxErrorLines is how many decode error messages a file report keeps.
const maxErrorLines = 5

// scaledWidth is the width pictures are decoded at: 6 columns per barcode
// cell is plenty to read it, and keeps hours of HD video cheap to scan.
const scaledWidth = testpattern.Cells * 6

// decode runs one ffmpeg that decodes the first video and audio streams,
// as a player would (edit lists, skip samples and stream start times
// applied), and streams small gray pictures and mono float samples to us
// on two pipes. showinfo/ashowinfo report each decoded frame's timestamp,
// converted to microseconds (settb=AVTB) so that no precision is lost to
// their 6-digit pts_time.
//
// det, when not nil and at the same sample rate, is the beep detector that
// read the previous file: segments are fed to one detector as one stream,
// so a beep that straddles a file boundary is still measured.
func decode(ctx context.Context, ffmpeg, path string, pi *probeInfo, det *beepDetector) (*decoded, error) {
	args := []string{"-nostdin", "-hide_banner", "-nostats", "-loglevel", "level+info",
		"-copyts", "-i", path}
	var files []*os.File
	var readers []*os.File
	defer func() {
		for _, f := range append(files, readers...) {
			f.Close()
		}
	}()
	pipe := func() (string, error) {
		r, w, err := os.Pipe()
		if err != nil {
			return "", err
		}
		files = append(files, w)
		readers = append(readers, r)
		return "pipe:" + strconv.Itoa(2+len(files)), nil
	}
	w, h := 0, 0
	if pi.hasVideo {
		w, h = pi.width, pi.height
		if w > scaledWidth {
			h = max(2, int(math.Round(float64(h)*scaledWidth/float64(w)/2))*2)
			w = scaledWidth
		}
		p, err := pipe()
		if err != nil {
			return nil, err
		}
		// passthrough: every decoded frame exactly once; the default
		// (cfr for rawvideo) would duplicate or drop frames and hide
		// exactly what we look for.
		args = append(args, "-map", "0:v:0",
			"-vf", fmt.Sprintf("settb=AVTB,scale=%d:%d:flags=area,format=gray,showinfo", w, h),
			"-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", p)
	}
	if pi.hasAudio {
		p, err := pipe()
		if err != nil {
			return nil, err
		}
		args = append(args, "-map", "0:a:0",
			"-af", "aformat=sample_fmts=flt:channel_layouts=mono,asettb=AVTB,ashowinfo",
			"-f", "f32le", p)
	}
	cmd := exec.CommandContext(ctx, ffmpeg, args...)
	cmd.ExtraFiles = files
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", ffmpeg, err)
	}
	for _, f := range files {
		f.Close() // the child holds them now
	}
	files = nil

	d := &decoded{}
	var wg sync.WaitGroup
	var vErr, aErr error
	ri := 0
	var tail []string
	if pi.hasVideo {
		r := readers[ri]
		ri++
		fr := newFrameReader(pi.width, pi.height, w, h)
		wg.Add(1)
		go func() {
			defer wg.Done()
			br := bufio.NewReaderSize(r, 1<<20)
			buf := make([]byte, w*h)
			for {
				if _, err := io.ReadFull(br, buf); err != nil {
					if err != io.EOF {
						vErr = err
					}
					return
				}
				d.frames = append(d.frames, fr.read(buf))
			}
		}()
	}
	if pi.hasAudio {
		if pi.sampleRate <= 0 {
			return nil, fmt.Errorf("decode %s: audio sample rate unknown", path)
		}
		if det == nil || det.sr != pi.sampleRate {
			det = newBeepDetector(pi.sampleRate)
		}
		d.det, d.base, d.sampleRate = det, det.n, pi.sampleRate
	}
	if pi.hasAudio {
		r := readers[ri]
		wg.Add(1)
		go func() {
			defer wg.Done()
			br := bufio.NewReaderSize(r, 1<<20)
			raw := make([]byte, 4096*4)
			samples := make([]float32, 4096)
			for {
				n, err := io.ReadFull(br, raw)
				n &^= 3
				if n > 0 {
					for i := 0; i < n/4; i++ {
						samples[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
					}
					det.push(samples[:n/4])
				}
				if err != nil {
					if err != io.EOF && err != io.ErrUnexpectedEOF {
						aErr = err
					}
					// drain anything left so ffmpeg never blocks
					io.Copy(io.Discard, br)
					return
				}
			}
		}()
	}
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var parseErr error
	for sc.Scan() {
		line := sc.Bytes()
		video := bytes.Contains(line, vInfoTag)
		if !video && !bytes.Contains(line, aInfoTag) {
			if bytes.Contains(line, errorTag) || bytes.Contains(line, fatalTag) {
				d.decodeErrors++
				if len(d.errorLines) < maxErrorLines {
					d.errorLines = append(d.errorLines, string(bytes.TrimSpace(line)))
				}
			}
			if len(tail) == 8 {
				tail = tail[1:]
			}
			tail = append(tail, string(line))
			continue
		}
		if _, ok := field(line, "] [info] n:"); !ok {
			continue // the filter's configuration lines
		}
		pv, ok := field(line, " pts:")
		if !ok {
			parseErr = fmt.Errorf("unexpected showinfo line %q", line)
			continue
		}
		pts := int64(math.MinInt64)
		if string(pv) != "NOPTS" {
			pts, _ = strconv.ParseInt(string(pv), 10, 64)
		}
		if video {
			k, _ := field(line, " iskey:")
			d.framePTS = append(d.framePTS, pts)
			d.key = append(d.key, string(k) == "1")
			continue
		}
		nb, ok := field(line, " nb_samples:")
		if !ok {
			parseErr = fmt.Errorf("unexpected ashowinfo line %q", line)
			continue
		}
		ns, _ := strconv.ParseInt(string(nb), 10, 64)
		if rate, ok := field(line, " rate:"); ok && string(rate) != strconv.Itoa(d.sampleRate) {
			parseErr = fmt.Errorf("audio decodes at %s Hz, not the %d Hz ffprobe reported", rate, d.sampleRate)
		}
		d.audPTS = append(d.audPTS, pts)
		d.audSamples = append(d.audSamples, ns)
	}
	wg.Wait()
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("decode %s: ffmpeg: %s", path, lastLines(tail))
	}
	if vErr != nil || aErr != nil || parseErr != nil {
		return nil, fmt.Errorf("decode %s: %w", path, errors.Join(vErr, aErr, parseErr))
	}
	if len(d.frames) != len(d.framePTS) {
		return nil, fmt.Errorf("decode %s: %d pictures but %d timestamps from ffmpeg", path, len(d.frames), len(d.framePTS))
	}
	fixNoPTS(d.framePTS, 0)
	if d.det != nil {
		var total int64
		for _, n := range d.audSamples {
			total += n
		}
		if total != det.n-d.base {
			return nil, fmt.Errorf("decode %s: %d audio samples but ffmpeg reported %d", path, det.n-d.base, total)
		}
		fixNoPTS(d.audPTS, 0)
	}
	return d, nil
}

func lastLines(tail []string) string {
	var b bytes.Buffer
	for i, l := range tail {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(strings.TrimSpace(l))
	}
	if b.Len() == 0 {
		return "failed"
	}
	return b.String()
}

// fixNoPTS fills frames without a timestamp from their neighbours (rare:
// broken streams); def is used when no frame has one.
func fixNoPTS(pts []int64, def int64) {
	last := int64(math.MinInt64)
	for i, p := range pts {
		if p == math.MinInt64 {
			if last == math.MinInt64 {
				pts[i] = def
			} else {
				pts[i] = last
			}
		}
		last = pts[i]
	}
}
