package media

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// FrameRate is a video frame rate as a fraction, Num/Den frames per second:
// 30/1, 25/1, and the NTSC rates 30000/1001 (29.97), 60000/1001 (59.94),
// 24000/1001 (23.976). The zero value means "not set".
type FrameRate struct {
	Num, Den int
}

// ParseFrameRate reads a frame rate as people write it: a whole number
// ("30"), a fraction ("30000/1001"), or a decimal ("29.97", "59.94",
// "23.976", "12.5"). A decimal within 0.01 of an NTSC rate (N*1000/1001)
// is that rate; any other decimal is taken exactly. The result is reduced.
func ParseFrameRate(s string) (FrameRate, error) {
	s = strings.TrimSpace(s)
	if n, d, ok := strings.Cut(s, "/"); ok {
		num, err1 := strconv.Atoi(strings.TrimSpace(n))
		den, err2 := strconv.Atoi(strings.TrimSpace(d))
		if err1 != nil || err2 != nil || num <= 0 || den <= 0 {
			return FrameRate{}, fmt.Errorf("frame rate %q not understood: a fraction needs two positive whole numbers, such as 30000/1001", s)
		}
		return FrameRate{num, den}.reduced(), nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 {
			return FrameRate{}, fmt.Errorf("frame rate %q not allowed: must be positive", s)
		}
		return FrameRate{n, 1}, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 || strings.ContainsAny(s, "eEpPxX") {
		return FrameRate{}, fmt.Errorf("frame rate %q not understood: use a number such as 30, 29.97 or 30000/1001", s)
	}
	if n := math.Round(f * 1.001); n >= 1 && math.Abs(f-n/1.001) < 0.01 && f != math.Trunc(f) {
		return FrameRate{int(n) * 1000, 1001}.reduced(), nil
	}
	// An exact decimal: digits after the point over a power of ten.
	_, frac, _ := strings.Cut(s, ".")
	if len(frac) > 6 {
		return FrameRate{}, fmt.Errorf("frame rate %q has too many decimals (at most 6; or write a fraction)", s)
	}
	den := int(math.Pow10(len(frac)))
	return FrameRate{int(math.Round(f * float64(den))), den}.reduced(), nil
}

func (r FrameRate) reduced() FrameRate {
	a, b := r.Num, r.Den
	for b != 0 {
		a, b = b, a%b
	}
	if a == 0 {
		return r
	}
	return FrameRate{r.Num / a, r.Den / a}
}

// IsZero reports whether the rate is unset.
func (r FrameRate) IsZero() bool { return r.Num <= 0 || r.Den <= 0 }

// Whole reports whether the rate is a whole number of frames per second.
func (r FrameRate) Whole() bool { return !r.IsZero() && r.Num%r.Den == 0 }

// Float is the rate in frames per second (0 when unset).
func (r FrameRate) Float() float64 {
	if r.IsZero() {
		return 0
	}
	return float64(r.Num) / float64(r.Den)
}

// Rounded is the nearest whole rate (30 for 29.97), for what only counts
// whole frames per second.
func (r FrameRate) Rounded() int { return int(math.Round(r.Float())) }

// FrameDuration is one frame's duration, rounded to the nanosecond.
func (r FrameRate) FrameDuration() time.Duration {
	if r.IsZero() {
		return 0
	}
	return time.Duration(math.Round(float64(time.Second) * float64(r.Den) / float64(r.Num)))
}

// String prints a whole rate as a number ("30") and any other as its
// fraction ("30000/1001").
func (r FrameRate) String() string {
	switch {
	case r.IsZero():
		return "0"
	case r.Whole():
		return strconv.Itoa(r.Num / r.Den)
	}
	return fmt.Sprintf("%d/%d", r.Num, r.Den)
}

// CheckFrameRate reports whether r is within MinFPS..MaxFPS.
func CheckFrameRate(r FrameRate) error {
	if r.IsZero() {
		return errors.New("frame rate not set")
	}
	if f := r.Float(); f < MinFPS || f > MaxFPS {
		return fmt.Errorf("frame rate %s not allowed: must be from %d to %d", r, MinFPS, MaxFPS)
	}
	return nil
}
