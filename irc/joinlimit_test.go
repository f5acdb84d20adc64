package irc

import (
	"testing"
	"time"
)

func TestJoinLimiter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		at       int // ms after t0
		take     int
		wantAvl  int // Available before taking
		wantNext int // NextFree after taking, ms after t0
	}
	tests := []struct {
		name   string
		limit  int
		window time.Duration
		steps  []step
	}{
		{
			name: "burst up to the limit then wait a full window", limit: 3, window: time.Second,
			steps: []step{
				{at: 0, take: 3, wantAvl: 3, wantNext: 1000},
				{at: 999, take: 0, wantAvl: 0, wantNext: 1000},
				{at: 1000, take: 1, wantAvl: 3, wantNext: 1000},
			},
		},
		{
			name: "window slides: slots free one by one", limit: 2, window: time.Second,
			steps: []step{
				{at: 0, take: 1, wantAvl: 2, wantNext: 0},
				{at: 400, take: 1, wantAvl: 1, wantNext: 1000},
				{at: 1000, take: 1, wantAvl: 1, wantNext: 1400},
				{at: 1399, take: 0, wantAvl: 0, wantNext: 1400},
				{at: 1400, take: 0, wantAvl: 1, wantNext: 1400},
			},
		},
		{
			name: "multi-channel JOIN counts every channel", limit: 20, window: 10 * time.Second,
			steps: []step{
				{at: 0, take: 15, wantAvl: 20, wantNext: 0},
				{at: 5000, take: 5, wantAvl: 5, wantNext: 10000},
				{at: 9999, take: 0, wantAvl: 0, wantNext: 10000},
				{at: 10000, take: 0, wantAvl: 15, wantNext: 10000},
			},
		},
		{
			name: "limit below one acts as one", limit: 0, window: time.Second,
			steps: []step{
				{at: 0, take: 1, wantAvl: 1, wantNext: 1000},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := NewJoinLimiter(tc.limit, tc.window)
			for i, s := range tc.steps {
				if got := l.Available(at(s.at)); got != s.wantAvl {
					t.Fatalf("step %d: Available(+%dms) = %d, want %d", i, s.at, got, s.wantAvl)
				}
				l.Take(at(s.at), s.take)
				if got := l.NextFree(at(s.at)); !got.Equal(at(s.wantNext)) {
					t.Fatalf("step %d: NextFree(+%dms) = +%s, want +%dms", i, s.at, got.Sub(t0), s.wantNext)
				}
			}
		})
	}
}

// TestJoinLimiterNeverExceeds drives the limiter as the manager does, taking
// whatever is available at irregular instants, and checks every window.
func TestJoinLimiterNeverExceeds(t *testing.T) {
	const limit, window = 20, 10 * time.Second
	l := NewJoinLimiter(limit, window)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var sent []time.Time
	for i := range 500 {
		now = now.Add(time.Duration(i%7) * 300 * time.Millisecond)
		n := min(l.Available(now), 1+i%4)
		l.Take(now, n)
		for range n {
			sent = append(sent, now)
		}
	}
	if len(sent) < 100 {
		t.Fatalf("sent %d JOINs, want the limiter to let many through", len(sent))
	}
	for i := range sent {
		in := 0
		for j := i; j < len(sent) && sent[j].Sub(sent[i]) < window; j++ {
			in++
		}
		if in > limit {
			t.Fatalf("%d JOINs in the window starting at %s, limit %d", in, sent[i], limit)
		}
	}
}
