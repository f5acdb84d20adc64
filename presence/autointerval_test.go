package presence

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestAutoInterval checks the interval `poll.interval: auto` chooses: the
// shortest whole number of seconds that spends at most half the bucket,
// never below MinAutoInterval.
func TestAutoInterval(t *testing.T) {
	tests := []struct {
		n, bucket int
		want      time.Duration
	}{
		{0, 800, 5 * time.Second},
		{100, 800, 5 * time.Second},
		{3300, 800, 5 * time.Second},   // 33 requests: 4.95 s
		{3400, 800, 6 * time.Second},   // 34 requests: 5.1 s, rounded up
		{10000, 800, 15 * time.Second}, // 100 requests, 400 points a minute
		{10000, 0, 15 * time.Second},   // unknown bucket: DefaultBucket
		{10000, 1600, 8 * time.Second}, // 7.5 s rounded up
		{40000, 800, 60 * time.Second},
		{10000, 100, 120 * time.Second},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("n=%d/bucket=%d", tc.n, tc.bucket), func(t *testing.T) {
			got := AutoInterval(tc.n, tc.bucket)
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			bucket := tc.bucket
			if bucket <= 0 {
				bucket = DefaultBucket
			}
			if rpm := RequestsPerMinute(tc.n, got); rpm > float64(bucket)/2 {
				t.Errorf("costs %.1f requests a minute, more than half of %d", rpm, bucket)
			}
		})
	}
}

// TestEngineAutoInterval checks that an Engine with AutoInterval chooses the
// interval at every poll from the streamers it polls and the bucket Helix
// reports, and reports it in PollResult.
func TestEngineAutoInterval(t *testing.T) {
	logins := make([]string, 250) // 3 requests a cycle
	for i := range logins {
		logins[i] = fmt.Sprintf("s%d", i)
	}
	tw := newFakeTwitch(logins...)
	var bucket atomic.Int64
	bucket.Store(20) // 3 requests * 2 min / 20 = 18 s
	results := make(chan PollResult, 10)
	s := Settings{Streamers: StreamersOf(logins...), Interval: time.Hour, AutoInterval: true, MaxChannels: 100}
	e := New(Options{
		Settings: s, Checker: tw, Resolver: tw, Chat: &fakeChat{sets: make(chan []string, 100)}, Logger: zerolog.Nop(),
		Bucket: func() int { return int(bucket.Load()) },
		OnPoll: func(r PollResult) { results <- r },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v", err)
		}
	}()

	for i, tc := range []struct {
		bucket int64
		want   time.Duration
	}{{20, 18 * time.Second}, {10, 36 * time.Second}, {0, 5 * time.Second}} {
		bucket.Store(tc.bucket)
		if i > 0 {
			if err := e.Reload(ctx, s); err != nil { // polls at once
				t.Fatal(err)
			}
		}
		r := <-results
		if r.Watched != len(logins) || r.Interval != tc.want {
			t.Errorf("poll %d with bucket %d: got %d watched, interval %s; want %d, %s",
				i, tc.bucket, r.Watched, r.Interval, len(logins), tc.want)
		}
	}
}
