package helixtest

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// bucket is Helix's rate limit: limit points, one per request, full again
// at reset (Twitch's Ratelimit-Reset is "when the bucket is reset to full").
type bucket struct {
	limit, remaining int
	reset            time.Time
}

// refill fills the bucket if its reset time has passed.
func (b *bucket) refill(now time.Time) {
	if b.reset.IsZero() || !now.Before(b.reset) {
		b.remaining = b.limit
		b.reset = now.Add(time.Minute)
	}
}

// take spends one point and reports whether there was one.
func (b *bucket) take(now time.Time) bool {
	b.refill(now)
	if b.remaining <= 0 {
		return false
	}
	b.remaining--
	return true
}

// headers sets the Ratelimit-* headers from the bucket's state.
func (b *bucket) headers(h http.Header, now time.Time) {
	b.refill(now)
	reset := b.reset.Unix()
	if b.reset.Nanosecond() != 0 {
		reset++ // never announce a reset before the bucket is full
	}
	h.Set("Ratelimit-Limit", strconv.Itoa(b.limit))
	h.Set("Ratelimit-Remaining", strconv.Itoa(b.remaining))
	h.Set("Ratelimit-Reset", strconv.FormatInt(reset, 10))
}

// SetRateLimit sets the Helix bucket: its size, the points left and when it
// is full again.
func (s *Server) SetRateLimit(limit, remaining int, reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bucket = bucket{limit: limit, remaining: remaining, reset: reset}
}

// helix checks a Helix request's Client-Id and token (an app token, or a
// user token as Twitch also accepts) and spends a rate-limit point before h
// runs. Every answer carries Ratelimit-* headers.
func (s *Server) helix(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := s.opts.Now()
		tok, hasBearer := bearer(r.Header.Get("Authorization"))
		s.mu.Lock()
		exp, valid := s.appTokens[tok]
		valid = valid && hasBearer && now.Before(exp)
		if _, _, user := s.validUserTokenLocked(tok, now); user && hasBearer {
			valid = true
		}
		clientOK := r.Header.Get("Client-Id") == s.opts.ClientID
		ok := valid && clientOK && s.bucket.take(now)
		s.bucket.headers(w.Header(), now)
		s.mu.Unlock()
		switch {
		case !valid:
			writeError(w, http.StatusUnauthorized, true, "Invalid OAuth token")
		case !clientOK:
			writeError(w, http.StatusUnauthorized, true, "Client ID and OAuth token do not match")
		case !ok:
			writeError(w, http.StatusTooManyRequests, true, "Too Many Requests")
		default:
			h(w, r)
		}
	}
}

// bearer extracts the token from "Bearer <token>".
func bearer(h string) (string, bool) {
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return "", false
	}
	return tok, true
}
