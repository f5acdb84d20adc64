package presence

import (
	"time"
)

// HelixLag is how long after an EventSub stream.online event a poll that
// does not show the stream is taken for Helix's cache lagging behind, not
// for the stream having ended.
const HelixLag = 10 * time.Minute

// State holds what is known of every configured streamer and decides which
// channels the account should be in. It is not safe for concurrent use: the
// Engine's goroutine owns it. Every method takes the current time, so the
// rules are tested without a clock.
//
// Observations come from polls and from EventSub events, each with the time
// it was made (Status.At). Per streamer:
//   - an observation older than the last one applied is ignored (stale), so
//     a poll whose request started before an event and whose answer arrives
//     after it never undoes the event, and an event delivered late never
//     undoes a newer poll; the one exception is the next rule's mirror: a
//     stream.online event is applied over a poll that did not show the
//     stream and started less than HelixLag after the event;
//   - a poll that does not show a streamer is ignored (lagging) while the
//     streamer's last applied stream.online event is younger than HelixLag
//     at the poll's start: Helix shows a stream late; a poll that shows it
//     always agrees with the event.
//
// Which channels are wanted, by each streamer's Mode:
//   - a streamer in ModeNever is never eligible (it is still polled and
//     observed, so its going live and offline is reported);
//   - a streamer in ModeAlways is eligible whether live or not;
//   - in ModeLive, a streamer seen live is eligible;
//   - a streamer that was wanted and is then seen offline stays eligible
//     until it has been seen offline continuously for its offline grace
//     (its own, or the global one), counted from the first offline
//     observation of the run. A poll is a
//     sighting at one instant: the grace ends with a poll that does not
//     show the stream made at least the grace after the first one, so
//     polls that fail during the grace never end or extend it. A
//     stream.offline event is a sighting that goes on for as long as
//     EventSub stays healthy (SetRealtime), since Twitch would push
//     stream.online if the stream came back: the grace then ends by time
//     alone (NextDeadline), without waiting for a poll. If EventSub stops
//     being healthy, the event counts as seen until then and polls must
//     see the rest of the grace. An event applied while EventSub is not
//     known healthy counts as a single sighting, like a poll;
//   - a channel marked unavailable (banned, suspended, gone) is skipped
//     until its mark expires or the streamer list is reloaded;
//   - of the eligible streamers, the first MaxChannels in list order are
//     wanted, whatever their mode: a live streamer never pushes out an
//     "always" one listed before it, nor the other way round.
//
// Only observations change a streamer's liveness: a streamer whose status
// could not be determined keeps the state it had, so an API failure never
// causes a PART.
type State struct {
	grace       time.Duration
	maxChannels int
	realtime    bool     // EventSub is healthy (SetRealtime)
	entries     []*entry // priority order
	byID        map[string]*entry
	counts      Counts   // as of the last Evaluate
	wanted      []string // as of the last Evaluate
	departed    map[string]Departure
	queued      []Streamer // became waiting at the last Evaluate
	seated      []Streamer // stopped waiting by being held at the last Evaluate
	listCounts  ListCounts // as of the last Evaluate
	observed    ObservationCounts
}

type entry struct {
	Streamer
	settings StreamerSettings
	// channel is the login to join: the stream's current login when it was
	// last seen live, the configured login before that.
	channel      string
	offlineSince time.Time // first of the current run of offline observations
	offlineSeen  time.Time // last of them

	// What ordering needs: the time of the last applied poll and whether
	// it showed the stream (the event times are in rare).
	lastPoll time.Time

	// The observation that set the current liveness, for Streamers.
	sourceAt time.Time
	source   Source

	observed bool
	live     bool
	// watched: the current offline run includes a stream.offline event
	// applied while EventSub was healthy, and EventSub has stayed healthy
	// since: the streamer is seen offline until now.
	watched      bool
	held         bool // in the wanted set of the last evaluation
	waiting      bool // eligible but not held at the last evaluation: the cap was reached
	lastPollLive bool

	// x holds what only a few streamers need (the live, the held, those
	// seen by an event, those refused): nil for the rest, which at 10,000
	// watched streamers are nearly all. Read it through r, write it
	// through rare. (Kept inline, these fields made an entry 384 bytes
	// instead of 224: 1.4 MB more at 10,000 streamers, BENCHMARKS.md.)
	x *entryRare
}

// entryRare is the part of an entry most streamers never set.
type entryRare struct {
	liveSince    time.Time
	heldAs       string // the channel it was held as at the last evaluation
	unavailUntil time.Time
	unavailWhy   string
	// The time of the last applied event, and the time of the
	// stream.online event the current live run was seen by (zero once
	// seen offline).
	lastEvent, onlineEvent time.Time
}

