// Package presence is farmd's domain: from the configured streamers and what
// is known of their streams it decides which chat channels the account should
// be in, honouring the offline grace, the list's priority order and the
// channel cap. It imports neither irc nor helix; it declares the small
// interfaces it needs and they implement them.
package presence

import (
	"context"
	"time"
)

// Streamer is a configured streamer whose Twitch user ID is known.
// Login is the configured (normalised) login; the channel joined is the
// stream's current login, which differs after a rename.
type Streamer struct {
	ID    string
	Login string
}

// Status is what a source knows of one streamer's stream at one moment.
type Status struct {
	UserID string
	// Login is the stream's current user_login. It is set when Live is true
	// and may be empty otherwise.
	Login string
	Live  bool
	// At is when the observation was made: for a poll, when its request
	// started (the Engine stamps it; Helix answers with what it knew then
	// or later); for an event, its timestamp. It orders observations from
	// different sources (State). The zero time means when it is applied.
	At time.Time
	// Source is where the observation came from. Empty means SourcePoll,
	// which is what a StreamChecker returns.
	Source Source
	// Stream, when the source knows it, describes the live stream (for
	// notifications); nil otherwise.
	Stream *StreamInfo
}

// StreamInfo is what a source tells about a live stream beyond its being
// live. Empty fields are unknown.
type StreamInfo struct {
	ID, Title, Game string
	Viewers         int
	ViewersKnown    bool
	StartedAt       time.Time
}

// Source names where an observation came from: the sources differ in how
// far they can be trusted (State, the Helix lag rule).
type Source string

// The sources of observations.
const (
	// SourcePoll is a Helix /streams poll: cached, so it shows a stream
	// seconds to minutes after it starts and after it ends.
	SourcePoll Source = "poll"
	// SourceEventSub is an EventSub stream.online or stream.offline
	// notification, pushed by Twitch as the stream starts or ends.
	SourceEventSub Source = "eventsub"
)

// StreamChecker reports the stream status of a set of users. helix.Client
// implements it.
type StreamChecker interface {
	// CheckStreams returns a Status for every user ID whose status it could
	// determine, live or not. The IDs of a request that failed are absent
	// from the result and err says why: the caller leaves their state as it
	// was, so an API failure never causes a PART.
	CheckStreams(ctx context.Context, userIDs []string) ([]Status, error)
}

// Resolver turns logins into user IDs. helix.Client implements it.
type Resolver interface {
	// ResolveLogins returns the streamers Twitch knows, in no particular
	// order. Logins Twitch does not know are simply absent; err is non-nil
	// only when a request failed, and then the result may be partial.
	ResolveLogins(ctx context.Context, logins []string) ([]Streamer, error)
}

// Chat keeps the account in a set of channels. irc.Manager implements it.
type Chat interface {
	// SetChannels replaces the set of channels (lowercase logins without
	// '#', in priority order) the account should be in; left says why each
	// channel of the previous call that channels no longer names left, for
	// the Chat to say when it PARTs it. It must not block; the latest call
	// wins, so a Chat that has not applied a call yet keeps the reasons it
	// gave.
	SetChannels(channels []string, left map[string]Departure)
}
