package irc

import (
	"time"

	"github.com/farmd/farmd/backoff"
	"github.com/farmd/farmd/presence"
)

// ChannelState is where a wanted channel stands.
type ChannelState string

// The states of a wanted channel. move below is the only code that changes
// them.
const (
	// StateWaiting: not joined yet, waiting for a connection or for the JOIN
	// rate limit.
	StateWaiting ChannelState = "waiting"
	// StateJoining: JOIN sent, echo not yet received.
	StateJoining ChannelState = "joining"
	// StateJoined: the server echoed the JOIN.
	StateJoined ChannelState = "joined"
	// StateRetrying: a JOIN was not confirmed in time; it is retried later.
	StateRetrying ChannelState = "retrying"
	// StateUnavailable: Twitch refused the channel (Reason is the msg-id).
	StateUnavailable ChannelState = "unavailable"
)

// chanEvent is something that moves a channel from one state to another:
//
//	event              from                          to
//	evWanted           (not tracked)                 waiting "not joined yet"
//	evUnwanted         any                           (not tracked); PART first if a JOIN went out
//	evRateLimited      waiting, retrying (due)       waiting "join rate limit"
//	evJoinSent         waiting, retrying (due)       joining
//	evJoinEchoed       waiting, joining, retrying    joined, if our JOIN went out on this connection
//	evJoinTimedOut     joining, JoinTimeout passed   retrying "join not confirmed", JOIN backoff
//	evRefused          any but unavailable           unavailable "<msg-id>"
//	evPartedByServer   joined                        waiting "parted by server"
//	evConnLost         joining, joined               waiting "not connected"
//
// An event that does not apply in the channel's state (a late echo, a
// second refusal) leaves it where it is.
type chanEvent int

const (
	evWanted         chanEvent = iota + 1 // SetChannels named it
	evUnwanted                            // SetChannels no longer names it
	evRateLimited                         // its JOIN is due, the limiter has no slot
	evJoinSent                            // a JOIN of it went out
	evJoinEchoed                          // the server echoed our JOIN
	evJoinTimedOut                        // no echo within JoinTimeout
	evRefused                             // a channel NOTICE refused it
	evPartedByServer                      // the server PARTed us out of it
	evConnLost                            // the connection ended
)

// chanState is the manager's view of one tracked channel.
type chanState struct {
	state  ChannelState
	since  time.Time // when state last changed
	reason string
	// sent is true while a JOIN of the channel is out on the current
	// connection and not refused, so leaving it needs a PART.
	sent    bool
	sentAt  time.Time
	retryAt time.Time
	retry   backoff.Backoff // the JOIN retry delays, reset by an echo
	// left is why the channel is no longer wanted, once SetChannels said
	// so, for the "left" line of its PART.
	left presence.Departure
}

// set moves st to state for reason; since changes only with the state.
func (st *chanState) set(state ChannelState, now time.Time, reason string) {
	if st.state != state {
		st.since = now
	}
	st.state, st.reason = state, reason
}

// joinDue reports whether a JOIN of the channel may go out at now.
func (st *chanState) joinDue(now time.Time) bool {
	return st.state == StateWaiting || st.state == StateRetrying && !now.Before(st.retryAt)
}

// move applies ev to channel name at now and reports whether it applied.
// line is the server line behind ev, for evRefused's msg-id and text. It is
// the only code that changes a channel's state, and it logs and reports
// (Event) every change that README or OnEvent users see.
func (m *Manager) move(name string, ev chanEvent, now time.Time, line inbound) bool {
	st := m.chans[name]
	if ev == evWanted {
		if st != nil {
			return false
		}
		m.chans[name] = &chanState{
			state: StateWaiting, since: now, reason: "not joined yet",
			retry: backoff.Backoff{Min: m.o.JoinTimeout, Max: m.o.JoinRetryMax},
		}
		return true
	}
	if st == nil {
		return false
	}
	switch ev {
	case evUnwanted:
		delete(m.chans, name)
	case evRateLimited:
		if !st.joinDue(now) {
			return false
		}
		st.set(StateWaiting, now, "join rate limit")
	case evJoinSent:
		if !st.joinDue(now) {
			return false
		}
		st.set(StateJoining, now, "")
		st.sent, st.sentAt = true, now
	case evJoinEchoed:
		if !st.sent || st.state == StateJoined {
			return false
		}
		st.set(StateJoined, now, "")
		st.retry.Reset()
		m.log.Info().Str("channel", name).Msg("joined")
		m.emit(Event{Kind: EventJoined, Channel: name})
	case evJoinTimedOut:
		if st.state != StateJoining || now.Before(st.sentAt.Add(m.o.JoinTimeout)) {
			return false
		}
		d := st.retry.Next()
		st.set(StateRetrying, now, "join not confirmed")
		st.retryAt = now.Add(d)
		m.log.Warn().Str("channel", name).Dur("timeout", m.o.JoinTimeout).Dur("retry_in", d).
			Msg("join not confirmed, retrying later")
		m.emit(Event{Kind: EventJoinTimeout, Channel: name})
	case evRefused:
		if st.state == StateUnavailable {
			return false
		}
		// Refused means not joined: nothing to PART, and no echo to wait
		// for at shutdown.
		st.set(StateUnavailable, now, line.msgID)
		st.sent = false
		m.log.Warn().Str("channel", name).Str("msg_id", line.msgID).Str("text", line.text).
			Msg("channel unavailable, not trying it again until it is wanted anew")
		m.emit(Event{Kind: EventUnavailable, Channel: name, Reason: line.msgID})
	case evPartedByServer:
		if st.state != StateJoined {
			return false
		}
		st.set(StateWaiting, now, "parted by server")
		st.sent = false
		m.log.Warn().Str("channel", name).Msg("parted by server, joining again")
	case evConnLost:
		st.sent = false
		if st.state == StateJoined || st.state == StateJoining {
			st.set(StateWaiting, now, "not connected")
		}
	default:
		return false
	}
	return true
}
