package main

import (
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/farmd/farmd/irc/irctest"
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

// TestJoinAfter checks how the eventsub-latency mode finds the JOIN of a
// go-live: the first JOIN line naming the channel from the log position
// taken before the go-live, whatever other channels the line carries.
func TestJoinAfter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	log := []irctest.JoinRecord{
		{Time: at(0), Channels: []string{"es1"}}, // an earlier go-live of es1
		{Time: at(1), Channels: []string{"es2"}},
		{Time: at(2), Channels: []string{"es3", "es1"}},
		{Time: at(3), Channels: []string{"es1"}},
	}
	tests := []struct {
		name    string
		from    int
		channel string
		want    time.Time
		found   bool
	}{
		{"from the start", 0, "es1", at(0), true},
		{"earlier JOIN skipped, batched line found", 1, "es1", at(2), true},
		{"last line", 3, "es1", at(3), true},
		{"not joined yet", 2, "es2", time.Time{}, false},
		{"from past the end", 9, "es1", time.Time{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := joinAfter(log, tc.from, tc.channel)
			if ok != tc.found || !got.Equal(tc.want) {
				t.Errorf("joinAfter(from %d, %s) = %v, %v; want %v, %v", tc.from, tc.channel, got, ok, tc.want, tc.found)
			}
		})
	}
}
