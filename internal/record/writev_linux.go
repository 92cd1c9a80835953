package record

import (
	"golang.org/x/sys/unix"
)

// writeAll writes every buffer, in order, with writev: the sample data goes
// from the packets' own memory to the kernel without a copy in Go.
func writeAll(fd int, bufs [][]byte) (int64, error) {
	var total int64
	for len(bufs) > 0 {
		chunk := bufs
		if len(chunk) > 1024 { // IOV_MAX
			chunk = chunk[:1024]
		}
		n, err := unix.Writev(fd, chunk)
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
		if n == 0 {
			return total, unix.EIO
		}
	}
	return total, nil
}
