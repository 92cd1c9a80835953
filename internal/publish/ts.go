package publish

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/livecap/livecap/internal/h264"
	"github.com/livecap/livecap/internal/media"
)

// MPEG-TS timing. ISO/IEC 13818-1 allows 100 ms between PCRs and TR 101 290
// 500 ms between PATs; broadcast practice, and strict receivers, want a PCR
// at least every 40 ms and the tables about every 100 ms.
const (
	// tsPCRMax is the longest PCR interval written: past it, PCR-only
	// packets fill the gap (a skipped frame, a video-only stream at 25 fps
	// with timestamp jitter).
	tsPCRMax = 40 * 90 // 90 kHz
	// tsPCRAudio: an audio PES that comes this long after the last PCR is
	// preceded by a PCR-only packet, so that with audio the PCR interval is
	// at most about one audio frame.
	tsPCRAudio = 20 * 90
	// tsTablesEvery: PAT and PMT are repeated before the first PES this
	// long after the last ones (and before every keyframe). A PES or a PCR-only packet comes at least every tsPCRMax,
	// so tables are never more than tsTablesEvery + tsPCRMax = 100 ms apart.
	tsTablesEvery = 60 * 90
	// tsFillMax is the longest gap that PCR-only packets fill.
	tsFillMax = 500 * 90
	// tsPCRDelay: the PCR runs this far behind the DTS of what it comes
	// with, the decoder's buffering time.
	tsPCRDelay = 100 * 90
)

const (
	tsPacket   = 188
	pidPAT     = 0
	pidPMT     = 0x1000
	pidVideo   = 0x100
	pidAudio   = 0x101
	streamH264 = 0x1B
	streamADTS = 0x0F
)

// tsMuxer turns packets into MPEG-TS (H.264 and AAC in ADTS) on one
// connection's timeline, written as whole 188-byte packets into w. It is
// apart from the SRT socket so that it can be measured and fuzzed on its
// own. It does not allocate per access unit.
type tsMuxer struct {
	w        io.Writer
	sps, pps []byte
	audio    bool
	adts     [7]byte // the ADTS header, frame length filled per frame

	started bool
	base    time.Duration

	clock      int64 // 90 kHz: the PCR now (monotonic)
	lastPCR    int64
	lastTables int64
	clocked    bool     // clock, lastPCR and lastTables are set
	cc         [2]uint8 // continuity counters: video, audio
	ccPAT      uint8
	ccPMT      uint8

	pat, pmt [tsPacket]byte // continuity counter patched per write
	pkt      [tsPacket]byte
	hdr      [19]byte // PES header
	nalus    [][]byte
	chunks   [][]byte
}

var startCode = []byte{0, 0, 0, 1}

func newTSMuxer(w io.Writer, info media.StreamInfo) (*tsMuxer, error) {
	v := info.Video
	if v == nil || len(v.SPS) == 0 || len(v.PPS) == 0 {
		return nil, errors.New("video config has no SPS/PPS")
	}
	m := &tsMuxer{w: w, sps: v.SPS, pps: v.PPS}
	if a := info.Audio; a != nil {
		var asc mpeg4audio.AudioSpecificConfig
		if err := asc.Unmarshal(a.ASC); err != nil {
			return nil, fmt.Errorf("audio config: AudioSpecificConfig is not valid: %v", err)
		}
		if err := m.setADTS(asc); err != nil {
			return nil, err
		}
		m.audio = true
	}
	m.buildTables()
	return m, nil
}

var adtsRates = []int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

func (m *tsMuxer) setADTS(asc mpeg4audio.AudioSpecificConfig) error {
	if asc.Type < 1 || asc.Type > 4 {
		return fmt.Errorf("audio config: AAC object type %d cannot be carried in ADTS (allowed: 1-4, AAC-LC is 2)", asc.Type)
	}
	sfi := -1
	for i, r := range adtsRates {
		if r == asc.SampleRate {
			sfi = i
		}
	}
	if sfi < 0 {
		return fmt.Errorf("audio config: sample rate %d Hz cannot be carried in ADTS", asc.SampleRate)
	}
	ch := asc.ChannelConfig
	if ch == 0 || ch > 7 {
		return fmt.Errorf("audio config: channel configuration %d cannot be carried in ADTS (allowed: 1-7)", ch)
	}
	profile := byte(asc.Type - 1)
	m.adts = [7]byte{0xFF, 0xF1, profile<<6 | byte(sfi)<<2 | byte(ch>>2)&1, byte(ch&3) << 6, 0, 0x1F, 0xFC}
	return nil
}

