package ops

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// The timeline's SVG coordinates: one unit a minute across the 24 hours,
// stretched to the page's width (preserveAspectRatio="none"), so bars
// need no arithmetic in the browser. Text stays in HTML, where stretching
// cannot distort it.
const (
	timelineWidth = 1440 // minutes in HistoryWindow
	minBarWidth   = 2    // a JOIN that lasted seconds still shows
)

type timeline struct {
	Start, End string
	Ticks      []tick
	Labels     []axisLabel
	Connection timelineRow
	Rows       []timelineRow
	Shown      int
	Active     int // streamers with something in the window
	Capped     bool
}

type tick struct {
	X     string
	Major bool
}

type axisLabel struct {
	Left float64 // percent of the width
	Text string
}

type timelineRow struct {
	Name    string
	Live    []rect
	Chat    []rect
	Refused []string // x of each refusal
	Unknown *rect    // before the track is complete
	Text    string   // the same, for screen readers
}

type rect struct{ X, W string }

func buildTimeline(h HistorySnapshot, ss []Streamer, now time.Time) timeline {
	start := now.Add(-HistoryWindow)
	tl := timeline{Start: stamp(start, now), End: "now (" + stamp(now, now) + ")"}
	first := start.Truncate(time.Hour)
	if first.Before(start) {
		first = first.Add(time.Hour)
	}
	for t := first; !t.After(now); t = t.Add(time.Hour) {
		major := t.Hour()%6 == 0
		x := t.Sub(start).Minutes()
		tl.Ticks = append(tl.Ticks, tick{X: coord(x), Major: major})
		if major {
			tl.Labels = append(tl.Labels, axisLabel{Left: x * 100 / timelineWidth, Text: t.Format("15:04")})
		}
	}
	tl.Connection = timelineRow{Name: "IRC", Chat: bars(h.Connection, start, now)}
	tl.Connection.Text = "IRC connection: " + spans("up", h.Connection, now)

	var order []string
	if ss != nil {
		order = make([]string, 0, len(ss))
		for i := range ss {
			ch := ss[i].Channel
			if ch == "" {
				ch = ss[i].Login
			}
			order = append(order, ch)
		}
	} else {
		// Without the list (the presence loop did not answer), the tracks
		// held, by name.
		for ch := range h.Tracks {
			order = append(order, ch)
		}
		sort.Strings(order)
	}
	for _, ch := range order {
		t, ok := h.Tracks[ch]
		if !ok {
			continue
		}
		tl.Active++
		if len(tl.Rows) == TimelineLimit {
			continue
		}
		row := timelineRow{Name: ch, Live: bars(t.Live, start, now), Chat: bars(t.Chat, start, now)}
		for _, at := range t.Refused {
			row.Refused = append(row.Refused, coord(at.Sub(start).Minutes()))
		}
		var text []string
		if !t.Complete.IsZero() && t.Complete.After(start) {
			row.Unknown = &rect{X: "0", W: coord(t.Complete.Sub(start).Minutes())}
			text = append(text, "changes before "+stamp(t.Complete, now)+" dropped")
		}
		text = append(text, spans("live", t.Live, now), spans("in chat", t.Chat, now))
		if len(t.Refused) > 0 {
			ats := make([]string, len(t.Refused))
			for i, at := range t.Refused {
				ats[i] = stamp(at, now)
			}
			text = append(text, "refused at "+strings.Join(ats, ", "))
		}
		row.Text = ch + ": " + strings.Join(text, "; ")
		tl.Rows = append(tl.Rows, row)
	}
	tl.Shown = len(tl.Rows)
	tl.Capped = tl.Active > tl.Shown
	return tl
}

func bars(ivs []Interval, start, now time.Time) []rect {
	out := make([]rect, 0, len(ivs))
	for _, iv := range ivs {
		from, to := iv.From, iv.To
		if iv.Open() || to.After(now) {
			to = now
		}
		if from.Before(start) {
			from = start
		}
		if to.Before(from) {
			continue
		}
		x, w := from.Sub(start).Minutes(), to.Sub(from).Minutes()
		w = max(w, minBarWidth)
		x = min(x, timelineWidth-w)
		out = append(out, rect{X: coord(x), W: coord(w)})
	}
	return out
}

// spans says ivs in words: "live 08:00:00 UTC–11:30:00 UTC, 12:00:00
// UTC–now".
func spans(what string, ivs []Interval, now time.Time) string {
	if len(ivs) == 0 {
		return "not " + what
	}
	parts := make([]string, len(ivs))
	for i, iv := range ivs {
		end := "now"
		if !iv.Open() {
			end = stamp(iv.To, now)
		}
		parts[i] = stamp(iv.From, now) + "–" + end
	}
	return what + " " + strings.Join(parts, ", ")
}

func coord(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }
