package streamelements

import (
	"time"

	"github.com/farmd/farmd/twitch"
)

// channel is everything the Watcher knows of one channel: farmd's
// presence in it since the last reading (fed by the daemon), and what
// StreamElements said.
type channel struct {
	// Presence. mark is the instant chat and liveChat are counted up to.
	joinedAt    time.Time // zero when farmd is not in the chat
	liveSince   time.Time // zero when the channel is not live
	streamStart time.Time // start of the latest stream, kept after it ends
	mark        time.Time
	chat        time.Duration // in chat since the last reading
	liveChat    time.Duration // in chat while live since the last reading

	// StreamElements.
	id        string
	noSEUntil time.Time // the channel answered 404; not asked again before this
	last      *Reading
	// The interval between the last two readings.
	lastLive      time.Duration
	lastWatchtime int64
	lastPoints    int64
	// Since the first reading.
	since          time.Time
	totalLive      time.Duration
	totalWatchtime int64
	totalPoints    int64
	checked        bool // a reading could judge the credit
	credited       bool
	warnedStream   time.Time // streamStart of the stream already warned about

	// Failures.
	err          string
	failingSince time.Time
	warnedErrAt  time.Time
}

// advance counts presence up to t. Events that arrive out of order (t
// before the mark) count nothing rather than a negative time.
func (c *channel) advance(t time.Time) {
	if !c.mark.IsZero() && t.Before(c.mark) {
		return
	}
	if !c.mark.IsZero() && !c.joinedAt.IsZero() {
		d := t.Sub(c.mark)
		c.chat += d
		if !c.liveSince.IsZero() {
			c.liveChat += d
		}
	}
	c.mark = t
}

// presentSinceReading reports whether farmd was in the chat at any time
// since the channel's last reading.
func (c *channel) presentSinceReading() bool { return !c.joinedAt.IsZero() || c.chat > 0 }

// get returns the channel's entry, creating it; w.mu must be held.
func (w *Watcher) get(name string) *channel {
	c := w.channels[name]
	if c == nil {
		c = &channel{}
		w.channels[name] = c
	}
	return c
}

// Joined records that the server confirmed farmd's JOIN of channel at at.
func (w *Watcher) Joined(channel string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.get(twitch.NormalizeLogin(channel))
	c.advance(at)
	if c.joinedAt.IsZero() {
		c.joinedAt = at
	}
}

// Parted records that farmd left channel's chat at at (a PART echoed, or
// a JOIN no longer confirmed).
func (w *Watcher) Parted(channel string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c := w.channels[twitch.NormalizeLogin(channel)]; c != nil {
		c.advance(at)
		c.joinedAt = time.Time{}
	}
}

// PartedAll records that farmd left every chat at at: the IRC connection
// ended, or farmd is stopping.
func (w *Watcher) PartedAll(at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.channels {
		if !c.joinedAt.IsZero() {
			c.advance(at)
			c.joinedAt = time.Time{}
		}
	}
}

// Live records that channel's stream is live since at. A Live while
// already live is the same stream.
func (w *Watcher) Live(channel string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.get(twitch.NormalizeLogin(channel))
	c.advance(at)
	if c.liveSince.IsZero() {
		c.liveSince, c.streamStart = at, at
	}
}

// Offline records that channel's stream ended at at; the next Live is a
// new stream, which may be warned about again.
func (w *Watcher) Offline(channel string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c := w.channels[twitch.NormalizeLogin(channel)]; c != nil {
		c.advance(at)
		c.liveSince = time.Time{}
	}
}
