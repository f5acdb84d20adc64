package helixtest

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/farmd/farmd/twitch"
)

// EndpointFollowed names GET /helix/channels/followed for Fail, Count and
// Requests.
const EndpointFollowed = "channels/followed"

// ScopeReadFollows is the scope /channels/followed requires.
const ScopeReadFollows = "user:read:follows"

// Twitch's 401 messages of /channels/followed.
const (
	MsgMissingFollowsScope = "Missing scope: user:read:follows"
	MsgUserIDMismatch      = "The ID in user_id must match the user ID in the user access token"
	MsgNeedsUserToken      = "The Authorization header must contain a user access token"
)

// follow is one channel a user follows.
type follow struct {
	channelID string
	at        time.Time
}

// Follow makes user follow channel (both logins, added if unknown) now:
// /channels/followed then lists it first, as Twitch lists the most recent
// follow first. Following a channel again changes nothing.
func (s *Server) Follow(user, channel string) {
	uid, cid := s.AddUser(user), s.AddUser(channel)
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.ContainsFunc(s.follows[uid], func(f follow) bool { return f.channelID == cid }) {
		return
	}
	s.follows[uid] = slices.Insert(s.follows[uid], 0, follow{channelID: cid, at: s.opts.Now().UTC()})
}

// Unfollow makes user stop following channel. It reports whether user
// followed it.
func (s *Server) Unfollow(user, channel string) bool {
	user, channel = twitch.NormalizeLogin(user), twitch.NormalizeLogin(channel)
	s.mu.Lock()
	defer s.mu.Unlock()
	uid, cid := s.byLogin[user], s.byLogin[channel]
	n := len(s.follows[uid])
	s.follows[uid] = slices.DeleteFunc(s.follows[uid], func(f follow) bool { return f.channelID == cid })
	return len(s.follows[uid]) < n
}

// handleFollowed serves GET /helix/channels/followed?user_id=..&first=..&after=..
// as Twitch does: it needs a user access token of user_id with the
// user:read:follows scope (401 otherwise), 20 a page by default, at most
// 100, with a cursor while more follow.
func (s *Server) handleFollowed(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	userID := q.Get("user_id")
	if userID == "" {
		writeError(w, http.StatusBadRequest, true, `Missing required parameter "user_id"`)
		return
	}
	first, offset, ok := pageOf(q)
	if !ok {
		writeError(w, http.StatusBadRequest, true, "Malformed query param")
		return
	}
	tok, _ := bearer(r.Header.Get("Authorization"))
	s.mu.Lock()
	ut, _, isUser := s.validUserTokenLocked(tok, s.opts.Now())
	var msg string
	switch {
	case !isUser:
		msg = MsgNeedsUserToken // s.helix let an app token through
	case !slices.Contains(ut.scopes, ScopeReadFollows):
		msg = MsgMissingFollowsScope
	case s.byLogin[ut.login] != userID:
		msg = MsgUserIDMismatch
	}
	if msg != "" {
		s.mu.Unlock()
		writeError(w, http.StatusUnauthorized, true, msg)
		return
	}
	all := s.follows[userID]
	total := len(all)
	offset = min(offset, total)
	page := all[offset:]
	pagination := map[string]any{}
	if len(page) > first {
		page = page[:first]
		pagination["cursor"] = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(offset + first)))
	}
	data := make([]map[string]any, 0, len(page))
	for _, f := range page {
		login := s.users[f.channelID].login
		data = append(data, map[string]any{
			"broadcaster_id":    f.channelID,
			"broadcaster_login": login,
			"broadcaster_name":  login,
			"followed_at":       f.at.Format(time.RFC3339),
		})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "data": data, "pagination": pagination})
}

// registerFollowsControl adds to the control API:
//
//	POST /_control/follow?user=x&channel=y    x follows y
//	POST /_control/unfollow?user=x&channel=y  x stops following y
func (s *Server) registerFollowsControl(mux *http.ServeMux) {
	mux.HandleFunc("POST /_control/follow", func(w http.ResponseWriter, r *http.Request) {
		user, channel := r.URL.Query().Get("user"), r.URL.Query().Get("channel")
		if !twitch.ValidLogin(user) || !twitch.ValidLogin(channel) {
			http.Error(w, "want user=<login>&channel=<login>", http.StatusBadRequest)
			return
		}
		s.Follow(user, channel)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_control/unfollow", func(w http.ResponseWriter, r *http.Request) {
		if !s.Unfollow(r.URL.Query().Get("user"), r.URL.Query().Get("channel")) {
			http.Error(w, "user does not follow channel", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
