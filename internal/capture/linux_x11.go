//go:build linux && cgo

package capture

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// xDisplay returns $DISPLAY without its screen number (":0.1" -> ":0").
func xDisplay() string {
	d := os.Getenv("DISPLAY")
	if i := strings.LastIndex(d, ":"); i >= 0 {
		if j := strings.Index(d[i:], "."); j >= 0 {
			d = d[:i+j]
		}
	}
	return d
}

type xScreen struct {
	n    int
	url  string
	w, h int
}

// screens lists the screens of the X display in $DISPLAY.
func screens() ([]xScreen, error) {
	disp := xDisplay()
	if disp == "" {
		return nil, errors.New("no X display (DISPLAY is not set); screen capture needs X11 (Xorg, Xvfb, or XWayland, which shows only X11 windows)")
	}
	var out []xScreen
	for n := 0; n < 8; n++ {
		url := fmt.Sprintf("%s.%d", disp, n)
		s, err := withTimeout(listTimeout, func() (xScreen, error) {
			d, err := lavOpen("x11grab", url, nil, false)
			if err != nil {
				return xScreen{}, err
			}
			defer d.close()
			vi := d.videoInfo()
			return xScreen{n: n, url: url, w: vi.w, h: vi.h}, nil
		})
		if err != nil {
			if n == 0 {
				return nil, fmt.Errorf("X display %s: %v", disp, err)
			}
			break
		}
		out = append(out, s)
	}
	return out, nil
}
