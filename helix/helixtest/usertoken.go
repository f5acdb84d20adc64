package helixtest

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/farmd/farmd/twitch"
)

// The device-code grant type of RFC 8628, as Twitch names it.
const grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// Twitch's answers to a device-code token request that is not (yet) a
// token: 400 with the word in "message", not in the standard "error" field.
const (
	MsgAuthorizationPending = "authorization_pending"
	MsgSlowDown             = "slow_down"
	MsgInvalidDeviceCode    = "invalid device code"
	MsgAccessDenied         = "access_denied"
	MsgInvalidRefreshToken  = "Invalid refresh token"
)

// Defaults of the user-token options.
const (
	DefaultUserTokenTTL   = 4 * time.Hour // what device-flow tokens get
	DefaultDeviceCodeTTL  = 30 * time.Minute
	DefaultDeviceInterval = 5 * time.Second
)

// EndpointDevice names POST /oauth2/device for Fail, Count and Requests.
const EndpointDevice = "device"

// userToken is a user access token the server knows.
type userToken struct {
	login   string
	scopes  []string
	expires time.Time // zero: /validate reports a long lifetime, as Twitch does for implicit tokens
	revoked bool
}

// refreshToken is a refresh token: valid until used (rotation) or revoked.
type refreshToken struct {
	login  string
	scopes []string
}

// deviceCode is one pending device authorization.
type deviceCode struct {
	userCode   string
	scopes     []string
	expires    time.Time
	interval   time.Duration
	lastPoll   time.Time
	approvedBy string // login; "" while pending
	denied     bool
}

// handleDevice serves POST /oauth2/device: form client_id and scopes
// (space-separated) give a device code and a user code.
func (s *Server) handleDevice(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, false, "invalid request body")
		return
	}
	if id := r.PostForm.Get("client_id"); id != s.opts.ClientID {
		writeError(w, http.StatusBadRequest, false, "invalid client")
		return
	}
	scopes := strings.Fields(r.PostForm.Get("scopes"))
	code, user := randomHex(20), strings.ToUpper(randomHex(4))
	s.mu.Lock()
	s.devices[code] = &deviceCode{
		userCode: user,
		scopes:   scopes,
		expires:  s.opts.Now().Add(s.opts.DeviceCodeTTL),
		interval: s.opts.DeviceInterval,
	}
	s.pendingUsers = append(s.pendingUsers, user)
	auto := s.opts.AutoApprove
	s.mu.Unlock()
	if auto != "" {
		s.ApproveDevice(user, auto)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":      code,
		"expires_in":       int64(s.opts.DeviceCodeTTL / time.Second),
		"interval":         int64(s.opts.DeviceInterval / time.Second),
		"user_code":        user,
		"verification_uri": s.URL() + "/activate?device-code=" + user,
	})
}

// handleUserGrant serves the token requests of the device-code and
// refresh-token grants; handleToken calls it for those grant types.
func (s *Server) handleUserGrant(w http.ResponseWriter, r *http.Request, grant string) {
	if s.opts.ClientSecret != "" && !s.opts.PublicClient && r.PostForm.Get("client_secret") != s.opts.ClientSecret {
		// A confidential client must send its secret with these grants too.
		writeError(w, http.StatusBadRequest, false, "missing client secret")
		return
	}
	switch grant {
	case grantDeviceCode:
		s.deviceToken(w, r)
	default:
		s.refresh(w, r)
	}
}

func (s *Server) deviceToken(w http.ResponseWriter, r *http.Request) {
	code := r.PostForm.Get("device_code")
	now := s.opts.Now()
	s.mu.Lock()
	d, ok := s.devices[code]
	var msg string
	switch {
	case !ok || !now.Before(d.expires):
		msg = MsgInvalidDeviceCode
	case d.denied:
		msg = MsgAccessDenied
		delete(s.devices, code)
	case !d.lastPoll.IsZero() && now.Sub(d.lastPoll) < d.interval:
		// Polled faster than the interval: RFC 8628 says slow down by 5 s.
		d.interval += 5 * time.Second
		d.lastPoll = now
		msg = MsgSlowDown
	case d.approvedBy == "":
		d.lastPoll = now
		msg = MsgAuthorizationPending
	default:
		delete(s.devices, code)
	}
	if msg != "" {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, false, msg)
		return
	}
	body := s.issueUserTokenLocked(d.approvedBy, d.scopes)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	rt := r.PostForm.Get("refresh_token")
	s.mu.Lock()
	old, ok := s.refreshTokens[rt]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, true, MsgInvalidRefreshToken)
		return
	}
	delete(s.refreshTokens, rt) // rotation: the old refresh token is spent
	s.refreshes++
	body := s.issueUserTokenLocked(old.login, old.scopes)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

