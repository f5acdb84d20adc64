// Package notify tells farmd's user what happened while nobody watched:
// a streamer went live or offline, Twitch refused a channel, the IRC token
// needs attention, the daemon started or stopped. Messages go to any
// service shoutrrr knows (Telegram, Discord, ntfy, Twilio, a generic
// webhook, …), one URL per target.
//
// Delivery never delays the caller: Notifier.Notify only appends to a
// bounded queue per URL. One worker per URL collects what arrives within a
// short window into one message, sends it with retries and backoff, and
// counts what was sent, failed or dropped. A failing service is a
// rate-limited warning, never an error of the daemon.
//
// A Tracker remembers in state_dir which streams were announced, so a
// restart does not announce them again; MarkRunning and MarkStopped leave
// a marker there so the next start knows whether the last exit was clean.
//
// Notification URLs hold tokens and passwords: the URL type redacts itself
// everywhere, and errors from the services are scrubbed of every part of
// the URL before they reach a log line or a caller.
package notify
