//go:build linux && cgo

package capture

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// audioDev is one microphone (or monitor) that pulse or alsa offers.
type audioDev struct {
	api     string // "pulse" or "alsa"
	name    string // what the API opens
	desc    string
	def     bool
	monitor bool // a pulse monitor of an output (system audio), not a microphone
}

func (a audioDev) id() string { return a.api + ":" + a.name }

// withTimeout runs f on its own goroutine and gives up after d (a hung
// server never hangs livecap; the goroutine finishes on its own).
func withTimeout[T any](d time.Duration, f func() (T, error)) (T, error) {
	type res struct {
		v   T
		err error
	}
	c := make(chan res, 1)
	go func() {
		v, err := f()
		c <- res{v, err}
	}()
	select {
	case r := <-c:
		return r.v, r.err
	case <-time.After(d):
		var zero T
		return zero, fmt.Errorf("no answer within %v", d)
	}
}

// pulseSources lists the pulse server's sources; err says why there are
// none (no server).
func pulseSources() ([]audioDev, error) {
	type list struct {
		s   []lavSource
		def int
	}
	l, err := withTimeout(listTimeout, func() (list, error) {
		s, def, err := lavList("pulse")
		return list{s, def}, err
	})
	if err != nil {
		return nil, fmt.Errorf("no PulseAudio/PipeWire server answers (%v)", err)
	}
	var out []audioDev
	for i, s := range l.s {
		out = append(out, audioDev{api: "pulse", name: s.name, desc: s.desc, def: i == l.def,
			monitor: strings.HasSuffix(s.name, ".monitor")})
	}
	return out, nil
}

// alsaSources lists ALSA capture PCMs when the machine has a sound card.
func alsaSources() ([]audioDev, error) {
	cards, _ := os.ReadFile("/proc/asound/cards")
	if len(strings.TrimSpace(string(cards))) == 0 || strings.Contains(string(cards), "no soundcards") {
		return nil, errors.New("no ALSA sound card")
	}
	type list struct {
		s   []lavSource
		def int
	}
	l, err := withTimeout(listTimeout, func() (list, error) {
		s, def, err := lavList("alsa")
		return list{s, def}, err
	})
	if err != nil {
		return nil, fmt.Errorf("ALSA: %v", err)
	}
	var out []audioDev
	for i, s := range l.s {
		if s.name == "null" || s.name == "" {
			continue
		}
		out = append(out, audioDev{api: "alsa", name: s.name, desc: s.desc, def: i == l.def})
	}
	return out, nil
}

// microphones lists pulse sources, then ALSA capture devices.
func microphones() ([]audioDev, []string, error) {
	var notes []string
	p, perr := pulseSources()
	if perr != nil {
		notes = append(notes, perr.Error())
	}
	a, aerr := alsaSources()
	if aerr != nil && len(p) == 0 {
		notes = append(notes, aerr.Error())
	}
	return append(p, a...), notes, perr
}
