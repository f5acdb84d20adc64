package presence

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkStateCycle measures the domain's share of one poll cycle of N
// streamers, 1 in 100 live: what finishPoll and apply do with the answers
// (Observe, Evaluate, the status snapshot). Run with:
//
//	go test -run '^$' -bench BenchmarkStateCycle ./presence/
func BenchmarkStateCycle(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run("N="+strconv.Itoa(n), func(b *testing.B) {
			s := NewState(2*time.Minute, 100)
			list := make([]Watched, n)
			statuses := make([]Status, n)
			for i := range list {
				id := strconv.Itoa(100001 + i)
				list[i] = Watched{Streamer: Streamer{ID: id, Login: "streamer" + strconv.Itoa(i)}}
				statuses[i] = Status{UserID: id, Login: list[i].Login, Live: i%100 == 0}
			}
			s.SetStreamers(list)
			now := time.Unix(1_700_000_000, 0)
			b.ReportAllocs()
			for b.Loop() {
				now = now.Add(15 * time.Second)
				s.Observe(now, statuses)
				if got := s.Evaluate(now); len(got) != min(100, (n+99)/100) {
					b.Fatalf("wanted %d channels, want %d", len(got), min(100, (n+99)/100))
				}
				_ = s.IDs()
				_ = s.Streamers(now)
			}
		})
	}
}
