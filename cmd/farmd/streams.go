package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/farmd/farmd/notify"
	"github.com/farmd/farmd/presence"
	"github.com/farmd/farmd/streamelements"
)

// streamWatch turns presence's transitions into what the user hears
// about streams: one live notification per stream, one offline
// notification once the streamer has stayed offline for the offline grace
// (a blip within the grace is no transition), and the live/offline marks
// of the StreamElements check. The engine hands changes over without
// blocking; one goroutine (run) does the rest, including the tracker's
// file writes.
type streamWatch struct {
	notes   *notifications // nil: no notifications
	tracker *notify.Tracker
	points  *streamelements.Watcher // nil: no loyalty check
	log     zerolog.Logger
	grace   atomic.Int64 // the offline grace in force (reload changes it)
	now     func() time.Time

	mu      sync.Mutex
	pending []presence.Change
	wake    chan struct{}
}

func newStreamWatch(notes *notifications, points *streamelements.Watcher, stateDir string, grace time.Duration, log zerolog.Logger) *streamWatch {
	if notes == nil && points == nil {
		return nil
	}
	w := &streamWatch{notes: notes, points: points, log: log, now: time.Now, wake: make(chan struct{}, 1)}
	w.grace.Store(int64(grace))
	if notes != nil {
		t, err := notify.OpenTracker(stateDir)
		if err != nil {
			log.Warn().Err(err).Msg("the notified stream states could not be read back; a live stream may be announced again")
		}
		w.tracker = t
	}
	return w
}

// change is presence's OnChange (the engine's goroutine): hand over.
func (w *streamWatch) change(c presence.Change) {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.pending = append(w.pending, c)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// setGrace follows a reload.
func (w *streamWatch) setGrace(d time.Duration) {
	if w != nil {
		w.grace.Store(int64(d))
	}
}

// joined and parted record farmd's time in a channel's chat (the offline
// notification says how long farmd was present).
func (w *streamWatch) joined(channel string, at time.Time) {
	if w != nil && w.tracker != nil {
		w.logErr(w.tracker.Joined(channel, at))
	}
}

func (w *streamWatch) parted(channel string, at time.Time) {
	if w != nil && w.tracker != nil {
		w.logErr(w.tracker.Parted(channel, at))
	}
}

func (w *streamWatch) logErr(err error) {
	if err != nil {
		w.log.Warn().Err(err).Msg("cannot write the notified stream states")
	}
}

// run applies the changes and sends the offline notifications whose grace
// ended, until ctx ends; then farmd leaves every chat as far as the
// tracker counts.
func (w *streamWatch) run(ctx context.Context) error {
	if w == nil {
		return nil
	}
	offline := map[string]time.Time{} // streamer -> first seen offline, for those announced
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if w.tracker != nil {
				w.logErr(w.tracker.PartAll(w.now()))
			}
			return nil
		case <-w.wake:
		case <-tick.C:
		}
		w.mu.Lock()
		changes := w.pending
		w.pending = nil
		w.mu.Unlock()
		now := w.now()
		for _, c := range changes {
			w.apply(c, now, offline)
		}
		grace := time.Duration(w.grace.Load())
		for login, since := range offline {
			if now.Sub(since) < grace {
				continue
			}
			delete(offline, login)
			if w.tracker == nil {
				continue
			}
			ev, ok, err := w.tracker.Offline(login, since)
			w.logErr(err)
			if ok {
				w.notes.send(ev)
			}
		}
	}
}

func (w *streamWatch) apply(c presence.Change, now time.Time, offline map[string]time.Time) {
	if c.Live {
		if w.points != nil {
			w.points.Live(c.Channel, now)
		}
		if _, blip := offline[c.Login]; blip {
			delete(offline, c.Login) // back within the grace: the same stream
			return
		}
		if w.tracker != nil && c.Settings.Notify {
			ev := notify.Live{Login: c.Login}
			if s := c.Stream; s != nil {
				ev.Title, ev.Game, ev.Viewers, ev.ViewersKnown = s.Title, s.Game, s.Viewers, s.ViewersKnown
				ev.StreamID, ev.StartedAt = s.ID, s.StartedAt
			}
			ok, err := w.tracker.Live(ev)
			w.logErr(err)
			if ok {
				w.notes.send(ev)
			}
		}
		return
	}
	if w.points != nil {
		w.points.Offline(c.Channel, now)
	}
	offline[c.Login] = now
}
