// Package testkit holds the helpers farmd's tests share: a log sink safe for
// concurrent writers, a fake clock, and waits with a deadline. It is
// imported only by tests.
package testkit

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	_ "github.com/farmd/farmd/internal/logfmt" // durations in seconds, as farmd logs them
	"github.com/farmd/farmd/irc/irctest"
)

// WaitMax bounds every wait in this package: long enough for a loaded
// 2-core machine under -race, short enough that a hung test fails clearly.
const WaitMax = 20 * time.Second

// LogBuffer is a log sink that several goroutines may write to at once; it
// signals every write so a test can wait for a line instead of sleeping.
type LogBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

// NewLogBuffer returns an empty LogBuffer.
func NewLogBuffer() *LogBuffer { return &LogBuffer{changed: make(chan struct{})} }

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed == nil {
		b.changed = make(chan struct{})
	}
	close(b.changed)
	b.changed = make(chan struct{})
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Logger returns a JSON zerolog.Logger at debug level writing to b, with
// farmd's duration fields (logfmt: seconds as numbers).
func (b *LogBuffer) Logger() zerolog.Logger { return zerolog.New(b).Level(zerolog.DebugLevel) }

// WaitContains waits until the log contains s, failing tb after WaitMax.
func (b *LogBuffer) WaitContains(tb testing.TB, s string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitMax)
	defer cancel()
	for {
		b.mu.Lock()
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		ok, ch := strings.Contains(b.buf.String(), s), b.changed
		b.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			tb.Fatalf("log never contained %q:\n%s", s, Tail(b.String(), 40))
		}
	}
}

// Clock is a fake time source. Sleep advances it instead of waiting, so
// backoff and rate-limit waits cost no real time; Sleeps records them. At
// gives code that waits on timers (a select loop) a channel that Advance or
// Sleep fires.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	timers []clockTimer
}

// clockTimer is a channel from At waiting for the clock to reach at.
type clockTimer struct {
	at time.Time
	c  chan time.Time
}

// NewClock returns a Clock at a fixed instant (November 2023).
func NewClock() *Clock { return &Clock{now: time.Unix(1_700_000_000, 0)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d, firing the At channels it reaches.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.fire()
}

// Sleep records d, advances the clock by d and returns ctx.Err().
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	c.fire()
	c.mu.Unlock()
	return ctx.Err()
}

// At returns a channel that receives the clock's time once the clock has
// reached t: at once if it has already. The deadline is absolute, so a
// caller that computed it before another goroutine advanced the clock still
// wakes.
func (c *Clock) At(t time.Time) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.now.Before(t) {
		ch <- c.now
		return ch
	}
	c.timers = append(c.timers, clockTimer{at: t, c: ch})
	return ch
}

// Waiters returns how many At channels have not fired yet: a test
// advances the clock once the code under test is waiting.
func (c *Clock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// fire delivers the At channels whose time has come; c.mu must be held.
func (c *Clock) fire() {
	kept := c.timers[:0]
	for _, t := range c.timers {
		if c.now.Before(t.at) {
			kept = append(kept, t)
			continue
		}
		t.c <- c.now
	}
	clear(c.timers[len(kept):])
	c.timers = kept
}

// Sleeps returns the durations Sleep was called with, in order.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// Eventually waits for cond, checking it every few milliseconds, failing tb
// with what after WaitMax: for state that has no change notification.
func Eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(WaitMax)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// WaitChat waits until cond holds for the chat server, failing tb with what
// and the last lines the server received after WaitMax.
func WaitChat(tb testing.TB, srv *irctest.Server, what string, cond func(*irctest.Server) bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitMax)
	defer cancel()
	if err := srv.Wait(ctx, cond); err != nil {
		got := srv.Received()
		if len(got) > 20 {
			got = got[len(got)-20:]
		}
		tb.Fatalf("waiting for %s: %v (joined %v; last lines received: %q)", what, err, srv.Joined(), got)
	}
}

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
