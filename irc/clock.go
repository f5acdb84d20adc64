package irc

import "time"

// Clock is the time a Manager runs on. Every deadline the manager keeps is
// measured on it: the welcome, the client PING and its answer, JOIN
// confirmation and retries, the JOIN limiter, the reconnect backoff and the
// healthy-connection reset. Only socket deadlines (dial, writes, the bound
// on shutdown) are on the real clock, because the kernel enforces them.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// At returns a channel that receives once the clock reaches t, at once
	// if it already has. The deadline is absolute so that a wait computed
	// before the clock moved still ends on time.
	At(t time.Time) <-chan time.Time
}

// realClock is the wall clock, the default Options.Clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) At(t time.Time) <-chan time.Time { return time.After(time.Until(t)) }
