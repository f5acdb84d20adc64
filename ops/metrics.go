package ops

import (
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/irc"
	"github.com/farmd/farmd/presence"
)

// pollMetrics are the metrics fed by ObservePoll.
type pollMetrics struct {
	polls    prometheus.Counter
	errors   *prometheus.CounterVec
	duration prometheus.Histogram
}

// Poll error causes, the values of farmd_poll_errors_total's cause label.
const (
	CauseTimeout      = "timeout"
	CauseRateLimited  = "rate_limited"
	CauseServerError  = "server_error"
	CauseUnauthorized = "unauthorized"
	CauseBadRequest   = "bad_request"
	CauseBadResponse  = "bad_response"
	CauseTransport    = "transport"
	CauseOther        = "other"
)

func newPollMetrics() *pollMetrics {
	m := &pollMetrics{
		polls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "farmd_polls_total", Help: "Poll cycles finished.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "farmd_poll_errors_total", Help: "Poll cycles with failures, by cause of the failure.",
		}, []string{"cause"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "farmd_poll_duration_seconds", Help: "Wall time of a poll cycle.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
	}
	for _, c := range []string{CauseTimeout, CauseRateLimited, CauseServerError, CauseUnauthorized, CauseBadRequest, CauseBadResponse, CauseTransport, CauseOther} {
		m.errors.WithLabelValues(c) // export zeros, so rate() works from the start
	}
	return m
}

func (m *pollMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		m.polls, m.errors, m.duration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
}

func (m *pollMetrics) observe(r presence.PollResult) {
	m.polls.Inc()
	m.duration.Observe(r.End.Sub(r.Start).Seconds())
	if r.Err != nil {
		m.errors.WithLabelValues(Cause(r.Err)).Inc()
	}
}

// Cause classifies a poll error for farmd_poll_errors_total.
func Cause(err error) string {
	var apiErr *helix.APIError
	var netErr net.Error
	switch {
	case errors.As(err, &apiErr):
		switch {
		case apiErr.Status == http.StatusUnauthorized:
			return CauseUnauthorized
		case apiErr.Status == http.StatusTooManyRequests:
			return CauseRateLimited
		case apiErr.Status >= 500:
			return CauseServerError
		default:
			return CauseBadRequest
		}
	case errors.Is(err, helix.ErrMalformedResponse):
		return CauseBadResponse
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return CauseTimeout
	case errors.As(err, &netErr):
		return CauseTransport
	}
	return CauseOther
}

// stateCollector reads the running components at scrape time, so the
// metrics cannot drift from /status.
type stateCollector struct{ s *Server }

