package presence

import "time"

// RequestsPerMinute is what polling n streamers every interval costs in
// Helix points (one request per 100 streamers per cycle).
func RequestsPerMinute(n int, interval time.Duration) float64 {
	if interval <= 0 {
		return 0
	}
	requests := (n + 99) / 100
	return float64(requests) * float64(time.Minute) / float64(interval)
}

// pollInterval is the interval from the start of a poll of n streamers to
// the next one. A fixed interval is never changed; an automatic one is
// lengthened while EventSub is healthy (RealtimeInterval).
func (l *loop) pollInterval(n int) time.Duration {
	if !l.settings.AutoInterval {
		return l.settings.Interval
	}
	bucket := 0
	if l.bucket != nil {
		bucket = l.bucket()
	}
	auto := AutoInterval(n, bucket)
	if l.realtime {
		return RealtimeInterval(auto)
	}
	return auto
}

// MaxRealtimeInterval caps how far RealtimeInterval lengthens polling: the
// polls are the safety net for events Twitch did not deliver.
const MaxRealtimeInterval = 5 * time.Minute

// RealtimeInterval is the interval `poll.interval: auto` uses while EventSub
// is healthy, given auto, the interval AutoInterval chose: four times auto,
// at most MaxRealtimeInterval, never shorter than auto (which the Helix
// bucket needs). EventSub reports going live within a second, so polls
// only catch what it missed; four times stays well inside HelixLag.
func RealtimeInterval(auto time.Duration) time.Duration {
	return max(min(4*auto, MaxRealtimeInterval), auto)
}

// DefaultBucket is Twitch's documented Helix bucket for an app token, in
// points a minute, assumed by AutoInterval until Helix reports its own.
const DefaultBucket = 800

// MinAutoInterval is the shortest interval AutoInterval chooses: Helix
// caches its answers for longer, so polling faster would only spend points.
const MinAutoInterval = 5 * time.Second

// AutoInterval is the shortest poll interval, in whole seconds and at least
// MinAutoInterval, at which polling n streamers spends at most half of a
// Helix bucket of bucket points a minute (DefaultBucket when bucket <= 0),
// leaving the other half for resolving logins, retries and other clients
// of the same application.
func AutoInterval(n, bucket int) time.Duration {
	if bucket <= 0 {
		bucket = DefaultBucket
	}
	requests := int64((n + 99) / 100)
	// requests a cycle * cycles a minute <= bucket/2
	//   <=> interval >= requests * 2 minutes / bucket
	secs := (requests*120 + int64(bucket) - 1) / int64(bucket)
	return max(time.Duration(secs)*time.Second, MinAutoInterval)
}
