package main

import (
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestDist checks the percentiles the latency mode reports.
func TestDist(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name string
		in   []time.Duration
		want string
	}{
		{"empty", nil, "n=0"},
		{"one", ms(7), "n=1 p50=7ms p90=7ms p99=7ms max=7ms"},
		{"ten unsorted", ms(10, 1, 9, 2, 8, 3, 7, 4, 6, 5), "n=10 p50=5ms p90=9ms p99=10ms max=10ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := dist(tc.in); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestProcFigures checks that the CPU and memory readings of a running
// process (this one) parse and are plausible.
func TestProcFigures(t *testing.T) {
	pid := os.Getpid()
	cpu, err := cpuSeconds(pid)
	if err != nil || cpu < 0 {
		t.Fatalf("cpuSeconds: %v, %v", cpu, err)
	}
	rss, hwm, err := memKB(pid)
	if err != nil || rss <= 0 || hwm < rss {
		t.Fatalf("memKB: rss %d kB, hwm %d kB, err %v; want 0 < rss <= hwm", rss, hwm, err)
	}
	if _, err := cpuSeconds(-1); err == nil {
		t.Error("cpuSeconds of a process that does not exist: no error")
	}
}
