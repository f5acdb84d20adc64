package helixtest

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/farmd/farmd/twitch"
)

// maxQueryValues is Helix's limit on a repeated query parameter.
const maxQueryValues = 100

// handleUsers serves GET /helix/users?login=..&id=..
func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	logins, ids := q["login"], q["id"]
	switch {
	case len(logins)+len(ids) == 0:
		writeError(w, http.StatusBadRequest, true, "Must provide an ID, Login or OAuth Token")
		return
	case len(logins)+len(ids) > maxQueryValues:
		writeError(w, http.StatusBadRequest, true, "Exceeded maximum number of logins and IDs (100)")
		return
	}
	for _, l := range logins {
		if !twitch.ValidLogin(l) {
			writeError(w, http.StatusBadRequest, true, "Invalid login names, emails or IDs in request")
			return
		}
	}
	s.mu.Lock()
	var found []*user
	seen := map[string]bool{}
	add := func(id string) {
		if u, ok := s.users[id]; ok && !seen[id] {
			seen[id] = true
			cp := *u
			found = append(found, &cp)
		}
	}
	for _, l := range logins {
		add(s.byLogin[twitch.NormalizeLogin(l)])
	}
	for _, id := range ids {
		add(id)
	}
	s.mu.Unlock()
	data := make([]map[string]any, 0, len(found))
	for _, u := range found {
		data = append(data, map[string]any{
			"id":                u.id,
			"login":             u.login,
			"display_name":      u.login,
			"type":              "",
			"broadcaster_type":  "",
			"description":       "",
			"profile_image_url": "https://static-cdn.jtvnw.net/jtv_user_pictures/" + u.login + "-profile_image-300x300.png",
			"offline_image_url": "",
			"view_count":        0,
			"created_at":        "2020-01-01T00:00:00Z",
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

// handleStreams serves GET /helix/streams?user_id=..&user_login=..&first=..&after=..
func (s *Server) handleStreams(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ids, logins := q["user_id"], q["user_login"]
	if len(ids) > maxQueryValues {
		writeError(w, http.StatusBadRequest, true, `The parameter "user_id" may only be specified up to 100 times`)
		return
	}
	if len(logins) > maxQueryValues {
		writeError(w, http.StatusBadRequest, true, `The parameter "user_login" may only be specified up to 100 times`)
		return
	}
	first, offset, ok := pageOf(q)
	if !ok {
		writeError(w, http.StatusBadRequest, true, "Malformed query param")
		return
	}
	s.mu.Lock()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for _, l := range logins {
		id, ok := s.byLogin[twitch.NormalizeLogin(l)]
		if !ok || !twitch.ValidLogin(l) {
			s.mu.Unlock()
			writeError(w, http.StatusBadRequest, true, "Malformed query param")
			return
		}
		want[id] = true
	}
	var live []user
	if len(want) > 0 {
		// Look up the IDs asked for rather than scanning every user: a
		// benchmark with 10,000 users must measure the client, not the fake.
		for id := range want {
			if u, ok := s.users[id]; ok && u.live {
				live = append(live, *u)
			}
		}
	} else {
		for _, u := range s.users {
			if u.live {
				live = append(live, *u)
			}
		}
	}
	s.mu.Unlock()
	sort.Slice(live, func(i, j int) bool {
		if len(live[i].id) != len(live[j].id) {
			return len(live[i].id) < len(live[j].id)
		}
		return live[i].id < live[j].id
	})
	if offset > len(live) {
		offset = len(live)
	}
	page := live[offset:]
	pagination := map[string]any{}
	if len(page) > first {
		page = page[:first]
		pagination["cursor"] = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(offset + first)))
	}
	data := make([]map[string]any, 0, len(page))
	for _, u := range page {
		data = append(data, streamObject(u))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "pagination": pagination})
}

// streamObject is Twitch's stream object for u.
func streamObject(u user) map[string]any {
	return map[string]any{
		"id":            strconv.FormatInt(u.startedAt.Unix(), 10) + u.id, // a new ID for every stream, as on Twitch
		"user_id":       u.id,
		"user_login":    u.login,
		"user_name":     u.login,
		"game_id":       "509658",
		"game_name":     "Just Chatting",
		"type":          u.streamType,
		"title":         "live with " + u.login,
		"viewer_count":  42,
		"started_at":    u.startedAt.UTC().Format(time.RFC3339),
		"language":      "en",
		"thumbnail_url": "https://static-cdn.jtvnw.net/previews-ttv/live_user_" + u.login + "-{width}x{height}.jpg",
		"tag_ids":       []string{},
		"tags":          []string{"English"},
		"is_mature":     false,
	}
}

// pageOf reads Helix's paging parameters: first (1-100, default 20) and the
// after cursor this fake hands out (an offset); ok is false when either is
// malformed, which Helix answers with 400.
func pageOf(q url.Values) (first, offset int, ok bool) {
	first = 20
	if v := q.Get("first"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return 0, 0, false
		}
		first = n
	}
	if v := q.Get("after"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 {
			return 0, 0, false
		}
		offset = n
	}
	return first, offset, true
}
