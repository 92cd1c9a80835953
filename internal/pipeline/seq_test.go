package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
)

type fakeClock struct{ t time.Duration }

func (c *fakeClock) Now() time.Duration { c.t += time.Millisecond; return c.t }

// packetList is a PacketSource that hands out packets with stale Seq and
// Encoded values, as a reader or an encoder might.
type packetList []*media.Packet

func (l packetList) Info() media.StreamInfo {
	return media.StreamInfo{Video: &media.VideoConfig{}, Audio: &media.AudioConfig{}}
}

func (l packetList) Run(ctx context.Context, out func(*media.Packet)) error {
	for _, p := range l {
		out(p)
	}
	return nil
}

// The pipeline is the one owner of Packet.Seq (per kind, from 0) and
// Packet.Encoded (its clock): whatever a source put there is overwritten.
func TestSeqAndEncodedOwnedByPipeline(t *testing.T) {
	var src packetList
	for i := 0; i < 10; i++ {
		src = append(src, &media.Packet{Kind: media.Video, PTS: time.Duration(i) * 33 * time.Millisecond, Seq: 99, Encoded: -1})
		src = append(src, &media.Packet{Kind: media.Audio, PTS: time.Duration(i) * 21 * time.Millisecond, Seq: 7, Encoded: -1})
	}
	p := NewPackets(src, &fakeClock{}, 0, false)
	q := p.Hub().Add("sink", fanout.Policy{Lossless: true})
	p.Attach()
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	next := map[media.Kind]uint64{}
	var last time.Duration
	for {
		pk, ok := q.Next(context.Background())
		if !ok {
			break
		}
		if pk.Seq != next[pk.Kind] {
			t.Fatalf("%s packet Seq %d, want %d", pk.Kind, pk.Seq, next[pk.Kind])
		}
		next[pk.Kind]++
		if pk.Encoded <= last {
			t.Fatalf("Encoded %v not stamped by the pipeline's clock (after %v)", pk.Encoded, last)
		}
		last = pk.Encoded
	}
	if next[media.Video] != 10 || next[media.Audio] != 10 {
		t.Fatalf("got %v packets", next)
	}
}
