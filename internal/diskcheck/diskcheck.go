// Package diskcheck estimates what a recording will need and watches free
// space while it runs, so a recording never dies on a full disk unnoticed.
package diskcheck

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Reserve is the factor of safety over the estimate: the OS and temporary
// data need room too.
const Reserve = 2

// Free returns the bytes available to an unprivileged writer on the
// filesystem that holds path.
func Free(path string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", path, err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}

// FreeOf is Free for the filesystem that holds the open file f (a
// directory kept open by a recorder): no path to convert and look up, so
// the recorder's check after every fragment allocates nothing.
func FreeOf(f *os.File) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", f.Name(), err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}

// Estimate is the expected size of a recording: total bitrate / 8 × duration.
func Estimate(videoBitrate, audioBitrate int, d time.Duration) uint64 {
	bps := uint64(videoBitrate + audioBitrate)
	return bps / 8 * uint64(d/time.Millisecond) / 1000
}

// Result of a pre-recording check.
type Result struct {
	Free     uint64
	Estimate uint64
	Needed   uint64 // Reserve × Estimate
	OK       bool
}

// Check compares free space at dir with Reserve × the estimate.
func Check(dir string, videoBitrate, audioBitrate int, expected time.Duration) (Result, error) {
	free, err := Free(dir)
	if err != nil {
		return Result{}, err
	}
	est := Estimate(videoBitrate, audioBitrate, expected)
	r := Result{Free: free, Estimate: est, Needed: Reserve * est}
	r.OK = free >= r.Needed
	return r, nil
}

// Message explains a failed check in one line, naming both figures.
func (r Result) Message(dir string, expected time.Duration) string {
	return fmt.Sprintf("free space at %s is %s, under %d × the estimated %s for %s of recording (%s needed)",
		dir, Human(r.Free), Reserve, Human(r.Estimate), expected, Human(r.Needed))
}

// LowWater is the free space under which a running recording closes its
// segment and stops: room for several more seconds of media at the given
// bitrate, and never less than 4 MiB, so that closing the file (last
// fragment, index) always fits.
func LowWater(videoBitrate, audioBitrate int) uint64 {
	lw := Estimate(videoBitrate, audioBitrate, 5*time.Second)
	if lw < 4<<20 {
		lw = 4 << 20
	}
	return lw
}

// Human formats a byte count (1.8 GB, 512.0 MB).
func Human(n uint64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
