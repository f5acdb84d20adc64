package ops

import (
	"fmt"
	"sync"
	"time"

	"github.com/farmd/farmd/irc"
	"github.com/farmd/farmd/presence"
)

// HistoryWindow is how far back History keeps intervals: the status page
// draws the last 24 hours.
const HistoryWindow = 24 * time.Hour

// Bounds of a History. At most maxIntervals intervals per bar (and
// maxMarks refusals) a streamer keep it at a few KB each however often a
// stream flaps: 2×32 intervals of 48 bytes plus 16 marks of 24 bytes is
// under 3.5 KB in memory, and under 8 KB as JSON.
const (
	maxIntervals = 32
	maxMarks     = 16
	// MaxHistoryEvents is how many events History keeps (the last ones).
	MaxHistoryEvents = 50
)

// Interval is a span of time: a stream live, farmd in a chat, the IRC
// connection up. To is zero while it lasts.
type Interval struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to,omitzero"`
}

// Open reports whether the interval still lasts.
func (iv Interval) Open() bool { return iv.To.IsZero() }

// HistoryEventKind names what a HistoryEvent reports.
type HistoryEventKind string

// The events History keeps. Streams going live and offline are not among
// them: with thousands of streamers they would push everything else out
// of the last 50, and the timeline shows them.
const (
	EventJoined       HistoryEventKind = "joined"
	EventLeft         HistoryEventKind = "left"
	EventRefused      HistoryEventKind = "refused"
	EventConnected    HistoryEventKind = "connected"
	EventDisconnected HistoryEventKind = "disconnected"
)

// HistoryEvent is one line of the status page's last events.
type HistoryEvent struct {
	At      time.Time        `json:"at"`
	Kind    HistoryEventKind `json:"kind"`
	Channel string           `json:"channel,omitempty"`
	// Detail says why (a PART's reason, the NOTICE of a refusal, the error
	// that ended a connection) or, for a reconnection, how long it was down.
	Detail string `json:"detail,omitempty"`
}

// Track is one streamer's last 24 hours: when the stream was live, when
// farmd was in its chat, and when Twitch refused the channel.
type Track struct {
	Live    []Interval  `json:"live,omitempty"`
	Chat    []Interval  `json:"chat,omitempty"`
	Refused []time.Time `json:"refused,omitempty"`
	// Complete is the time from which the track is complete: intervals
	// that ended before it were dropped to stay within the cap. Zero when
	// nothing was dropped.
	Complete time.Time `json:"complete,omitzero"`
}

func (t *Track) empty() bool { return len(t.Live) == 0 && len(t.Chat) == 0 && len(t.Refused) == 0 }

func (t *Track) clone() Track {
	return Track{Live: cloneIntervals(t.Live), Chat: cloneIntervals(t.Chat), Refused: append([]time.Time(nil), t.Refused...), Complete: t.Complete}
}

func cloneIntervals(ivs []Interval) []Interval {
	if len(ivs) == 0 {
		return nil
	}
	return append([]Interval(nil), ivs...)
}

// History keeps what the status page draws: per streamer the intervals of
// the last 24 hours, the IRC connection's, and the last 50 events. It is
// bounded (see maxIntervals) and safe for concurrent use; its methods take
// a mutex for microseconds and never wait on anything else, so the IRC
// manager's and the presence engine's goroutines may call them.
//
// Channels are streamers' channel names (presence.StreamerStatus.Channel).
// Times passed in may be out of order (events from different goroutines):
// an interval is opened or closed idempotently and overlapping ones merge.
type History struct {
	now func() time.Time

	mu      sync.Mutex
	tracks  map[string]*Track
	conn    []Interval
	events  [MaxHistoryEvents]HistoryEvent
	head    int // index of the next event written
	count   int // events held, at most MaxHistoryEvents
	changed bool
}

// NewHistory returns an empty History; now (time.Now if nil) decides what
// "the last 24 hours" are.
func NewHistory(now func() time.Time) *History {
	if now == nil {
		now = time.Now
	}
	return &History{now: now, tracks: make(map[string]*Track)}
}

// Live records that channel's stream has been live since since.
func (h *History) Live(channel string, since time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.track(channel)
	h.open(t, &t.Live, since)
}

// Offline records that channel's stream went offline at at.
func (h *History) Offline(channel string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.tracks[channel]; t != nil {
		h.close(&t.Live, at)
	}
}

// Joined records that the server confirmed farmd's JOIN of channel at at.
func (h *History) Joined(channel string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.track(channel)
	h.open(t, &t.Chat, at)
	h.event(HistoryEvent{At: at, Kind: EventJoined, Channel: channel})
}

// Parted records that farmd left channel at at, and why (offline for the
// grace, slot given to another streamer, removed from the config,
// shutting down).
func (h *History) Parted(channel string, at time.Time, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.tracks[channel]; t != nil {
		h.close(&t.Chat, at)
	}
	h.event(HistoryEvent{At: at, Kind: EventLeft, Channel: channel, Detail: reason})
}

