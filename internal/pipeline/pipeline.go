// Package pipeline wires one capture source to one video and one audio
// encoder and publishes every encoded packet to the fan-out hub: the
// "encode once" heart of livecap.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/capture"
	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
)

// Config of a pipeline.
type Config struct {
	Source  capture.Source
	Backend encoder.Backend
	Video   encoder.VideoSettings // ignored when the source has no video
	Audio   encoder.AudioSettings // ignored when the source has no audio
	// Clock is the session clock (host or virtual); it stamps Packet.Encoded.
	Clock media.Clock
	// Duration stops the session after this much media time (0: no limit).
	Duration time.Duration
	// Align, when set, re-times audio onto the host clock before encoding
	// (drift compensation); nil passes audio through.
	Align AudioAligner
	Log   zerolog.Logger
	// Watchdog notices a source that stops delivering (watchdog.go).
	Watchdog Watchdog
	// Live says that frame PTS are capture instants on Clock (a real-time
	// source): the encoder's lag, from capture to encoded packet, is then
	// measured (Stats.EncoderLag).
	Live bool
}

// AudioAligner turns source audio (host-clock PTS, device-clock sample
// count) into a continuous stream whose sample count follows the host clock.
type AudioAligner interface {
	Push(b *media.AudioBuffer) []*media.AudioBuffer
}

// Stats of the encode stage.
type Stats struct {
	VideoFrames   uint64 // frames encoded
	AudioPackets  uint64
	VideoBytes    uint64
	AudioBytes    uint64
	Keyframes     uint64
	ForcedIDR     uint64
	LastVideoPTS  time.Duration
	SourceSkipped uint64 // frames the source dropped because it fell behind real time
	// EncoderSkipped: frames the encoder dropped (VideoToolbox in real-time
	// mode may drop what it cannot encode in time).
	EncoderSkipped uint64
	// EncoderLag is how long the last video frame took from capture to
	// encoded packet (Config.Live only); EncoderLagMax the longest so far.
	EncoderLag, EncoderLagMax time.Duration
	// SourceLost names the kinds of media the source has stopped
	// delivering ("video", "audio", "video+audio"; "" while all is well).
	SourceLost string
}

// Pipeline runs capture → encode → fan-out.
type Pipeline struct {
	cfg Config
	hub *fanout.Hub
	ve  encoder.VideoEncoder
	ae  encoder.AudioEncoder
	// packets replaces capture and encoders for pre-encoded input.
	packets      PacketSource
	backpressure bool

	mu       sync.Mutex
	attached bool
	attachCh chan struct{} // closed by Attach
	preroll  []*media.Packet
	kfReqs   []time.Duration // sorted media times at which an IDR is wanted
	kfNext   bool
	infoCh   chan struct{}
	infoOnce sync.Once
	encErr   error

	vSeq, aSeq  uint64
	videoFrames atomic.Uint64
	audioPkts   atomic.Uint64
	videoBytes  atomic.Uint64
	audioBytes  atomic.Uint64
	keyframes   atomic.Uint64
	forced      atomic.Uint64
	lastVPTS    atomic.Int64
	lag, lagMax atomic.Int64
	// lastKey is the media time of the last IDR asked for or produced:
	// keyframe spacing follows media time, so that a source that skips
	// frames does not stretch the GOP past Video.KeyInterval.
	lastKey atomic.Int64

	wd             Watchdog // Config.Watchdog with its defaults
	watches        []*watch // the kinds the watchdog watches
	vWatch, aWatch *watch
}

// New opens the encoders for what the source produces.
func New(cfg Config) (*Pipeline, error) {
	p := &Pipeline{cfg: cfg, hub: fanout.NewHub(), infoCh: make(chan struct{}), attachCh: make(chan struct{})}
	if _, _, _, ok := cfg.Source.Video(); ok {
		ve, err := cfg.Backend.OpenVideo(cfg.Video, p.onVideo)
		if err != nil {
			return nil, encoderErr(fmt.Errorf("open %s video encoder: %w", cfg.Backend.Name(), err))
		}
		p.ve = ve
		p.vWatch = &watch{kind: "video"}
		p.watches = append(p.watches, p.vWatch)
		// An encoder may accept its settings with reservations
		// (VideoToolbox: a property it does not support).
		if w, ok := ve.(encoder.Warner); ok {
			for _, m := range w.Warnings() {
				cfg.Log.Warn().Msg(m)
			}
		}
	}
	if _, _, ok := cfg.Source.Audio(); ok {
		ae, err := cfg.Backend.OpenAudio(cfg.Audio, p.onAudio)
		if err != nil {
			p.closeEncoders()
			return nil, encoderErr(fmt.Errorf("open %s audio encoder: %w", cfg.Backend.Name(), err))
		}
		p.ae = ae
		p.aWatch = &watch{kind: "audio"}
		p.watches = append(p.watches, p.aWatch)
	}
	if p.ve == nil && p.ae == nil {
		return nil, ErrNoMedia
	}
	p.checkInfo()
	return p, nil
}

