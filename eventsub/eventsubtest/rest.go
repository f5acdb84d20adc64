package eventsubtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// rest counts the request, applies faults and checks the credentials
// before h runs.
func (f *Fake) rest(endpoint string, h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.counts[endpoint]++
		status := f.takeFaultLocked(endpoint)
		f.changedLocked()
		f.mu.Unlock()
		if status != 0 {
			writeError(w, status, "injected fault")
			return
		}
		if r.Header.Get("Client-Id") == "" || (f.opts.ClientID != "" && r.Header.Get("Client-Id") != f.opts.ClientID) {
			writeError(w, http.StatusUnauthorized, "Client ID and OAuth token do not match")
			return
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !f.opts.Authorize(tok) {
			writeError(w, http.StatusUnauthorized, "Invalid OAuth token")
			return
		}
		h(w, r)
	}
}

func (f *Fake) takeFaultLocked(endpoint string) int {
	fs := f.faults[endpoint]
	if len(fs) == 0 {
		return 0
	}
	ft := &fs[0]
	if ft.left > 0 {
		ft.left--
		if ft.left == 0 {
			f.faults[endpoint] = fs[1:]
		}
	}
	return ft.status
}

type conduitJSON struct {
	ID         string `json:"id"`
	ShardCount int    `json:"shard_count"`
}

