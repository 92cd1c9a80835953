package record

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// segFile is one output file. Everything is appended in whole fragments;
// good is the size after the last fragment that was completely written and
// synced, the point a failed write is rolled back to.
type segFile struct {
	f       *os.File
	fd      int
	path    string
	good    int64
	noSync  bool // benchmarks only: measure the writer, not the disk
	discard bool // benchmarks only: count the bytes, write nothing
}

// createExclusive creates dir/name with O_EXCL, so an existing file is never
// opened, let alone overwritten, and syncs the directory so that the new
// entry survives a power cut.
func createExclusive(dir, name string, noSync bool) (*segFile, error) {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	if !noSync {
		if err := syncDir(dir); err != nil {
			f.Close()
			os.Remove(path) // empty: we just made it
			return nil, err
		}
	}
	return &segFile{f: f, fd: int(f.Fd()), path: path, noSync: noSync}, nil
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

// append writes one fragment (or the init plus the first fragment) and
// syncs it. On failure the file is cut back to its last complete fragment
// and synced, so it stays playable; the error says what happened.
func (s *segFile) append(bufs [][]byte) error {
	if s.discard {
		for _, b := range bufs {
			s.good += int64(len(b))
		}
		return nil
	}
	n, err := writeAll(s.fd, bufs)
	if err == nil && !s.noSync {
		err = s.f.Sync()
	}
	if err != nil {
		return s.rollback(n, err)
	}
	s.good += n
	return nil
}

func (s *segFile) rollback(written int64, cause error) error {
	what := "write"
	if errors.Is(cause, syscall.ENOSPC) {
		what = "disk full while writing"
	}
	if terr := s.f.Truncate(s.good); terr != nil {
		return fmt.Errorf("%s %s: %w; and cutting it back to its last complete fragment (%d bytes) failed: %v", what, s.path, cause, s.good, terr)
	}
	s.f.Sync()
	_ = written
	return &writeError{path: s.path, good: s.good, err: cause}
}

// patch overwrites bytes already in the file (durations at finalization);
// it needs no new disk blocks, so it works on a full disk too.
func (s *segFile) patch(off int64, b []byte) error {
	if off+int64(len(b)) > s.good {
		return nil // that part of the file was never completely written
	}
	_, err := s.f.WriteAt(b, off)
	return err
}

// close syncs and closes. A file that holds nothing (the init segment never
// made it to disk) is removed: there is no recorded data in it to keep.
func (s *segFile) close() error {
	var err error
	if !s.noSync {
		err = s.f.Sync()
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if s.good == 0 {
		if rerr := os.Remove(s.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
			err = rerr
		}
	}
	return err
}

// writeError is a failed fragment write, after the rollback.
type writeError struct {
	path string
	good int64
	err  error
}

func (e *writeError) Error() string {
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
	stamp := start.Format("20060102-150405")
	if run > 1 {
		stamp += fmt.Sprintf("_%d", run)
	}
	return fmt.Sprintf("%s-%s-%04d.%s", prefix, stamp, index, ext)
}