// Refused records that Twitch refused channel at at; reason is its NOTICE
// (msg_banned, msg_channel_suspended, ...). farmd is not in the chat then.
func (h *History) Refused(channel string, at time.Time, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.track(channel)
	h.close(&t.Chat, at)
	t.Refused = append(t.Refused, at)
	if len(t.Refused) > maxMarks {
		t.Refused = append(t.Refused[:0], t.Refused[len(t.Refused)-maxMarks:]...)
	}
	h.changed = true
	h.event(HistoryEvent{At: at, Kind: EventRefused, Channel: channel, Detail: reason})
}

// Connected records that the IRC server welcomed farmd at at.
func (h *History) Connected(at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var detail string
	if n := len(h.conn); n > 0 && !h.conn[n-1].Open() && !at.Before(h.conn[n-1].To) {
		detail = "reconnected after " + roundDuration(at.Sub(h.conn[n-1].To)).String()
	}
	var ignored Track
	h.open(&ignored, &h.conn, at)
	h.event(HistoryEvent{At: at, Kind: EventConnected, Detail: detail})
}

// Disconnected records that the IRC connection ended at at, and why. A
// connection lost is every chat left: the channels' JOINs come again
// after the reconnection.
func (h *History) Disconnected(at time.Time, why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.close(&h.conn, at)
	for _, t := range h.tracks {
		h.close(&t.Chat, at)
	}
	h.event(HistoryEvent{At: at, Kind: EventDisconnected, Detail: why})
}

// Observe reconciles the history with what the presence snapshot and the
// IRC status show at at: a stream live since LiveSince, a channel joined
// since Since, the connection up or down. It records no event. Events say
// why; Observe makes the timeline right even where an event was missed, at
// the cost of a map lookup per streamer (and of building the snapshot: at
// 10,000 streamers, a megabyte).
func (h *History) Observe(snap presence.Snapshot, ist irc.Status, at time.Time) {
	h.observe(&snap, ist, at)
}

// ObserveChat is Observe for the IRC status alone (a few hundred channels
// at most): for a caller that reports streams going live and offline as
// they happen (Live, Offline), as the daemon does.
func (h *History) ObserveChat(ist irc.Status, at time.Time) { h.observe(nil, ist, at) }

