package presence

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/rs/zerolog"
)

// pollOutcome is what one poll cycle brings back to the loop.
type pollOutcome struct {
	start, end time.Time
	reloads    int      // of the settings the cycle started under
	asked      []string // logins the resolution asked about
	resolved   []Streamer
	resolveErr error
	watched    int // user IDs checked
	statuses   []Status
	checkErr   error
}

// startPoll starts one cycle in its own goroutine: resolve the pending
// logins, then check every known ID. It touches nothing of the loop's; the
// outcome comes back on l.done.
func (l *loop) startPoll(ctx context.Context) {
	l.polling = true
	start := l.now()
	asked := slices.Clone(l.resolved.pending)
	ids := l.state.IDs()
	l.pollStart, l.pollN = start, len(ids)+len(asked)
	l.interval = l.pollInterval(l.pollN)
	l.nextPoll = start.Add(l.interval)
	resolver, checker, now, done := l.resolver, l.checker, l.now, l.done
	out := pollOutcome{start: start, reloads: l.reloads, asked: asked}
	go func() {
		if len(asked) > 0 {
			out.resolved, out.resolveErr = resolver.ResolveLogins(ctx, asked)
			for _, s := range out.resolved {
				ids = append(ids, s.ID)
			}
		}
		out.watched = len(ids)
		if len(ids) > 0 {
			out.statuses, out.checkErr = checker.CheckStreams(ctx, ids)
		}
		out.end = now()
		done <- out
	}()
}

// finishPoll takes a cycle's outcome: the resolution's answers, the poll
// health, the observations, then the Chat and OnPoll.
func (l *loop) finishPoll(out pollOutcome) {
	l.polling = false
	unresolved := 0
	if len(out.asked) > 0 {
		unresolved = l.finishResolve(out)
	}
	end := pollEnd{
		at:        out.end,
		checked:   len(out.statuses),
		unchecked: max(out.watched-len(out.statuses), 0) + unresolved,
		err:       errors.Join(out.resolveErr, out.checkErr),
	}
	l.health.record(end)
	// The statuses are what Helix knew when the request started, or later:
	// stamped with the start, an answer that arrives after an event never
	// passes for newer than it.
	for i := range out.statuses {
		out.statuses[i].At, out.statuses[i].Source = out.start, SourcePoll
	}
	l.observe(out.end, out.statuses)
	l.apply()
	if l.onPoll != nil {
		live := 0
		for _, s := range out.statuses {
			if s.Live {
				live++
			}
		}
		l.onPoll(PollResult{
			Start: out.start, End: out.end, Interval: l.interval,
			Watched: out.watched, Checked: end.checked, Live: live, Unchecked: end.unchecked,
			State: l.health.state, Err: end.err, Reloads: out.reloads,
		})
	}
}

// finishResolve records the resolution's answers and gives the State the
// streamers now known, keeping the unavailable marks (only a reload clears
// them); it returns how many configured logins are still
// without an answer because a request failed.
func (l *loop) finishResolve(out pollOutcome) int {
	unsettled, unknown := l.resolved.settle(out.asked, out.resolved, out.resolveErr)
	for _, login := range unknown {
		l.log.Warn().Str("streamer", login).Msg("twitch does not know this login; skipping it (renamed or deleted?)")
	}
	l.state.setStreamers(l.resolved.streamers(l.settings.Streamers), false)
	l.watch.update(l.state.IDs())
	return unsettled
}

// observe applies statuses to the State and logs the transitions they
// cause, whichever source they come from, so that an event's JOIN or PART
// reads in the log like a poll's.
func (l *loop) observe(now time.Time, statuses []Status) {
	for _, c := range l.state.Observe(now, statuses) {
		ev := l.log.Info().Str("presence", string(c.Settings.Mode)).Str("origin", string(c.Settings.Origin())).
			Func(streamerFields(c.Login, c.Channel)).Str("source", string(c.Source))
		switch {
		case c.Live:
			ev.Msg("streamer is live")
		case c.Settings.Mode == ModeLive:
			ev.Dur("offline_grace", c.Grace).Msg("streamer went offline")
		default:
			ev.Msg("streamer went offline") // always stays, never was not joined: no grace
		}
		if l.deps.onChange != nil {
			l.deps.onChange(c)
		}
	}
}

// streamerFields logs a streamer by its configured login, and its channel
// only when that differs (a renamed streamer): each line names a streamer
// once.
func streamerFields(login, channel string) func(*zerolog.Event) {
	return func(ev *zerolog.Event) {
		ev.Str("streamer", login)
		if channel != login {
			ev.Str("channel", channel)
		}
	}
}