// noRare is what r returns for an entry without its rare part: all zero.
var noRare entryRare

// r returns e's rare part for reading; it must not be written.
func (e *entry) r() *entryRare {
	if e.x == nil {
		return &noRare
	}
	return e.x
}

// rare returns e's rare part for writing, making it if needed.
func (e *entry) rare() *entryRare {
	if e.x == nil {
		e.x = &entryRare{}
	}
	return e.x
}

// ObservationCounts are how many per-streamer observations State applied
// and ignored, by source, since it was made.
type ObservationCounts struct {
	Events       int `json:"events"`        // EventSub observations applied
	EventsStale  int `json:"events_stale"`  // EventSub observations older than one applied: ignored
	Polls        int `json:"polls"`         // poll observations applied
	PollsStale   int `json:"polls_stale"`   // poll observations older than an applied event: ignored
	PollsLagging int `json:"polls_lagging"` // polls not showing a stream just announced live: ignored
}

// NewState returns a State with the given offline grace and channel cap.
func NewState(grace time.Duration, maxChannels int) *State {
	return &State{grace: grace, maxChannels: maxChannels, byID: map[string]*entry{}}
}

// SetLimits changes the offline grace and the channel cap.
func (s *State) SetLimits(grace time.Duration, maxChannels int) {
	s.grace, s.maxChannels = grace, maxChannels
}

// Watched is a streamer with a known user ID and its settings, as the
// State's list holds it.
type Watched struct {
	Streamer
	Settings StreamerSettings
}

// SetStreamers replaces the streamer list (in priority order). Streamers
// that stay keep what is known of them and take their new settings;
// unavailable marks are cleared, so a reload retries every channel.
func (s *State) SetStreamers(list []Watched) { s.setStreamers(list, true) }

// setStreamers is SetStreamers; with clearMarks false it keeps the
// unavailable marks, for the Engine adding streamers it just resolved
// (asking again about a login whose lookup failed must not retry every
// refused channel at every poll).
func (s *State) setStreamers(list []Watched, clearMarks bool) {
	byID := make(map[string]*entry, len(list))
	entries := make([]*entry, 0, len(list))
	for _, w := range list {
		st := w.Streamer
		if _, dup := byID[st.ID]; dup {
			continue
		}
		e, ok := s.byID[st.ID]
		if !ok {
			e = &entry{Streamer: st, channel: st.Login}
		}
		e.Login = st.Login
		e.settings = w.Settings
		e.settings.Mode = w.Settings.mode()
		if clearMarks && e.x != nil {
			e.x.unavailUntil, e.x.unavailWhy = time.Time{}, ""
		}
		byID[st.ID] = e
		entries = append(entries, e)
	}
	s.entries, s.byID = entries, byID
}

// ChannelOf returns the channel of the streamer with user ID id (its
// current login), or "" when there is none.
func (s *State) ChannelOf(id string) string {
	if e, ok := s.byID[id]; ok {
		return e.channel
	}
	return ""
}

// IDs returns the user IDs of every streamer, in priority order.
func (s *State) IDs() []string {
	ids := make([]string, len(s.entries))
	for i, e := range s.entries {
		ids[i] = e.ID
	}
	return ids
}

// Change is a streamer's liveness changing, as reported by Observe.
type Change struct {
	Streamer
	Channel string
	Live    bool
	Source  Source
	// Settings are the streamer's (its Mode, Notify, origin); Grace is the
	// offline grace that applies to it.
	Settings StreamerSettings
	Grace    time.Duration
	// Stream is the observation's description of a stream going live,
	// when its source had one.
	Stream *StreamInfo
}

// graceOf is e's offline grace: its own, or the global one.
func (s *State) graceOf(e *entry) time.Duration {
	if e.settings.OwnGrace {
		return e.settings.OfflineGrace
	}
	return s.grace
}

