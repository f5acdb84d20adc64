package presence

import (
	"context"
	"slices"
	"time"
)

// loop is the state owned by the Run goroutine. Its parts have their own
// names and files: the logins' resolution (resolve.go), the poll cycle
// (poll.go), how polls go (pollhealth.go), the hand-off to the Chat
// (handoff.go) and the poll interval (autointerval.go).
type loop struct {
	deps
	events  <-chan message
	publish func(Snapshot)

	settings Settings // the only copy in force
	reloads  int      // reloads applied
	state    *State
	logins   *resolution
	health   pollHealth
	handoff  handoff

	polling  bool
	nextPoll time.Time // the zero time, after a reload, means now
	interval time.Duration
	done     chan pollOutcome

	published Snapshot // what the last apply published
}

func newLoop(e *Engine) *loop {
	s := e.initial
	return &loop{
		deps:     e.deps,
		events:   e.events,
		publish:  e.publish,
		settings: s,
		state:    NewState(s.OfflineGrace, s.MaxChannels),
		logins:   newResolution(s.Logins),
		health:   pollHealth{log: e.deps.log},
		handoff:  handoff{chat: e.deps.chat},
		done:     make(chan pollOutcome, 1),
	}
}

// run is the loop: its inputs are the messages (handle), the end of the
// poll in flight (finishPoll) and a timer for the next poll or the next
// deadline of the State.
func (l *loop) run(ctx context.Context) error {
	pollCtx, cancelPolls := context.WithCancel(ctx)
	defer cancelPolls()
	l.apply() // publish the empty state: nothing is wanted until observed
	l.startPoll(pollCtx)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		l.resetTimer(timer)
		select {
		case <-ctx.Done():
			if l.polling {
				<-l.done
			}
			return nil
		case out := <-l.done:
			l.finishPoll(out)
		case m := <-l.events:
			l.handle(m)
		case <-timer.C:
			if !l.polling && !l.now().Before(l.nextPoll) {
				l.startPoll(pollCtx)
			}
			l.apply()
		}
	}
}

// resetTimer arms timer for the next poll or state deadline.
func (l *loop) resetTimer(timer *time.Timer) {
	now := l.now()
	next := now.Add(time.Hour)
	if !l.polling && l.nextPoll.Before(next) {
		next = l.nextPoll
	}
	if d := l.state.NextDeadline(now); !d.IsZero() && d.Before(next) {
		next = d
	}
	timer.Reset(max(next.Sub(now), 0))
}

func (l *loop) reload(s Settings) {
	old := l.settings
	l.settings = s
	l.reloads++
	l.state.SetLimits(s.OfflineGrace, s.MaxChannels)
	toResolve := l.logins.configure(s.Logins)
	l.state.SetStreamers(l.logins.streamers(s.Logins))
	ev := l.log.Info().Int("streamers", len(s.Logins)).Int("previous", len(old.Logins)).Int("to_resolve", toResolve)
	if s.AutoInterval {
		ev = ev.Str("interval", "auto")
	} else {
		ev = ev.Stringer("interval", s.Interval)
	}
	ev.Stringer("offline_grace", s.OfflineGrace).Int("max_channels", s.MaxChannels).Msg("configuration reloaded")
	// Poll at once: new streamers should not wait a whole interval, and the
	// new interval counts from now. A poll in flight is followed at once by
	// another.
	l.nextPoll = time.Time{}
	l.apply()
}

func (l *loop) markUnavailable(channel, reason string) {
	until := l.now().Add(l.unavailableFor)
	if l.state.MarkUnavailable(channel, reason, until) {
		l.log.Warn().Str("channel", channel).Str("reason", reason).Time("retry_at", until).
			Msg("twitch refuses this channel; giving its slot to the next streamer")
	}
	l.apply()
}

// apply evaluates the state, publishes what Summary returns and hands a
// changed wanted set to the Chat. The published part costs no allocation
// proportional to the streamers: counts, not the list.
func (l *loop) apply() {
	wanted := l.state.Evaluate(l.now())
	s := Snapshot{
		Counts:     l.state.Counts(),
		Wanted:     slices.Clone(wanted),
		Unresolved: l.logins.unresolved(l.settings.Logins),
	}
	l.health.fill(&s)
	l.published = s
	// Published first, so whoever sees the Chat change sees the state that
	// caused it.
	l.publish(s)
	l.handoff.hand(wanted)
}
