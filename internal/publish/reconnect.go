package publish

// Reconnect ends the backoff wait of a destination that is retrying, so
// its next connection attempt starts now (livecap ctl reconnect). It
// reports whether a wait was cut short: a destination that is live or
// connecting has nothing to cut, and one that gave up has stopped.
func (p *publisher) Reconnect() bool {
	p.mu.Lock()
	retrying := p.state == StateRetrying
	p.mu.Unlock()
	if !retrying {
		return false
	}
	select {
	case p.wake <- struct{}{}:
	default: // one already pending
	}
	return true
}

// Reconnecter is implemented by every publisher New returns.
type Reconnecter interface {
	Reconnect() bool
}