// issueUserTokenLocked makes an access and a refresh token for login and
// returns Twitch's token answer. s.mu is held.
func (s *Server) issueUserTokenLocked(login string, scopes []string) map[string]any {
	access, refresh := randomHex(15), randomHex(25)
	ttl := s.opts.UserTokenTTL
	s.userTokens[access] = userToken{login: login, scopes: slices.Clone(scopes), expires: s.opts.Now().Add(ttl)}
	s.refreshTokens[refresh] = refreshToken{login: login, scopes: slices.Clone(scopes)}
	s.issuedUser = append(s.issuedUser, access, refresh)
	s.notify()
	if scopes == nil {
		scopes = []string{}
	}
	return map[string]any{
		"access_token":  access,
		"refresh_token": refresh,
		"expires_in":    int64(ttl / time.Second),
		"scope":         scopes,
		"token_type":    "bearer",
	}
}

// ApproveDevice approves the pending device authorization with userCode
// as login (added if unknown), as the user would on twitch.tv/activate. It
// reports whether the code was pending.
func (s *Server) ApproveDevice(userCode, login string) bool {
	s.AddUser(login)
	return s.decideDevice(userCode, func(d *deviceCode) { d.approvedBy = twitch.NormalizeLogin(login) })
}

// DenyDevice refuses the pending device authorization with userCode.
func (s *Server) DenyDevice(userCode string) bool {
	return s.decideDevice(userCode, func(d *deviceCode) { d.denied = true })
}

func (s *Server) decideDevice(userCode string, f func(*deviceCode)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.devices {
		if d.userCode == userCode && d.approvedBy == "" && !d.denied {
			f(d)
			s.notify()
			return true
		}
	}
	return false
}

// PendingUserCodes returns the user codes handed out so far, in order.
func (s *Server) PendingUserCodes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.pendingUsers)
}

// AddRefreshableUserToken registers an access token for login that
// expires after ttl, and a refresh token for it, as a completed login
// would have stored them.
func (s *Server) AddRefreshableUserToken(access, refresh, login string, ttl time.Duration, scopes ...string) {
	s.AddUser(login)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userTokens[access] = userToken{login: twitch.NormalizeLogin(login), scopes: slices.Clone(scopes), expires: s.opts.Now().Add(ttl)}
	s.refreshTokens[refresh] = refreshToken{login: twitch.NormalizeLogin(login), scopes: slices.Clone(scopes)}
}

// RevokeUser revokes every access and refresh token of login, as
// disconnecting the app on twitch.tv does.
func (s *Server) RevokeUser(login string) {
	login = twitch.NormalizeLogin(login)
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.userTokens {
		if t.login == login {
			t.revoked = true
			s.userTokens[k] = t
		}
	}
	for k, t := range s.refreshTokens {
		if t.login == login {
			delete(s.refreshTokens, k)
		}
	}
}

// ExpireUserToken makes access token expire now.
func (s *Server) ExpireUserToken(access string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.userTokens[access]; ok {
		t.expires = s.opts.Now()
		s.userTokens[access] = t
	}
}

// UserTokenLogin returns the login of a user access token (with or without
// "oauth:") that is known, unexpired and not revoked: what Twitch chat
// checks at PASS. Wire it into irctest.Options.CheckToken.
func (s *Server) UserTokenLogin(token string) (string, bool) {
	token = strings.TrimPrefix(token, "oauth:")
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.userTokens[token]
	if !ok || t.revoked || (!t.expires.IsZero() && !s.opts.Now().Before(t.expires)) {
		return "", false
	}
	return t.login, true
}

// Refreshes counts successful refresh-token grants.
func (s *Server) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

// IssuedUserTokens returns every user access and refresh token issued by a
// grant, in order, for tests that check no token leaks into output.
func (s *Server) IssuedUserTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.issuedUser)
}

// validUserToken returns the user token tok when /validate should accept
// it. s.mu is held.
func (s *Server) validUserTokenLocked(tok string, now time.Time) (userToken, time.Duration, bool) {
	t, ok := s.userTokens[tok]
	if !ok || t.revoked {
		return userToken{}, 0, false
	}
	if t.expires.IsZero() {
		return t, 5011200 * time.Second, true // about 58 days, an implicit-grant token
	}
	if !now.Before(t.expires) {
		return userToken{}, 0, false
	}
	return t, t.expires.Sub(now), true
}
