package control

import (
	"testing"
	"time"
)

// BenchmarkRoundTrip: one op is one status request and its reply over the
// Unix socket (the endpoint's own cost, without a session's load).
func BenchmarkRoundTrip(b *testing.B) {
	p := sockPath(b)
	s, err := Listen(p, &recHandler{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := Dial(p, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if rep, err := c.Do(Request{Verb: VerbStatus}, time.Second); err != nil || !rep.OK {
			b.Fatal(rep, err)
		}
	}
}
