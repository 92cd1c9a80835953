//go:build darwin

package capture

// These run only on a Mac (the macOS workflow). A hosted runner has no
// camera and nobody to answer a prompt: what is checked is that nothing
// hangs, nothing prompts for screen recording while listing, and what is
// listed reads right.

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDevicesReturnsWithoutPrompting(t *testing.T) {
	type res struct {
		devs []Device
		err  error
	}
	done := make(chan res, 1)
	go func() {
		d, notes := darwinPlatform{}.DevicesNotes()
		for _, n := range notes {
			t.Logf("note: %s", n)
		}
		_, err := darwinPlatform{}.Devices()
		done <- res{d, err}
	}()
	var r res
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Devices did not return within 30 s (a prompt or a completion handler that never came?)")
	}
	t.Logf("screen recording allowed: %v", screenAllowed())
	if r.err != nil {
		if !errors.Is(r.err, ErrDevice) || len(r.devs) > 0 {
			t.Fatalf("Devices: %v with %d devices listed, want nil, or an ErrDevice error when nothing is found", r.err, len(r.devs))
		}
		t.Logf("Devices: %v", r.err)
	}
	for _, d := range r.devs {
		t.Logf("%s %d %q %s %v", d.Kind, d.Index, d.Name, d.ID, d.Formats)
		switch d.Kind {
		case "video", "audio":
			if d.ID == "" {
				t.Errorf("%s %q has no unique ID", d.Kind, d.Name)
			}
		case "screen":
			if !strings.HasPrefix(d.ID, "screen:") {
				t.Errorf("screen ID %q", d.ID)
			}
		default:
			t.Errorf("device kind %q", d.Kind)
		}
		if d.Kind == "video" {
			// Every camera format lists as WxH@rate or WxH@lo-hi.
			for _, f := range d.Formats {
				if !strings.Contains(f, "x") || !strings.Contains(f, "@") {
					t.Errorf("camera %q format %q", d.Name, f)
				}
			}
		}
	}
}

// Every camera present gets a format for the default request (30 fps, or
// its highest rate), inside one of its ranges.
func TestChooseFormatOnRealCameras(t *testing.T) {
	n := 0
	for _, d := range devices() {
		if d.kind != 0 { // LC_CAMERA
			continue
		}
		n++
		rs := formats(d.uid)
		c, err := ChooseFormat(d.name, rs, 0, 0, 0, 0)
		if err != nil {
			t.Errorf("camera %q: %v", d.name, err)
			continue
		}
		t.Logf("camera %q: format %d %dx%d at %v fps (%d/%d s)", d.name, c.Format, c.Width, c.Height, c.FPS, c.Duration.Value, c.Duration.Scale)
	}
	if n == 0 {
		t.Skip("no camera on this Mac (hosted runners have none)")
	}
}
