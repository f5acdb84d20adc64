package helix

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// ErrUnauthorized reports that Twitch answered 401: the token is invalid,
// expired or revoked. Test for it with errors.Is; *APIError with Status 401
// matches it.
var ErrUnauthorized = errors.New("unauthorized")

// ErrMalformedResponse reports an answer that is not the JSON Twitch
// documents (truncated, not JSON, a required field missing). Test for it
// with errors.Is.
var ErrMalformedResponse = errors.New("decode response")

// ErrStreamType reports a stream object whose "type" is not "live". Twitch
// documents "live", or "" when an error occurred on its side: such a
// stream's status is unknown, so CheckStreams leaves it out (the streamer
// keeps its state) rather than reading it as offline. Test for it with
// errors.Is.
var ErrStreamType = errors.New(`stream type is not "live"`)

// errBodyTooLarge reports a response body over maxBodyBytes. It is not
// retried: the same request would get the same body.
var errBodyTooLarge = errors.New("response body too large")

// maxMessageLen bounds the part of an error body copied into an APIError, so
// that a misbehaving server cannot flood the logs through error text.
const maxMessageLen = 200

// APIError is a non-2xx answer from Helix or from Twitch's OAuth endpoints.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Message is Twitch's "message" field (or the start of a non-JSON
	// body), truncated.
	Message string
	// Endpoint names the API called: "streams", "users", "token" or
	// "validate".
	Endpoint string
}

// Error formats the error as "helix streams: 400 Bad Request: Malformed
// query param"; the OAuth endpoints use the prefix "oauth2".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(errPrefix(e.Endpoint))
	fmt.Fprintf(&b, ": %d %s", e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrUnauthorized) true for a 401.
func (e *APIError) Is(target error) bool {
	return target == ErrUnauthorized && e.Status == http.StatusUnauthorized
}

// apiName is the error prefix of an endpoint: the OAuth endpoints live on
// id.twitch.tv, the others on Helix.
func apiName(endpoint string) string {
	switch endpoint {
	case endpointToken, endpointValidate, endpointDevice:
		return "oauth2"
	default:
		return "helix"
	}
}

// errPrefix starts every error about endpoint: "helix streams",
// "oauth2 token".
func errPrefix(endpoint string) string {
	return apiName(endpoint) + " " + endpoint
}

// malformed reports an answer from endpoint that is not the JSON Twitch
// documents: "helix streams: decode response: " and then format. format may
// use %w to keep the decoder's error in the chain.
func malformed(endpoint, format string, args ...any) error {
	return fmt.Errorf("%s: %w: "+format, append([]any{errPrefix(endpoint), ErrMalformedResponse}, args...)...)
}

// newAPIError builds an APIError from a Twitch error body, which looks like
// {"error":"Bad Request","status":400,"message":"Malformed query param"}.
func newAPIError(endpoint string, status int, body []byte) *APIError {
	var tw struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	msg := ""
	if json.Unmarshal(body, &tw) == nil {
		msg = tw.Message
		if msg == "" {
			msg = tw.Error
		}
	} else {
		msg = string(body)
	}
	return &APIError{Status: status, Message: sanitizeMessage(msg), Endpoint: endpoint}
}

// sanitizeMessage keeps error text to one short printable line.
func sanitizeMessage(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxMessageLen {
		s = s[:maxMessageLen]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "..."
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