var (
	descWatched     = prometheus.NewDesc("farmd_streamers_watched", "Streamers configured with a known user ID.", nil, nil)
	descUnresolved  = prometheus.NewDesc("farmd_streamers_unresolved", "Configured logins Twitch does not know.", nil, nil)
	descLive        = prometheus.NewDesc("farmd_streamers_live", "Streamers live at the last poll.", nil, nil)
	descStreamers   = prometheus.NewDesc("farmd_streamers", "Streamers by presence state (wanted, offline_grace, waiting, unavailable, offline, unknown).", []string{"state"}, nil)
	descChannels    = prometheus.NewDesc("farmd_channels", "Wanted channels by chat state (joined, joining, waiting, retrying, unavailable).", []string{"state"}, nil)
	descConnected   = prometheus.NewDesc("farmd_irc_connected", "1 while the IRC connection is logged in.", nil, nil)
	descConnects    = prometheus.NewDesc("farmd_irc_connects_total", "IRC connections logged in.", nil, nil)
	descDisconnects = prometheus.NewDesc("farmd_irc_disconnects_total", "Logged-in IRC connections lost.", nil, nil)
	descReconnects  = prometheus.NewDesc("farmd_irc_reconnect_attempts_total", "IRC connection attempts after the first.", nil, nil)
	descJoins       = prometheus.NewDesc("farmd_irc_joins_total", "Channels JOINed (sent).", nil, nil)
	descParts       = prometheus.NewDesc("farmd_irc_parts_total", "Channels PARTed (sent).", nil, nil)
	descHelix       = prometheus.NewDesc("farmd_helix_requests_total", "Helix and OAuth responses by endpoint and HTTP status.", []string{"endpoint", "status"}, nil)
	descTransport   = prometheus.NewDesc("farmd_helix_transport_errors_total", "Helix and OAuth requests that got no response.", nil, nil)
	descRetries     = prometheus.NewDesc("farmd_helix_retries_total", "Helix and OAuth request attempts after the first.", nil, nil)
	descRemaining   = prometheus.NewDesc("farmd_helix_ratelimit_remaining", "Ratelimit-Remaining of the last Helix response.", nil, nil)
	descRateLimit   = prometheus.NewDesc("farmd_helix_ratelimit_limit", "Ratelimit-Limit of the last Helix response (points a minute).", nil, nil)
	descCost        = prometheus.NewDesc("farmd_poll_requests_per_minute", "Helix requests a minute that polling costs at the current interval.", nil, nil)
	descInterval    = prometheus.NewDesc("farmd_poll_interval_seconds", "Poll interval in force (chosen at every poll with poll.interval: auto).", nil, nil)
	descTokens      = prometheus.NewDesc("farmd_token_renewals_total", "App tokens obtained.", nil, nil)
	descTokenFails  = prometheus.NewDesc("farmd_token_failures_total", "Failed attempts to obtain an app token.", nil, nil)
	descLastGood    = prometheus.NewDesc("farmd_last_successful_poll_timestamp_seconds", "Unix time of the last poll cycle without failures.", nil, nil)
	descLastServed  = prometheus.NewDesc("farmd_last_serving_poll_timestamp_seconds", "Unix time of the last poll cycle that determined at least one streamer's status.", nil, nil)
	descUnchecked   = prometheus.NewDesc("farmd_poll_unchecked_streamers", "Streamers the last poll cycle could not check (failed batches); they keep their state.", nil, nil)
	descUserExpiry  = prometheus.NewDesc("farmd_user_token_expiry_timestamp_seconds", "Unix time when the chat account's token expires, as of its last validation or renewal.", nil, nil)
	descUserRenews  = prometheus.NewDesc("farmd_user_token_refreshes_total", "Renewals of the chat account's token (farmd login's token) since start.", nil, nil)
	descESHealthy   = prometheus.NewDesc("farmd_eventsub_healthy", "1 while the EventSub session is on the conduit's shard and the last setup step worked.", nil, nil)
	descESSubs      = prometheus.NewDesc("farmd_eventsub_subscriptions", "EventSub subscriptions (two per streamer) on farmd's conduit.", nil, nil)
	descESCost      = prometheus.NewDesc("farmd_eventsub_cost", "EventSub total_cost and max_total_cost of the client.", []string{"kind"}, nil)
	descESPolled    = prometheus.NewDesc("farmd_eventsub_polled_only", "Subscriptions left out past max_total_cost: those streamers are polled only.", nil, nil)
	descESEvents    = prometheus.NewDesc("farmd_eventsub_events_total", "EventSub stream notifications received, duplicates included.", nil, nil)
	descESDups      = prometheus.NewDesc("farmd_eventsub_duplicates_total", "EventSub notifications ignored as already handled (same message_id).", nil, nil)
	descESReconn    = prometheus.NewDesc("farmd_eventsub_reconnects_total", "EventSub WebSocket connection attempts after the first.", nil, nil)
	descObserve     = prometheus.NewDesc("farmd_observations_total", "Observations presence received, by source (poll, eventsub) and result (applied, stale, lagging).", []string{"source", "result"}, nil)
	descSEPoints    = prometheus.NewDesc("farmd_streamelements_points", "The chat account's StreamElements points in the channel, at the last reading.", []string{"channel"}, nil)
	descSEWatch     = prometheus.NewDesc("farmd_streamelements_watchtime_minutes", "The chat account's StreamElements watch time in the channel, at the last reading.", []string{"channel"}, nil)
	descSECredited  = prometheus.NewDesc("farmd_streamelements_credited", "1 when StreamElements credited farmd's last 30+ minutes of live presence in the channel, 0 when it did not (absent until judged).", []string{"channel"}, nil)
	descByMode      = prometheus.NewDesc("farmd_streamers_by_mode", "Streamers by presence mode (live, always, never).", []string{"mode"}, nil)
	descFollowed    = prometheus.NewDesc("farmd_streamers_from_follows", "Streamers added because the chat account follows them.", nil, nil)
	descBuild       = prometheus.NewDesc("farmd_build_info", "Build information; the value is 1.", []string{"version", "goversion"}, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descWatched, descUnresolved, descLive, descStreamers, descLastServed, descUnchecked, descChannels, descConnected,
		descConnects, descDisconnects, descReconnects, descJoins, descParts, descHelix, descTransport, descRetries,
		descRemaining, descRateLimit, descCost, descInterval, descTokens, descTokenFails, descLastGood, descUserExpiry, descUserRenews, descESHealthy, descESSubs, descESCost, descESPolled, descESEvents, descESDups, descESReconn, descObserve, descSEPoints, descSEWatch, descSECredited, descByMode, descFollowed, descBuild} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	o := c.s.o
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}

	// The summary, not the list: its counts are published at every change,
	// so a busy presence loop never shows up as zero streamers.
	snap := o.Presence.Summary()
	gauge(descWatched, float64(snap.Counts.Watched))
	gauge(descUnresolved, float64(len(snap.Unresolved)))
	gauge(descLive, float64(snap.Counts.Live))
	for _, st := range presence.ChannelStates() {
		gauge(descStreamers, float64(snap.Counts.Of(st)), string(st))
	}
	gauge(descUnchecked, float64(snap.Unchecked))
	for _, mode := range []presence.Mode{presence.ModeLive, presence.ModeAlways, presence.ModeNever} {
		gauge(descByMode, float64(snap.List.OfMode(mode)), string(mode))
	}
	gauge(descFollowed, float64(snap.List.FromFollows))
	if !snap.LastGood.IsZero() {
		gauge(descLastGood, float64(snap.LastGood.UnixNano())/1e9)
	}
	if !snap.LastServed.IsZero() {
		gauge(descLastServed, float64(snap.LastServed.UnixNano())/1e9)
	}
	obs := snap.Observations
	counter(descObserve, int64(obs.Polls), "poll", "applied")
	counter(descObserve, int64(obs.PollsStale), "poll", "stale")
	counter(descObserve, int64(obs.PollsLagging), "poll", "lagging")
	counter(descObserve, int64(obs.Events), "eventsub", "applied")
	counter(descObserve, int64(obs.EventsStale), "eventsub", "stale")
	if o.EventSub != nil {
		es := o.EventSub()
		gauge(descESHealthy, b2f(es.Healthy))
		gauge(descESSubs, float64(es.Subscriptions))
		gauge(descESCost, float64(es.TotalCost), "total")
		gauge(descESCost, float64(es.MaxTotalCost), "max")
		gauge(descESPolled, float64(es.PolledOnly))
		counter(descESEvents, es.EventsReceived)
		counter(descESDups, es.DuplicatesIgnored)
		counter(descESReconn, es.Reconnects)
	}
	if o.Points != nil {
		for _, ch := range o.Points() {
			if !ch.ReadAt.IsZero() {
				gauge(descSEPoints, float64(ch.Points), ch.Channel)
				gauge(descSEWatch, float64(ch.WatchtimeMinutes), ch.Channel)
			}
			if ch.Checked {
				gauge(descSECredited, b2f(ch.Credited), ch.Channel)
			}
		}
	}
	if o.Token != nil {
		ts := o.Token()
		if !ts.ExpiresAt.IsZero() {
			gauge(descUserExpiry, float64(ts.ExpiresAt.Unix()))
		}
		counter(descUserRenews, ts.Refreshes)
	}
	interval := o.Interval()
	gauge(descCost, presence.RequestsPerMinute(snap.Counts.Watched, interval))
	gauge(descInterval, interval.Seconds())

	ist := o.Chat.Status()
	chans := map[irc.ChannelState]int{}
	for _, ch := range ist.Channels {
		chans[ch.State]++
	}
	for _, st := range []irc.ChannelState{irc.StateJoined, irc.StateJoining, irc.StateWaiting, irc.StateRetrying, irc.StateUnavailable} {
		gauge(descChannels, float64(chans[st]), string(st))
	}
	connected := 0.0
	if ist.Connected {
		connected = 1
	}
	gauge(descConnected, connected)
	counter(descConnects, ist.Connects)
	counter(descDisconnects, ist.Disconnects)
	counter(descReconnects, ist.ReconnectAttempts)
	counter(descJoins, ist.JoinsSent)
	counter(descParts, ist.PartsSent)

	hs := o.API.Stats()
	for endpoint, byStatus := range hs.Responses {
		for status, n := range byStatus {
			counter(descHelix, n, endpoint, strconv.Itoa(status))
		}
	}
	counter(descTransport, hs.TransportErrors)
	counter(descRetries, hs.Retries)
	counter(descTokens, hs.TokenFetches)
	counter(descTokenFails, hs.TokenFailures)
	if rl := o.API.RateLimit(); rl.Known {
		gauge(descRemaining, float64(rl.Remaining))
		gauge(descRateLimit, float64(rl.Limit))
	}
	gauge(descBuild, 1, o.Version, runtime.Version())
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
