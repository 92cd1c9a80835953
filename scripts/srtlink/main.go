// Command srtlink is a slow UDP link for scripts: it relays 127.0.0.1:-port
// to 127.0.0.1:-to at -rate bits/s through a -queue byte drop-tail buffer
// (the return direction is not limited), and prints what it forwarded and
// dropped when interrupted. scripts/srt-stop-times.sh uses it.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/livecap/livecap/internal/testpeers"
)

func main() {
	to := flag.Int("to", 0, "server UDP port on 127.0.0.1")
	rate := flag.Int("rate", 1_000_000, "link rate, bits per second")
	queue := flag.Int("queue", 256<<10, "router buffer, bytes")
	flag.Parse()
	l, err := testpeers.NewUDPLink(*to, *rate, *queue)
	if err != nil {
		fmt.Fprintln(os.Stderr, "srtlink:", err)
		os.Exit(1)
	}
	fmt.Println(l.Port)
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	<-c
	l.Close()
	fmt.Fprintf(os.Stderr, "srtlink: forwarded %d, dropped %d datagrams\n", l.Forwarded.Load(), l.Dropped.Load())
}
