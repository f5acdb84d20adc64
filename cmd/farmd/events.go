package main

import (
	"sync"
	"time"

	"github.com/farmd/farmd/irc"
)

// ircEvents hands the IRC manager's events to the daemon's forwarder. The
// manager calls push on its own goroutine, which must never block, and an
// event that changes state must never be lost: a dropped EventUnavailable
// would leave presence wanting a channel irc no longer tries, and the slot
// lost until the streamer went offline. So instead of a bounded channel that
// drops when full, events are coalesced: the latest "refused" reason of each
// channel (in the order they were refused), each channel's latest
// membership change (joined or parted, with its time), and whether the
// connection was welcomed or lost. The queue is bounded by the number of
// distinct channels, not by the event rate.
type ircEvents struct {
	mu          sync.Mutex
	now         func() time.Time
	connected   bool
	lostAt      time.Time      // the latest connection loss; zero if none
	unavailable []irc.Event    // one per channel, oldest first
	refusedAt   map[string]int // channel -> position in unavailable
	members     []membership   // one per channel, oldest first
	memberAt    map[string]int // channel -> position in members
	ready       chan struct{}  // has a value while something is pending
}

// membership is a channel's latest JOIN or PART echo.
type membership struct {
	channel string
	joined  bool
	at      time.Time
}

func newIRCEvents() *ircEvents {
	return &ircEvents{now: time.Now, refusedAt: map[string]int{}, memberAt: map[string]int{}, ready: make(chan struct{}, 1)}
}

// push records ev; it never blocks. Kinds the daemon does not act on are
// ignored.
func (q *ircEvents) push(ev irc.Event) {
	q.mu.Lock()
	switch ev.Kind {
	case irc.EventConnected:
		q.connected = true
	case irc.EventDisconnected:
		q.lostAt = q.now()
	case irc.EventUnavailable:
		if i, ok := q.refusedAt[ev.Channel]; ok {
			q.unavailable[i] = ev // the latest reason wins
		} else {
			q.refusedAt[ev.Channel] = len(q.unavailable)
			q.unavailable = append(q.unavailable, ev)
		}
	case irc.EventJoined, irc.EventParted:
		m := membership{channel: ev.Channel, joined: ev.Kind == irc.EventJoined, at: q.now()}
		if i, ok := q.memberAt[ev.Channel]; ok {
			q.members[i] = m
		} else {
			q.memberAt[ev.Channel] = len(q.members)
			q.members = append(q.members, m)
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

// ircBatch is what was pushed since the last take. A connection lost at
// lostAt ended every membership older than it.
type ircBatch struct {
	connected   bool
	lostAt      time.Time
	unavailable []irc.Event
	members     []membership
}

// take returns what was pushed since the last take.
func (q *ircEvents) take() ircBatch {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := ircBatch{connected: q.connected, lostAt: q.lostAt, unavailable: q.unavailable, members: q.members}
	q.connected, q.lostAt, q.unavailable, q.members = false, time.Time{}, nil, nil
	clear(q.refusedAt)
	clear(q.memberAt)
	return b
}