func (f *Fake) getConduits(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	data := []conduitJSON{}
	for _, c := range f.conduits {
		data = append(data, conduitJSON{c.id, len(c.shards)})
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

func (f *Fake) postConduits(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ShardCount int `json:"shard_count"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || body.ShardCount < 1 || body.ShardCount > 20000 {
		writeError(w, http.StatusBadRequest, "Invalid shard_count")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.conduits) >= maxConduits {
		writeError(w, http.StatusTooManyRequests, "Conduit limit reached")
		return
	}
	c := &conduit{id: newID(), shards: make([]shard, body.ShardCount)}
	for i := range c.shards {
		c.shards[i].status = "websocket_disconnected"
	}
	f.conduits = append(f.conduits, c)
	f.changedLocked()
	writeJSON(w, http.StatusOK, map[string]any{"data": []conduitJSON{{c.id, len(c.shards)}}})
}

func (f *Fake) conduitLocked(id string) *conduit {
	for _, c := range f.conduits {
		if c.id == id {
			return c
		}
	}
	return nil
}

type transportJSON struct {
	Method         string `json:"method"`
	SessionID      string `json:"session_id,omitempty"`
	ConduitID      string `json:"conduit_id,omitempty"`
	ConnectedAt    string `json:"connected_at,omitempty"`
	DisconnectedAt string `json:"disconnected_at,omitempty"`
}

func (f *Fake) patchShards(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ConduitID string `json:"conduit_id"`
		Shards    []struct {
			ID        string        `json:"id"`
			Transport transportJSON `json:"transport"`
		} `json:"shards"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || body.ConduitID == "" || len(body.Shards) == 0 {
		writeError(w, http.StatusBadRequest, "Invalid request body")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.conduitLocked(body.ConduitID)
	if c == nil {
		writeError(w, http.StatusNotFound, "Conduit not found")
		return
	}
	type shardJSON struct {
		ID        string        `json:"id"`
		Status    string        `json:"status"`
		Transport transportJSON `json:"transport"`
	}
	type errJSON struct {
		ID      string `json:"id"`
		Message string `json:"message"`
		Code    string `json:"code"`
	}
	data, errs := []shardJSON{}, []errJSON{}
	for _, sh := range body.Shards {
		i, err := strconv.Atoi(sh.ID)
		switch {
		case err != nil || i < 0 || i >= len(c.shards):
			errs = append(errs, errJSON{sh.ID, "The shard id is outside the conduit's range", "invalid_parameter"})
			continue
		case sh.Transport.Method != "websocket":
			errs = append(errs, errJSON{sh.ID, "The transport method is not supported by this fake", "invalid_parameter"})
			continue
		}
		s := f.sessions[sh.Transport.SessionID]
		if s == nil || s.cur == nil || !s.welcomed {
			errs = append(errs, errJSON{sh.ID, "The websocket session is not connected", "websocket_session_not_connected"})
			continue
		}
		// A session serves one shard: take it off any other.
		for _, oc := range f.conduits {
			for j := range oc.shards {
				if oc.shards[j].sessionID == s.id {
					oc.shards[j] = shard{status: "websocket_disconnected"}
				}
			}
		}
		c.shards[i] = shard{status: "enabled", sessionID: s.id}
		s.onShard = true
		data = append(data, shardJSON{sh.ID, "enabled", transportJSON{Method: "websocket", SessionID: s.id,
			ConnectedAt: s.connectedAt.Format(time.RFC3339Nano)}})
	}
	f.changedLocked()
	writeJSON(w, http.StatusAccepted, map[string]any{"data": data, "errors": errs})
}

type subJSON struct {
	ID        string            `json:"id"`
	Status    string            `json:"status"`
	Type      string            `json:"type"`
	Version   string            `json:"version"`
	Condition map[string]string `json:"condition"`
	CreatedAt string            `json:"created_at"`
	Transport transportJSON     `json:"transport"`
	Cost      int               `json:"cost"`
}

func (s *sub) json() subJSON {
	return subJSON{
		ID: s.id, Status: s.status, Type: s.typ, Version: s.version,
		Condition: map[string]string{"broadcaster_user_id": s.broadcaster},
		CreatedAt: s.createdAt.Format(time.RFC3339Nano),
		Transport: transportJSON{Method: "conduit", ConduitID: s.conduitID},
		Cost:      s.cost,
	}
}

func (f *Fake) totalsLocked() (total, cost int) {
	for _, s := range f.subs {
		total++
		if s.status == "enabled" {
			cost += s.cost
		}
	}
	return total, cost
}

// getSubs lists subscriptions, filtered by status, type or user_id, a page
// at a time (first, after).
func (f *Fake) getSubs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	first := f.opts.PageSize
	if v := q.Get("first"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, "Invalid first")
			return
		}
		first = n
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var match []*sub
	for _, s := range f.subs {
		if v := q.Get("status"); v != "" && s.status != v {
			continue
		}
		if v := q.Get("type"); v != "" && s.typ != v {
			continue
		}
		if v := q.Get("user_id"); v != "" && s.broadcaster != v {
			continue
		}
		match = append(match, s)
	}
	start := 0
	if after := q.Get("after"); after != "" {
		n, err := strconv.Atoi(after)
		if err != nil || n < 0 || n > len(match) {
			writeError(w, http.StatusBadRequest, "Invalid cursor")
			return
		}
		start = n
	}
	end := min(start+first, len(match))
	data := []subJSON{}
	for _, s := range match[start:end] {
		data = append(data, s.json())
	}
	pag := map[string]string{}
	if end < len(match) {
		pag["cursor"] = strconv.Itoa(end)
	}
	total, cost := f.totalsLocked()
	writeJSON(w, http.StatusOK, map[string]any{
		"data": data, "total": total, "total_cost": cost, "max_total_cost": f.opts.MaxTotalCost, "pagination": pag,
	})
}

func (f *Fake) postSub(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Type      string            `json:"type"`
		Version   string            `json:"version"`
		Condition map[string]string `json:"condition"`
		Transport transportJSON     `json:"transport"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid request body")
		return
	}
	if body.Type != "stream.online" && body.Type != "stream.offline" {
		writeError(w, http.StatusBadRequest, "Unsupported subscription type")
		return
	}
	if body.Version != "1" {
		writeError(w, http.StatusBadRequest, "Invalid version")
		return
	}
	bid := body.Condition["broadcaster_user_id"]
	if bid == "" || strings.Trim(bid, "0123456789") != "" {
		writeError(w, http.StatusBadRequest, "Invalid broadcaster_user_id")
		return
	}
	if body.Transport.Method != "conduit" {
		writeError(w, http.StatusBadRequest, "The fake supports the conduit transport only")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conduitLocked(body.Transport.ConduitID) == nil {
		writeError(w, http.StatusBadRequest, "Conduit not found")
		return
	}
	for _, s := range f.subs {
		if s.status == "enabled" && s.typ == body.Type && s.broadcaster == bid && s.conduitID == body.Transport.ConduitID {
			writeError(w, http.StatusConflict, "subscription already exists")
			return
		}
	}
	const cost = 1 // no authorization from the broadcaster
	total, totalCost := f.totalsLocked()
	if totalCost+cost > f.opts.MaxTotalCost {
		writeError(w, http.StatusTooManyRequests, "total cost exceeded")
		return
	}
	s := &sub{id: newID(), typ: body.Type, version: body.Version, status: "enabled", broadcaster: bid,
		conduitID: body.Transport.ConduitID, cost: cost, createdAt: f.opts.Now().UTC()}
	f.subs = append(f.subs, s)
	f.changedLocked()
	writeJSON(w, http.StatusAccepted, map[string]any{
		"data": []subJSON{s.json()}, "total": total + 1, "total_cost": totalCost + cost, "max_total_cost": f.opts.MaxTotalCost,
	})
}

func (f *Fake) deleteSub(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if id == "" {
		writeError(w, http.StatusBadRequest, "Missing required parameter \"id\"")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, s := range f.subs {
		if s.id == id {
			f.subs = append(f.subs[:i:i], f.subs[i+1:]...)
			f.changedLocked()
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeError(w, http.StatusNotFound, "subscription not found")
}
