package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
)

// PacketSource yields packets that are already encoded (a recording being
// restreamed with --input).
type PacketSource interface {
	Info() media.StreamInfo
	Run(ctx context.Context, out func(*media.Packet)) error
}

// NewPackets builds a pipeline that feeds already-encoded packets straight
// into the fan-out, without decoding or encoding. A keyframe request cannot
// be honoured: segments then cut at the next keyframe in the input.
//
// With backpressure (a file read as fast as possible), each packet waits
// until every sink that is draining its queue has room, instead of flooding
// bounded queues into dropping GOPs; a paced input must not set it.
func NewPackets(src PacketSource, clk media.Clock, duration time.Duration, backpressure bool) *Pipeline {
	p := &Pipeline{hub: fanout.NewHub(), infoCh: make(chan struct{}), attachCh: make(chan struct{}), packets: src,
		backpressure: backpressure}
	if backpressure {
		// Nothing here is live: a sink that keeps up is woken once per
		// burst of packets, not once per packet (WaitRoom hands over what
		// is held before the source waits, Close at the end).
		p.hub.Batch(fastBatch)
	}
	p.cfg.Clock = clk
	p.cfg.Duration = duration
	close(p.infoCh)
	p.infoOnce.Do(func() {})
	return p
}

// fastBatch is how many packets a sink of a source read as fast as
// possible is handed per wake-up: about half a second of 30 fps video with
// its audio, far below any queue's budget.
const fastBatch = 32

func (p *Pipeline) runPackets(ctx context.Context) error {
	outer := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dur := p.cfg.Duration
	if p.backpressure {
		// A file can wait: read nothing until the sinks are there, rather
		// than holding the whole file in the preroll.
		select {
		case <-p.attachCh:
		case <-ctx.Done():
			p.finish(outer)
			return nil
		}
	}
	err := p.packets.Run(ctx, func(pk *media.Packet) {
		if dur > 0 && pk.PTS >= dur {
			if pk.Kind == media.Video || p.packets.Info().Video == nil {
				cancel()
			}
			pk.Release() // past --duration: delivered to no sink
			return
		}
		if p.backpressure {
			if p.hub.WaitRoom(ctx) != nil {
				pk.Release() // stopping: delivered to no sink
				return
			}
		}
		// The reader hands out fresh packets; Seq and Encoded are ours.
		if pk.Kind == media.Video {
			p.onVideo(pk)
		} else {
			p.onAudio(pk)
		}
	})
	p.finish(outer)
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
