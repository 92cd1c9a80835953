package vt

import "fmt"

// unsupportedWarnings turns the bit set lcvt_video_open fills (bit i set:
// VideoToolbox rejected property names[i] with kVTPropertyNotSupportedErr)
// into one warning per property, in bit order.
func unsupportedWarnings(bits uint32, names []string) []string {
	var out []string
	for i := 0; i < 32; i++ {
		if bits&(1<<i) == 0 {
			continue
		}
		name := fmt.Sprintf("property bit %d", i)
		if i < len(names) {
			name = names[i]
		}
		out = append(out, fmt.Sprintf("VideoToolbox does not support %s on this encoder (kVTPropertyNotSupportedErr); encoding without it", name))
	}
	return out
}