// observe is Observe; a nil snap leaves the streams' intervals alone.
func (h *History) observe(snap *presence.Snapshot, ist irc.Status, at time.Time) {
	joined := make(map[string]time.Time)
	left := make(map[string]time.Time, len(ist.Channels))
	for _, c := range ist.Channels {
		if c.State == irc.StateJoined && ist.Connected {
			joined[c.Name] = c.Since
		} else {
			left[c.Name] = c.Since
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if ist.Connected {
		var ignored Track
		h.open(&ignored, &h.conn, orAt(ist.Since, at))
	} else {
		h.close(&h.conn, orAt(ist.Since, at))
	}
	if snap != nil && snap.Listed {
		for _, ss := range snap.Streamers {
			ch := ss.Channel
			if ch == "" {
				ch = ss.Login
			}
			t := h.tracks[ch]
			switch {
			case ss.Live:
				if t == nil {
					t = h.track(ch)
				}
				h.open(t, &t.Live, orAt(ss.LiveSince, at))
			case t != nil:
				h.close(&t.Live, orAt(ss.ObservedAt, at))
			}
		}
	}
	for ch, since := range joined {
		t := h.track(ch)
		h.open(t, &t.Chat, orAt(since, at))
	}
	for ch, t := range h.tracks {
		if n := len(t.Chat); n == 0 || !t.Chat[n-1].Open() {
			continue
		}
		if _, ok := joined[ch]; ok {
			continue
		}
		end := at
		if since, ok := left[ch]; ok && !since.IsZero() && since.After(t.Chat[len(t.Chat)-1].From) {
			end = since
		}
		h.close(&t.Chat, end)
	}
}

func orAt(t, at time.Time) time.Time {
	if t.IsZero() {
		return at
	}
	return t
}

// track returns channel's track, creating it. h.mu is held.
func (h *History) track(channel string) *Track {
	t := h.tracks[channel]
	if t == nil {
		t = &Track{}
		h.tracks[channel] = t
	}
	return t
}

// open makes *ivs end in an open interval that began at from at the
// latest: an open one is kept (moved earlier if from is), one that ended
// at or after from is reopened, else a new one starts. The oldest
// intervals go beyond the cap, and t remembers from when it is complete.
// h.mu is held.
func (h *History) open(t *Track, ivs *[]Interval, from time.Time) {
	s := *ivs
	if n := len(s); n > 0 {
		last := &s[n-1]
		switch {
		case last.Open():
			if from.Before(last.From) {
				last.From = from
				h.changed = true
			}
			return
		case !from.After(last.To):
			last.To = time.Time{}
			if from.Before(last.From) {
				last.From = from
			}
			h.changed = true
			return
		}
	}
	s = append(s, Interval{From: from})
	if len(s) > maxIntervals {
		drop := len(s) - maxIntervals
		if end := s[drop-1].To; end.After(t.Complete) {
			t.Complete = end
		}
		s = append(s[:0], s[drop:]...)
	}
	*ivs = s
	h.changed = true
}

// close ends the open interval of *ivs at at (at its start if at is
// before it). h.mu is held.
func (h *History) close(ivs *[]Interval, at time.Time) {
	s := *ivs
	n := len(s)
	if n == 0 || !s[n-1].Open() {
		return
	}
	if at.Before(s[n-1].From) {
		at = s[n-1].From
	}
	s[n-1].To = at
	h.changed = true
}

// event appends ev to the ring of the last events. h.mu is held.
func (h *History) event(ev HistoryEvent) {
	h.events[h.head] = ev
	h.head = (h.head + 1) % MaxHistoryEvents
	if h.count < MaxHistoryEvents {
		h.count++
	}
	h.changed = true
}

// trim drops what ended before the window; h.mu is held.
func (h *History) trim(now time.Time) {
	start := now.Add(-HistoryWindow)
	h.conn = trimIntervals(h.conn, start)
	for ch, t := range h.tracks {
		t.Live = trimIntervals(t.Live, start)
		t.Chat = trimIntervals(t.Chat, start)
		i := 0
		for i < len(t.Refused) && t.Refused[i].Before(start) {
			i++
		}
		if i > 0 {
			t.Refused = append(t.Refused[:0], t.Refused[i:]...)
		}
		if t.Complete.Before(start) {
			t.Complete = time.Time{}
		}
		if t.empty() {
			delete(h.tracks, ch)
		}
	}
}

// trimIntervals drops the intervals that ended before start and clips the
// first one to start.
func trimIntervals(s []Interval, start time.Time) []Interval {
	i := 0
	for i < len(s) && !s[i].Open() && s[i].To.Before(start) {
		i++
	}
	if i > 0 {
		s = append(s[:0], s[i:]...)
	}
	if len(s) > 0 && s[0].From.Before(start) {
		s[0].From = start
	}
	if len(s) == 0 {
		return nil
	}
	return s
}

// HistorySnapshot is a copy of a History as of At, trimmed to the window.
type HistorySnapshot struct {
	At         time.Time        `json:"saved_at"`
	Connection []Interval       `json:"connection,omitempty"`
	Tracks     map[string]Track `json:"streamers"`
	Events     []HistoryEvent   `json:"events"` // oldest first
}

// Snapshot returns a copy of the history, trimmed to the last 24 hours.
func (h *History) Snapshot() HistorySnapshot {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.trim(now)
	out := HistorySnapshot{
		At:         now,
		Connection: cloneIntervals(h.conn),
		Tracks:     make(map[string]Track, len(h.tracks)),
		Events:     make([]HistoryEvent, 0, h.count),
	}
	for ch, t := range h.tracks {
		out.Tracks[ch] = t.clone()
	}
	for i := range h.count {
		out.Events = append(out.Events, h.events[(h.head-h.count+i+MaxHistoryEvents)%MaxHistoryEvents])
	}
	return out
}

// restore replaces the history with s, which a previous run saved: what
// was open then is closed at s.At, since nobody watched after it.
func (h *History) restore(s HistorySnapshot) error {
	if s.At.IsZero() {
		return fmt.Errorf("no saved_at")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tracks = make(map[string]*Track, len(s.Tracks))
	h.conn = nil
	h.head, h.count = 0, 0
	var ignored Track
	for _, iv := range s.Connection {
		h.restoreInterval(&ignored, &h.conn, iv, s.At)
	}
	for ch, st := range s.Tracks {
		t := &Track{Complete: st.Complete}
		for _, iv := range st.Live {
			h.restoreInterval(t, &t.Live, iv, s.At)
		}
		for _, iv := range st.Chat {
			h.restoreInterval(t, &t.Chat, iv, s.At)
		}
		t.Refused = append(t.Refused, st.Refused...)
		if len(t.Refused) > maxMarks {
			t.Refused = t.Refused[len(t.Refused)-maxMarks:]
		}
		h.tracks[ch] = t
	}
	events := s.Events
	if len(events) > MaxHistoryEvents {
		events = events[len(events)-MaxHistoryEvents:]
	}
	for _, ev := range events {
		h.event(ev)
	}
	h.trim(h.now())
	h.changed = false
	return nil
}

// restoreInterval adds a saved interval through open and close, so that
// the caps and merging hold for a file edited by hand too.
func (h *History) restoreInterval(t *Track, ivs *[]Interval, iv Interval, savedAt time.Time) {
	end := iv.To
	if iv.Open() || end.After(savedAt) {
		end = savedAt
	}
	if end.Before(iv.From) {
		return
	}
	h.open(t, ivs, iv.From)
	h.close(ivs, end)
}

// roundDuration rounds d for people: seconds under an hour, minutes above.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Hour {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}
