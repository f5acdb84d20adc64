package main

import (
	"sync"

	"github.com/farmd/farmd/irc"
)

// ircEvents hands the IRC manager's events to the daemon's forwarder. The
// manager calls push on its own goroutine, which must never block, and an
// event that changes state must never be lost: a dropped EventUnavailable
// would leave presence wanting a channel irc no longer tries, and the slot
// lost until the streamer went offline. So instead of a bounded channel that
// drops when full, events are coalesced: what the daemon acts on is the
// latest "refused" reason of each channel (in the order they were refused)
// and whether a welcome happened. The queue is bounded by the number of
// distinct channels, not by the event rate.
type ircEvents struct {
	mu          sync.Mutex
	connected   bool
	unavailable []irc.Event    // one per channel, oldest first
	index       map[string]int // channel -> position in unavailable
	ready       chan struct{}  // has a value while something is pending
}

func newIRCEvents() *ircEvents {
	return &ircEvents{index: map[string]int{}, ready: make(chan struct{}, 1)}
}

// push records ev; it never blocks. Kinds the daemon does not act on are
// ignored.
func (q *ircEvents) push(ev irc.Event) {
	q.mu.Lock()
	switch ev.Kind {
	case irc.EventConnected:
		q.connected = true
	case irc.EventUnavailable:
		if i, ok := q.index[ev.Channel]; ok {
			q.unavailable[i] = ev // the latest reason wins
		} else {
			q.index[ev.Channel] = len(q.unavailable)
			q.unavailable = append(q.unavailable, ev)
		}
	default:
		q.mu.Unlock()
		return
	}
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default: // already signalled
	}
}

// take returns what was pushed since the last take: whether a welcome
// happened, and the refused channels in order.
func (q *ircEvents) take() (connected bool, unavailable []irc.Event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	connected, unavailable = q.connected, q.unavailable
	q.connected, q.unavailable = false, nil
	clear(q.index)
	return connected, unavailable
}
