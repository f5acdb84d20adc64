package irc

// EventKind says what an Event reports.
type EventKind int

// The kinds of Event a Manager reports through Options.OnEvent.
const (
	// EventConnected: the server welcomed the account (001).
	EventConnected EventKind = iota + 1
	// EventDisconnected: a welcomed connection ended; Err says why (nil
	// when Run's context was cancelled).
	EventDisconnected
	// EventJoined: the server echoed our JOIN of Channel.
	EventJoined
	// EventParted: the server echoed our PART of Channel.
	EventParted
	// EventUnavailable: Twitch refused Channel; Reason is the NOTICE msg-id.
	// The channel is not tried again until it leaves the wanted set and
	// comes back.
	EventUnavailable
	// EventJoinTimeout: a JOIN of Channel was not confirmed within
	// Options.JoinTimeout; it will be retried with backoff.
	EventJoinTimeout
)

// String returns the kind's name, for logs.
func (k EventKind) String() string {
	switch k {
	case EventConnected:
		return "connected"
	case EventDisconnected:
		return "disconnected"
	case EventJoined:
		return "joined"
	case EventParted:
		return "parted"
	case EventUnavailable:
		return "unavailable"
	case EventJoinTimeout:
		return "join_timeout"
	default:
		return "unknown"
	}
}

// Event is something that happened to the connection or a channel.
type Event struct {
	Kind    EventKind
	Channel string
	Reason  string
	Err     error
}