// Observe applies statuses (an observation with a zero At is taken as made
// at now) and returns the streamers whose liveness changed, in the order of
// statuses. Statuses of unknown user IDs are ignored; so are stale and
// lagging ones (State), which ObservationCounts counts.
func (s *State) Observe(now time.Time, statuses []Status) []Change {
	var changes []Change
	for _, st := range statuses {
		e, ok := s.byID[st.UserID]
		if !ok {
			continue
		}
		if st.At.IsZero() {
			st.At = now
		}
		if st.Source == "" {
			st.Source = SourcePoll
		}
		if !s.admit(e, st) {
			continue
		}
		if st.Live && st.Login != "" {
			e.channel = st.Login
		}
		wasLive := e.observed && e.live
		changed := !e.observed || e.live != st.Live
		e.observed = true
		if changed {
			e.source, e.sourceAt = st.Source, st.At
		}
		switch {
		case st.Live:
			if x := e.rare(); !e.live || (st.Source == SourceEventSub && st.At.Before(x.liveSince)) {
				x.liveSince = st.At // an online event knows when the stream started
			}
			if st.Source == SourceEventSub {
				e.rare().onlineEvent = st.At
			}
			e.live = true
			e.offlineSince, e.offlineSeen, e.watched = time.Time{}, time.Time{}, false
		default:
			if e.live || e.offlineSince.IsZero() {
				e.offlineSince, e.offlineSeen, e.watched = st.At, st.At, false
			}
			e.offlineSeen = later(e.offlineSeen, st.At)
			if st.Source == SourceEventSub && s.realtime {
				e.watched = true
			}
			e.live = false
			if e.x != nil {
				e.x.onlineEvent = time.Time{}
			}
		}
		// A stream ending is reported for every streamer seen live (held,
		// waiting for a slot, or only watched): its end is news to whoever
		// heard it started.
		if changed && (st.Live || e.held || wasLive) {
			changes = append(changes, Change{
				Streamer: e.Streamer, Channel: e.channel, Live: st.Live, Source: st.Source,
				Settings: e.settings, Grace: s.graceOf(e), Stream: st.Stream,
			})
		}
	}
	return changes
}

// admit applies the ordering rules (State) to st, with At and Source set:
// it reports whether st is to be applied, counts it, and records its time.
func (s *State) admit(e *entry, st Status) bool {
	if st.Source == SourceEventSub {
		stale := st.At.Before(e.r().lastEvent) ||
			st.At.Before(e.lastPoll) && !(st.Live && !e.lastPollLive && e.lastPoll.Sub(st.At) < HelixLag)
		if stale {
			s.observed.EventsStale++
			return false
		}
		s.observed.Events++
		e.rare().lastEvent = st.At
		return true
	}
	switch {
	case st.At.Before(e.r().lastEvent) || st.At.Before(e.lastPoll):
		s.observed.PollsStale++
		return false
	case !st.Live && !e.r().onlineEvent.IsZero() && st.At.Sub(e.r().onlineEvent) < HelixLag:
		s.observed.PollsLagging++
		return false
	}
	s.observed.Polls++
	e.lastPoll, e.lastPollLive = st.At, st.Live
	return true
}

// SetRealtime records at now whether EventSub is healthy: connected, with
// its subscriptions in place, so that a stream going live would be pushed.
// When it stops being healthy, a streamer seen offline by an event counts
// as seen until now, and polls must see the rest of its grace.
func (s *State) SetRealtime(now time.Time, healthy bool) {
	if s.realtime && !healthy {
		for _, e := range s.entries {
			if e.watched {
				e.offlineSeen, e.watched = later(e.offlineSeen, now), false
			}
		}
	}
	s.realtime = healthy
}

// ObservationCounts returns how many observations were applied and ignored.
func (s *State) ObservationCounts() ObservationCounts { return s.observed }

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// MarkUnavailable marks the streamer whose channel is channel as not
// joinable until until, for reason (a Twitch msg-id such as msg_banned). It
// reports whether a streamer has that channel.
func (s *State) MarkUnavailable(channel, reason string, until time.Time) bool {
	found := false
	for _, e := range s.entries {
		if e.channel == channel {
			x := e.rare()
			x.unavailUntil, x.unavailWhy = until, reason
			found = true
		}
	}
	return found
}

func (s *State) eligible(now time.Time, e *entry) bool {
	switch {
	case e.settings.Mode == ModeNever || now.Before(e.r().unavailUntil):
		return false
	case e.settings.Mode == ModeAlways || e.live:
		return true
	}
	if !e.held || e.offlineSince.IsZero() {
		return false
	}
	seen := e.offlineSeen
	if e.watched {
		seen = later(seen, now) // an event's sighting lasts while EventSub is healthy
	}
	return seen.Sub(e.offlineSince) < s.graceOf(e)
}

