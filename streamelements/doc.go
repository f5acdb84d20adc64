// Package streamelements shows whether farmd's presence in a chat is
// credited by StreamElements, the most common loyalty bot: for each channel
// farmd was in, it reads the chat account's points and watch time from
// StreamElements' public API (no authentication), and warns when farmd sat
// in a live channel for half an hour and the watch time did not grow.
//
// A Watcher keeps its own account of farmd's chat time: the daemon reports
// joins, parts and live/offline transitions through methods that never
// block (Joined, Parted, PartedAll, Live, Offline), and the Watcher counts,
// per channel, the time in chat and the time in chat while live between two
// readings. Run reads every channel that was present since its last reading
// every Options.Every, two requests at a time, and never writes anything
// back: a StreamElements failure is a log line and an Error in the status,
// never an error of Run and never a change to presence.
//
// The API, as documented by StreamElements' developer site and the
// community's fuller description of it:
//
//	GET {api}/channels/{login}        {"_id": "5b2e…", "username": …}; 404 when the channel has no StreamElements
//	GET {api}/points/{id}/{user}      {"channel": id, "username": user, "points": n, "pointsAlltime": n, "watchtime": minutes, "rank": n}
//
// Channel ids are resolved once and kept in the state file. A channel
// without StreamElements is remembered as such for a day, so it costs one
// request a day. A 404 from the points endpoint is read as "this account
// is not on the channel's leaderboard yet": zero points, zero watch time.
// A 429 stops every request until its Retry-After has passed.
//
// StreamElements updates watch time about every 10 minutes and only for
// viewers its bot sees in the chat's viewer list, which lags joins by
// minutes, so readings trail presence; the credit check waits for 30
// minutes of live presence between two readings before it judges.
package streamelements