// ts90k maps session time to 90 kHz TS time, shifted by tsOffset. TS time
// is 33 bits and wraps (after 26.5 hours), which receivers expect; values
// here do not wrap, the packet writers keep 33 bits. The multiplication is
// split so that it cannot overflow int64 for any Duration.
func ts90k(d time.Duration) int64 {
	t := d + tsOffset
	return int64(t/time.Second)*90000 + int64(t%time.Second)*9/100000
}

// write muxes one packet. sent is false for what is skipped: media before
// the first keyframe of the connection, audio without an audio track, and
// empty access units (nothing to decode, and an H.264 access unit of no
// NAL unit is not valid TS).
func (m *tsMuxer) write(p *media.Packet) (sent bool, err error) {
	if len(p.Data) == 0 {
		return false, nil
	}
	if !m.started {
		if p.Kind != media.Video || !p.Key {
			return false, nil
		}
		m.started, m.base = true, p.DTS
	}
	if p.Kind == media.Audio {
		if !m.audio || p.PTS < m.base {
			return false, nil // audio from before the first keyframe sent
		}
		return true, m.writeAudio(p)
	}
	return true, m.writeVideo(p)
}

// advance moves the mux clock to dts (never back) and writes what is due
// before a PES: PCR-only packets to close a gap longer than tsPCRMax, and
// the tables when they are due or forced.
func (m *tsMuxer) advance(dts int64, forceTables bool) error {
	now := dts - tsPCRDelay
	if !m.clocked {
		m.clock, m.lastPCR, m.clocked = now, now, true
		m.lastTables = now
		return m.writeTables()
	}
	if now > m.clock {
		m.clock = now
	}
	if m.clock-m.lastPCR > tsFillMax {
		// A jump, not a gap: filling it would flood the receiver with
		// PCR-only packets. The next PCR simply jumps with the media.
		m.lastPCR = m.clock - tsPCRMax
	}
	filled := false
	for m.clock-m.lastPCR > tsPCRMax {
		filled = true
		next := m.lastPCR + tsPCRMax
		// Tables first, as before a PES: timed by the PCR after them.
		if next-m.lastTables >= tsTablesEvery {
			m.lastTables = m.lastPCR
			if err := m.writeTables(); err != nil {
				return err
			}
		}
		m.lastPCR = next
		if err := m.writePCROnly(next); err != nil {
			return err
		}
	}
	if forceTables || m.clock-m.lastTables >= tsTablesEvery {
		// An analyzer times a packet between the PCRs around it. Before a
		// PES, the tables sit next to its PCR (clock); right after PCR-only
		// packets they sit between two PCRs a packet apart, and are timed
		// as early as the one before.
		m.lastTables = m.clock
		if filled {
			m.lastTables = m.lastPCR
		}
		return m.writeTables()
	}
	return nil
}

func (m *tsMuxer) writeVideo(p *media.Packet) error {
	pts, dts := ts90k(p.PTS), ts90k(p.DTS)
	// Gather the Annex-B access unit: AUD, in-band parameter sets before
	// each IDR (a TS receiver can join, or resume, at any keyframe), then
	// the packet's NAL units.
	var err error
	m.nalus, err = h264.AppendNALs(m.nalus[:0], p.Data)
	if err != nil {
		clear(m.nalus)
		return err
	}
	m.chunks = append(m.chunks[:0], startCode, h264.AUD)
	if p.Key {
		m.chunks = append(m.chunks, startCode, m.sps, startCode, m.pps)
	}
	for _, n := range m.nalus {
		if h264.Type(n) == h264.NALAUD {
			continue // ours is first
		}
		m.chunks = append(m.chunks, startCode, n)
	}
	clear(m.nalus)
	defer clear(m.chunks) // do not keep the packet alive

	if err := m.advance(dts, p.Key); err != nil {
		return err
	}
	h := m.pesHeader(0xE0, pts, dts, 0)
	m.lastPCR = m.clock
	return m.writePES(pidVideo, &m.cc[0], true, p.Key, h, m.chunks)
}

