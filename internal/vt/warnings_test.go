package vt

import (
	"strings"
	"testing"
)

func TestUnsupportedWarnings(t *testing.T) {
	names := []string{"RealTime", "ProfileLevel", "AverageBitRate"}
	if w := unsupportedWarnings(0, names); len(w) != 0 {
		t.Fatalf("no bit set gave warnings %q", w)
	}
	w := unsupportedWarnings(1<<0|1<<2|1<<9, names)
	if len(w) != 3 {
		t.Fatalf("3 bits gave %d warnings: %q", len(w), w)
	}
	for i, want := range []string{"RealTime", "AverageBitRate", "property bit 9"} {
		if !strings.Contains(w[i], want) || !strings.Contains(w[i], "kVTPropertyNotSupportedErr") {
			t.Errorf("warning %d = %q, want it to name %q and the status", i, w[i], want)
		}
	}
}
