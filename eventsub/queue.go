package eventsub

import (
	"context"
	"sync"
	"time"
)

// eventQueue hands events from the WebSocket side to OnEvent. push never
// blocks, so a slow consumer delays delivery but never a read; run calls
// OnEvent on its own goroutine, in order.
type eventQueue struct {
	onEvent func(Event)

	mu      sync.Mutex
	pending []Event
	wake    chan struct{}
}

func newEventQueue(f func(Event)) *eventQueue {
	return &eventQueue{onEvent: f, wake: make(chan struct{}, 1)}
}

func (q *eventQueue) push(e Event) {
	if q.onEvent == nil {
		return
	}
	q.mu.Lock()
	q.pending = append(q.pending, e)
	q.mu.Unlock()
	notify(q.wake)
}

// run delivers events until ctx is done. Events still queued then are
// delivered first: they are real, and the consumer decides what a late
// one means.
func (q *eventQueue) run(ctx context.Context) {
	for {
		q.mu.Lock()
		batch := q.pending
		q.pending = nil
		q.mu.Unlock()
		for _, e := range batch {
			q.onEvent(e)
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-q.wake:
		case <-ctx.Done():
			return
		}
	}
}

// Bounds of the duplicate memory: Twitch resends within seconds to minutes.
const (
	dedupMax = 4096
	dedupAge = 10 * time.Minute
)

// dedup remembers recently handled message IDs, at most dedupMax and none
// older than dedupAge. It is used by one goroutine only.
type dedup struct {
	seen  map[string]time.Time
	order []string // oldest first
}

// seenBefore reports whether id was handled recently, and remembers it.
func (d *dedup) seenBefore(id string, now time.Time) bool {
	if d.seen == nil {
		d.seen = make(map[string]time.Time)
	}
	for len(d.order) > 0 {
		old := d.order[0]
		if len(d.order) < dedupMax && now.Sub(d.seen[old]) < dedupAge {
			break
		}
		delete(d.seen, old)
		d.order = d.order[1:]
	}
	if _, ok := d.seen[id]; ok {
		return true
	}
	d.seen[id] = now
	d.order = append(d.order, id)
	return false
}
