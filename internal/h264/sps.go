package h264

import "github.com/Eyevinn/mp4ff/avc"

// Colour is the colour description of a stream, in the code points of
// ITU-T H.273 that both the SPS VUI and the MP4/MOV colr box use.
type Colour struct {
	Primaries, Transfer, Matrix uint16
	FullRange                   bool
	// Signalled is true when the SPS carries the description; otherwise
	// the values are the usual guess for the picture size (BT.709 from
	// 720 lines up, SMPTE 170M below), which is what players assume too.
	Signalled bool
}

// Picture is what containers describe about the coded picture beyond its
// size: colour and the sample aspect ratio.
type Picture struct {
	Colour Colour
	// SARWidth:SARHeight is the pixel aspect ratio (1:1 when the SPS says
	// nothing).
	SARWidth, SARHeight uint32
}

// Describe reads the colour description and the sample aspect ratio from
// an SPS (without start code). A missing or unreadable VUI gives the
// defaults for a picture of the given height.
func Describe(sps []byte, height int) Picture {
	p := Picture{SARWidth: 1, SARHeight: 1}
	p.Colour = Colour{Primaries: 6, Transfer: 6, Matrix: 6}
	if height >= 720 {
		p.Colour = Colour{Primaries: 1, Transfer: 1, Matrix: 1}
	}
	s, err := parseSPS(sps)
	if err != nil || s.VUI == nil {
		return p
	}
	v := s.VUI
	if v.VideoSignalTypePresentFlag {
		p.Colour.FullRange = v.VideoFullRangeFlag
		if v.ColourDescriptionFlag && v.ColourPrimaries != 2 && v.TransferCharacteristics != 2 && v.MatrixCoefficients != 2 {
			// 2 is "unspecified": keep the guess.
			p.Colour.Primaries = uint16(v.ColourPrimaries)
			p.Colour.Transfer = uint16(v.TransferCharacteristics)
			p.Colour.Matrix = uint16(v.MatrixCoefficients)
			p.Colour.Signalled = true
		}
	}
	if v.SampleAspectRatioWidth > 0 && v.SampleAspectRatioHeight > 0 {
		p.SARWidth, p.SARHeight = uint32(v.SampleAspectRatioWidth), uint32(v.SampleAspectRatioHeight)
	}
	return p
}

// parseSPS wraps mp4ff's parser, which can panic on hostile bytes.
func parseSPS(sps []byte) (s *avc.SPS, err error) {
	defer func() {
		if recover() != nil {
			s, err = nil, errBadSPS
		}
	}()
	return avc.ParseSPSNALUnit(sps, true)
}

type spsError struct{}

func (spsError) Error() string { return "h264: unreadable SPS" }

var errBadSPS error = spsError{}
