package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	twitch "github.com/gempir/go-twitch-irc/v4"
)

// baselineClient is the side-by-side of the ingest mode: a plain
// go-twitch-irc v4 Client as a typical bot sets it up (default
// capabilities tags and commands, an OnPrivateMessage callback), joined to
// the same channels, until ctx is done. It prints the PRIVMSGs it parsed.
func baselineClient(ctx context.Context, o options, out io.Writer) error {
	c := twitch.NewClient(o.user, "oauth:"+o.token)
	c.IrcAddress, c.TLS = o.addr, false
	// The fake enforces the verified limit in this mode; the default
	// limiter would take 50 s to join 100 channels.
	c.SetJoinRateLimiter(twitch.CreateVerifiedRateLimiter())
	if !o.caps {
		c.Capabilities = []string{}
	}
	var n atomic.Int64
	if o.callback {
		c.OnPrivateMessage(func(m twitch.PrivateMessage) { n.Add(1) })
	}
	c.Join(logins("chat", o.channels)...)
	done := make(chan error, 1)
	go func() { done <- c.Connect() }()
	select {
	case <-ctx.Done():
		_ = c.Disconnect()
		err := <-done
		fmt.Fprintf(out, "privmsgs_in_callback=%d", n.Load())
		if errors.Is(err, twitch.ErrClientDisconnected) {
			return nil
		}
		return err
	case err := <-done:
		return fmt.Errorf("connect: %w", err)
	}
}
