package streamelements

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"
)

// errLogEvery rate-limits the warning of a channel whose requests keep
// failing: the first failure is a warning, then one an hour.
const errLogEvery = time.Hour

// due returns, sorted, the channels to read now: present since their last
// reading, and not marked as having no StreamElements.
func (w *Watcher) due(now time.Time) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var names []string
	for name, c := range w.channels {
		if !c.presentSinceReading() || now.Before(c.noSEUntil) {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// round reads every due channel, at most w.concurrency at a time, then
// raises the credit events and saves the state.
func (w *Watcher) round(ctx context.Context) {
	names := w.due(w.now())
	if len(names) == 0 {
		return
	}
	credits := make([]*Credit, len(names))
	var g errgroup.Group
	g.SetLimit(w.concurrency)
	for i, name := range names {
		g.Go(func() error {
			credits[i] = w.read(ctx, name)
			return nil
		})
	}
	_ = g.Wait() // read reports its own errors
	for _, cr := range credits {
		if cr != nil && w.onCredit != nil {
			w.onCredit(*cr)
		}
	}
	w.save()
}

// read takes one reading of channel name: its id first if unknown. It
// returns the credit event the reading raises, if any.
func (w *Watcher) read(ctx context.Context, name string) *Credit {
	w.mu.Lock()
	id := w.get(name).id
	w.mu.Unlock()
	if id == "" {
		var err error
		id, err = w.resolve(ctx, name)
		switch {
		case errors.Is(err, errNotFound):
			w.noStreamElements(name)
			return nil
		case err != nil:
			w.failed(ctx, name, err)
			return nil
		}
		w.mu.Lock()
		c := w.get(name)
		c.id, c.noSEUntil, w.dirty = id, time.Time{}, true
		w.mu.Unlock()
		w.log.Debug().Str("channel", name).Str("id", id).Msg("channel resolved")
	}
	r, err := w.points(ctx, name, id)
	switch {
	case errors.Is(err, errNotFound):
		r = Reading{} // not on the leaderboard: nothing credited yet
	case err != nil:
		w.failed(ctx, name, err)
		return nil
	}
	return w.record(name, r)
}

// noStreamElements marks channel name as having no StreamElements for a
// day.
func (w *Watcher) noStreamElements(name string) {
	w.mu.Lock()
	c := w.get(name)
	c.id, c.noSEUntil, w.dirty = "", w.now().Add(noStreamElementsFor), true
	c.err, c.failingSince = "", time.Time{}
	c.chat, c.liveChat = 0, 0
	w.mu.Unlock()
	w.log.Info().Str("channel", name).Msg("channel has no StreamElements; asking again in a day")
}

// failed records a failed reading of channel name and logs it, at most
// once an hour per channel as a warning. Presence keeps counting, so the
// next reading covers the whole time.
func (w *Watcher) failed(ctx context.Context, name string, err error) {
	if ctx.Err() != nil {
		return // stopping: not StreamElements' fault
	}
	now := w.now()
	w.mu.Lock()
	c := w.get(name)
	c.err = err.Error()
	if c.failingSince.IsZero() {
		c.failingSince = now
	}
	warn := c.warnedErrAt.IsZero() || now.Sub(c.warnedErrAt) >= errLogEvery
	if warn {
		c.warnedErrAt = now
	}
	since := c.failingSince
	w.mu.Unlock()
	ev := w.log.Debug()
	if warn {
		ev = w.log.Warn()
	}
	ev.Str("channel", name).Time("failing_since", since).Err(err).
		Msg("StreamElements reading failed; presence is unaffected, retrying next round")
}

// record stores reading r of channel name, taken now, compares it with
// the previous one and resets the presence counted since. It returns the
// credit event to raise, if any.
func (w *Watcher) record(name string, r Reading) *Credit {
	now := w.now()
	r.At = now
	w.mu.Lock()
	c := w.get(name)
	c.advance(now)
	live := c.liveChat
	prev := c.last
	c.last = &r
	c.chat, c.liveChat = 0, 0
	recovered := c.err != ""
	c.err, c.failingSince, c.warnedErrAt = "", time.Time{}, time.Time{}
	w.dirty = true
	var credit *Credit
	if prev == nil {
		c.since = now
	} else {
		grew := r.WatchtimeMinutes - prev.WatchtimeMinutes
		c.lastLive, c.lastWatchtime, c.lastPoints = live, grew, r.Points-prev.Points
		c.totalLive += live
		c.totalWatchtime += grew
		c.totalPoints += r.Points - prev.Points
		switch {
		case grew > 0:
			c.checked, c.credited = true, true
		case live >= creditPresence:
			c.checked, c.credited = true, false
			if !c.warnedStream.Equal(c.streamStart) {
				c.warnedStream = c.streamStart
				credit = &Credit{Channel: name, Present: live, WatchtimeMinutes: r.WatchtimeMinutes, At: now}
			}
		}
	}
	w.mu.Unlock()
	if recovered {
		w.log.Info().Str("channel", name).Msg("StreamElements answers again")
	}
	// At info: one line a channel every points.every (30 min) is what
	// shows that presence pays.
	ev := w.log.Info().Str("channel", name).Int64("points", r.Points).Int64("watchtime_minutes", r.WatchtimeMinutes).
		Dur("present_live", live)
	if prev != nil {
		ev = ev.Int64("watchtime_growth_minutes", r.WatchtimeMinutes-prev.WatchtimeMinutes).Int64("points_growth", r.Points-prev.Points)
	}
	ev.Msg("StreamElements reading")
	if credit != nil {
		w.log.Warn().Str("channel", name).Dur("present_live", live).Int64("watchtime_minutes", r.WatchtimeMinutes).
			Msg(fmt.Sprintf("present %s in %s while live, StreamElements credited no watch time: "+
				"loyalty may be off there, or the bot ignores this account", minutes(live), name))
	}
	return credit
}

// minutes formats d as whole minutes: "40m".
func minutes(d time.Duration) string { return fmt.Sprintf("%dm", int64(d/time.Minute)) }
