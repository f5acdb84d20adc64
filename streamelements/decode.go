package streamelements

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ErrMalformed marks an answer that is not the JSON StreamElements
// documents: not JSON, a wrong type, a missing field, a negative watch
// time, an id unfit for a URL path.
var ErrMalformed = errors.New("malformed response")

// maxIDLen bounds a channel id: StreamElements' are 24 hex digits; the
// bound only keeps a hostile answer out of URLs and the state file.
const maxIDLen = 64

// channelBody is the part of GET /channels/{login} farmd reads.
type channelBody struct {
	ID *string `json:"_id"`
}

// decodeChannel returns the StreamElements id in a /channels answer.
func decodeChannel(body []byte) (string, error) {
	var b channelBody
	if err := json.Unmarshal(body, &b); err != nil {
		return "", fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if b.ID == nil {
		return "", fmt.Errorf("%w: no _id", ErrMalformed)
	}
	if !validID(*b.ID) {
		return "", fmt.Errorf("%w: _id %.80q is not an id", ErrMalformed, *b.ID)
	}
	return *b.ID, nil
}

// validID accepts 1 to maxIDLen ASCII letters and digits: what a
// StreamElements id is, and safe in a URL path.
func validID(s string) bool {
	if len(s) == 0 || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// pointsBody is GET /points/{id}/{user}. Pointers tell a missing field
// from a zero.
type pointsBody struct {
	Points        *int64 `json:"points"`
	PointsAlltime *int64 `json:"pointsAlltime"`
	Watchtime     *int64 `json:"watchtime"`
	Rank          *int64 `json:"rank"`
}

// decodePoints returns the numbers of a /points answer. points and
// watchtime are required; pointsAlltime and rank are shown when present.
// Points may be negative (a channel can take points away); watch time
// cannot.
func decodePoints(body []byte) (Reading, error) {
	var b pointsBody
	if err := json.Unmarshal(body, &b); err != nil {
		return Reading{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	switch {
	case b.Points == nil:
		return Reading{}, fmt.Errorf("%w: no points", ErrMalformed)
	case b.Watchtime == nil:
		return Reading{}, fmt.Errorf("%w: no watchtime", ErrMalformed)
	case *b.Watchtime < 0:
		return Reading{}, fmt.Errorf("%w: negative watchtime %d", ErrMalformed, *b.Watchtime)
	}
	r := Reading{Points: *b.Points, WatchtimeMinutes: *b.Watchtime}
	if b.PointsAlltime != nil {
		r.PointsAlltime = *b.PointsAlltime
	}
	if b.Rank != nil && *b.Rank >= 0 {
		r.Rank = *b.Rank
	}
	return r, nil
}
