package irc

import "time"

// JoinLimiter is a sliding-window rate limiter for channel JOINs: at most
// Limit channels in any Window. Twitch counts each channel of a
// multi-channel JOIN and drops the connection of an account that exceeds the
// limit, so the limiter is per account and outlives connections. Time is
// passed in, so it is tested with a fake clock. It is not safe for
// concurrent use.
type JoinLimiter struct {
	limit  int
	window time.Duration
	// times holds the send times of the last JOINs, oldest first, at most
	// limit of them.
	times []time.Time
}

// NewJoinLimiter returns a limiter allowing limit channel JOINs in any
// window. limit < 1 is treated as 1.
func NewJoinLimiter(limit int, window time.Duration) *JoinLimiter {
	limit = max(limit, 1)
	return &JoinLimiter{limit: limit, window: window, times: make([]time.Time, 0, limit)}
}

// expire drops JOINs that left the window: a JOIN at t stops counting at
// t+window.
func (l *JoinLimiter) expire(now time.Time) {
	i := 0
	for i < len(l.times) && !now.Before(l.times[i].Add(l.window)) {
		i++
	}
	if i > 0 {
		l.times = append(l.times[:0], l.times[i:]...)
	}
}

// Available returns how many channels may be JOINed at now.
func (l *JoinLimiter) Available(now time.Time) int {
	l.expire(now)
	return l.limit - len(l.times)
}

// Take records n channel JOINs at now. Callers take at most Available(now);
// taking more is recorded but the excess is forgotten first.
func (l *JoinLimiter) Take(now time.Time, n int) {
	l.expire(now)
	for range n {
		if len(l.times) == l.limit {
			l.times = append(l.times[:0], l.times[1:]...)
		}
		l.times = append(l.times, now)
	}
}

// NextFree returns when at least one JOIN will be available: now if one is
// available already.
func (l *JoinLimiter) NextFree(now time.Time) time.Time {
	l.expire(now)
	if len(l.times) < l.limit {
		return now
	}
	return l.times[0].Add(l.window)
}
