package presence

import "slices"

// resolution is the loop's part that turns the configured logins into user
// IDs: it knows which logins have an ID, which Twitch does not know, and
// which are still to be asked at the next poll. Only the configured logins
// are kept, so an answer that arrives after a reload removed its login is
// dropped instead of coming back as a stale ID when the login is added again.
type resolution struct {
	// ids has every configured login, with its user ID or "" while it has
	// none: one map, as a second one of the configured logins cost 0.4 MB
	// at 10,000 streamers (BENCHMARKS.md).
	ids     map[string]string
	unknown map[string]bool // logins Twitch said it does not know
	pending []string        // logins to resolve at the next poll
}

func newResolution(list []StreamerSettings) *resolution {
	r := &resolution{ids: map[string]string{}}
	r.configure(list)
	return r
}

// configured reports whether login is one of the configured logins.
func (r *resolution) configured(login string) bool {
	_, ok := r.ids[login]
	return ok
}

// configure makes the logins of list the configured ones (at start and on
// reload): the IDs of removed logins are forgotten, Twitch is asked again
// about logins it did not know, and every login without an ID is pending.
// It returns how many are pending.
func (r *resolution) configure(list []StreamerSettings) int {
	ids := make(map[string]string, len(list))
	r.pending = nil
	for _, s := range list {
		login := s.Login
		if _, dup := ids[login]; dup {
			continue
		}
		id := r.ids[login]
		ids[login] = id
		if id == "" {
			r.pending = append(r.pending, login)
		}
	}
	r.ids = ids
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
		if !r.configured(login) {
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
		if id := r.ids[s.Login]; id != "" {
			out = append(out, Watched{Streamer: Streamer{ID: id, Login: s.Login}, Settings: s})
		}
	}
	return out
}

// unresolved returns the logins of list Twitch does not know, in their
// order; nil when there are none.
func (r *resolution) unresolved(list []StreamerSettings) []string {
	if len(r.unknown) == 0 {
		return nil
	}
	out := make([]string, 0, len(r.unknown))
	for _, s := range list {
		if r.unknown[s.Login] {
			out = append(out, s.Login)
		}
	}
	return out
}
