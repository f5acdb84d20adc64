package notify

import (
	"strconv"
	"strings"
)

const (
	// maxMessage bounds a message in bytes: under Telegram's 4096, the
	// smallest limit among the common services (Discord splits longer
	// messages itself, SMS into segments).
	maxMessage = 4000
	// maxLine bounds one event's line in a batch, so one event cannot
	// crowd out the others.
	maxLine = 600
)

// message is one text to send and how many events it carries, for the
// sent and failed counters.
type message struct {
	text   string
	events int
}

// render turns the events collected in one window into messages: one event
// is its Text; several are a header and one line each ("- …"), split into
// as few messages of at most maxMessage bytes as their lines allow.
func render(evs []Event) []message {
	if len(evs) == 0 {
		return nil
	}
	if len(evs) == 1 {
		return []message{{text: truncate(evs[0].Text(), maxMessage), events: 1}}
	}
	// The header is at most ~40 bytes; keep room for it in every chunk.
	const headerRoom = 64
	var msgs []message
	var chunk []Event
	var lines []string
	size := 0
	flush := func() {
		if len(chunk) == 0 {
			return
		}
		text := header(chunk) + "\n" + strings.Join(lines, "\n")
		if len(chunk) == 1 {
			text = chunk[0].Text()
		}
		msgs = append(msgs, message{text: truncate(text, maxMessage), events: len(chunk)})
		chunk, lines, size = nil, nil, 0
	}
	for _, e := range evs {
		line := "- " + truncate(e.Text(), maxLine)
		if len(chunk) > 0 && size+len(line)+1 > maxMessage-headerRoom {
			flush()
		}
		chunk = append(chunk, e)
		lines = append(lines, line)
		size += len(line) + 1
	}
	flush()
	return msgs
}

// header names what a batch holds: "40 streamers went live:" when they are
// all live events, "3 streams ended:" when all offline, else
// "5 notifications from farmd:".
func header(evs []Event) string {
	n := strconv.Itoa(len(evs))
	same := true
	for _, e := range evs[1:] {
		if e.Kind() != evs[0].Kind() {
			same = false
			break
		}
	}
	switch {
	case same && evs[0].Kind() == KindLive:
		return n + " streamers went live:"
	case same && evs[0].Kind() == KindOffline:
		return n + " streams ended:"
	default:
		return n + " notifications from farmd:"
	}
}

// truncate cuts s to at most max bytes on a rune boundary, marking the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const mark = "…"
	cut := max - len(mark)
	for cut > 0 && !runeStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

func runeStart(b byte) bool { return b&0xC0 != 0x80 }