// Hub is where sinks attach.
func (p *Pipeline) Hub() *fanout.Hub { return p.hub }

func (p *Pipeline) infoReady() bool {
	if p.ve != nil {
		c := p.ve.Config()
		if len(c.SPS) == 0 || len(c.PPS) == 0 {
			return false
		}
	}
	if p.ae != nil && len(p.ae.Config().ASC) == 0 {
		return false
	}
	return true
}

func (p *Pipeline) checkInfo() {
	select {
	case <-p.infoCh:
		return // known since an earlier packet: nothing to ask the encoders
	default:
	}
	if p.infoReady() {
		p.infoOnce.Do(func() { close(p.infoCh) })
	}
}

// Info returns what sinks need before the first packet. Some encoders
// (VideoToolbox) know their SPS/PPS only after the first frame: Info then
// waits until Run has produced it.
func (p *Pipeline) Info(ctx context.Context) (media.StreamInfo, error) {
	select {
	case <-p.infoCh:
	case <-ctx.Done():
		return media.StreamInfo{}, ctx.Err()
	}
	if p.packets != nil {
		return p.packets.Info(), nil
	}
	var si media.StreamInfo
	if p.ve != nil {
		c := p.ve.Config()
		si.Video = &c
	}
	if p.ae != nil {
		c := p.ae.Config()
		si.Audio = &c
	}
	return si, nil
}

// Attach releases the packets held since the start to the hub: call it
// once every sink present at start has been added.
func (p *Pipeline) Attach() {
	p.mu.Lock()
	if p.attached {
		p.mu.Unlock()
		return
	}
	pre := p.preroll
	p.preroll = nil
	for _, pk := range pre {
		p.hub.Publish(pk)
	}
	p.attached = true
	// Only now: a source that has already ended closes the hub once
	// attachCh is closed (finish), and what it publishes after Close is
	// lost, so the preroll must be in the queues first.
	close(p.attachCh)
	p.mu.Unlock()
}

