//go:build linux && cgo

package avcodec

import (
	"debug/elf"
	"os"
	"strings"
	"testing"
)

// The FFmpeg libraries are loaded when an encoder opens, not by the
// dynamic linker at start: no program that links this package lists them
// as needed (a run that never encodes then never maps the ~95 libraries
// Debian's libavcodec pulls in).
func TestLibavNotLinked(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range libs {
		if strings.HasPrefix(l, "libavcodec") || strings.HasPrefix(l, "libavutil") {
			t.Errorf("%s is linked (DT_NEEDED %v): it must be loaded on demand by lc_load", l, libs)
		}
	}
	if err := load(); err != nil {
		t.Fatalf("load: %v", err)
	}
}
