package ops

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/farmd/farmd/irc"
	"github.com/farmd/farmd/presence"
)

// Health reports whether farmd is doing its job: IRC is connected and a
// poll served (determined at least one streamer's status) within the last
// three intervals. A poll in which some batches fail still serves the
// others: that is reported in reason, not as unhealthy. When farmd is not
// healthy, reason says why in one line.
func (s *Server) Health() (ok bool, reason string) {
	return s.health(s.o.Chat.Status(), s.o.Presence.Summary(), s.o.Interval())
}

// health is Health on states already read, so that /status judges the
// same snapshots it shows.
func (s *Server) health(st irc.Status, snap presence.Snapshot, interval time.Duration) (ok bool, reason string) {
	now := s.o.Now()
	if s.o.Starting != nil {
		if what := s.o.Starting(); what != "" {
			return false, "starting: " + oneLine(what)
		}
	}
	if !st.Connected {
		if st.Since.IsZero() {
			return false, "irc disconnected (never connected yet)"
		}
		return false, fmt.Sprintf("irc disconnected since %s", st.Since.UTC().Format(time.RFC3339))
	}
	limit := 3 * interval
	switch {
	case snap.LastPoll.IsZero():
		return false, "no poll finished yet"
	case snap.LastServed.IsZero():
		return false, fmt.Sprintf("poll failing since %s: %s", snap.FailingFor.UTC().Format(time.RFC3339), oneLine(snap.LastError))
	case now.Sub(snap.LastServed) > limit:
		since := snap.FailingFor
		if since.IsZero() {
			since = snap.LastServed
		}
		msg := fmt.Sprintf("poll failing since %s (last success %s ago)", since.UTC().Format(time.RFC3339), now.Sub(snap.LastServed).Round(time.Second))
		if snap.LastError != "" {
			msg += ": " + oneLine(snap.LastError)
		}
		return false, msg
	case snap.Polls == presence.PollsPartial:
		noun := "streamers"
		if snap.Unchecked == 1 {
			noun = "streamer"
		}
		return true, fmt.Sprintf("ok; %d %s not checked since %s: %s",
			snap.Unchecked, noun, snap.PartialSince.UTC().Format(time.RFC3339), oneLine(snap.LastError))
	}
	return true, "ok"
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ok, reason := s.Health()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprintln(w, reason)
}

// oneLine joins the lines of a (possibly joined) error message.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }
