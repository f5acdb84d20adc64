package helixtest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// handleToken serves POST /oauth2/token for grant_type=client_credentials,
// and hands the device-code and refresh-token grants to handleUserGrant.
// Credentials are read from the form only, as Twitch does; a request with
// HTTP Basic credentials is counted apart.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, false, "invalid request body")
		return
	}
	id, secret, grant := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), r.PostForm.Get("grant_type")
	switch {
	case id == "":
		writeError(w, http.StatusBadRequest, false, "missing client id")
		return
	case id != s.opts.ClientID:
		writeError(w, http.StatusBadRequest, false, "invalid client")
		return
	case grant == grantDeviceCode || grant == "refresh_token":
		s.handleUserGrant(w, r, grant)
		return
	case secret != s.opts.ClientSecret:
		writeError(w, http.StatusForbidden, false, "invalid client secret")
		return
	case grant != "client_credentials":
		writeError(w, http.StatusBadRequest, false, "unsupported grant type")
		return
	}
	tok := randomHex(15)
	s.mu.Lock()
	s.issued = append(s.issued, tok)
	s.appTokens[tok] = s.opts.Now().Add(s.opts.TokenTTL)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"expires_in":   int64(s.opts.TokenTTL.Seconds()),
		"token_type":   "bearer",
	})
}

// randomHex returns n random bytes in hex: tokens and codes.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// handleValidate serves GET /oauth2/validate with "Authorization: OAuth <token>".
func (s *Server) handleValidate(w http.ResponseWriter, r *http.Request) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "OAuth ")
	if !ok || tok == "" {
		writeError(w, http.StatusUnauthorized, false, "missing authorization token")
		return
	}
	now := s.opts.Now()
	s.mu.Lock()
	exp, isApp := s.appTokens[tok]
	ut, userTTL, isUser := s.validUserTokenLocked(tok, now)
	var userID string
	if isUser {
		userID = s.byLogin[ut.login]
	}
	s.mu.Unlock()
	switch {
	case isApp && now.Before(exp):
		writeJSON(w, http.StatusOK, map[string]any{
			"client_id":  s.opts.ClientID,
			"scopes":     []string{},
			"expires_in": int64(exp.Sub(now).Seconds()),
		})
	case isUser:
		writeJSON(w, http.StatusOK, map[string]any{
			"client_id":  s.opts.ClientID,
			"login":      ut.login,
			"user_id":    userID,
			"scopes":     ut.scopes,
			"expires_in": int64(userTTL / time.Second),
		})
	default:
		writeError(w, http.StatusUnauthorized, false, "invalid access token")
	}
}
