// Package irc keeps farmd's Twitch account in a set of chat channels over
// Twitch IRC (TMI). Manager implements presence.Chat: callers say which
// channels the account should be in and Manager connects, logs in, JOINs and
// PARTs, reconnecting with backoff for as long as Run runs.
//
// # Why the connection is not go-twitch-irc's Client
//
// The design names github.com/gempir/go-twitch-irc/v4, but its
// Client.Connect cannot be used safely by a daemon that runs for months:
//
//   - Connect takes no context, and Disconnect returns
//     ErrConnectionIsNotOpen before the 001 welcome, so a client stuck dialling
//     or waiting for 001 can never be stopped (a leaked goroutine and no clean
//     shutdown).
//   - It reconnects internally at once, without backoff: a server that accepts
//     TCP and closes spins it hot.
//   - On every 001 its initialJoins re-JOINs its channel map without holding
//     the map's mutex (a data race with Join and Depart); Depart does not
//     lowercase; a refused JOIN stays in the map.
//   - Its join limiter sleeps in the writer goroutine on the real clock, so
//     every other write (a PONG) waits behind a throttled JOIN, and it cannot
//     be tested without sleeping.
//
// So this package owns the connection: dialling with a context (optionally
// TLS), one reader goroutine, serialised writes with deadlines, PING/PONG and
// client-side liveness, and reconnection with exponential backoff and jitter.
// From go-twitch-irc it uses what is sound: twitchirc.ParseMessage with its typed
// messages (*twitchirc.NoticeMessage and its MsgID, *twitchirc.UserJoinMessage,
// *twitchirc.UserPartMessage) and its capability constants. Only lines farmd acts
// on are fully parsed; PRIVMSG, USERNOTICE, CLEARCHAT and the rest are
// recognised by their command word and dropped without allocating, so a chat
// flood costs little CPU. PING payloads are taken verbatim rather than through
// twitchirc.PingMessage, which keeps only the first word.
//
// # Goroutines
//
// Run is the manager goroutine: it alone owns the wanted set, the per-channel
// state, the JOIN limiter, the backoff and every timer, and it alone writes to
// the connection, so writes are serialised without a writer goroutine. Its
// loop waits on one wake-up at the earliest deadline it keeps, measured on
// Options.Clock; only socket deadlines are on the real clock. Each
// connection has one reader goroutine that reads bounded lines, classifies
// them and hands the few that matter to the manager over a channel (as soju's
// user.events does). The reader is stopped and waited for before the next
// connection attempt; when Run returns no goroutine of this package is left.
//
// # Limits
//
// JOINs go through a sliding-window JoinLimiter that counts every channel of
// a multi-channel JOIN and survives reconnects, because Twitch's limit is per
// account and exceeding it drops the connection. A JOIN counts only when the
// server echoes it; unconfirmed JOINs are retried with backoff, and channels
// Twitch refuses (msg_channel_suspended, msg_banned, ...) are reported once
// and left alone until they leave the wanted set and come back.
package irc
