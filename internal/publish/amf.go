package publish

import (
	"encoding/binary"
	"errors"
	"math"
)

// AMF0 (Adobe's Action Message Format 0): the encoding of RTMP command
// messages. We encode the few values our commands and onMetaData need, and
// decode what a server answers, within bounds: a server's bytes are input,
// not trusted.

const (
	amf0Number      = 0x00
	amf0Boolean     = 0x01
	amf0String      = 0x02
	amf0Object      = 0x03
	amf0Null        = 0x05
	amf0Undefined   = 0x06
	amf0Reference   = 0x07
	amf0ECMAArray   = 0x08
	amf0ObjectEnd   = 0x09
	amf0StrictArray = 0x0A
	amf0Date        = 0x0B
	amf0LongString  = 0x0C
	amf0Unsupported = 0x0D
	amf0XMLDocument = 0x0F
	amf0TypedObject = 0x10
	amf0AVMPlus     = 0x11 // switch to AMF3: not decoded
)

func amfString(b []byte, s string) []byte {
	b = append(b, amf0String)
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func amfNumber(b []byte, f float64) []byte {
	b = append(b, amf0Number)
	return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
}

func amfBool(b []byte, v bool) []byte {
	if v {
		return append(b, amf0Boolean, 1)
	}
	return append(b, amf0Boolean, 0)
}

func amfNull(b []byte) []byte { return append(b, amf0Null) }

type amfProp struct {
	k string
	v any // string, float64, int, bool
}

func amfProps(b []byte, props []amfProp) []byte {
	for _, p := range props {
		b = binary.BigEndian.AppendUint16(b, uint16(len(p.k)))
		b = append(b, p.k...)
		switch v := p.v.(type) {
		case string:
			b = amfString(b, v)
		case float64:
			b = amfNumber(b, v)
		case int:
			b = amfNumber(b, float64(v))
		case bool:
			b = amfBool(b, v)
		default:
			b = amfNull(b)
		}
	}
	return append(b, 0, 0, amf0ObjectEnd)
}

func amfObject(b []byte, props []amfProp) []byte {
	return amfProps(append(b, amf0Object), props)
}

func amfECMAArray(b []byte, props []amfProp) []byte {
	b = append(b, amf0ECMAArray)
	b = binary.BigEndian.AppendUint32(b, uint32(len(props)))
	return amfProps(b, props)
}

// Decoding bounds: a command message is at most rtmpMaxKept bytes, so
// these only stop pathological nesting and element counts.
const (
	amfMaxDepth  = 8
	amfMaxValues = 512
)

var errAMF = errors.New("malformed AMF0")

// amfDecoder decodes AMF0 values into string, float64, bool, nil,
// map[string]any and []any. It never panics and allocates at most in
// proportion to its input.
type amfDecoder struct {
	b      []byte
	values int
}

// decodeAll decodes values until the input ends or one does not decode;
// it returns those that did and whether all of the input was used.
func (d *amfDecoder) decodeAll() ([]any, bool) {
	var out []any
	for len(d.b) > 0 {
		v, err := d.value(0)
		if err != nil {
			return out, false
		}
		out = append(out, v)
	}
	return out, true
}

func (d *amfDecoder) take(n int) ([]byte, error) {
	if n < 0 || len(d.b) < n {
		return nil, errAMF
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b, nil
}

func (d *amfDecoder) str(long bool) (string, error) {
	n := 2
	if long {
		n = 4
	}
	h, err := d.take(n)
	if err != nil {
		return "", err
	}
	l := int(binary.BigEndian.Uint16(h))
	if long {
		l = int(binary.BigEndian.Uint32(h) & 0x7FFFFFFF)
	}
	s, err := d.take(l)
	return string(s), err
}

func (d *amfDecoder) value(depth int) (any, error) {
	if depth > amfMaxDepth {
		return nil, errAMF
	}
	if d.values++; d.values > amfMaxValues {
		return nil, errAMF
	}
	t, err := d.take(1)
	if err != nil {
		return nil, err
	}
	switch t[0] {
	case amf0Number:
		b, err := d.take(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case amf0Boolean:
		b, err := d.take(1)
		if err != nil {
			return nil, err
		}
		return b[0] != 0, nil
	case amf0String, amf0XMLDocument:
		return d.str(false)
	case amf0LongString:
		return d.str(true)
	case amf0Null, amf0Undefined, amf0Unsupported:
		return nil, nil
	case amf0Reference:
		_, err := d.take(2)
		return nil, err
	case amf0Date:
		b, err := d.take(10)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case amf0Object:
		return d.props(depth)
	case amf0TypedObject:
		if _, err := d.str(false); err != nil {
			return nil, err
		}
		return d.props(depth)
	case amf0ECMAArray:
		if _, err := d.take(4); err != nil { // a count that is only a hint
			return nil, err
		}
		return d.props(depth)
	case amf0StrictArray:
		h, err := d.take(4)
		if err != nil {
			return nil, err
		}
		n := binary.BigEndian.Uint32(h)
		if int64(n) > int64(len(d.b)) { // each element is at least one byte
			return nil, errAMF
		}
		a := make([]any, 0, n)
		for i := uint32(0); i < n; i++ {
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		return a, nil
	default:
		return nil, errAMF // AMF3 switch, object end out of place, unknown
	}
}

func (d *amfDecoder) props(depth int) (map[string]any, error) {
	m := map[string]any{}
	for {
		k, err := d.str(false)
		if err != nil {
			return nil, err
		}
		if k == "" && len(d.b) > 0 && d.b[0] == amf0ObjectEnd {
			d.b = d.b[1:]
			return m, nil
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
}
