package notify

import "sync"

// queue is one target's bounded queue of events. push never blocks: when
// the queue is full it drops the oldest event, because a fresh "live" is
// worth more than a stale one. ready holds a token while events wait, so
// the worker sleeps on a channel rather than polls.
type queue struct {
	mu     sync.Mutex
	events []Event
	max    int
	closed bool
	ready  chan struct{}
}

func newQueue(max int) *queue {
	return &queue{max: max, ready: make(chan struct{}, 1)}
}

// push appends e and reports how many events it dropped to make room (0
// or 1), or ok=false when the queue is closed and e was not taken.
func (q *queue) push(e Event) (dropped int, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0, false
	}
	if len(q.events) >= q.max {
		q.events[0] = nil
		q.events = q.events[1:]
		dropped = 1
	}
	q.events = append(q.events, e)
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return dropped, true
}

// take removes and returns every waiting event, clearing the ready token
// so the worker does not wake for events it already has.
func (q *queue) take() []Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	evs := q.events
	q.events = nil
	select {
	case <-q.ready:
	default:
	}
	return evs
}

// close makes later pushes fail; what is queued stays for take.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.events)
}
