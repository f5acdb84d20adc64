package streamelements

import (
	"errors"
	"fmt"
	"time"

	"github.com/farmd/farmd/statefile"
)

// StateFile is the Watcher's file in state_dir.
const StateFile = "streamelements.json"

// stateVersion is the format of StateFile; a file of another version is
// ignored rather than misread.
const stateVersion = 1

// forgetAfter drops a channel from the file when it has not been read
// for this long: it left the streamer list, or farmd has not been there.
const forgetAfter = 30 * 24 * time.Hour

type fileState struct {
	Version int                     `json:"version"`
	User    string                  `json:"user"`
	Saved   time.Time               `json:"saved"`
	Chans   map[string]*fileChannel `json:"channels"`
}

type fileChannel struct {
	ID                    string    `json:"id,omitempty"`
	NoStreamElementsUntil time.Time `json:"no_streamelements_until,omitzero"`
	Last                  *Reading  `json:"last,omitempty"`
	// The interval between the last two readings.
	LastLiveSeconds      int64 `json:"last_present_live_seconds,omitempty"`
	LastWatchtimeMinutes int64 `json:"last_watchtime_growth_minutes,omitempty"`
	LastPoints           int64 `json:"last_points_growth,omitempty"`
	// Since the first reading.
	Since                 time.Time `json:"since,omitzero"`
	TotalLiveSeconds      int64     `json:"present_live_seconds,omitempty"`
	TotalWatchtimeMinutes int64     `json:"watchtime_growth_minutes,omitempty"`
	TotalPoints           int64     `json:"points_growth,omitempty"`
	Checked               bool      `json:"checked,omitempty"`
	Credited              bool      `json:"credited,omitempty"`
}

// load reads the state file into w; a missing file is an empty state.
// Readings of another account are dropped, its channel ids kept.
func (w *Watcher) load() error {
	var st fileState
	err := statefile.ReadJSON(w.path, &st)
	switch {
	case errors.Is(err, statefile.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("streamelements: %w; starting empty", err)
	case st.Version != stateVersion:
		return fmt.Errorf("streamelements: %s has version %d, want %d; starting empty", w.path, st.Version, stateVersion)
	}
	sameUser := st.User == w.user
	for name, f := range st.Chans {
		if f == nil || (f.ID != "" && !validID(f.ID)) {
			continue
		}
		c := &channel{id: f.ID, noSEUntil: f.NoStreamElementsUntil}
		if sameUser && f.Last != nil {
			last := *f.Last
			c.last = &last
			c.lastLive = time.Duration(f.LastLiveSeconds) * time.Second
			c.lastWatchtime, c.lastPoints = f.LastWatchtimeMinutes, f.LastPoints
			c.since = f.Since
			c.totalLive = time.Duration(f.TotalLiveSeconds) * time.Second
			c.totalWatchtime, c.totalPoints = f.TotalWatchtimeMinutes, f.TotalPoints
			c.checked, c.credited = f.Checked, f.Credited
		}
		w.channels[name] = c
	}
	return nil
}

// save writes the state file if something changed since the last save.
// A failed write is logged once until a write succeeds again; the state
// stays in memory.
func (w *Watcher) save() {
	if w.path == "" {
		return
	}
	w.mu.Lock()
	if !w.dirty {
		w.mu.Unlock()
		return
	}
	now := w.now()
	st := fileState{Version: stateVersion, User: w.user, Saved: now, Chans: map[string]*fileChannel{}}
	for name, c := range w.channels {
		if c.id == "" && c.noSEUntil.IsZero() && c.last == nil {
			continue
		}
		if c.last != nil && now.Sub(c.last.At) > forgetAfter && !c.presentSinceReading() {
			continue
		}
		f := &fileChannel{ID: c.id, NoStreamElementsUntil: c.noSEUntil}
		if c.last != nil {
			last := *c.last
			f.Last = &last
			f.LastLiveSeconds = int64(c.lastLive / time.Second)
			f.LastWatchtimeMinutes, f.LastPoints = c.lastWatchtime, c.lastPoints
			f.Since = c.since
			f.TotalLiveSeconds = int64(c.totalLive / time.Second)
			f.TotalWatchtimeMinutes, f.TotalPoints = c.totalWatchtime, c.totalPoints
			f.Checked, f.Credited = c.checked, c.credited
		}
		st.Chans[name] = f
	}
	w.dirty = false
	w.mu.Unlock()
	err := statefile.WriteJSON(w.path, st, 0o600)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.dirty = true
		if !w.saveErr {
			w.saveErr = true
			w.log.Warn().Err(err).Msg("cannot save StreamElements readings; keeping them in memory")
		}
		return
	}
	w.saveErr = false
}