// Evaluate computes the channels the account should be in at now, in
// priority order, and remembers them as held for the grace rule. It counts
// the streamers by state in the same pass (Counts), and records why the
// channels of the last evaluation that are no longer wanted left
// (Departures) and which streamers started or stopped waiting for a slot
// (Queued, Seated).
func (s *State) Evaluate(now time.Time) []string {
	wanted := make([]string, 0, min(len(s.entries), s.maxChannels))
	seen := make(map[string]bool)
	var counts Counts
	var list ListCounts
	var why map[string]Departure
	var newcomers []*entry // held now and not before, in list order
	given := 0             // slots taken from streamers listed after newcomers
	s.queued, s.seated = s.queued[:0], s.seated[:0]
	for _, e := range s.entries {
		eligible := s.eligible(now, e)
		ok := len(wanted) < s.maxChannels && eligible && !seen[e.channel]
		wasHeld, wasAs := e.held, e.r().heldAs
		e.held = ok
		if e.x != nil {
			e.x.heldAs = ""
		}
		if ok {
			seen[e.channel] = true
			wanted = append(wanted, e.channel)
			e.rare().heldAs = e.channel
			if !wasHeld {
				newcomers = append(newcomers, e)
			}
		}
		if wasHeld && wasAs != e.r().heldAs {
			var taker *entry
			if eligible && !ok && given < len(newcomers) {
				taker = newcomers[given]
				given++
			}
			if why == nil {
				why = make(map[string]Departure)
			}
			why[wasAs] = s.why(now, e, ok, eligible, taker)
		}
		st := s.stateOf(now, e)
		switch waiting := st == StateWaiting; {
		case waiting && !e.waiting:
			s.queued = append(s.queued, e.Streamer)
		case !waiting && e.waiting && ok:
			s.seated = append(s.seated, e.Streamer)
		}
		e.waiting = st == StateWaiting
		counts.add(st, e.live)
		list.add(e.settings.Mode, e.settings.Origin())
	}
	s.departed = nil
	for _, ch := range s.wanted {
		if seen[ch] {
			continue
		}
		d, ok := why[ch]
		if !ok {
			d = Departure{Reason: LeaveRemoved} // its streamer is gone from the list
		}
		if s.departed == nil {
			s.departed = make(map[string]Departure)
		}
		s.departed[ch] = d
	}
	s.wanted = wanted
	s.counts, s.listCounts = counts, list
	return wanted
}

// Departures returns why each channel the evaluation before the last
// wanted and the last one does not left; nil when none did.
func (s *State) Departures() map[string]Departure { return s.departed }

// Queued returns the streamers that the last Evaluate found eligible
// (live, or always) but could not give a slot under the channel cap, and
// that were not waiting before.
func (s *State) Queued() []Streamer { return s.queued }

// Seated returns the streamers that were waiting for a slot and that the
// last Evaluate gave one.
func (s *State) Seated() []Streamer { return s.seated }

// Counts returns how many streamers were in each state at the last
// Evaluate. It allocates nothing, so the Engine publishes it at every
// change while the per-streamer list is built only on request.
func (s *State) Counts() Counts { return s.counts }

// ListCounts returns how many streamers had each mode and origin at the
// last Evaluate.
func (s *State) ListCounts() ListCounts { return s.listCounts }

// NextDeadline returns the earliest time at which Evaluate could give a
// different answer without a new observation, or the zero time when there
// is none: an unavailable mark running out after now, or the grace of a
// held streamer seen offline by an event ending. A grace that has already
// ended but that no Evaluate has applied yet is returned too, so a caller
// that lets the time pass before arming its timer still evaluates at once.
// A grace seen by polls only needs no deadline: it ends only with a poll.
func (s *State) NextDeadline(now time.Time) time.Time {
	var next time.Time
	earliest := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, e := range s.entries {
		if t := e.r().unavailUntil; t.After(now) {
			earliest(t)
		}
		if e.held && e.watched && !e.live && e.settings.Mode == ModeLive {
			earliest(e.offlineSince.Add(s.graceOf(e)))
		}
	}
	return next
}

// ChannelState says why a streamer's channel is or is not wanted.
type ChannelState string

// The states a streamer can be in, as Snapshot reports them.
const (
	StateUnknown     ChannelState = "unknown"       // not observed yet
	StateOffline     ChannelState = "offline"       // offline, not wanted
	StateWanted      ChannelState = "wanted"        // live and wanted
	StateGrace       ChannelState = "offline_grace" // offline, kept until GraceUntil
	StateWaiting     ChannelState = "waiting"       // live, but the channel cap is reached
	StateUnavailable ChannelState = "unavailable"   // Twitch refuses the channel (Reason) until Until
	// StateWatchOnly: a streamer in ModeNever, live or not, never joined.
	StateWatchOnly ChannelState = "watch_only"
)

// ChannelStates lists every ChannelState, for a caller that reports them
// all (metrics).
func ChannelStates() []ChannelState {
	return []ChannelState{StateWanted, StateGrace, StateWaiting, StateUnavailable, StateOffline, StateUnknown, StateWatchOnly}
}

