package record

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// vecWriter writes buffers with writev(2): the sample data goes from the
// packets' own memory to the kernel without a copy in Go. It keeps its
// iovec array from one fragment to the next (unix.Writev builds a new one,
// growing it several times, on every call).
type vecWriter struct {
	iov []unix.Iovec
}

// iovMax is IOV_MAX on Linux.
const iovMax = 1024

// writeAll writes every buffer, in order.
func (w *vecWriter) writeAll(fd int, bufs [][]byte) (int64, error) {
	var total int64
	defer w.forget()
	for len(bufs) > 0 {
		chunk := bufs[:min(len(bufs), iovMax)]
		iov := w.iov[:0]
		for _, b := range chunk {
			var v unix.Iovec
			v.Base = unsafe.SliceData(b)
			v.SetLen(len(b))
			iov = append(iov, v)
		}
		w.iov = iov
		r, _, errno := unix.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(iov))), uintptr(len(iov)))
		n := int(r)
		var err error
		if errno != 0 {
			n, err = 0, errno
		}
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

// forget drops the pointers into the packets' memory that the iovecs
// hold, so that they do not keep it alive until the next fragment.
func (w *vecWriter) forget() { clear(w.iov) }
