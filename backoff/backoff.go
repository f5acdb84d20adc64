// Package backoff computes the delays between retries: exponential growth
// with jitter, one rule for every retry loop in farmd (the IRC reconnects
// and unconfirmed JOINs, Helix requests, startup checks).
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff computes exponentially growing delays with optional jitter. The
// n-th call to Next (counting from 0 after Reset) returns Min*2^n capped at
// Max, reduced by a random fraction of at most Jitter. It is not safe for
// concurrent use; the zero value is not useful, set Min and Max.
type Backoff struct {
	// Min is the first delay.
	Min time.Duration
	// Max caps the delay before jitter.
	Max time.Duration
	// Jitter in [0, 1] is the largest fraction taken off a delay, so
	// delays fall in [d*(1-Jitter), d]. Jitter spreads reconnects of many
	// clients after a server restart.
	Jitter float64
	// Rand returns a number in [0, 1); nil means math/rand/v2.Float64.
	Rand func() float64

	n int
}

// Next returns the next delay and advances the sequence.
func (b *Backoff) Next() time.Duration {
	d := b.Min
	if d <= 0 {
		d = time.Millisecond
	}
	for i := 0; i < b.n && d < b.Max; i++ {
		d *= 2
	}
	if b.Max > 0 && d > b.Max {
		d = b.Max
	}
	if d < b.Max || b.Max <= 0 {
		b.n++
	}
	if b.Jitter > 0 {
		r := rand.Float64
		if b.Rand != nil {
			r = b.Rand
		}
		j := min(b.Jitter, 1)
		d -= time.Duration(float64(d) * j * r())
	}
	return d
}

// Reset starts the sequence again at Min.
func (b *Backoff) Reset() { b.n = 0 }

// Sleep waits d, or until ctx is done, and returns ctx.Err() then (nil when
// d passed): the wait between two attempts of every retry loop.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
