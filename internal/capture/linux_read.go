//go:build linux && cgo

package capture

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/livecap/livecap/internal/media"
)

func (s *linuxSource) report(first *bool, video bool, err error) {
	if !*first {
		*first = true
		if err != nil {
			err = fmt.Errorf("%w: %v", ErrDevice, err)
		}
		s.first <- firstResult{video: video, err: err}
		return
	}
	// After the first frame, a device error means the source is lost
	// (a camera unplugged: ENODEV; the sound server gone).
	s.lost.Store(err.Error())
	err = fmt.Errorf("%w: %v", ErrSourceLost, err)
	select {
	case s.errc <- err:
	default:
	}
}

func (s *linuxSource) stopped() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

func (s *linuxSource) readVideo() {
	defer s.wg.Done()
	defer s.vdev.close()
	size := s.w * s.h * 3 / 2
	last := time.Duration(-1)
	var kind clockKind
	first := false
	var buf []byte
	for !s.stopped() {
		if buf == nil {
			select {
			case buf = <-s.free:
			default:
				buf = make([]byte, size)
			}
		}
		pts, err := s.vdev.readVideo(buf)
		switch {
		case err == errAgain:
			time.Sleep(pollInterval)
			continue
		case err == errBadFrame:
			if first {
				s.skipped.Add(1)
			}
			continue
		case err != nil:
			s.report(&first, true, fmt.Errorf("%s: %v", s.vname, err))
			return
		}
		s.lastV.Store(time.Now().UnixNano())
		t := s.toSession(pts, &kind)
		if t <= last {
			if first {
				s.skipped.Add(1) // a repeated or backwards stamp: the encoder needs rising PTS
			}
			continue
		}
		last = t
		if !first {
			s.report(&first, true, nil)
		}
		if !s.running.Load() {
			continue // before Run: the session has not started
		}
		f := &media.VideoFrame{PTS: t, Width: s.w, Height: s.h, Format: media.I420}
		ys, cs := s.w*s.h, (s.w/2)*(s.h/2)
		f.Planes = [3][]byte{buf[:ys], buf[ys : ys+cs], buf[ys+cs : ys+2*cs]}
		f.Strides = [3]int{s.w, s.w / 2, s.w / 2}
		b := buf
		var once sync.Once
		f.Release = func() {
			once.Do(func() {
				select {
				case s.free <- b:
				default:
				}
			})
		}
		buf = nil
		select {
		case s.vq <- f:
		default:
			s.skipped.Add(1)
			f.Release()
		}
	}
}

func (s *linuxSource) readAudio() {
	defer s.wg.Done()
	defer s.adev.close()
	buf := make([]float32, s.rate*s.ch) // one second: far more than a packet
	var kind clockKind
	first := false
	var settle audioSettle
	start := time.Now()
	for !s.stopped() {
		n, pts, err := s.adev.readAudio(buf, s.ch)
		switch {
		case err == errAgain:
			time.Sleep(pollInterval)
			continue
		case err != nil:
			if s.aapi == "pulse" {
				err = fmt.Errorf("the PulseAudio/PipeWire server stopped the stream or went away (%v)", err)
			}
			s.report(&first, false, fmt.Errorf("%s: %v", s.aname, err))
			return
		case n == 0:
			continue
		}
		s.lastA.Store(time.Now().UnixNano())
		t := s.toSession(pts, &kind)
		if !first {
			if !settle.add(t-s.base.Now(), time.Since(start)) {
				continue
			}
			s.report(&first, false, nil)
		}
		if !s.running.Load() {
			continue
		}
		b := &media.AudioBuffer{PTS: t, SampleRate: s.rate, Channels: s.ch, Samples: append([]float32(nil), buf[:n*s.ch]...)}
		select {
		case s.aq <- b:
		default:
			s.aDropped.Add(1)
		}
	}
}

// Run delivers media until ctx is done or a device fails.
func (s *linuxSource) Run(ctx context.Context, v VideoFunc, a AudioFunc) error {
	s.running.Store(true)
	defer s.shutdown()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-s.errc:
			return err
		case f := <-s.vq:
			if v != nil {
				v(f)
			} else {
				f.Release()
			}
		case b := <-s.aq:
			if a != nil {
				a(b)
			}
		}
	}
}

// shutdown stops the readers and waits for them to close their devices
// (bounded, 1 s: a read stuck in a driver or a silent sound server never
// holds up the stop; that reader closes its device when its read returns).
func (s *linuxSource) shutdown() {
	s.stopOnce.Do(func() {
		s.running.Store(false)
		close(s.stop)
		done := make(chan struct{})
		go func() {
			s.wg.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(time.Second):
		}
		for {
			select {
			case f := <-s.vq:
				f.Release()
			case <-s.aq:
			default:
				return
			}
		}
	})
}
