package control

import (
	"net"
	"os"
	"syscall"
)

// peerIsOwner: only this user's processes may drive the session, even if
// the socket's mode were loosened after start (SO_PEERCRED).
func peerIsOwner(c *net.UnixConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	raw.Control(func(fd uintptr) {
		cred, err := syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
		ok = err == nil && (int(cred.Uid) == os.Geteuid() || cred.Uid == 0)
	})
	return ok
}
