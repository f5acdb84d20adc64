package presence

import "slices"

// message is what the Engine's methods send to its loop. Every kind is
// below and handled in loop.handle, the one place to read for what the
// loop accepts; the loop's other inputs are its timer and the end of its
// poll (loop.run).
type message interface{ isMessage() }

// reloadMsg replaces the settings and asks for a poll now (Engine.Reload).
type reloadMsg struct{ settings Settings }

// observeMsg carries statuses from a source other than the poller
// (Engine.Observe).
type observeMsg struct{ statuses []Status }

// realtimeMsg says whether EventSub is healthy (Engine.SetRealtime).
type realtimeMsg struct{ healthy bool }

// unavailableMsg says Twitch refused a channel (Engine.MarkUnavailable).
type unavailableMsg struct{ channel, reason string }

// aliveMsg asks the loop to close done (Engine.Alive).
type aliveMsg struct{ done chan struct{} }

// snapshotMsg asks for the per-streamer list; reply has room for the
// answer, so a loop that answers late never blocks (Engine.Snapshot).
type snapshotMsg struct{ reply chan<- Snapshot }

func (reloadMsg) isMessage()      {}
func (observeMsg) isMessage()     {}
func (realtimeMsg) isMessage()    {}
func (unavailableMsg) isMessage() {}
func (aliveMsg) isMessage()       {}
func (snapshotMsg) isMessage()    {}

// handle acts on one message.
func (l *loop) handle(m message) {
	switch m := m.(type) {
	case reloadMsg:
		l.reload(m.settings)
	case observeMsg:
		l.observe(l.now(), m.statuses)
		l.apply()
	case realtimeMsg:
		l.setRealtime(m.healthy)
	case unavailableMsg:
		l.markUnavailable(m.channel, m.reason)
	case aliveMsg:
		close(m.done)
	case snapshotMsg:
		s := l.published
		s.Wanted, s.Unresolved = slices.Clone(s.Wanted), slices.Clone(s.Unresolved)
		s.Streamers, s.Listed = l.state.Streamers(l.now()), true
		m.reply <- s
	}
}
