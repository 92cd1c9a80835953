package vt

import (
	"bytes"
	"testing"
	"time"
)

// A cookie as AudioToolbox returns it for 44.1 kHz stereo AAC-LC (the
// layout of ISO/IEC 14496-1: ES_Descriptor > DecoderConfigDescriptor >
// DecoderSpecificInfo), with 4-byte sizes as Apple writes them.
var appleCookie = []byte{
	0x03, 0x80, 0x80, 0x80, 0x22, 0x00, 0x00, 0x00, // ES_Descriptor, ES_ID 0, flags 0
	0x04, 0x80, 0x80, 0x80, 0x14, 0x40, 0x15, 0x00, 0x18, 0x00, // DecoderConfig: AAC, audio, bufsize
	0x00, 0x01, 0xf4, 0x00, 0x00, 0x01, 0xf4, 0x00, // max/avg bitrate
	0x05, 0x80, 0x80, 0x80, 0x02, 0x12, 0x10, // DecoderSpecificInfo: ASC 0x1210
	0x06, 0x80, 0x80, 0x80, 0x01, 0x02, // SLConfigDescriptor
}

func TestASCFromCookie(t *testing.T) {
	asc, err := ascFromCookie(appleCookie)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(asc, []byte{0x12, 0x10}) {
		t.Fatalf("asc = % x, want 12 10", asc)
	}
	// Short sizes, and an ES_Descriptor with a dependency and OCR id.
	short := []byte{0x03, 0x19, 0x00, 0x01, 0xa0, 0x00, 0x02, 0x00, 0x03,
		0x04, 0x11, 0x40, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x05, 0x02, 0x11, 0x90}
	short[1] = byte(len(short) - 2)
	asc, err = ascFromCookie(short)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(asc, []byte{0x11, 0x90}) {
		t.Fatalf("asc = % x, want 11 90", asc)
	}
	if asc, err := ascFromCookie([]byte{0x12, 0x10}); err != nil || !bytes.Equal(asc, []byte{0x12, 0x10}) {
		t.Fatalf("bare ASC: % x, %v", asc, err)
	}
	for _, bad := range [][]byte{nil, {0x03}, {0x03, 0x7f, 0x00}, {0xff, 0x01}, {0x03, 0x03, 0, 0, 0}} {
		if _, err := ascFromCookie(bad); err == nil {
			t.Errorf("cookie % x: no error", bad)
		}
	}
}

func TestASCFor(t *testing.T) {
	for _, c := range []struct {
		rate, ch int
		want     []byte
	}{{44100, 2, []byte{0x12, 0x10}}, {48000, 2, []byte{0x11, 0x90}}, {48000, 1, []byte{0x11, 0x88}}} {
		got, err := ascFor(c.rate, c.ch)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("ascFor(%d, %d) = % x, %v; want % x", c.rate, c.ch, got, err, c.want)
		}
	}
	if _, err := ascFor(44000, 2); err == nil {
		t.Error("44000 Hz accepted")
	}
}

func TestAACPTS(t *testing.T) {
	first := 100 * time.Millisecond
	// AudioToolbox primes 2112 samples: packet 0 starts 44 ms before the
	// first captured sample at 48 kHz; packet 2 is the first holding it.
	if got, want := aacPTS(first, 0, 1024, 2112, 48000), first-44*time.Millisecond; got != want {
		t.Errorf("packet 0: %v, want %v", got, want)
	}
	if got, want := aacPTS(first, 3, 1024, 2112, 48000), first+(3*1024-2112)*time.Second/48000; got != want {
		t.Errorf("packet 3: %v, want %v", got, want)
	}
	// Ten hours at 44.1 kHz: exact, no overflow, no accumulated rounding.
	n := int64(10 * 3600 * 44100 / 1024)
	got := aacPTS(0, n, 1024, 0, 44100)
	want := time.Duration(n*1024) * time.Second / 44100
	if d := got - want; d < -time.Nanosecond || d > time.Nanosecond {
		t.Errorf("10 h: %v, want %v", got, want)
	}
}