func (m *tsMuxer) writeAudio(p *media.Packet) error {
	pts := ts90k(p.PTS)
	n := 7 + len(p.Data)
	if n > 1<<13-1 {
		return fmt.Errorf("AAC frame of %d bytes is too long for ADTS", len(p.Data))
	}
	if err := m.advance(pts, false); err != nil {
		return err
	}
	if m.clock-m.lastPCR >= tsPCRAudio {
		m.lastPCR = m.clock
		if err := m.writePCROnly(m.clock); err != nil {
			return err
		}
	}
	m.adts[3] = m.adts[3]&0xFC | byte(n>>11)&3
	m.adts[4] = byte(n >> 3)
	m.adts[5] = byte(n&7)<<5 | 0x1F
	m.chunks = append(m.chunks[:0], m.adts[:], p.Data)
	defer clear(m.chunks)
	h := m.pesHeader(0xC0, pts, pts, n)
	return m.writePES(pidAudio, &m.cc[1], false, true, h, m.chunks)
}

// pesHeader fills the PES header: PTS, and DTS when it differs; a PES
// length for audio (payload n), 0 (unbounded) for video.
func (m *tsMuxer) pesHeader(streamID byte, pts, dts int64, n int) []byte {
	h := m.hdr[:0]
	h = append(h, 0, 0, 1, streamID, 0, 0, 0x84) // data_alignment_indicator
	if pts != dts {
		h = append(h, 0xC0, 10)
		h = appendTimestamp(h, 3, pts)
		h = appendTimestamp(h, 1, dts)
	} else {
		h = append(h, 0x80, 5)
		h = appendTimestamp(h, 2, pts)
	}
	if n > 0 {
		if l := len(h) - 6 + n; l <= 0xFFFF {
			h[4], h[5] = byte(l>>8), byte(l)
		}
	}
	return h
}

func appendTimestamp(b []byte, prefix byte, t int64) []byte {
	t &= 1<<33 - 1
	return append(b,
		prefix<<4|byte(t>>29)&0x0E|1,
		byte(t>>22),
		byte(t>>14)&0xFE|1,
		byte(t>>7),
		byte(t<<1)&0xFE|1)
}

// writePES packetizes a PES (header, then the chunks' bytes) on pid. The
// first packet carries the PCR (withPCR, value m.clock) and the random
// access indicator; the last is padded with adaptation-field stuffing.
func (m *tsMuxer) writePES(pid uint16, cc *uint8, withPCR, rai bool, hdr []byte, chunks [][]byte) error {
	left := len(hdr)
	for _, c := range chunks {
		left += len(c)
	}
	ci, off := -1, 0 // position in chunks; -1 is hdr
	first := true
	for left > 0 {
		b := m.pkt[:]
		b[0] = 0x47
		b[1] = byte(pid >> 8 & 0x1F)
		if first {
			b[1] |= 0x40 // payload_unit_start_indicator
		}
		b[2] = byte(pid)
		b[3] = 0x10 | *cc&0x0F // payload only, for now
		*cc++
		i := 4
		// Adaptation field: PCR and RAI on the first packet, stuffing on
		// the last.
		var flags byte
		afLen := 0 // bytes after the length byte
		if first && (withPCR || rai) {
			afLen = 1
			if rai {
				flags |= 0x40
			}
			if withPCR {
				flags |= 0x10
				afLen += 6
			}
		}
		room := tsPacket - 4
		if afLen > 0 {
			room -= 1 + afLen
		}
		if left < room {
			// Stuff: grow (or create) the adaptation field.
			if afLen == 0 {
				room-- // the length byte
				if left < room {
					afLen = 1 // the flags byte
					room--
				}
			}
			afLen += room - left
			room = left
		}
		if afLen > 0 || room < tsPacket-4 {
			b[3] |= 0x20
			b[i] = byte(afLen)
			i++
			if afLen > 0 {
				b[i] = flags
				j := i + 1
				if flags&0x10 != 0 {
					putPCR(b[j:], m.clock)
					j += 6
				}
				for ; j < i+afLen; j++ {
					b[j] = 0xFF
				}
				i += afLen
			}
		}
		// Payload.
		for i < tsPacket && ci < len(chunks) {
			src := hdr
			if ci >= 0 {
				src = chunks[ci]
			}
			k := copy(b[i:], src[off:])
			i += k
			off += k
			left -= k
			if off == len(src) {
				ci, off = ci+1, 0
			}
		}
		if _, err := m.w.Write(b); err != nil {
			return err
		}
		first = false
	}
	return nil
}

