package presence

import "time"

// LeaveReason says why a channel left the wanted set, so that the Chat can
// say it when it PARTs: a channel left while its streamer is still live
// must not read as a mistake.
type LeaveReason string

// The reasons a channel leaves the wanted set.
const (
	// LeaveOffline: its streamer was seen offline for the whole grace (or
	// its mode no longer keeps it when offline).
	LeaveOffline LeaveReason = "offline"
	// LeaveSlotGiven: a streamer listed before it became eligible and took
	// its slot under max_channels (Departure.To).
	LeaveSlotGiven LeaveReason = "slot_given"
	// LeaveCap: max_channels was lowered below its place in the list.
	LeaveCap LeaveReason = "max_channels"
	// LeaveRemoved: its streamer is no longer in the list (configuration
	// reloaded, channel unfollowed).
	LeaveRemoved LeaveReason = "removed"
	// LeaveRefused: Twitch refused the channel (MarkUnavailable).
	LeaveRefused LeaveReason = "refused"
	// LeaveNever: its streamer's presence is now never.
	LeaveNever LeaveReason = "never"
	// LeaveRenamed: its streamer was seen live under another login, which
	// is joined instead.
	LeaveRenamed LeaveReason = "renamed"
	// LeaveShutdown: farmd is stopping. The State never gives it; the Chat
	// does, when it leaves everything on its way out.
	LeaveShutdown LeaveReason = "shutdown"
)

// Departure is why one channel left the wanted set.
type Departure struct {
	Reason LeaveReason
	// To is the streamer given the slot, for LeaveSlotGiven.
	To string
}

// why says why e, held as another channel or not at all by this
// evaluation at now, is no longer held under the name the last one held it
// as; ok and eligible are this evaluation's answers for e, and taker is
// the streamer listed before e that this evaluation held and the last one
// did not, if any, which took e's slot.
func (s *State) why(now time.Time, e *entry, ok, eligible bool, taker *entry) Departure {
	switch {
	case ok:
		return Departure{Reason: LeaveRenamed}
	case now.Before(e.r().unavailUntil):
		return Departure{Reason: LeaveRefused}
	case e.settings.Mode == ModeNever:
		return Departure{Reason: LeaveNever}
	case !eligible:
		return Departure{Reason: LeaveOffline}
	case taker != nil:
		return Departure{Reason: LeaveSlotGiven, To: taker.Login}
	}
	return Departure{Reason: LeaveCap}
}
