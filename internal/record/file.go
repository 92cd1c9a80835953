package record

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/livecap/livecap/internal/diskcheck"
)

// syncEvery is the least wall-clock time between two fragment syncs of a
// recording. Live, fragments come a second apart and each is synced as
// it is written. Read faster than real time (--input --fast), dozens of
// fragments a second would each pay an fsync, and its writeback would run
// in our process's context; there, a fragment written less than syncEvery
// after the last sync is synced with the next one (or when its file
// closes), so a power cut loses at most what was written in the last
// half second of wall-clock time. A crash of the process alone loses
// nothing written: the page cache outlives it.
const syncEvery = 500 * time.Millisecond

// recDir is what the segment files of one recording share: the
// directory (open, for the syncs after a new name and the free-space
// watch), the pacing of fragment syncs and the writev scratch. One
// recorder goroutine uses it.
type recDir struct {
	path     string
	f        *os.File  // nil until open, or when the directory cannot be opened
	lastSync time.Time // wall clock of the last fragment sync
	vw       vecWriter
	now      func() time.Time // tests; nil: time.Now
	syncs    int              // fsyncs of segment files, for tests
}

func (d *recDir) clock() time.Time {
	if d.now != nil {
		return d.now()
	}
	return time.Now()
}

// syncFile syncs a segment file and counts it.
func (d *recDir) syncFile(f *os.File) error {
	d.syncs++
	return f.Sync()
}

// open opens the directory; without it (a platform that refuses), each
// sync opens it anew and the free-space watch asks by name.
func (d *recDir) open() {
	if d.f == nil {
		d.f, _ = os.Open(d.path)
	}
}

func (d *recDir) close() {
	if d.f != nil {
		d.f.Close()
		d.f = nil
	}
}

// sync makes the directory's entries durable.
func (d *recDir) sync() error {
	if d.f == nil {
		return syncDir(d.path)
	}
	if err := d.f.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", d.path, err)
	}
	return nil
}

// free is the free space of the directory's file system.
func (d *recDir) free() (uint64, error) {
	if d.f == nil {
		return diskcheck.Free(d.path)
	}
	return diskcheck.FreeOf(d.f)
}

// segFile is one output file. Nothing is on disk until the first append,
// which writes the init segment and the first fragment under a hidden
// temporary name, syncs them and only then links the file into place: a
// crash at any moment leaves either no segment file or one that plays
// (never an empty one). Everything after that is appended in whole
// fragments, each synced unless the last sync is less than syncEvery old
// (the next fragment's sync or the close then covers it); good is the size
// after the last fragment that was completely written, the point a
// failed write is rolled back to.
type segFile struct {
	f       *os.File
	fd      int
	d       *recDir
	path    string
	good    int64
	noSync  bool // benchmarks only: measure the writer, not the disk
	discard bool // benchmarks only: count the bytes, write nothing
	// rename, when set, gives another name to try when the file's name
	// was taken by someone else between the segment's start and its first
	// fragment.
	rename func() string
}

// partialName is the hidden name a segment is written under until its
// first fragment is on disk. The scan knows it.
func partialName(name string) string { return "." + name + ".partial" }

