//go:build !linux

package record

import (
	"golang.org/x/sys/unix"
)

// vecWriter writes buffers in order. golang.org/x/sys has no writev
// outside Linux at the version we pin, so each buffer is one write: a
// fragment is a few dozen writes per second, which costs nothing visible.
type vecWriter struct{}

// writeAll writes every buffer, in order.
func (vecWriter) writeAll(fd int, bufs [][]byte) (int64, error) {
	var total int64
	for len(bufs) > 0 {
		n, err := unix.Write(fd, bufs[0])
		if n > 0 {
			total += int64(n)
			bufs = advance(bufs, n)
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return total, err
		}
		if n == 0 && len(bufs[0]) > 0 {
			return total, unix.EIO
		}
		if len(bufs) > 0 && len(bufs[0]) == 0 {
			bufs = bufs[1:]
		}
	}
	return total, nil
}
