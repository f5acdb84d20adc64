package ops

import "time"

// TokenStatus is the chat account's token as /status and /metrics show it:
// where it comes from and how long it lasts, never the token itself.
type TokenStatus struct {
	// Source is "stored" (from `farmd login`, renewed by farmd) or
	// "static" (from the config, never renewed).
	Source    string    `json:"source"`
	Login     string    `json:"login"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Refreshes counts renewals since start; LastRefresh is the latest.
	Refreshes   int64     `json:"refreshes"`
	LastRefresh time.Time `json:"last_refresh,omitzero"`
	// LastError and FailingSince describe renewals failing now.
	LastError    string    `json:"last_error,omitempty"`
	FailingSince time.Time `json:"failing_since,omitzero"`
}
