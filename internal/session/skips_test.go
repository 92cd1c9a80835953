package session

import "testing"

func TestSkipLimit(t *testing.T) {
	cases := []struct {
		in               string
		err              bool
		skipped, of      uint64
		enough, exceeded bool
	}{
		{"10", false, 10, 100, true, false},
		{"10", false, 11, 100, false, true}, // a count is judged at once
		{"0", false, 1, 100, false, true},
		{"1%", false, 1, 100, true, false},
		{"1%", false, 2, 100, true, true},
		{"1%", false, 50, 100, false, false}, // a percentage waits for enough frames
		{"0.5 %", false, 1, 100, true, true},
		{"", true, 0, 0, false, false},
		{"-1", true, 0, 0, false, false},
		{"100%", true, 0, 0, false, false},
		{"x%", true, 0, 0, false, false},
	}
	for _, c := range cases {
		l, err := ParseSkipLimit(c.in)
		if (err != nil) != c.err {
			t.Errorf("ParseSkipLimit(%q): %v", c.in, err)
			continue
		}
		if err == nil {
			if got := l.exceeded(c.skipped, c.of, c.enough); got != c.exceeded {
				t.Errorf("%q: %d of %d (enough %v): exceeded %v, want %v", c.in, c.skipped, c.of, c.enough, got, c.exceeded)
			}
		}
	}
	if (SkipLimit{}).exceeded(1000, 1000, true) {
		t.Error("the zero limit is no limit")
	}
}
