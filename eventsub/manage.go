package eventsub

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/farmd/farmd/backoff"
)

// manager is the state of the goroutine that owns every Helix request:
// the conduit, shard 0's session and the subscriptions. Its steps run in a
// fixed order (conduit, shard, subscriptions); a failed step is retried
// with backoff, starting again from the first step not yet done.
type manager struct {
	c         *Client
	conduitID string
	session   string // latest welcomed session
	patched   string // session on shard 0 after the last PATCH
	reconcile bool   // subscriptions need a reconcile
	lastOver  int    // PolledOnly at the last warning
}

type subKey struct{ typ, broadcaster string }

func (c *Client) manage(ctx context.Context) {
	m := &manager{c: c, reconcile: true}
	// The first reconcile reads the streamers anyway: a SetStreamers made
	// before Run must not cause a second one.
	select {
	case <-c.streamersCh:
	default:
	}
	b := backoff.Backoff{Min: c.bmin, Max: c.bmax, Jitter: 0.2}
	tick := time.NewTicker(c.interval)
	defer tick.Stop()
	for ctx.Err() == nil {
		m.takeSession()
		if err := m.step(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.warn("eventsub setup failed, retrying", err)
			m.sleep(ctx, b.Next())
			continue
		}
		b.Reset()
		select {
		case <-ctx.Done():
			return
		case s := <-c.sessionCh:
			m.session = s
		case <-c.streamersCh:
			m.reconcile = true
		case <-c.revokedCh:
			m.reconcile = true
		case <-tick.C:
			m.reconcile = true
		}
	}
}

// takeSession picks up a newly welcomed session without waiting.
func (m *manager) takeSession() {
	select {
	case s := <-m.c.sessionCh:
		m.session = s
	default:
	}
}

// sleep waits d, cut short by a new session: it must be on the shard within
// 10 s of its welcome, sooner than a long backoff.
func (m *manager) sleep(ctx context.Context, d time.Duration) {
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case s := <-m.c.sessionCh:
			m.session = s
			cancel()
		case <-sctx.Done():
		}
	}()
	_ = m.c.sleep(sctx, d)
	cancel()
	<-done
}

// step does whatever is not done yet.
func (m *manager) step(ctx context.Context) error {
	c := m.c
	if m.conduitID == "" {
		id, err := c.ensureConduit(ctx)
		if err != nil {
			return err
		}
		m.conduitID = id
		m.patched = ""
		m.reconcile = true
		c.update(func(st *Status) { st.ConduitID = id })
	}
	if err := m.patchIfNeeded(ctx); err != nil {
		return err
	}
	if m.reconcile {
		if err := m.reconcileSubs(ctx); err != nil {
			return err
		}
		m.reconcile = false
	}
	c.clearError()
	return nil
}

// patchIfNeeded puts the latest session on shard 0 unless it is there.
func (m *manager) patchIfNeeded(ctx context.Context) error {
	c := m.c
	if m.session == "" || m.session == m.patched {
		return nil
	}
	err := c.patchShard(ctx, m.conduitID, m.session)
	if errors.Is(err, errConduitGone) {
		m.conduitID = ""
		c.update(func(st *Status) { st.ConduitID = "" })
	}
	if err != nil {
		return err
	}
	m.patched = m.session
	c.log.Info().Str("conduit_id", m.conduitID).Str("session_id", m.session).Msg("eventsub shard 0 on the session")
	session := m.session
	c.update(func(st *Status) {
		if st.SessionID == session {
			st.ShardStatus = shardEnabled
		}
	})
	return nil
}

// reconcileSubs makes the conduit's subscriptions match the streamers:
// missing ones are created in priority order while max_total_cost allows,
// those of streamers no longer configured (or no longer enabled) deleted.
func (m *manager) reconcileSubs(ctx context.Context) error {
	c := m.c
	c.mu.Lock()
	want := append([]string(nil), c.streamers...)
	c.mu.Unlock()
	wanted := make(map[string]bool, len(want))
	for _, id := range want {
		wanted[id] = true
	}

	list, err := c.listSubscriptions(ctx)
	if err != nil {
		return err
	}
	ours := make(map[subKey]bool)
	var stale []subscription
	for _, s := range list.Data {
		if s.Transport.Method != "conduit" || s.Transport.ConduitID != m.conduitID ||
			(s.Type != TypeStreamOnline && s.Type != TypeStreamOffline) {
			continue // not farmd's to manage
		}
		k := subKey{s.Type, s.Condition.BroadcasterUserID}
		if !wanted[k.broadcaster] || s.Status != "enabled" || s.Version != subVersion || ours[k] {
			stale = append(stale, s)
			continue
		}
		ours[k] = true
	}
	totalCost, maxCost := list.TotalCost, list.MaxTotalCost
	for _, s := range stale {
		if err := m.patchIfNeeded(ctx); err != nil {
			return err
		}
		if err := c.deleteSubscription(ctx, s.ID); err != nil {
			return err
		}
		totalCost -= s.Cost
		c.log.Info().Str("type", s.Type).Str("broadcaster_id", s.Condition.BroadcasterUserID).
			Str("status", s.Status).Msg("eventsub subscription deleted")
	}

	var missing []subKey
	for _, id := range want {
		for _, typ := range []string{TypeStreamOnline, TypeStreamOffline} {
			if k := (subKey{typ, id}); !ours[k] {
				missing = append(missing, k)
			}
		}
	}
	subscribed := len(ours)
	over := 0
	for i, k := range missing {
		if err := m.patchIfNeeded(ctx); err != nil {
			return err
		}
		// A stream subscription costs 1 without the broadcaster's
		// authorization; the answer tells the real figures.
		if maxCost > 0 && totalCost+1 > maxCost {
			over = len(missing) - i
			break
		}
		s := subscription{
			Type: k.typ, Version: subVersion,
			Condition: condition{BroadcasterUserID: k.broadcaster},
			Transport: transport{Method: "conduit", ConduitID: m.conduitID},
		}
		out, status, err := c.createSubscription(ctx, s)
		switch {
		case err == nil && status == http.StatusConflict:
			subscribed++ // already there: created since our list
		case err == nil:
			subscribed++
			if out.MaxTotalCost > 0 {
				totalCost, maxCost = out.TotalCost, out.MaxTotalCost
			} else {
				totalCost++
			}
		case status == http.StatusTooManyRequests || status == http.StatusForbidden:
			// Over a limit Twitch knows better than our count.
			over = len(missing) - i
		case status == http.StatusBadRequest:
			// One bad broadcaster ID must not keep the others out.
			c.log.Warn().Err(err).Str("broadcaster_id", k.broadcaster).Str("type", k.typ).
				Msg("eventsub subscription refused; this streamer is polled only")
		default:
			return err
		}
		if over > 0 {
			break
		}
	}
	c.update(func(st *Status) {
		st.Subscriptions = subscribed
		st.TotalCost, st.MaxTotalCost = totalCost, maxCost
		st.PolledOnly = over
	})
	if over != m.lastOver {
		m.lastOver = over
		if over > 0 {
			c.log.Warn().Int("polled_only", over).Int("max_total_cost", maxCost).
				Msgf("eventsub max_total_cost reached: %d subscriptions not created, their streamers are polled only", over)
		}
	}
	c.log.Debug().Int("subscriptions", subscribed).Int("total_cost", totalCost).Int("max_total_cost", maxCost).Msg("eventsub subscriptions reconciled")
	return nil
}
