package main

import (
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/farmd/farmd/eventsub"
	"github.com/farmd/farmd/irc"
	"github.com/farmd/farmd/ops"
	"github.com/farmd/farmd/presence"
)

// newHistory returns the status page's history when there is a page to
// show it (http.listen), read back from state_dir; nil otherwise.
func newHistory(listen, stateDir string, log zerolog.Logger) *ops.History {
	if listen == "" {
		return nil
	}
	h := ops.NewHistory(nil)
	if stateDir != "" {
		if err := h.Load(stateDir); err != nil {
			log.Warn().Err(err).Msg("the status page's history could not be read back; starting without it")
		}
	}
	return h
}

// historyEvent records an IRC event; the calls never block, so it runs on
// the IRC manager's goroutine.
func historyEvent(h *ops.History, ev irc.Event) {
	if h == nil {
		return
	}
	now := time.Now()
	switch ev.Kind {
	case irc.EventConnected:
		h.Connected(now)
	case irc.EventDisconnected:
		why := ""
		if ev.Err != nil {
			why = ev.Err.Error()
		}
		h.Disconnected(now, why)
	case irc.EventJoined:
		h.Joined(ev.Channel, now)
	case irc.EventParted:
		h.Parted(ev.Channel, now, ev.Reason)
	case irc.EventUnavailable:
		h.Refused(ev.Channel, now, ev.Reason)
	}
}

// historyChange records a presence transition (the engine's goroutine;
// never blocks).
func historyChange(h *ops.History, c presence.Change) {
	if h == nil {
		return
	}
	if c.Live {
		h.Live(c.Channel, time.Now())
	} else {
		h.Offline(c.Channel, time.Now())
	}
}

// pageExtras is what the status page shows beyond /status: the EventSub
// line and each streamer's mode.
func pageExtras(rt *realtime, modes func() map[string]string) func() ops.PageExtras {
	return func() ops.PageExtras {
		var x ops.PageExtras
		if rt != nil {
			x.EventSub = eventSubLine(rt.es.Status())
		}
		m := modes()
		x.Mode = func(login string) string { return m[login] }
		return x
	}
}

func eventSubLine(st eventsub.Status) string {
	state := "not connected"
	if st.Healthy {
		state = "connected"
	}
	s := fmt.Sprintf("%s, %d subscriptions (cost %d of %d), %d events", state, st.Subscriptions, st.TotalCost, st.MaxTotalCost, st.EventsReceived)
	if st.PolledOnly > 0 {
		s += fmt.Sprintf(", %d polled only (past max_total_cost)", st.PolledOnly)
	}
	if !st.Healthy && st.LastError != "" {
		s += ": " + st.LastError
	}
	return s
}
