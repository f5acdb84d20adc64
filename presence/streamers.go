package presence

import "time"

// Mode says when the account is to be in a streamer's chat.
type Mode string

// The presence modes.
const (
	// ModeLive: while the streamer is live, and for the offline grace
	// after. The zero Mode means ModeLive.
	ModeLive Mode = "live"
	// ModeAlways: whether live or not, within the channel cap and in list
	// order, for loyalty bots that also pay while the stream is offline.
	ModeAlways Mode = "always"
	// ModeNever: never joined, but still watched (polled, and subscribed to
	// by EventSub), so that going live and offline can be notified.
	ModeNever Mode = "never"
)

// Origin names where a streamer of the list came from.
type Origin string

// The origins of a streamer.
const (
	OriginConfig  Origin = "config"  // listed in the configuration
	OriginFollows Origin = "follows" // a channel the account follows
)

// StreamerSettings are one streamer of the list and its rules.
type StreamerSettings struct {
	// Login is the normalised login.
	Login string
	// Mode is when the account is in the chat; "" means ModeLive.
	Mode Mode
	// OfflineGrace replaces Settings.OfflineGrace for this streamer when
	// OwnGrace is set (it may be 0: leave at once); without OwnGrace the
	// global grace applies, and follows it on reload.
	OfflineGrace time.Duration
	OwnGrace     bool
	// Notify says whether the streamer's going live and offline is to be
	// notified; presence carries it for whoever sends notifications.
	Notify bool
	// FromFollows marks a streamer added because the account follows it
	// (MergeFollows), not listed in the configuration.
	FromFollows bool
}

// Origin says whether the streamer was listed or came from the follows.
func (s StreamerSettings) Origin() Origin {
	if s.FromFollows {
		return OriginFollows
	}
	return OriginConfig
}

// mode is s.Mode, with the zero value as ModeLive.
func (s StreamerSettings) mode() Mode {
	if s.Mode == "" {
		return ModeLive
	}
	return s.Mode
}

// StreamersOf returns logins as listed streamers with the default
// settings: present while live, the global grace, notified.
func StreamersOf(logins ...string) []StreamerSettings {
	out := make([]StreamerSettings, len(logins))
	for i, l := range logins {
		out[i] = StreamerSettings{Login: l, Mode: ModeLive, Notify: true}
	}
	return out
}

// MergeFollows is the streamer list made of the listed streamers and the
// logins the account follows: the listed ones first, in their order and
// with their settings (a listed streamer that is also followed stays as
// listed: a "never" entry keeps a followed channel out of the chats), then
// every followed login not listed, in the order given, with the default
// settings and FromFollows set. followed are normalised logins (as
// helix.Client.FollowedChannels returns them); repeats are dropped. The
// daemon calls it at every refresh of the follows and on every reload, and
// hands the result to Engine.Reload, so there is one place where the two
// sources meet.
func MergeFollows(listed []StreamerSettings, followed []string) []StreamerSettings {
	out := make([]StreamerSettings, 0, len(listed)+len(followed))
	seen := make(map[string]bool, len(listed)+len(followed))
	for _, s := range listed {
		if seen[s.Login] {
			continue
		}
		seen[s.Login] = true
		s.FromFollows = false
		out = append(out, s)
	}
	for _, login := range followed {
		if login == "" || seen[login] {
			continue
		}
		seen[login] = true
		out = append(out, StreamerSettings{Login: login, Mode: ModeLive, Notify: true, FromFollows: true})
	}
	return out
}

// followsChanges returns the logins that entered the list through the
// follows between old and new (followed now, not as a followed streamer
// before) and those that left it by an unfollow (followed before, in
// neither form now), in list order.
func followsChanges(old, new []StreamerSettings) (entered, left []string) {
	before := make(map[string]StreamerSettings, len(old))
	for _, s := range old {
		before[s.Login] = s
	}
	now := make(map[string]bool, len(new))
	for _, s := range new {
		now[s.Login] = true
		if b, ok := before[s.Login]; s.FromFollows && !(ok && b.FromFollows) {
			entered = append(entered, s.Login)
		}
	}
	for _, s := range old {
		if s.FromFollows && !now[s.Login] {
			left = append(left, s.Login)
		}
	}
	return entered, left
}
