package main

import (
	"context"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"
)

// components runs the daemon's long-lived parts under one errgroup and
// remembers which are still running, so that a shutdown that takes too long
// can name the part that did not stop instead of only saying it timed out.
// When that happens serve returns anyway and run's caller exits the process,
// which ends the stuck goroutines: there is no way to stop a goroutine from
// outside, and a daemon that ignores SIGTERM would be killed by systemd or
// Docker after their own, longer timeouts with nothing logged.
type components struct {
	g *errgroup.Group

	mu      sync.Mutex
	running map[string]int
}

func newComponents(ctx context.Context) (*components, context.Context) {
	g, gctx := errgroup.WithContext(ctx)
	return &components{g: g, running: map[string]int{}}, gctx
}

// Go runs f as the component name; its error cancels the others.
func (c *components) Go(name string, f func() error) {
	c.mu.Lock()
	c.running[name]++
	c.mu.Unlock()
	c.g.Go(func() error {
		defer func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.running[name]--; c.running[name] == 0 {
				delete(c.running, name)
			}
		}()
		return f()
	})
}

// Wait waits for every component and returns the first error.
func (c *components) Wait() error { return c.g.Wait() }

// Running returns the names of the components that have not returned, sorted.
func (c *components) Running() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.running))
	for n := range c.running {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
