package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
)

// releaseGrowth is how much the heap must have grown since the last
// release for the end of a poll cycle to release memory again.
const releaseGrowth = 1 << 20

// releaser gives the memory a poll cycle leaves behind back to the system
// once the cycle is over. At 10,000 streamers RSS rises by about 2.5 MiB
// during a cycle, garbage as soon as its statuses are applied; left to
// itself the Go runtime keeps the heap grown to twice what is live and
// returns freed pages slowly, so RSS sat at that high-water mark between
// polls. A collection and a release after each such cycle (one
// collection of a ~6.5 MB live heap a poll) cost about what GOGC=50
// costs in CPU and bring RSS about 5 MiB lower than it (BENCHMARKS.md,
// "Meeting 25 MiB"). Small lists, whose cycles allocate little, are released rarely: a
// cycle triggers a release only when the heap grew by releaseGrowth since
// the last one. It runs on its own goroutine so that the presence loop
// never waits for a collection.
type releaser struct {
	kick chan struct{}
	// heap returns the bytes of heap objects (live or not yet collected);
	// free collects and returns the free memory to the system. Tests
	// replace both.
	heap func() uint64
	free func()
}

func newReleaser() *releaser {
	return &releaser{kick: make(chan struct{}, 1), heap: heapObjectBytes, free: debug.FreeOSMemory}
}

// afterPoll asks for a release; it never blocks.
func (r *releaser) afterPoll() {
	select {
	case r.kick <- struct{}{}:
	default: // one is already asked for
	}
}

// run releases when asked and the heap has grown enough, until ctx ends.
func (r *releaser) run(ctx context.Context) error {
	after := r.heap()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.kick:
		}
		after = r.maybeRelease(after)
	}
}

// maybeRelease releases if the heap grew by releaseGrowth since after, the
// heap's size after the last release, and returns the new one.
func (r *releaser) maybeRelease(after uint64) uint64 {
	if r.heap() < after+releaseGrowth {
		return after
	}
	r.free()
	return r.heap()
}

// heapObjectBytes reads the runtime's count of heap object bytes, without
// stopping the world (unlike runtime.ReadMemStats).
func heapObjectBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