// taken says whether a segment named name (or its partial file) exists
// in the directory.
func (d *recDir) taken(name string) bool {
	for _, n := range [...]string{name, partialName(name)} {
		if d.f != nil {
			var st unix.Stat_t
			if err := unix.Fstatat(int(d.f.Fd()), n, &st, unix.AT_SYMLINK_NOFOLLOW); err != unix.ENOENT {
				return true
			}
			continue
		}
		if _, err := os.Lstat(filepath.Join(d.path, n)); !errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}

func newSegFile(d *recDir, name string, noSync, discard bool) *segFile {
	return &segFile{d: d, path: filepath.Join(d.path, name), noSync: noSync, discard: discard}
}

// create writes bufs (init segment + first fragment) under the partial
// name, syncs, and links it to s.path without ever replacing a file there
// (link fails with EEXIST). fs.ErrExist means the name was taken
// meanwhile: nothing was left behind, and the caller picks another name.
func (s *segFile) create(bufs [][]byte) error {
	for tries := 0; ; tries++ {
		err := s.createAs(bufs)
		if !errors.Is(err, fs.ErrExist) || s.rename == nil || tries >= 100 {
			return err
		}
		s.path = s.rename()
	}
}

func (s *segFile) createAs(bufs [][]byte) error {
	tmp := filepath.Join(s.d.path, partialName(filepath.Base(s.path)))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	n, err := s.d.vw.writeAll(int(f.Fd()), bufs)
	if err == nil && !s.noSync {
		err = s.d.syncFile(f) // always: the name appears only once its first fragment is durable
		s.d.lastSync = s.d.clock()
	}
	if err != nil {
		return fail(&writeError{path: s.path, good: 0, err: err})
	}
	if err := os.Link(tmp, s.path); err != nil {
		return fail(err)
	}
	os.Remove(tmp)
	if !s.noSync {
		// The file is complete and named; a failure here only leaves the
		// directory entry's durability in doubt, so it is not fatal.
		_ = s.d.sync()
	}
	s.f, s.fd, s.good = f, int(f.Fd()), n
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// advance drops the first n bytes from bufs (in place).
func advance(bufs [][]byte, n int) [][]byte {
	for n > 0 && len(bufs) > 0 {
		if n >= len(bufs[0]) {
			n -= len(bufs[0])
			bufs = bufs[1:]
			continue
		}
		bufs[0] = bufs[0][n:]
		n = 0
	}
	for len(bufs) > 0 && len(bufs[0]) == 0 {
		bufs = bufs[1:]
	}
	return bufs
}

// append writes one fragment (the first time: the init plus the first
// fragment, creating the file) and syncs it (paced: syncEvery). On
// failure the file is cut back to its last complete fragment and synced,
// so it stays playable; the error says what happened.
func (s *segFile) append(bufs [][]byte) error {
	if s.discard {
		for _, b := range bufs {
			s.good += int64(len(b))
		}
		return nil
	}
	if s.f == nil {
		return s.create(bufs)
	}
	n, err := s.d.vw.writeAll(s.fd, bufs)
	if err == nil {
		err = s.syncPaced()
	}
	if err != nil {
		return s.rollback(n, err)
	}
	s.good += n
	return nil
}

// syncPaced syncs the file unless the recording's last sync is less than
// syncEvery old.
func (s *segFile) syncPaced() error {
	if s.noSync {
		return nil
	}
	now := s.d.clock()
	if now.Sub(s.d.lastSync) < syncEvery {
		return nil
	}
	s.d.lastSync = now
	return s.d.syncFile(s.f)
}

func (s *segFile) rollback(written int64, cause error) error {
	what := "write"
	if errors.Is(cause, syscall.ENOSPC) {
		what = "disk full while writing"
	}
	if terr := s.f.Truncate(s.good); terr != nil {
		return fmt.Errorf("%s %s: %w; and cutting it back to its last complete fragment (%d bytes) failed: %v", what, s.path, cause, s.good, terr)
	}
	s.d.syncFile(s.f)
	_ = written
	return &writeError{path: s.path, good: s.good, err: cause}
}

// patch overwrites bytes already in the file (durations at finalization);
// it needs no new disk blocks, so it works on a full disk too.
func (s *segFile) patch(off int64, b []byte) error {
	if s.f == nil || off+int64(len(b)) > s.good {
		return nil // that part of the file was never completely written
	}
	_, err := s.f.WriteAt(b, off)
	return err
}

// close syncs and closes the file (if it was ever created).
func (s *segFile) close() error {
	if s.f == nil {
		return nil
	}
	var err error
	if !s.noSync {
		err = s.d.syncFile(s.f)
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f = nil
	return err
}

// writeError is a failed fragment write, after the rollback.
type writeError struct {
	path string
	good int64
	err  error
}

func (e *writeError) Error() string {
	if e.good == 0 {
		if errors.Is(e.err, syscall.ENOSPC) {
			return fmt.Sprintf("disk full while writing the first fragment of %s: recording stopped; no file was left behind", e.path)
		}
		return fmt.Sprintf("writing the first fragment of %s: %v: recording stopped; no file was left behind", e.path, e.err)
	}
	if errors.Is(e.err, syscall.ENOSPC) {
		return fmt.Sprintf("disk full while writing %s: recording stopped; the file was cut back to its last complete fragment (%d bytes) and stays playable", e.path, e.good)
	}
	return fmt.Sprintf("writing %s: %v: recording stopped; the file was cut back to its last complete fragment (%d bytes)", e.path, e.err, e.good)
}

func (e *writeError) Unwrap() error { return e.err }

func (e *writeError) Is(target error) bool {
	return target == ErrDiskFull && errors.Is(e.err, syscall.ENOSPC)
}

// fileName is the name of segment index of a recording started at start:
// sortable by time then index; run > 1 distinguishes a second recording
// started within the same second ('_' sorts after '-', so every file of
// the first run sorts before the second run's).
func fileName(prefix string, start time.Time, run, index int, ext string) string {
	var buf [96]byte
	b := append(buf[:0], prefix...)
	b = append(b, '-')
	b = start.AppendFormat(b, "20060102-150405")
	if run > 1 {
		b = append(b, '_')
		b = strconv.AppendInt(b, int64(run), 10)
	}
	b = append(b, '-')
	for d := 1000; d > 1 && index < d; d /= 10 {
		b = append(b, '0') // %04d
	}
	b = strconv.AppendInt(b, int64(index), 10)
	b = append(b, '.')
	b = append(b, ext...)
	return string(b)
}
