package irc

import (
	"bytes"

	twitchirc "github.com/gempir/go-twitch-irc/v4"

	"github.com/farmd/farmd/twitch"
)

// inboundKind is what a line received from the server means to farmd.
type inboundKind int

const (
	inWelcome inboundKind = iota + 1
	inPing
	inJoin
	inPart
	inNotice
	inReconnect
	inError // the reader stopped; err says why
)

// inbound is a line farmd acts on, reduced to what the manager needs, or the
// reader's terminal error.
type inbound struct {
	kind    inboundKind
	channel string // JOIN, PART, NOTICE ("*" for server notices)
	text    string // PING payload, NOTICE text
	msgID   string // NOTICE msg-id
	err     error
}

// maxPingPayload bounds the PING payload echoed in a PONG so the reply stays
// under IRC's 512-byte line limit.
const maxPingPayload = 400

// commandWord returns the command of a raw IRC line without parsing it:
// it skips the tags and the source. ok is false for a line without command.
func commandWord(line []byte) (cmd, rest []byte, ok bool) {
	if len(line) > 0 && line[0] == '@' {
		i := bytes.IndexByte(line, ' ')
		if i < 0 {
			return nil, nil, false
		}
		line = bytes.TrimLeft(line[i:], " ")
	}
	if len(line) > 0 && line[0] == ':' {
		i := bytes.IndexByte(line, ' ')
		if i < 0 {
			return nil, nil, false
		}
		line = bytes.TrimLeft(line[i:], " ")
	}
	if i := bytes.IndexByte(line, ' '); i >= 0 {
		cmd, rest = line[:i], bytes.TrimLeft(line[i:], " ")
	} else {
		cmd = line
	}
	return cmd, rest, len(cmd) > 0
}

// parseLine classifies one line (without CR LF) received by username. It
// returns ok false for lines farmd ignores, which is almost all of them:
// those are recognised by their command word alone, without allocating.
func parseLine(line []byte, username string) (in inbound, ok bool) {
	cmd, rest, ok := commandWord(line)
	if !ok {
		return inbound{}, false
	}
	switch string(cmd) {
	case "PING":
		p := bytes.TrimPrefix(rest, []byte{':'})
		if i := bytes.IndexAny(p, "\r\n\x00"); i >= 0 {
			p = p[:i] // a CR or LF would end our PONG line early
		}
		if len(p) > maxPingPayload {
			p = p[:maxPingPayload]
		}
		return inbound{kind: inPing, text: string(p)}, true
	case "001":
		return inbound{kind: inWelcome}, true
	case "RECONNECT":
		return inbound{kind: inReconnect}, true
	case "JOIN", "PART", "NOTICE":
		if len(rest) == 0 {
			return inbound{}, false // go-twitch-irc panics on a NOTICE without params
		}
		return parseTyped(string(line), username)
	default:
		return inbound{}, false
	}
}

// parseTyped parses a JOIN, PART or NOTICE line with go-twitch-irc.
func parseTyped(line, username string) (in inbound, ok bool) {
	defer func() {
		// The parser indexes params it has not checked; a malformed line
		// must not take the daemon down.
		if recover() != nil {
			in, ok = inbound{}, false
		}
	}()
	switch m := twitchirc.ParseMessage(line).(type) {
	case *twitchirc.UserJoinMessage:
		if m.Channel == "" || twitch.NormalizeLogin(m.User) != username {
			return inbound{}, false
		}
		return inbound{kind: inJoin, channel: twitch.NormalizeLogin(m.Channel)}, true
	case *twitchirc.UserPartMessage:
		if m.Channel == "" || twitch.NormalizeLogin(m.User) != username {
			return inbound{}, false
		}
		return inbound{kind: inPart, channel: twitch.NormalizeLogin(m.Channel)}, true
	case *twitchirc.NoticeMessage:
		return inbound{kind: inNotice, channel: twitch.NormalizeLogin(m.Channel), text: m.Message, msgID: m.MsgID}, true
	default:
		return inbound{}, false
	}
}
