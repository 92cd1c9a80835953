package media

import (
	"strings"
	"testing"
	"time"
)

func TestParseFrameRate(t *testing.T) {
	cases := []struct {
		in       string
		num, den int
		str      string
	}{
		{"30", 30, 1, "30"},
		{"25", 25, 1, "25"},
		{"29.97", 30000, 1001, "30000/1001"},
		{"30000/1001", 30000, 1001, "30000/1001"},
		{"59.94", 60000, 1001, "60000/1001"},
		{"23.976", 24000, 1001, "24000/1001"},
		{"23.98", 24000, 1001, "24000/1001"},
		{"119.88", 120000, 1001, "120000/1001"},
		{"60/2", 30, 1, "30"},
		{"12.5", 25, 2, "25/2"},
		{"7.5", 15, 2, "15/2"},
		{"30.0", 30, 1, "30"},
		{" 24 ", 24, 1, "24"},
	}
	for _, c := range cases {
		r, err := ParseFrameRate(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if r.Num != c.num || r.Den != c.den || r.String() != c.str {
			t.Errorf("%q = %d/%d (%s), want %d/%d (%s)", c.in, r.Num, r.Den, r, c.num, c.den, c.str)
		}
	}
	for _, bad := range []string{"", "x", "-30", "0", "30/0", "0/1001", "1e2", "30/", "/1001", "NaN", "Inf", "12.1234567"} {
		if r, err := ParseFrameRate(bad); err == nil {
			t.Errorf("%q parsed as %v", bad, r)
		} else if !strings.Contains(err.Error(), "frame rate") {
			t.Errorf("%q: error %q does not say what it is about", bad, err)
		}
	}
}

func TestFrameRateValues(t *testing.T) {
	ntsc := FrameRate{30000, 1001}
	if ntsc.Rounded() != 30 || ntsc.Whole() || ntsc.FrameDuration() != 33366667*time.Nanosecond {
		t.Errorf("29.97: rounded %d whole %v duration %v", ntsc.Rounded(), ntsc.Whole(), ntsc.FrameDuration())
	}
	if d := (FrameRate{30, 1}).FrameDuration(); d != 33333333*time.Nanosecond {
		t.Errorf("30 fps frame %v", d)
	}
	if CheckFrameRate(ntsc) != nil || CheckFrameRate(FrameRate{121, 1}) == nil || CheckFrameRate(FrameRate{1, 2}) == nil {
		t.Error("CheckFrameRate limits")
	}
	if !(FrameRate{}).IsZero() || (FrameRate{}).String() != "0" {
		t.Error("zero rate")
	}
}
