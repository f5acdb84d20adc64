package ops

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/farmd/farmd/irc"
	"github.com/farmd/farmd/presence"
	"github.com/farmd/farmd/streamelements"
)

// Status is the /status document: what a user reads when they ask "why am I
// not in #x?".
type Status struct {
	Healthy      bool      `json:"healthy"`
	Health       string    `json:"health"`
	Version      string    `json:"version"`
	Connected    bool      `json:"connected"`
	Since        time.Time `json:"connected_since,omitzero"` // when Connected last changed
	Live         []string  `json:"live,omitzero"`            // logins live now; absent with streamers_error
	Joined       []string  `json:"joined"`                   // channels the server confirmed
	LastPoll     time.Time `json:"last_poll,omitzero"`
	LastGoodPoll time.Time `json:"last_good_poll,omitzero"`
	// PollState is ok, partial (some batches failed, the rest were
	// served) or failing; Unchecked counts the streamers the last poll
	// could not determine, PartialSince when partial polls began.
	PollState      presence.PollState `json:"poll_state,omitempty"`
	LastServedPoll time.Time          `json:"last_served_poll,omitzero"`
	PartialSince   time.Time          `json:"poll_partial_since,omitzero"`
	Unchecked      int                `json:"poll_unchecked"`
	PollError      string             `json:"poll_error,omitempty"`
	FailingSince   time.Time          `json:"poll_failing_since,omitzero"`
	Interval       string             `json:"poll_interval"`
	Unresolved     []string           `json:"unresolved,omitempty"` // logins Twitch does not know
	Streamers      []Streamer         `json:"streamers,omitzero"`   // absent with streamers_error
	// StreamersError says why Streamers is missing: the presence loop did
	// not answer in time. Counts are then the last it published.
	StreamersError string          `json:"streamers_error,omitempty"`
	Counts         presence.Counts `json:"counts"`
	Token          *TokenStatus    `json:"token,omitempty"` // the chat token, never its value
	// Points are StreamElements' readings per channel farmd was in; absent
	// unless points.streamelements is on.
	Points []streamelements.Channel `json:"points,omitempty"`
	// EventSub is the real-time source; absent when farmd polls only.
	EventSub *EventSubStatus `json:"eventsub,omitempty"`
	// Observations counts what each source told presence, and what was
	// ignored as older than the other source's or lagging behind an event.
	Observations presence.ObservationCounts `json:"observations"`
	RateLimit    RateLimit                  `json:"rate_limit"`
	IRC          IRCCounters                `json:"irc"`
	Helix        HelixCounters              `json:"helix"`
}

// Streamer is one streamer's line in Status: the presence decision and the
// chat state of its channel.
type Streamer struct {
	presence.StreamerStatus
	// Chat is the channel's IRC state when it is wanted: waiting (for a
	// connection or the JOIN rate limit), joining, joined, retrying or
	// unavailable.
	Chat       irc.ChannelState `json:"chat,omitempty"`
	ChatSince  time.Time        `json:"chat_since,omitzero"`
	ChatReason string           `json:"chat_reason,omitempty"`
}

// RateLimit is the Helix rate-limit budget.
type RateLimit struct {
	Known             bool      `json:"known"`
	Limit             int       `json:"limit,omitempty"`
	Remaining         int       `json:"remaining,omitempty"`
	Reset             time.Time `json:"reset,omitzero"`
	RequestsPerMinute float64   `json:"poll_requests_per_minute"` // what polling costs
}

// IRCCounters are the IRC manager's counters.
type IRCCounters struct {
	Connects          int64 `json:"connects"`
	Disconnects       int64 `json:"disconnects"`
	ReconnectAttempts int64 `json:"reconnect_attempts"`
	JoinsSent         int64 `json:"joins_sent"`
	PartsSent         int64 `json:"parts_sent"`
}

// HelixCounters are the Helix client's counters.
type HelixCounters struct {
	TokenFetches    int64 `json:"token_fetches"`
	TokenFailures   int64 `json:"token_failures"`
	TransportErrors int64 `json:"transport_errors"`
	Retries         int64 `json:"retries"`
}

// Status assembles the /status document.
func (s *Server) Status() Status {
	snap := s.o.Presence.Snapshot()
	ist := s.o.Chat.Status()
	rl := s.o.API.RateLimit()
	hs := s.o.API.Stats()
	interval := s.o.Interval()
	ok, reason := s.health(ist, snap, interval)
	chans := make(map[string]irc.ChannelStatus, len(ist.Channels))
	joined := []string{}
	for _, c := range ist.Channels {
		chans[c.Name] = c
		if c.State == irc.StateJoined {
			joined = append(joined, c.Name)
		}
	}
	st := Status{
		Healthy: ok, Health: reason, Version: s.o.Version,
		Connected: ist.Connected, Since: ist.Since,
		Joined:   joined,
		LastPoll: snap.LastPoll, LastGoodPoll: snap.LastGood, PollError: oneLine(snap.LastError), FailingSince: snap.FailingFor,
		PollState: snap.Polls, LastServedPoll: snap.LastServed, PartialSince: snap.PartialSince, Unchecked: snap.Unchecked,
		Interval:   interval.String(),
		Unresolved: snap.Unresolved,
		Counts:     snap.Counts,
		RateLimit: RateLimit{
			Known: rl.Known, Limit: rl.Limit, Remaining: rl.Remaining, Reset: rl.Reset,
			RequestsPerMinute: presence.RequestsPerMinute(snap.Counts.Watched, interval),
		},
		IRC: IRCCounters{
			Connects: ist.Connects, Disconnects: ist.Disconnects, ReconnectAttempts: ist.ReconnectAttempts,
			JoinsSent: ist.JoinsSent, PartsSent: ist.PartsSent,
		},
		Helix: HelixCounters{TokenFetches: hs.TokenFetches, TokenFailures: hs.TokenFailures, TransportErrors: hs.TransportErrors, Retries: hs.Retries},
	}
	if s.o.Token != nil {
		ts := s.o.Token()
		st.Token = &ts
	}
	if s.o.EventSub != nil {
		st.EventSub = eventSubStatus(s.o.EventSub())
	}
	if s.o.Points != nil {
		st.Points = s.o.Points()
	}
	st.Observations = snap.Observations
	if !snap.Listed {
		st.StreamersError = "the presence loop did not answer within 2s; counts are from its last update"
		return st
	}
	st.Live, st.Streamers = []string{}, make([]Streamer, 0, len(snap.Streamers))
	for _, ss := range snap.Streamers {
		if ss.Live {
			st.Live = append(st.Live, ss.Login)
		}
		line := Streamer{StreamerStatus: ss}
		if c, ok := chans[ss.Channel]; ok {
			line.Chat, line.ChatSince, line.ChatReason = c.State, c.Since, c.Reason
		}
		st.Streamers = append(st.Streamers, line)
	}
	return st
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(s.Status())
}
