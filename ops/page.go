package ops

import (
	"embed"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/farmd/farmd/irc"
	"github.com/farmd/farmd/presence"
)

// PageExtras is what the daemon may add to the status page beyond what
// /status carries. Its zero value adds nothing.
type PageExtras struct {
	// EventSub, if not empty, is the EventSub line of the header (for
	// example "connected since 11:00 UTC, 3 subscriptions").
	EventSub string
	// Mode, if set, returns a streamer's mode (always, never, ...) for the
	// table's mode column; the column is shown only when it returns
	// something for at least one streamer.
	Mode func(login string) string
}

// TimelineLimit caps the streamers the timeline draws: the first ones
// with something in the last 24 hours, in the configured order. The table
// lists everybody.
const TimelineLimit = 50

// PageRefresh is how often the page reloads itself.
const PageRefresh = 30 * time.Second

//go:embed templates/status.html
var templateFS embed.FS

var pageTemplate = template.Must(template.New("status.html").ParseFS(templateFS, "templates/status.html"))

// pageData is what templates/status.html renders: strings made for people
// here, so that the template only places them.
type pageData struct {
	Version        string
	Refresh        int
	Now            string
	Healthy        bool
	Health         string
	Connected      bool
	Connection     string
	Token          string
	TokenWarn      bool
	Poll           string
	PollWarn       bool
	Cost           string
	EventSub       string
	Counts         string
	StreamersError string
	Unresolved     string
	Timeline       timeline
	ShowMode       bool
	Rows           []pageRow
	// Table is Rows rendered (tableRows): the template's reflection costs
	// about 40 allocations a row, too many at 10,000 streamers.
	Table     template.HTML
	Events    []pageEvent
	NoHistory bool
}

type pageRow struct {
	Name, Channel string
	State, Class  string
	Chat          string
	InChat        bool
	Live          string
	Mode          string
}

type pageEvent struct {
	At, Text, Class string
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	st := s.Status()
	var hist *HistorySnapshot
	if s.o.History != nil {
		h := s.o.History.Snapshot()
		hist = &h
	}
	var extras PageExtras
	if s.o.Page != nil {
		extras = s.o.Page()
	}
	d := buildPage(st, hist, extras, s.o.Now())
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// The page needs nothing but itself: no script, no outside asset.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	if err := pageTemplate.Execute(w, d); err != nil {
		s.o.Logger.Error().Str("component", "http").Err(err).Msg("cannot render the status page")
	}
}

func buildPage(st Status, hist *HistorySnapshot, extras PageExtras, now time.Time) pageData {
	now = now.UTC()
	d := pageData{
		Version: st.Version, Refresh: int(PageRefresh / time.Second), Now: now.Format("2006-01-02 15:04:05 UTC"),
		Healthy: st.Healthy, Health: st.Health, Connected: st.Connected,
		EventSub: extras.EventSub, StreamersError: st.StreamersError,
		Unresolved: strings.Join(st.Unresolved, ", "),
	}
	switch {
	case st.Connected:
		d.Connection = "connected since " + when(st.Since, now)
	case st.Since.IsZero():
		d.Connection = "not connected (never connected yet)"
	default:
		d.Connection = "disconnected since " + when(st.Since, now)
	}
	d.Token, d.TokenWarn = tokenLine(st.Token, now)
	d.Poll, d.PollWarn = pollLine(st, now)
	d.Cost = costLine(st)
	d.Counts = countsLine(st.Counts)
	d.Rows, d.ShowMode = rows(st.Streamers, extras.Mode, now)
	d.Table = tableRows(d.Rows, d.ShowMode)
	if hist == nil {
		d.NoHistory = true
	} else {
		d.Timeline = buildTimeline(*hist, st.Streamers, now)
		d.Events = events(hist.Events, now)
	}
	return d
}

