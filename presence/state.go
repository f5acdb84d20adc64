package presence

import (
	"time"
)

// State holds what is known of every configured streamer and decides which
// channels the account should be in. It is not safe for concurrent use: the
// Engine's goroutine owns it. Every method takes the current time, so the
// rules are tested without a clock.
//
// The rules:
//   - a streamer seen live is eligible;
//   - a streamer that was wanted and is then seen offline stays eligible
//     until it has been seen offline continuously for the offline grace:
//     the PART needs an offline observation made at least the grace after
//     the first one, so polls that fail during the grace never end it;
//   - a channel marked unavailable (banned, suspended, gone) is skipped
//     until its mark expires or the streamer list is reloaded;
//   - of the eligible streamers, the first MaxChannels in list order are
//     wanted.
//
// Only observations change a streamer's liveness: a streamer whose status
// could not be determined keeps the state it had, so an API failure never
// causes a PART.
type State struct {
	grace       time.Duration
	maxChannels int
	entries     []*entry // priority order
	byID        map[string]*entry
	counts      Counts // as of the last Evaluate
}

type entry struct {
	Streamer
	// channel is the login to join: the stream's current login when it was
	// last seen live, the configured login before that.
	channel      string
	observed     bool
	live         bool
	liveSince    time.Time
	offlineSince time.Time // first of the current run of offline observations
	offlineSeen  time.Time // last of them
	held         bool      // in the wanted set of the last evaluation
	unavailUntil time.Time
	unavailWhy   string
}

// NewState returns a State with the given offline grace and channel cap.
func NewState(grace time.Duration, maxChannels int) *State {
	return &State{grace: grace, maxChannels: maxChannels, byID: map[string]*entry{}}
}

// SetLimits changes the offline grace and the channel cap.
func (s *State) SetLimits(grace time.Duration, maxChannels int) {
	s.grace, s.maxChannels = grace, maxChannels
}

// SetStreamers replaces the streamer list (in priority order). Streamers
// that stay keep what is known of them; unavailable marks are cleared, so a
// reload retries every channel.
func (s *State) SetStreamers(list []Streamer) { s.setStreamers(list, true) }

// setStreamers is SetStreamers; with clearMarks false it keeps the
// unavailable marks, for the Engine adding streamers it just resolved
// (asking again about a login whose lookup failed must not retry every
// refused channel at every poll).
func (s *State) setStreamers(list []Streamer, clearMarks bool) {
	byID := make(map[string]*entry, len(list))
	entries := make([]*entry, 0, len(list))
	for _, st := range list {
		if _, dup := byID[st.ID]; dup {
			continue
		}
		e, ok := s.byID[st.ID]
		if !ok {
			e = &entry{Streamer: st, channel: st.Login}
		}
		e.Login = st.Login
		if clearMarks {
			e.unavailUntil, e.unavailWhy = time.Time{}, ""
		}
		byID[st.ID] = e
		entries = append(entries, e)
	}
	s.entries, s.byID = entries, byID
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
}

// Observe records statuses seen at now and returns the streamers whose
// liveness changed. Statuses of unknown user IDs are ignored.
func (s *State) Observe(now time.Time, statuses []Status) []Change {
	var changes []Change
	for _, st := range statuses {
		e, ok := s.byID[st.UserID]
		if !ok {
			continue
		}
		if st.Live && st.Login != "" {
			e.channel = st.Login
		}
		changed := !e.observed || e.live != st.Live
		e.observed = true
		switch {
		case st.Live:
			if !e.live {
				e.liveSince = now
			}
			e.live = true
			e.offlineSince, e.offlineSeen = time.Time{}, time.Time{}
		default:
			if e.live || e.offlineSince.IsZero() {
				e.offlineSince = now
			}
			e.offlineSeen = now
			e.live = false
		}
		if changed && (st.Live || e.held) {
			changes = append(changes, Change{Streamer: e.Streamer, Channel: e.channel, Live: st.Live})
		}
	}
	return changes
}

// MarkUnavailable marks the streamer whose channel is channel as not
// joinable until until, for reason (a Twitch msg-id such as msg_banned). It
// reports whether a streamer has that channel.
func (s *State) MarkUnavailable(channel, reason string, until time.Time) bool {
	found := false
	for _, e := range s.entries {
		if e.channel == channel {
			e.unavailUntil, e.unavailWhy = until, reason
			found = true
		}
	}
	return found
}

func (s *State) eligible(now time.Time, e *entry) bool {
	if now.Before(e.unavailUntil) {
		return false
	}
	if e.live {
		return true
	}
	return e.held && !e.offlineSince.IsZero() && e.offlineSeen.Sub(e.offlineSince) < s.grace
}

// Evaluate computes the channels the account should be in at now, in
// priority order, and remembers them as held for the grace rule. It counts
// the streamers by state in the same pass (Counts).
func (s *State) Evaluate(now time.Time) []string {
	wanted := make([]string, 0, min(len(s.entries), s.maxChannels))
	seen := make(map[string]bool)
	var counts Counts
	for _, e := range s.entries {
		ok := len(wanted) < s.maxChannels && s.eligible(now, e) && !seen[e.channel]
		e.held = ok
		if ok {
			seen[e.channel] = true
			wanted = append(wanted, e.channel)
		}
		counts.add(s.stateOf(now, e), e.live)
	}
	s.counts = counts
	return wanted
}

// Counts returns how many streamers were in each state at the last
// Evaluate. It allocates nothing, so the Engine publishes it at every
// change while the per-streamer list is built only on request.
func (s *State) Counts() Counts { return s.counts }

// NextDeadline returns the earliest time after now at which Evaluate could
// give a different answer without a new observation (an unavailable mark
// running out), or the zero time when there is none. The offline grace needs
// no deadline: it ends only with an observation.
func (s *State) NextDeadline(now time.Time) time.Time {
	var next time.Time
	for _, e := range s.entries {
		if t := e.unavailUntil; t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
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
)

// stateOf is the one place that names a streamer's state from what is
// known of it; Streamers and Counts both use it, so they always agree.
func (s *State) stateOf(now time.Time, e *entry) ChannelState {
	switch {
	case now.Before(e.unavailUntil):
		return StateUnavailable
	case e.held && e.live:
		return StateWanted
	case e.held:
		return StateGrace
	case e.live:
		return StateWaiting
	case !e.observed:
		return StateUnknown
	}
	return StateOffline
}

// Counts are how many streamers (with a known ID) are in each state.
type Counts struct {
	Watched     int `json:"watched"`
	Live        int `json:"live"`
	Unknown     int `json:"unknown"`
	Offline     int `json:"offline"`
	Wanted      int `json:"wanted"`
	Grace       int `json:"offline_grace"`
	Waiting     int `json:"waiting"`
	Unavailable int `json:"unavailable"`
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
}

// Streamers describes every streamer as of the last Evaluate at now.
func (s *State) Streamers(now time.Time) []StreamerStatus {
	out := make([]StreamerStatus, 0, len(s.entries))
	for _, e := range s.entries {
		st := StreamerStatus{Login: e.Login, ID: e.ID, Channel: e.channel, Live: e.live, State: s.stateOf(now, e)}
		if e.live {
			st.LiveSince = e.liveSince
		}
		switch st.State {
		case StateUnavailable:
			st.Until, st.Reason = e.unavailUntil, e.unavailWhy
		case StateGrace:
			st.Until = e.offlineSince.Add(s.grace)
		}
		out = append(out, st)
	}
	return out
}
