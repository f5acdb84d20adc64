package main

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/farmd/farmd/internal/testkit"
)

// TestComponentsNameTheStuckOne: after the shared context is cancelled, a
// component that does not return is named by Running, the ones that did are
// not, and the first error is Wait's.
func TestComponentsNameTheStuckOne(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c, gctx := newComponents(ctx)
	release := make(chan struct{})
	returned := make(chan struct{}, 2)
	c.Go("irc", func() error { <-gctx.Done(); <-release; return nil })
	c.Go("presence", func() error { <-gctx.Done(); returned <- struct{}{}; return nil })
	c.Go("validator", func() error { <-gctx.Done(); returned <- struct{}{}; return errors.New("boom") })
	if got, want := c.Running(), []string{"irc", "presence", "validator"}; !slices.Equal(got, want) {
		t.Fatalf("Running() = %v before cancel, want %v", got, want)
	}
	cancel()
	<-returned
	<-returned
	// The bookkeeping runs just after f returns; wait for it.
	testkit.Eventually(t, "only irc running", func() bool {
		return len(c.Running()) < 3 && !slices.Contains(c.Running(), "presence") && !slices.Contains(c.Running(), "validator")
	})
	if got, want := c.Running(), []string{"irc"}; !slices.Equal(got, want) {
		t.Fatalf("Running() = %v while irc is stuck, want %v", got, want)
	}
	close(release)
	if err := c.Wait(); err == nil || err.Error() != "boom" {
		t.Errorf("Wait() = %v, want boom", err)
	}
	if got := c.Running(); len(got) != 0 {
		t.Errorf("Running() = %v after Wait, want none", got)
	}
}