func tokenLine(t *TokenStatus, now time.Time) (line string, warn bool) {
	if t == nil {
		return "", false
	}
	var b strings.Builder
	b.WriteString(t.Source)
	b.WriteString(" token")
	if t.Login != "" {
		b.WriteString(" of ")
		b.WriteString(t.Login)
	}
	switch {
	case t.ExpiresAt.IsZero():
		b.WriteString(", expiry unknown")
	case !t.ExpiresAt.After(now):
		b.WriteString(", expired " + when(t.ExpiresAt, now))
		warn = true
	default:
		b.WriteString(", expires in " + human(t.ExpiresAt.Sub(now)) + " (" + stamp(t.ExpiresAt, now) + ")")
		warn = t.Source == "static" && t.ExpiresAt.Sub(now) < 7*24*time.Hour
	}
	if t.Refreshes > 0 {
		b.WriteString(", renewed " + strconv.FormatInt(t.Refreshes, 10) + "× (last " + when(t.LastRefresh, now) + ")")
	}
	if t.LastError != "" {
		b.WriteString("; renewal failing since " + when(t.FailingSince, now) + ": " + t.LastError)
		warn = true
	}
	return b.String(), warn
}

func pollLine(st Status, now time.Time) (line string, warn bool) {
	if st.LastPoll.IsZero() {
		return "no poll finished yet", true
	}
	line = "last poll " + when(st.LastPoll, now)
	switch st.PollState {
	case presence.PollsPartial:
		line += ", partial: " + strconv.Itoa(st.Unchecked) + " not checked since " + when(st.PartialSince, now)
		warn = true
	case presence.PollsFailing:
		line += ", failing since " + when(st.FailingSince, now)
		warn = true
	}
	if st.PollError != "" {
		line += ": " + st.PollError
	}
	return line, warn
}

func costLine(st Status) string {
	perPoll := (st.Counts.Watched + 99) / 100
	line := "every " + st.Interval + ", " + strconv.Itoa(perPoll) + " Helix request"
	if perPoll != 1 {
		line += "s"
	}
	line += " a poll = " + strconv.FormatFloat(st.RateLimit.RequestsPerMinute, 'f', -1, 64) + "/min"
	if st.RateLimit.Known {
		line += " of a " + strconv.Itoa(st.RateLimit.Limit) + "/min budget (" + strconv.Itoa(st.RateLimit.Remaining) + " left now)"
	}
	return line
}

func countsLine(c presence.Counts) string {
	parts := []string{strconv.Itoa(c.Watched) + " watched", strconv.Itoa(c.Live) + " live", strconv.Itoa(c.Wanted) + " wanted"}
	for _, p := range []struct {
		n    int
		what string
	}{{c.Grace, "in grace"}, {c.Waiting, "waiting for a slot"}, {c.Unavailable, "unavailable"}, {c.Unknown, "not checked yet"}} {
		if p.n > 0 {
			parts = append(parts, strconv.Itoa(p.n)+" "+p.what)
		}
	}
	return strings.Join(parts, " · ")
}

