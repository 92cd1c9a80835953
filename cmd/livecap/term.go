package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// termWidth is the width of the terminal on stderr, 0 when unknown.
func termWidth() int {
	ws, err := unix.IoctlGetWinsize(int(os.Stderr.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}
