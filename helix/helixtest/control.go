package helixtest

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/farmd/farmd/twitch"
)

// registerControl adds a small HTTP control API for people playing with
// `farmd --demo`:
//
//	POST /_control/user?login=x            add a user, answers its ID
//	POST /_control/live?login=x&live=true  start or end a stream
//	POST /_control/rename?from=x&to=y      rename a user
//	POST /_control/revoke                  revoke every app token
//	GET  /_control/state                   users and whether they are live
//	POST /_control/approve?code=X&login=y  approve `farmd login`'s code X as y
//	GET  /activate?device-code=X           what Twitch's activation page is for
func (s *Server) registerControl(mux *http.ServeMux) {
	mux.HandleFunc("POST /_control/user", func(w http.ResponseWriter, r *http.Request) {
		login := r.URL.Query().Get("login")
		if !twitch.ValidLogin(login) {
			http.Error(w, "bad login", http.StatusBadRequest)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": s.AddUser(login)})
	})
	mux.HandleFunc("POST /_control/live", func(w http.ResponseWriter, r *http.Request) {
		login := r.URL.Query().Get("login")
		live, err := strconv.ParseBool(r.URL.Query().Get("live"))
		if !twitch.ValidLogin(login) || err != nil {
			http.Error(w, "want login=<login>&live=<bool>", http.StatusBadRequest)
			return
		}
		s.SetLive(login, live)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_control/rename", func(w http.ResponseWriter, r *http.Request) {
		from, to := r.URL.Query().Get("from"), r.URL.Query().Get("to")
		if !twitch.ValidLogin(to) || !s.Rename(from, to) {
			http.Error(w, "unknown from or bad to", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_control/approve", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if !twitch.ValidLogin(q.Get("login")) || !s.ApproveDevice(q.Get("code"), q.Get("login")) {
			http.Error(w, "want code=<a pending user code>&login=<login>", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /activate", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "This is farmd's simulated Twitch, not twitch.tv.\n"+
			"On Twitch this page asks you to log in and approve the code %q.\n"+
			"Here, approve it with: curl -X POST '%s/_control/approve?code=%s&login=YOUR_LOGIN'\n",
			r.URL.Query().Get("device-code"), s.URL(), r.URL.Query().Get("device-code"))
	})
	mux.HandleFunc("POST /_control/revoke", func(w http.ResponseWriter, r *http.Request) {
		s.RevokeAppTokens()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_control/state", func(w http.ResponseWriter, r *http.Request) {
		type st struct {
			ID    string `json:"id"`
			Login string `json:"login"`
			Live  bool   `json:"live"`
		}
		s.mu.Lock()
		out := make([]st, 0, len(s.users))
		for _, u := range s.users {
			out = append(out, st{ID: u.id, Login: u.login, Live: u.live})
		}
		s.mu.Unlock()
		sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
		writeJSON(w, http.StatusOK, map[string]any{"users": out})
	})
}
