package irc

import (
	"errors"
	"strings"
)

// ErrLoginRejected means Twitch refused the IRC token or username. Run
// returns it wrapped and does not reconnect: retrying with the same token
// cannot succeed.
var ErrLoginRejected = errors.New("the IRC token was rejected by Twitch")

// loginRejectedTexts are the texts of the `NOTICE *` lines with which TMI
// refuses a login.
var loginRejectedTexts = []string{
	"login authentication failed",
	"improperly formatted auth",
	"invalid nick",
	"login unsuccessful",
}

// isLoginRejected reports whether a NOTICE text refuses the login.
func isLoginRejected(text string) bool {
	t := strings.ToLower(text)
	for _, s := range loginRejectedTexts {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}

// unavailableMsgIDs are the channel NOTICE msg-ids that mean the account
// cannot be in the channel; retrying such a JOIN is pointless.
var unavailableMsgIDs = map[string]bool{
	"msg_banned":                  true,
	"msg_channel_suspended":       true,
	"msg_room_not_found":          true,
	"tos_ban":                     true,
	"msg_channel_blocked":         true,
	"msg_suspended":               true,
	"msg_banned_email_alias":      true,
	"msg_requires_verified_phone": true,
	"msg_verified_email":          true,
}

// isUnavailable reports whether a channel NOTICE msg-id refuses the channel.
func isUnavailable(msgID string) bool { return unavailableMsgIDs[msgID] }
