package notify

import (
	"context"
	"fmt"
	"sync"
)

// TestResult is the outcome of sending the test message to one target.
// Err never contains the URL or any part of it.
type TestResult struct {
	Index   int
	Service string
	Err     error
}

// OK reports whether the test message was delivered.
func (r TestResult) OK() bool { return r.Err == nil }

// String is one line for farmd notify-test: "notify[0] telegram: ok" or
// "notify[1] discord: failed: …".
func (r TestResult) String() string {
	name := r.Service
	if name == "" {
		name = "unknown service"
	}
	if r.Err != nil {
		return fmt.Sprintf("notify[%d] %s: failed: %v", r.Index, name, r.Err)
	}
	return fmt.Sprintf("notify[%d] %s: ok", r.Index, name)
}

// TestText is the test message target i receives.
func TestText(i int, service string) string {
	return fmt.Sprintf("farmd test notification: notify[%d] (%s) works", i, service)
}

// Test sends the test message to every target at once, each attempt bounded
// by SendTimeout and ctx, and returns one result per target in config
// order. A URL shoutrrr does not accept is that target's failed result.
// It uses services of its own, so it may run beside a Notifier.
func Test(ctx context.Context, targets []Target, opts Options) []TestResult {
	opts = opts.withDefaults()
	client, own := httpClient(opts)
	if own != nil {
		defer own.CloseIdleConnections()
	}
	log := opts.Log.With().Str("component", "notify").Logger()
	results := make([]TestResult, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		results[i] = TestResult{Index: i, Service: t.URL.Service()}
		wg.Go(func() {
			svc, err := newService(t.URL, client, log.With().Int("notify", i).Logger())
			if err != nil {
				results[i].Err = err
				return
			}
			ctx, cancel := context.WithTimeout(ctx, opts.SendTimeout)
			defer cancel()
			results[i].Err = svc.send(ctx, TestText(i, svc.name))
		})
	}
	wg.Wait()
	return results
}

// Test is the package's Test for the notifier's targets and options.
func (n *Notifier) Test(ctx context.Context) []TestResult {
	targets := make([]Target, len(n.targets))
	for i, t := range n.targets {
		targets[i] = t.Target
	}
	return Test(ctx, targets, n.opts)
}
