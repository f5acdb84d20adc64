package main

import (
	"context"
	"testing"
)

// TestReleaserReleasesAfterGrowth: the end of a poll releases memory only
// when the heap grew by releaseGrowth since the last release.
func TestReleaserReleasesAfterGrowth(t *testing.T) {
	const base = 10 << 20
	cur, frees := uint64(base), 0
	r := newReleaser()
	r.heap = func() uint64 { return cur }
	r.free = func() { cur, frees = base, frees+1 }
	after := r.heap()
	for _, step := range []struct {
		heap  uint64
		frees int
	}{
		{base + releaseGrowth/2, 0},
		{base + 2*releaseGrowth, 1},
		{base + releaseGrowth/4, 1}, // counted from after the release
		{base + releaseGrowth, 2},
	} {
		cur = step.heap
		after = r.maybeRelease(after)
		if frees != step.frees {
			t.Fatalf("heap at %d bytes: %d releases, want %d", step.heap, frees, step.frees)
		}
	}
}

// TestReleaserAskNeverBlocks: asking while a release is pending or running
// returns at once, and run ends with its context.
func TestReleaserAskNeverBlocks(t *testing.T) {
	r := newReleaser()
	for range 100 {
		r.afterPoll() // nobody runs the releaser yet: must not block
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.run(ctx); err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestHeapObjectBytes: the runtime metric exists and counts something.
func TestHeapObjectBytes(t *testing.T) {
	if heapObjectBytes() == 0 {
		t.Fatal("heapObjectBytes() = 0: the runtime metric is missing")
	}
}
