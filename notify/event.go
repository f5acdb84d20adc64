package notify

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Event is one thing to tell the user. Text is one line: a batch puts one
// event on each line.
type Event interface {
	// Kind is what a target's events filter selects on.
	Kind() Kind
	// Text is the message for this event alone.
	Text() string
}

// ChannelURL is the link to a streamer's channel.
func ChannelURL(login string) string { return "https://twitch.tv/" + login }

// Live is a streamer going live. Title, Game and Viewers are shown when
// known; StreamID and StartedAt let a Tracker recognise the same stream
// after a restart.
type Live struct {
	Login        string
	Title        string
	Game         string
	Viewers      int
	ViewersKnown bool
	StreamID     string
	StartedAt    time.Time
}

// Kind returns KindLive.
func (Live) Kind() Kind { return KindLive }

// Text is `shroud is live: "Title" (Game, 12 viewers) https://twitch.tv/shroud`,
// leaving out what is not known.
func (e Live) Text() string {
	var b strings.Builder
	b.WriteString(e.Login)
	b.WriteString(" is live")
	if t := oneLine(e.Title, maxTitle); t != "" {
		b.WriteString(": ")
		b.WriteString(strconv.Quote(t))
	}
	var info []string
	if g := oneLine(e.Game, maxTitle); g != "" {
		info = append(info, g)
	}
	if e.ViewersKnown {
		info = append(info, plural(e.Viewers, "viewer"))
	}
	if len(info) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(info, ", "))
	}
	b.WriteString(" ")
	b.WriteString(ChannelURL(e.Login))
	return b.String()
}

// Offline is the end of a stream, reported after the streamer's offline
// grace. Duration is how long the stream lasted (0: not known), Present
// how long farmd was in its chat.
type Offline struct {
	Login    string
	Duration time.Duration
	Present  time.Duration
}

// Kind returns KindOffline.
func (Offline) Kind() Kind { return KindOffline }

// Text is "shroud went offline after 3h12m; farmd was in its chat for 3h05m".
func (e Offline) Text() string {
	s := e.Login + " went offline"
	if e.Duration > 0 {
		s += " after " + formatDuration(e.Duration)
	}
	if e.Present > 0 {
		return s + "; farmd was in its chat for " + formatDuration(e.Present)
	}
	return s + "; farmd was not in its chat"
}

// Unavailable is Twitch refusing a channel; Reason says why ("banned",
// "suspended", "not found").
type Unavailable struct {
	Login  string
	Reason string
}

// Kind returns KindUnavailable.
func (Unavailable) Kind() Kind { return KindUnavailable }

// Text is "twitch refused channel shroud: banned".
func (e Unavailable) Text() string {
	reason := oneLine(e.Reason, maxTitle)
	if reason == "" {
		reason = "unavailable"
	}
	return "twitch refused channel " + e.Login + ": " + reason
}

// TokenProblem is what is wrong with the IRC token.
type TokenProblem uint8

// The token problems.
const (
	// TokenRejected: Twitch refused the token (login failed, /validate 401).
	TokenRejected TokenProblem = iota + 1
	// TokenExpiring: the token expires soon (within 7 days).
	TokenExpiring
	// TokenRefreshFailed: refreshing the token failed for good.
	TokenRefreshFailed
)

// DefaultTokenCommand is what a token message tells the user to run.
const DefaultTokenCommand = "farmd login"

// Token is a problem with the IRC token that needs the user. ExpiresAt is
// shown for TokenExpiring, Reason for TokenRefreshFailed; Command is what
// to run (empty: DefaultTokenCommand).
type Token struct {
	Problem   TokenProblem
	ExpiresAt time.Time
	Reason    string
	Command   string
}

// Kind returns KindToken.
func (Token) Kind() Kind { return KindToken }

// Text is, by problem, `farmd's IRC token was rejected by Twitch; run "farmd login"`,
// `farmd's IRC token expires on 2024-01-02 15:04 UTC; run "farmd login"` or
// `farmd could not refresh its IRC token (invalid_grant); run "farmd login"`.
func (e Token) Text() string {
	cmd := e.Command
	if cmd == "" {
		cmd = DefaultTokenCommand
	}
	run := "; run " + strconv.Quote(cmd)
	switch e.Problem {
	case TokenExpiring:
		if e.ExpiresAt.IsZero() {
			return "farmd's IRC token expires soon" + run
		}
		return "farmd's IRC token expires on " + e.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC") + run
	case TokenRefreshFailed:
		s := "farmd could not refresh its IRC token"
		if r := oneLine(e.Reason, maxTitle); r != "" {
			s += " (" + r + ")"
		}
		return s + run
	default:
		return "farmd's IRC token was rejected by Twitch" + run
	}
}

// DaemonState is what the daemon is doing.
type DaemonState uint8

// The daemon states.
const (
	// DaemonStarted: farmd started after a clean stop (or for the first time).
	DaemonStarted DaemonState = iota + 1
	// DaemonRestarted: farmd started after an unclean exit (crash, kill,
	// power loss), which MarkRunning detects.
	DaemonRestarted
	// DaemonStopping: farmd is stopping.
	DaemonStopping
)

// Daemon is farmd starting or stopping. Detail, when set, is shown in
// parentheses (a version, a signal).
type Daemon struct {
	State  DaemonState
	Detail string
}

// Kind returns KindDaemon.
func (Daemon) Kind() Kind { return KindDaemon }

// Text is "farmd started", "farmd started after an unclean exit" or
// "farmd is stopping", with " (Detail)" when set.
func (e Daemon) Text() string {
	var s string
	switch e.State {
	case DaemonRestarted:
		s = "farmd started after an unclean exit"
	case DaemonStopping:
		s = "farmd is stopping"
	default:
		s = "farmd started"
	}
	if d := oneLine(e.Detail, maxTitle); d != "" {
		s += " (" + d + ")"
	}
	return s
}

// Credit is presence that StreamElements did not credit: farmd was in the
// live chat for Present, and the watch time did not grow.
type Credit struct {
	Login   string
	Present time.Duration
}

// Kind returns KindCredit.
func (Credit) Kind() Kind { return KindCredit }

// Text says where presence went uncredited and what may be the cause.
func (e Credit) Text() string {
	return fmt.Sprintf("%s: present %s in the live chat, StreamElements credited no watch time (loyalty may be off there, or the bot ignores this account)",
		oneLine(e.Login, maxTitle), e.Present.Round(time.Minute))
}

// maxTitle bounds a free-text field (a stream title, a reason) in runes, so
// one event stays one readable line.
const maxTitle = 120

// oneLine turns s into one line of at most max runes: control characters
// (newlines) become spaces, runs of space collapse, and a cut is marked "…".
func oneLine(s string, max int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:max-1])) + "…"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// formatDuration is "3h05m" or "45m", rounded to the minute; under a
// minute is "less than a minute".
func formatDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	if d < time.Minute {
		return "less than a minute"
	}
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	if h == 0 {
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}
