package helix

import (
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

// rateLimitTracker remembers the last Ratelimit-* headers seen.
type rateLimitTracker struct {
	mu sync.Mutex
	rl RateLimit
}

// observe records h's Ratelimit-* headers if all three are present and
// well-formed.
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
