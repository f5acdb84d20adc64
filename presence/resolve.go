package presence

import "slices"

// resolution is the loop's part that turns the configured logins into user
// IDs: it knows which logins have an ID, which Twitch does not know, and
// which are still to be asked at the next poll. Only the configured logins
// are kept, so an answer that arrives after a reload removed its login is
// dropped instead of coming back as a stale ID when the login is added again.
type resolution struct {
	configured map[string]bool
	ids        map[string]string // login -> user ID
	unknown    map[string]bool   // logins Twitch said it does not know
	pending    []string          // logins to resolve at the next poll
}

func newResolution(logins []string) *resolution {
	r := &resolution{ids: map[string]string{}}
	r.configure(logins)
	return r
}

// configure makes logins the configured ones (at start and on reload): the
// IDs of removed logins are forgotten, Twitch is asked again about logins it
// did not know, and every login without an ID is pending. It returns how
// many are pending.
func (r *resolution) configure(logins []string) int {
	r.configured = make(map[string]bool, len(logins))
	r.pending = nil
	for _, login := range logins {
		r.configured[login] = true
		if _, ok := r.ids[login]; !ok {
			r.pending = append(r.pending, login)
		}
	}
	for login := range r.ids {
		if !r.configured[login] {
			delete(r.ids, login)
		}
	}
	r.unknown = map[string]bool{}
	return len(r.pending)
}

// settle records the answer to asking Twitch about asked: found are the
// streamers it knows, err is non-nil when a request failed (then the logins
// not found are asked again, not taken as unknown). It returns how many
// configured logins are still without an answer and the logins newly found
// unknown.
func (r *resolution) settle(asked []string, found []Streamer, err error) (unsettled int, unknown []string) {
	byLogin := make(map[string]string, len(found))
	for _, s := range found {
		byLogin[s.Login] = s.ID
	}
	settled := map[string]bool{}
	for _, login := range asked {
		if !r.configured[login] {
			continue // removed by a reload while the poll ran
		}
		if id, ok := byLogin[login]; ok {
			r.ids[login] = id
			settled[login] = true
			continue
		}
		if err != nil {
			unsettled++
			continue // ask again next cycle
		}
		settled[login] = true
		if !r.unknown[login] {
			unknown = append(unknown, login)
		}
		r.unknown[login] = true
	}
	// A reload during the poll may have changed pending: keep what it added.
	r.pending = slices.DeleteFunc(r.pending, func(login string) bool { return settled[login] })
	return unsettled, unknown
}

// streamers returns the resolved streamers of list with their settings, in
// its order.
func (r *resolution) streamers(list []StreamerSettings) []Watched {
	out := make([]Watched, 0, len(r.ids))
	for _, s := range list {
		if id, ok := r.ids[s.Login]; ok {
			out = append(out, Watched{Streamer: Streamer{ID: id, Login: s.Login}, Settings: s})
		}
	}
	return out
}

// unresolved returns the logins of logins Twitch does not know, in their
// order.
func (r *resolution) unresolved(logins []string) []string {
	out := make([]string, 0, len(r.unknown))
	for _, login := range logins {
		if r.unknown[login] {
			out = append(out, login)
		}
	}
	return out
}