// stateOf is the one place that names a streamer's state from what is
// known of it; Streamers and Counts both use it, so they always agree.
func (s *State) stateOf(now time.Time, e *entry) ChannelState {
	always := e.settings.Mode == ModeAlways
	switch {
	case now.Before(e.r().unavailUntil):
		return StateUnavailable
	case e.settings.Mode == ModeNever:
		return StateWatchOnly
	case e.held && (e.live || always):
		return StateWanted
	case e.held:
		return StateGrace
	case e.live || always:
		return StateWaiting // eligible, but the channel cap is reached
	case !e.observed:
		return StateUnknown
	}
	return StateOffline
}

// Counts are how many streamers (with a known ID) are in each state, and
// how many have each mode and came from the follows.
type Counts struct {
	Watched     int `json:"watched"`
	Live        int `json:"live"`
	Unknown     int `json:"unknown"`
	Offline     int `json:"offline"`
	Wanted      int `json:"wanted"`
	Grace       int `json:"offline_grace"`
	Waiting     int `json:"waiting"`
	Unavailable int `json:"unavailable"`
	WatchOnly   int `json:"watch_only"`
}

// ListCounts are how many streamers (with a known ID) have each mode, and
// how many came from the follows.
type ListCounts struct {
	Live        int `json:"live"`
	Always      int `json:"always"`
	Never       int `json:"never"`
	FromFollows int `json:"from_follows"`
}

// OfMode returns the number of streamers in mode m.
func (c ListCounts) OfMode(m Mode) int {
	switch m {
	case ModeAlways:
		return c.Always
	case ModeNever:
		return c.Never
	}
	return c.Live
}

func (c *ListCounts) add(mode Mode, origin Origin) {
	switch mode {
	case ModeAlways:
		c.Always++
	case ModeNever:
		c.Never++
	default:
		c.Live++
	}
	if origin == OriginFollows {
		c.FromFollows++
	}
}

// Of returns the number of streamers in state st.
func (c Counts) Of(st ChannelState) int {
	if n := c.of(st); n != nil {
		return *n
	}
	return 0
}

func (c *Counts) add(st ChannelState, live bool) {
	c.Watched++
	if live {
		c.Live++
	}
	if n := c.of(st); n != nil {
		*n++
	}
}

func (c *Counts) of(st ChannelState) *int {
	switch st {
	case StateUnknown:
		return &c.Unknown
	case StateOffline:
		return &c.Offline
	case StateWanted:
		return &c.Wanted
	case StateGrace:
		return &c.Grace
	case StateWaiting:
		return &c.Waiting
	case StateUnavailable:
		return &c.Unavailable
	case StateWatchOnly:
		return &c.WatchOnly
	}
	return nil
}

// StreamerStatus is one streamer's entry in a Snapshot.
type StreamerStatus struct {
	Login     string       `json:"login"`
	ID        string       `json:"id"`
	Channel   string       `json:"channel"`
	Live      bool         `json:"live"`
	LiveSince time.Time    `json:"live_since,omitzero"`
	State     ChannelState `json:"state"`
	Until     time.Time    `json:"until,omitzero"`
	Reason    string       `json:"reason,omitempty"`
	// LiveSource is the source of the observation that set Live (the first
	// to see the stream live, or offline), and ObservedAt when it was made;
	// both are empty before the first observation.
	LiveSource Source    `json:"live_source,omitempty"`
	ObservedAt time.Time `json:"observed_at,omitzero"`
	// Mode is the streamer's presence mode; Source says whether it is
	// listed in the configuration or came from the follows.
	Mode   Mode   `json:"mode"`
	Source Origin `json:"source"`
}

// Streamers describes every streamer as of the last Evaluate at now.
func (s *State) Streamers(now time.Time) []StreamerStatus {
	out := make([]StreamerStatus, 0, len(s.entries))
	for _, e := range s.entries {
		st := StreamerStatus{
			Login: e.Login, ID: e.ID, Channel: e.channel, Live: e.live, State: s.stateOf(now, e),
			LiveSource: e.source, ObservedAt: e.sourceAt,
			Mode: e.settings.Mode, Source: e.settings.Origin(),
		}
		if e.live {
			st.LiveSince = e.r().liveSince
		}
		switch st.State {
		case StateUnavailable:
			st.Until, st.Reason = e.r().unavailUntil, e.r().unavailWhy
		case StateGrace:
			st.Until = e.offlineSince.Add(s.graceOf(e))
		}
		out = append(out, st)
	}
	return out
}