// rows makes the table: streamers that need a look (live, in chat, in
// grace, waiting, refused) first, the others after, each group in the
// configured order, so that among 10,000 streamers the few that matter
// are at the top.
func rows(ss []Streamer, mode func(string) string, now time.Time) ([]pageRow, bool) {
	out := make([]pageRow, 0, len(ss))
	showMode := false
	for i := range ss {
		sr := &ss[i]
		r := pageRow{Name: sr.Login, Channel: sr.Channel}
		r.State, r.Class = stateText(sr, now)
		r.Chat, r.InChat = chatText(sr, now)
		if sr.Live && !sr.LiveSince.IsZero() {
			r.Live = "live since " + when(sr.LiveSince, now)
		} else if !sr.ObservedAt.IsZero() {
			r.Live = "offline, seen " + when(sr.ObservedAt, now)
		}
		if sr.LiveSource != "" && sr.LiveSource != presence.SourcePoll {
			r.Live += " via " + string(sr.LiveSource)
		}
		if mode != nil {
			if r.Mode = mode(sr.Login); r.Mode != "" {
				showMode = true
			}
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out, showMode
}

// tableRows renders the table's rows as templates/status.html would:
// every value escaped (template.HTMLEscapeString), in text and in
// attribute context alike.
func tableRows(rows []pageRow, showMode bool) template.HTML {
	var b strings.Builder
	b.Grow(len(rows) * 256)
	esc := func(s string) { b.WriteString(template.HTMLEscapeString(s)) }
	for i := range rows {
		r := &rows[i]
		b.WriteString(`<tr><th scope="row">`)
		esc(r.Name)
		b.WriteString(`</th><td><span class="st `)
		esc(r.Class)
		b.WriteString(`">`)
		esc(r.State)
		if r.InChat {
			b.WriteString(`</span></td><td class="in">`)
		} else {
			b.WriteString(`</span></td><td>`)
		}
		esc(r.Chat)
		b.WriteString(`</td><td>`)
		esc(r.Live)
		if showMode {
			b.WriteString(`</td><td>`)
			esc(r.Mode)
		}
		b.WriteString("</td></tr>\n")
	}
	return template.HTML(b.String())
}

func rank(r pageRow) int {
	if r.InChat || (r.Class != "offline" && r.Class != "unknown") {
		return 0
	}
	return 1
}

func stateText(s *Streamer, now time.Time) (text, class string) {
	switch s.State {
	case presence.StateWanted:
		return "live", "live"
	case presence.StateOffline:
		return "offline", "offline"
	case presence.StateUnknown:
		return "not checked yet", "unknown"
	case presence.StateGrace:
		return "offline, in grace until " + when(s.Until, now), "grace"
	case presence.StateWaiting:
		return "live, waiting for a slot", "waiting"
	case presence.StateUnavailable:
		text = "unavailable until " + when(s.Until, now)
		if s.Reason != "" {
			text += ": " + s.Reason
		}
		return text, "bad"
	}
	// States this page does not know yet (always, never, ...) show as
	// they are named.
	text = strings.ReplaceAll(string(s.State), "_", " ")
	if !s.Until.IsZero() {
		text += " until " + when(s.Until, now)
	}
	if s.Reason != "" {
		text += ": " + s.Reason
	}
	return text, "other"
}

func chatText(s *Streamer, now time.Time) (text string, in bool) {
	switch s.Chat {
	case "":
		return "not in chat", false
	case irc.StateJoined:
		return "in chat since " + when(s.ChatSince, now), true
	case irc.StateWaiting:
		text = "waiting to join since " + when(s.ChatSince, now)
	case irc.StateJoining:
		text = "joining since " + when(s.ChatSince, now)
	case irc.StateRetrying:
		text = "retrying the JOIN since " + when(s.ChatSince, now)
	case irc.StateUnavailable:
		text = "refused by Twitch " + when(s.ChatSince, now)
	default:
		text = string(s.Chat) + " since " + when(s.ChatSince, now)
	}
	if s.ChatReason != "" {
		text += ": " + s.ChatReason
	}
	return text, false
}

func events(evs []HistoryEvent, now time.Time) []pageEvent {
	out := make([]pageEvent, 0, len(evs))
	for i := len(evs) - 1; i >= 0; i-- {
		ev := evs[i]
		e := pageEvent{At: when(ev.At, now)}
		switch ev.Kind {
		case EventJoined:
			e.Text, e.Class = "joined #"+ev.Channel, "good"
		case EventLeft:
			e.Text, e.Class = "left #"+ev.Channel, "offline"
		case EventRefused:
			e.Text, e.Class = "Twitch refused #"+ev.Channel, "bad"
		case EventConnected:
			e.Text, e.Class = "connected to Twitch chat", "good"
			if ev.Detail != "" {
				e.Text = "Twitch chat " + ev.Detail
			}
			ev.Detail = ""
		case EventDisconnected:
			e.Text, e.Class = "disconnected from Twitch chat", "bad"
		default:
			e.Text = string(ev.Kind) + " " + ev.Channel
		}
		if ev.Detail != "" {
			e.Text += ": " + ev.Detail
		}
		out = append(out, e)
	}
	return out
}

// when is a time for people: the UTC clock time (with the date unless it
// is today) and how far it is from now.
func when(t, now time.Time) string {
	if t.IsZero() {
		return "(unknown time)"
	}
	d := now.Sub(t)
	if d >= 0 {
		return stamp(t, now) + " (" + human(d) + " ago)"
	}
	return stamp(t, now) + " (in " + human(-d) + ")"
}

func stamp(t, now time.Time) string {
	t = t.UTC()
	if y, m, dd := t.Date(); y == now.Year() && m == now.Month() && dd == now.Day() {
		return t.Format("15:04:05 UTC")
	}
	return t.Format("Jan 2 15:04 UTC")
}

// human is a duration in at most two units: 42s, 5m10s, 3h5m, 59d.
func human(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		m, s := int(d/time.Minute), int(d%time.Minute/time.Second)
		if s == 0 {
			return strconv.Itoa(m) + "m"
		}
		return strconv.Itoa(m) + "m" + strconv.Itoa(s) + "s"
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return strconv.Itoa(h) + "h"
		}
		return strconv.Itoa(h) + "h" + strconv.Itoa(m) + "m"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d"
}
