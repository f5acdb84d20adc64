package backoff

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		name  string
		b     Backoff
		calls int
		reset int // call Reset after this many calls (0: never)
		want  []time.Duration
	}{
		{
			name:  "doubles up to the cap",
			b:     Backoff{Min: time.Second, Max: 2 * time.Minute},
			calls: 10,
			want:  []time.Duration{1e9, 2e9, 4e9, 8e9, 16e9, 32e9, 64e9, 120e9, 120e9, 120e9},
		},
		{
			name:  "reset starts over",
			b:     Backoff{Min: time.Second, Max: time.Minute},
			calls: 5, reset: 3,
			want: []time.Duration{1e9, 2e9, 4e9, 1e9, 2e9},
		},
		{
			name:  "join retry schedule 30s 1m 2m ... 10m",
			b:     Backoff{Min: 30 * time.Second, Max: 10 * time.Minute},
			calls: 7,
			want:  []time.Duration{30e9, 60e9, 120e9, 240e9, 480e9, 600e9, 600e9},
		},
		{
			name:  "full jitter draw takes off Jitter",
			b:     Backoff{Min: time.Second, Max: 8 * time.Second, Jitter: 0.5, Rand: func() float64 { return 1 }},
			calls: 5,
			want:  []time.Duration{500e6, 1e9, 2e9, 4e9, 4e9},
		},
		{
			name:  "zero jitter draw keeps the delay",
			b:     Backoff{Min: time.Second, Max: 8 * time.Second, Jitter: 0.5, Rand: func() float64 { return 0 }},
			calls: 3,
			want:  []time.Duration{1e9, 2e9, 4e9},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.b
			for i := range tc.calls {
				if tc.reset > 0 && i == tc.reset {
					b.Reset()
				}
				if got := b.Next(); got != tc.want[i] {
					t.Fatalf("call %d: got %s, want %s", i, got, tc.want[i])
				}
			}
		})
	}
}

// TestBackoffJitterBounds checks real random jitter stays in
// [d*(1-Jitter), d] and actually varies.
func TestBackoffJitterBounds(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 200 {
		b := Backoff{Min: time.Second, Max: 2 * time.Minute, Jitter: 0.3}
		for i := range 10 {
			base := min(time.Second<<i, 2*time.Minute)
			got := b.Next()
			lo := base - time.Duration(0.3*float64(base))
			if got < lo || got > base {
				t.Fatalf("call %d: got %s, want in [%s, %s]", i, got, lo, base)
			}
			if i == 0 {
				seen[got] = true
			}
		}
	}
	if len(seen) < 2 {
		t.Fatalf("first delays took %d distinct values over 200 runs, want jitter", len(seen))
	}
}
