package streamelements

import (
	"sort"
	"time"
)

// Channel is what the Watcher knows of one channel, for /status, the
// status page and the metrics.
type Channel struct {
	Channel string `json:"channel"`
	// NoStreamElements: the channel answered 404, it has no
	// StreamElements; it is asked again a day after.
	NoStreamElements bool `json:"no_streamelements,omitempty"`
	// The last reading; ReadAt is zero before the first.
	Points           int64     `json:"points"`
	PointsAlltime    int64     `json:"points_alltime"`
	WatchtimeMinutes int64     `json:"watchtime_minutes"`
	Rank             int64     `json:"rank,omitempty"`
	ReadAt           time.Time `json:"read_at,omitzero"`
	// The interval between the last two readings: farmd's time in the
	// chat while the channel was live, and what StreamElements credited.
	LastPresentLiveMinutes int64 `json:"last_present_live_minutes"`
	LastWatchtimeGrowth    int64 `json:"last_watchtime_growth_minutes"`
	LastPointsGrowth       int64 `json:"last_points_growth"`
	// The same, summed since the first reading (Since): the growth during
	// farmd's presence.
	Since                  time.Time `json:"since,omitzero"`
	PresentLiveMinutes     int64     `json:"present_live_minutes"`
	WatchtimeGrowthMinutes int64     `json:"watchtime_growth_minutes"`
	PointsGrowth           int64     `json:"points_growth"`
	// Checked is set once a reading could judge the credit: the watch
	// time grew, or farmd was in the live chat 30 minutes without it
	// growing. Credited is the last judgement (the credited metric, 0/1,
	// exported only when Checked).
	Checked  bool `json:"checked"`
	Credited bool `json:"credited"`
	// Present: farmd is in the chat now.
	Present bool `json:"present"`
	// Error is the last reading's failure, cleared by a good reading.
	Error        string    `json:"error,omitempty"`
	FailingSince time.Time `json:"failing_since,omitzero"`
}

// Channels returns every channel StreamElements was asked about, or that
// farmd is in, sorted by name.
func (w *Watcher) Channels() []Channel {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Channel, 0, len(w.channels))
	for name, c := range w.channels {
		if c.joinedAt.IsZero() && c.id == "" && c.noSEUntil.IsZero() && c.last == nil && c.err == "" {
			continue
		}
		ch := Channel{
			Channel:                name,
			NoStreamElements:       !c.noSEUntil.IsZero() && c.id == "",
			LastPresentLiveMinutes: int64(c.lastLive / time.Minute),
			LastWatchtimeGrowth:    c.lastWatchtime,
			LastPointsGrowth:       c.lastPoints,
			Since:                  c.since,
			PresentLiveMinutes:     int64(c.totalLive / time.Minute),
			WatchtimeGrowthMinutes: c.totalWatchtime,
			PointsGrowth:           c.totalPoints,
			Checked:                c.checked,
			Credited:               c.credited,
			Present:                !c.joinedAt.IsZero(),
			Error:                  c.err,
			FailingSince:           c.failingSince,
		}
		if r := c.last; r != nil {
			ch.Points, ch.PointsAlltime, ch.WatchtimeMinutes, ch.Rank, ch.ReadAt =
				r.Points, r.PointsAlltime, r.WatchtimeMinutes, r.Rank, r.At
		}
		out = append(out, ch)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Channel < out[j].Channel })
	return out
}
