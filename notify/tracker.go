package notify

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/farmd/farmd/statefile"
	"github.com/farmd/farmd/twitch"
)

// TrackerFile is the name of the Tracker's file in state_dir.
const TrackerFile = "notify-streams.json"

// trackerVersion is the format of TrackerFile; a file of another version
// is ignored rather than misread.
const trackerVersion = 1

// Tracker remembers, per streamer, the stream last announced as live and
// how long farmd has been in its chat, in TrackerFile under state_dir. It
// makes notifications exactly one per transition across restarts: a
// stream already announced that is still live after a restart is not
// announced again, and its end still is. It is safe for concurrent use.
// Every change is written to the file at once (atomically, fsynced): call
// it where a few milliseconds of disk do not delay presence.
type Tracker struct {
	path string
	now  func() time.Time

	mu      sync.Mutex
	streams map[string]*trackedStream
}

// trackedStream is one streamer's entry. Live is set once the stream was
// announced; an entry without it only counts chat time (a JOIN confirmed
// before the live event was handed to the tracker).
type trackedStream struct {
	Live       bool      `json:"live"`
	StreamID   string    `json:"stream_id,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	NotifiedAt time.Time `json:"notified_at,omitzero"`
	// PresentSeconds is the chat time of intervals already closed.
	PresentSeconds float64 `json:"present_seconds,omitempty"`
	// JoinedAt starts the open interval; zero when farmd is not in chat.
	JoinedAt time.Time `json:"joined_at,omitzero"`
}

type trackerState struct {
	Version int                       `json:"version"`
	Streams map[string]*trackedStream `json:"streams"`
}

// OpenTracker loads the tracker of state directory dir; a missing file is
// an empty tracker. A file that cannot be read or decoded also gives an
// empty tracker, with the error: the caller logs it and goes on, since the
// worst outcome is one repeated live notification. Chat intervals open in
// the file are dropped: after an unclean exit nobody knows when farmd left
// the chat, and undercounting is the honest choice. With dir "" the
// tracker lives in memory only (the demo).
func OpenTracker(dir string) (*Tracker, error) {
	t := &Tracker{now: time.Now, streams: map[string]*trackedStream{}}
	if dir == "" {
		return t, nil
	}
	t.path = filepath.Join(dir, TrackerFile)
	var st trackerState
	err := statefile.ReadJSON(t.path, &st)
	switch {
	case errors.Is(err, statefile.ErrNotExist):
		return t, nil
	case err != nil:
		return t, fmt.Errorf("notify tracker: %w", err)
	case st.Version != trackerVersion:
		return t, fmt.Errorf("notify tracker: %s has version %d, want %d; starting empty", t.path, st.Version, trackerVersion)
	}
	for login, s := range st.Streams {
		if s == nil {
			continue
		}
		s.JoinedAt = time.Time{}
		t.streams[login] = s
	}
	return t, nil
}

// Live records that ev's stream is live and reports whether to notify:
// false when that stream was already announced (the same StreamID, or
// StartedAt when there is no ID, or neither known), true for a new one. On
// a failed write the answer stands and the error says the file is stale.
func (t *Tracker) Live(ev Live) (bool, error) {
	login := twitch.NormalizeLogin(ev.Login)
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.streams[login]
	if cur != nil && cur.Live && sameStream(cur, ev) {
		return false, nil
	}
	next := &trackedStream{Live: true, StreamID: ev.StreamID, StartedAt: ev.StartedAt, NotifiedAt: t.now()}
	if cur != nil && !cur.Live {
		// Chat time counted before the live event arrived belongs to it.
		next.PresentSeconds, next.JoinedAt = cur.PresentSeconds, cur.JoinedAt
	}
	t.streams[login] = next
	return true, t.saveLocked()
}

func sameStream(cur *trackedStream, ev Live) bool {
	switch {
	case cur.StreamID != "" && ev.StreamID != "":
		return cur.StreamID == ev.StreamID
	case !cur.StartedAt.IsZero() && !ev.StartedAt.IsZero():
		return cur.StartedAt.Equal(ev.StartedAt)
	default:
		return true
	}
}

// Offline records that login's stream is over, at is when it was first
// seen offline, and reports whether to notify: true (with the event: how
// long the stream lasted and farmd's chat time in it) only when a live was
// announced for it, so every offline answers one live.
func (t *Tracker) Offline(login string, at time.Time) (Offline, bool, error) {
	login = twitch.NormalizeLogin(login)
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.streams[login]
	if cur == nil {
		return Offline{}, false, nil
	}
	delete(t.streams, login)
	if !cur.Live {
		return Offline{}, false, t.saveLocked()
	}
	ev := Offline{Login: login, Present: cur.present(at)}
	if !cur.StartedAt.IsZero() && at.After(cur.StartedAt) {
		ev.Duration = at.Sub(cur.StartedAt)
	}
	return ev, true, t.saveLocked()
}

func (s *trackedStream) present(at time.Time) time.Duration {
	d := time.Duration(s.PresentSeconds * float64(time.Second))
	if !s.JoinedAt.IsZero() && at.After(s.JoinedAt) {
		d += at.Sub(s.JoinedAt)
	}
	return d
}

// Joined records that farmd is in login's chat since at.
func (t *Tracker) Joined(login string, at time.Time) error {
	login = twitch.NormalizeLogin(login)
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.streams[login]
	if cur == nil {
		cur = &trackedStream{}
		t.streams[login] = cur
	}
	if !cur.JoinedAt.IsZero() {
		return nil
	}
	cur.JoinedAt = at
	return t.saveLocked()
}

// Parted records that farmd left login's chat at at.
func (t *Tracker) Parted(login string, at time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.partLocked(twitch.NormalizeLogin(login), at) {
		return nil
	}
	return t.saveLocked()
}

// PartAll closes every open chat interval at at: for a clean shutdown, so
// the next start counts the time up to it.
func (t *Tracker) PartAll(at time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	changed := false
	for login := range t.streams {
		changed = t.partLocked(login, at) || changed
	}
	if !changed {
		return nil
	}
	return t.saveLocked()
}

func (t *Tracker) partLocked(login string, at time.Time) bool {
	cur := t.streams[login]
	if cur == nil || cur.JoinedAt.IsZero() {
		return false
	}
	cur.PresentSeconds = cur.present(at).Seconds()
	cur.JoinedAt = time.Time{}
	if !cur.Live {
		// Chat time without a live stream to report it with (the live
		// event never came): nothing will read it.
		delete(t.streams, login)
	}
	return true
}

// saveLocked writes the tracker's file; t.mu is held.
func (t *Tracker) saveLocked() error {
	if t.path == "" {
		return nil
	}
	if err := statefile.WriteJSON(t.path, trackerState{Version: trackerVersion, Streams: t.streams}, 0o600); err != nil {
		return fmt.Errorf("notify tracker: %w", err)
	}
	return nil
}