func (p *Pipeline) publish(pk *media.Packet) {
	if p.cfg.Clock != nil {
		pk.Encoded = p.cfg.Clock.Now()
	}
	p.mu.Lock()
	if !p.attached {
		p.preroll = append(p.preroll, pk)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.hub.Publish(pk)
}

func (p *Pipeline) onVideo(pk *media.Packet) {
	pk.Seq = p.vSeq
	p.vSeq++
	p.videoFrames.Add(1)
	p.videoBytes.Add(uint64(len(pk.Data)))
	if pk.Key {
		p.keyframes.Add(1)
		if int64(pk.PTS) > p.lastKey.Load() {
			p.lastKey.Store(int64(pk.PTS))
		}
	}
	if p.cfg.Live && p.cfg.Clock != nil {
		lag := int64(p.cfg.Clock.Now() - pk.PTS)
		p.lag.Store(lag)
		if lag > p.lagMax.Load() {
			p.lagMax.Store(lag)
		}
	}
	p.lastVPTS.Store(int64(pk.PTS))
	p.checkInfo()
	p.publish(pk)
}

func (p *Pipeline) onAudio(pk *media.Packet) {
	pk.Seq = p.aSeq
	p.aSeq++
	p.audioPkts.Add(1)
	p.audioBytes.Add(uint64(len(pk.Data)))
	p.checkInfo()
	p.publish(pk)
}

// Run captures and encodes until ctx is done, the source ends or Duration
// is reached; then it drains the encoders and closes the hub so every sink
// finishes what it holds.
func (p *Pipeline) Run(ctx context.Context) error {
	if p.packets != nil {
		return p.runPackets(ctx)
	}
	outer := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var errMu sync.Mutex
	fail := func(err error) {
		errMu.Lock()
		if p.encErr == nil {
			p.encErr = err
		}
		errMu.Unlock()
		cancel()
	}
	dur := p.cfg.Duration
	p.startWatchdog(ctx, fail)
	video := func(f *media.VideoFrame) {
		defer func() {
			if f.Release != nil {
				f.Release()
			}
		}()
		p.vWatch.seen(&p.wd)
		if ctx.Err() != nil {
			return
		}
		if dur > 0 && f.PTS >= dur {
			cancel()
			return
		}
		if p.wantKeyframe(f.PTS) {
			p.ve.ForceKeyframe()
			p.forced.Add(1)
			p.lastKey.Store(int64(f.PTS))
		} else if p.keyDue(f.PTS) {
			// Not counted in ForcedIDR: this is the keyframe interval, in
			// media time instead of the encoder's frame count.
			p.ve.ForceKeyframe()
			p.lastKey.Store(int64(f.PTS))
		}
		// The encoder copies (libavcodec) or retains (VideoToolbox) what it
		// keeps, so the frame is released as soon as Encode returns.
		if err := p.ve.Encode(f); err != nil {
			fail(encoderErr(fmt.Errorf("video encoder: %w", err)))
		}
	}
	audio := func(b *media.AudioBuffer) {
		p.aWatch.seen(&p.wd)
		if ctx.Err() != nil {
			return
		}
		bufs := []*media.AudioBuffer{b}
		if p.cfg.Align != nil {
			bufs = p.cfg.Align.Push(b)
		}
		for _, b := range bufs {
			if dur > 0 {
				b = trimAudio(b, dur)
				if b == nil {
					if p.ve == nil {
						cancel()
					}
					return
				}
			}
			if err := p.ae.Encode(b); err != nil {
				fail(encoderErr(fmt.Errorf("audio encoder: %w", err)))
				return
			}
		}
	}
	var vf capture.VideoFunc
	var af capture.AudioFunc
	if p.ve != nil {
		vf = video
	}
	if p.ae != nil {
		af = audio
	}
	srcErr := p.cfg.Source.Run(ctx, vf, af)
	var flushErr error
	if p.ve != nil {
		if err := p.ve.Flush(); err != nil {
			flushErr = encoderErr(fmt.Errorf("video encoder flush: %w", err))
		}
	}
	if p.ae != nil {
		if err := p.ae.Flush(); err != nil && flushErr == nil {
			flushErr = encoderErr(fmt.Errorf("audio encoder flush: %w", err))
		}
	}
	p.closeEncoders()
	p.finish(outer)
	errMu.Lock()
	defer errMu.Unlock()
	switch {
	case p.encErr != nil:
		return p.encErr
	case srcErr != nil && !errors.Is(srcErr, context.Canceled):
		return srcErr
	}
	return flushErr
}

// finish hands everything to the sinks: a session that ended before its
// sinks were attached (a short fast run) waits for them, unless the caller
// gave up (ctx done), so nothing encoded is lost.
func (p *Pipeline) finish(ctx context.Context) {
	select {
	case <-p.attachCh:
	case <-ctx.Done():
		p.Attach()
	}
	p.hub.Close()
}

// trimAudio cuts a buffer at end (sample-accurate); nil when it starts at
// or after end.
func trimAudio(b *media.AudioBuffer, end time.Duration) *media.AudioBuffer {
	if b.PTS >= end {
		return nil
	}
	n := b.Frames()
	keep := int((end - b.PTS) * time.Duration(b.SampleRate) / time.Second)
	if keep >= n {
		return b
	}
	c := *b
	c.Samples = b.Samples[:keep*b.Channels]
	return &c
}

func (p *Pipeline) closeEncoders() {
	if p.ve != nil {
		p.ve.Close()
	}
	if p.ae != nil {
		p.ae.Close()
	}
}

// Stats returns the encode-stage counters.
func (p *Pipeline) Stats() Stats {
	return Stats{
		VideoFrames:    p.videoFrames.Load(),
		AudioPackets:   p.audioPkts.Load(),
		VideoBytes:     p.videoBytes.Load(),
		AudioBytes:     p.audioBytes.Load(),
		Keyframes:      p.keyframes.Load(),
		ForcedIDR:      p.forced.Load(),
		LastVideoPTS:   time.Duration(p.lastVPTS.Load()),
		SourceSkipped:  p.sourceSkipped(),
		EncoderSkipped: p.encoderSkipped(),
		EncoderLag:     time.Duration(p.lag.Load()),
		EncoderLagMax:  time.Duration(p.lagMax.Load()),
		SourceLost:     p.lostKinds(),
	}
}

// sourceSkipped is how many frames the source dropped because capture or
// encoding fell behind real time (a camera's dropped frames).
func (p *Pipeline) sourceSkipped() uint64 {
	if s, ok := p.cfg.Source.(capture.SkipCounter); ok {
		return s.Skipped()
	}
	return 0
}

// encoderSkipped is how many frames the video encoder dropped.
func (p *Pipeline) encoderSkipped() uint64 {
	if s, ok := p.ve.(capture.SkipCounter); ok {
		return s.Skipped()
	}
	return 0
}
