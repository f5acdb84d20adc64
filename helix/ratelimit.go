package helix

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RateLimit is the state of the Helix rate-limit bucket as last reported by
// Twitch in the Ratelimit-* headers.
type RateLimit struct {
	// Limit is the bucket size (points per minute), Ratelimit-Limit.
	Limit int
	// Remaining is the points left, Ratelimit-Remaining.
	Remaining int
	// Reset is when the bucket is full again, Ratelimit-Reset.
	Reset time.Time
	// Known is false until a Helix response carried the headers.
	Known bool
}

// rateLimitTracker remembers the last Ratelimit-* headers seen and keeps
// the budget that paces Helix requests by them: concurrent requests must
// not spend more than Ratelimit-Remaining, or Twitch answers 429 to the
// excess and every one of them waits for the reset anyway.
type rateLimitTracker struct {
	mu sync.Mutex
	rl RateLimit

	// left is how many more requests may go before window, Twitch's
	// Ratelimit-Reset of the answer it came from; window is zero once the
	// bucket is known to be full again and no answer has said more.
	left   int
	window time.Time
	// inFlight counts the Helix requests holding a point (acquire to
	// release). Twitch may or may not have counted them in the last
	// Remaining, so they are counted as spent.
	inFlight int
	// changed is closed and replaced whenever a request releases its point.
	changed chan struct{}
}

// observe records h's Ratelimit-* headers if all three are present and
// well-formed, and updates the budget from them. It is called for a request
// that holds a point.
func (t *rateLimitTracker) observe(h http.Header) {
	limit, err1 := strconv.Atoi(h.Get("Ratelimit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("Ratelimit-Remaining"))
	reset, ok := parseReset(h.Get("Ratelimit-Reset"))
	if err1 != nil || err2 != nil || !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rl = RateLimit{Limit: limit, Remaining: remaining, Reset: reset, Known: true}
	// Answers of concurrent requests arrive in any order. Spending moves
	// Twitch's reset later, so an answer with an earlier reset than the
	// budget's is older news; one with the same reset can only lower it.
	left := remaining - max(t.inFlight-1, 0)
	switch {
	case t.window.IsZero() || reset.After(t.window):
		t.left, t.window = left, reset
	case reset.Equal(t.window):
		t.left = min(t.left, left)
	}
}

// acquire takes a point of the budget for one Helix request (with its
// retries), waiting while none is left: until a request in flight ends when
// they hold every point, or until Ratelimit-Reset, at most maxWait (then
// the request goes anyway, and a 429 is handled as before). Before any
// answer carried the headers nothing is known and nothing waits: farmd
// resolves its logins one /users request at a time before its first poll,
// so the first cycle's fan-out already knows the bucket. Every acquire
// that returns nil is followed by release.
func (t *rateLimitTracker) acquire(ctx context.Context, now func() time.Time,
	sleep func(context.Context, time.Duration) error, maxWait time.Duration, onWait func(time.Duration)) error {
	waitedMax := false
	for {
		t.mu.Lock()
		if t.changed == nil {
			t.changed = make(chan struct{})
		}
		n := now()
		if !t.window.IsZero() && !n.Before(t.window) {
			t.left, t.window = t.rl.Limit-t.inFlight, time.Time{} // full again
		}
		if !t.rl.Known || t.left > 0 || waitedMax {
			t.left--
			t.inFlight++
			t.mu.Unlock()
			return nil
		}
		if t.window.IsZero() {
			ch := t.changed
			t.mu.Unlock()
			if err := waitChange(ctx, ch); err != nil {
				return err
			}
			continue
		}
		d := min(t.window.Sub(n), maxWait)
		t.mu.Unlock()
		if onWait != nil {
			onWait(d)
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
		waitedMax = d >= maxWait
	}
}

// release returns the point acquire took.
func (t *rateLimitTracker) release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.inFlight--
	if t.changed != nil {
		close(t.changed)
	}
	t.changed = make(chan struct{})
}

// waitChange waits until ch is closed or ctx is done.
func waitChange(ctx context.Context, ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *rateLimitTracker) get() RateLimit {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rl
}

// parseReset parses Ratelimit-Reset, a Unix time in seconds.
func parseReset(s string) (time.Time, bool) {
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}

// RateLimit returns the rate-limit state from the last Helix response that
// carried the Ratelimit-* headers.
func (c *Client) RateLimit() RateLimit {
	return c.rl.get()
}