func putPCR(b []byte, pcr int64) {
	base := uint64(pcr) & (1<<33 - 1)
	b[0] = byte(base >> 25)
	b[1] = byte(base >> 17)
	b[2] = byte(base >> 9)
	b[3] = byte(base >> 1)
	b[4] = byte(base<<7) | 0x7E // 6 reserved bits, extension high bit 0
	b[5] = 0                    // extension: 0
}

// writePCROnly writes a packet on the PCR PID (video) that carries a PCR
// and no payload: its continuity counter does not advance.
func (m *tsMuxer) writePCROnly(pcr int64) error {
	b := m.pkt[:]
	b[0], b[1], b[2] = 0x47, byte(pidVideo>>8), byte(pidVideo&0xFF)
	b[3] = 0x20 | (m.cc[0]-1)&0x0F // adaptation only: the last CC again
	b[4] = 183
	b[5] = 0x10
	putPCR(b[6:], pcr)
	for i := 12; i < tsPacket; i++ {
		b[i] = 0xFF
	}
	_, err := m.w.Write(b)
	return err
}

func (m *tsMuxer) writeTables() error {
	m.pat[3] = m.pat[3]&0xF0 | m.ccPAT&0x0F
	m.ccPAT++
	if _, err := m.w.Write(m.pat[:]); err != nil {
		return err
	}
	m.pmt[3] = m.pmt[3]&0xF0 | m.ccPMT&0x0F
	m.ccPMT++
	_, err := m.w.Write(m.pmt[:])
	return err
}

// buildTables prepares the PAT and PMT packets (program 1).
func (m *tsMuxer) buildTables() {
	section := func(b []byte, pid uint16, body []byte) {
		b[0], b[1], b[2], b[3] = 0x47, 0x40|byte(pid>>8), byte(pid), 0x10
		b[4] = 0 // pointer_field
		n := copy(b[5:], body)
		crc := crc32MPEG(body)
		b[5+n], b[6+n], b[7+n], b[8+n] = byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc)
		for i := 9 + n; i < tsPacket; i++ {
			b[i] = 0xFF
		}
	}
	// section_length counts from after its own field to the CRC included.
	pat := []byte{0x00, 0xB0, 13, 0, 1, 0xC1, 0, 0, 0, 1, 0xE0 | pidPMT>>8, pidPMT & 0xFF}
	section(m.pat[:], pidPAT, pat)
	pmt := []byte{0x02, 0xB0, 0, 0, 1, 0xC1, 0, 0, 0xE0 | pidVideo>>8, pidVideo & 0xFF, 0xF0, 0,
		streamH264, 0xE0 | pidVideo>>8, pidVideo & 0xFF, 0xF0, 0}
	if m.audio {
		pmt = append(pmt, streamADTS, 0xE0|pidAudio>>8, pidAudio&0xFF, 0xF0, 0)
	}
	pmt[2] = byte(len(pmt) - 3 + 4)
	section(m.pmt[:], pidPMT, pmt)
}

var crcTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for k := 0; k < 8; k++ {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04C11DB7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return
}()

// crc32MPEG is the CRC of PSI sections (CRC-32/MPEG-2).
func crc32MPEG(b []byte) uint32 {
	c := uint32(0xFFFFFFFF)
	for _, x := range b {
		c = c<<8 ^ crcTable[byte(c>>24)^x]
	}
	return c
}
