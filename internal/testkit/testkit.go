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

// Logger returns a JSON zerolog.Logger at debug level writing to b.
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
// backoff and rate-limit waits cost no real time; Sleeps records them.
// After returns a channel that fires when Advance reaches its time.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	sleeps  []time.Duration
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewClock returns a Clock at a fixed instant (November 2023).
func NewClock() *Clock { return &Clock{now: time.Unix(1_700_000_000, 0)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and fires the After channels that
// are due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now // buffered: never blocks
	}
	c.waiters = kept
}

// After is time.After on the fake clock: the channel receives the clock's
// time once Advance has moved it by d (at once when d <= 0).
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), ch: ch})
	return ch
}

// Waiters returns how many After channels have not fired yet: a test
// advances the clock once the code under test is waiting.
func (c *Clock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// Sleep records d, advances the clock by d and returns ctx.Err().
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
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
