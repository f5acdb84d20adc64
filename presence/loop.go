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
	resolved *resolution
	health   pollHealth
	handoff  handoff
	watch    streamersWatch

	polling   bool
	nextPoll  time.Time // the zero time, after a reload, means now
	interval  time.Duration
	pollStart time.Time // of the last poll started
	pollN     int       // streamers it polled
	realtime  bool      // EventSub is healthy (Engine.SetRealtime)
	done      chan pollOutcome

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
		resolved: newResolution(s.Streamers),
		health:   pollHealth{log: e.deps.log},
		handoff:  handoff{chat: e.deps.chat},
		watch:    streamersWatch{notify: e.deps.onStreamers},
		done:     make(chan pollOutcome, 1),
	}
}

// run is the loop: its inputs are the messages (handle), the end of the
// poll in flight (finishPoll) and a wake-up for the next poll or the next
// deadline of the State (an unavailable mark or an event's grace ending).
func (l *loop) run(ctx context.Context) error {
	pollCtx, cancelPolls := context.WithCancel(ctx)
	defer cancelPolls()
	l.apply() // publish the empty state: nothing is wanted until observed
	l.startPoll(pollCtx)
	var w waker
	defer w.stop()
	for {
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
		case <-w.at(l.deps, l.nextWake()):
			if !l.polling && !l.now().Before(l.nextPoll) {
				l.startPoll(pollCtx)
			}
			l.apply()
		}
	}
}

// nextWake is when the loop has to act without a message: the next poll or
// the next deadline of the State, and within the hour in any case.
func (l *loop) nextWake() time.Time {
	now := l.now()
	next := now.Add(time.Hour)
	if !l.polling && l.nextPoll.Before(next) {
		next = l.nextPoll
	}
	if d := l.state.NextDeadline(now); !d.IsZero() && d.Before(next) {
		next = d
	}
	return next
}

// waker gives the loop a channel that fires at a time: from deps.at when
// set (a fake clock), else from one reused timer on the real clock.
type waker struct{ timer *time.Timer }

func (w *waker) at(d deps, t time.Time) <-chan time.Time {
	if d.at != nil {
		return d.at(t)
	}
	wait := max(t.Sub(d.now()), 0)
	if w.timer == nil {
		w.timer = time.NewTimer(wait)
	} else {
		w.timer.Reset(wait)
	}
	return w.timer.C
}

func (w *waker) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

// setRealtime records whether EventSub is healthy. Going down, a poll that
// a lengthened interval put off comes back to the normal interval, counted
// from the last poll's start.
func (l *loop) setRealtime(healthy bool) {
	if healthy == l.realtime {
		return
	}
	l.realtime = healthy
	l.state.SetRealtime(l.now(), healthy)
	if healthy {
		l.log.Info().Msg("real-time events flowing: an offline event ends its grace by itself")
	} else {
		l.log.Info().Msg("real-time events not flowing: polls alone decide")
	}
	if !healthy && !l.nextPoll.IsZero() {
		if next := l.pollStart.Add(l.pollInterval(l.pollN)); next.Before(l.nextPoll) {
			l.nextPoll = next
		}
	}
	l.apply()
}

func (l *loop) reload(s Settings) {
	old := l.settings
	l.settings = s
	l.reloads++
	l.state.SetLimits(s.OfflineGrace, s.MaxChannels)
	toResolve := l.resolved.configure(s.Streamers)
	l.state.SetStreamers(l.resolved.streamers(s.Streamers))
	l.watch.update(l.state.IDs())
	entered, left := followsChanges(old.Streamers, s.Streamers)
	for _, login := range entered {
		l.log.Info().Str("streamer", login).Str("origin", string(OriginFollows)).Msg("followed channel added")
	}
	for _, login := range left {
		l.log.Info().Str("streamer", login).Str("origin", string(OriginFollows)).Msg("channel unfollowed; removed")
	}
	followed := 0
	for _, st := range s.Streamers {
		if st.FromFollows {
			followed++
		}
	}
	ev := l.log.Info().Int("streamers", len(s.Streamers)).Int("from_follows", followed).
		Int("previous", len(old.Streamers)).Int("to_resolve", toResolve)
	// An automatic interval is chosen at every poll: there is no one
	// duration to log.
	ev = ev.Bool("interval_auto", s.AutoInterval)
	if !s.AutoInterval {
		ev = ev.Dur("interval", s.Interval)
	}
	ev.Dur("offline_grace", s.OfflineGrace).Int("max_channels", s.MaxChannels).Msg("configuration reloaded")
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
		Counts:       l.state.Counts(),
		List:         l.state.ListCounts(),
		Wanted:       slices.Clone(wanted),
		Unresolved:   l.resolved.unresolved(l.settings.Streamers),
		Realtime:     l.realtime,
		Observations: l.state.ObservationCounts(),
	}
	l.health.fill(&s)
	l.published = s
	// Published first, so whoever sees the Chat change sees the state that
	// caused it.
	l.publish(s)
	for _, st := range l.state.Queued() {
		l.log.Info().Func(streamerFields(st.Login, l.channelOf(st))).Int("max_channels", l.settings.MaxChannels).
			Msg("streamer is live but waiting for a slot")
	}
	for _, st := range l.state.Seated() {
		l.log.Info().Func(streamerFields(st.Login, l.channelOf(st))).Msg("waiting streamer given a slot")
	}
	l.handoff.hand(wanted, l.state.Departures())
}

// channelOf is the channel st is joined as.
func (l *loop) channelOf(st Streamer) string { return l.state.ChannelOf(st.ID) }
