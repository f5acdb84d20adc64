package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/farmd/farmd/config"
	"github.com/farmd/farmd/eventsub"
	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/presence"
)

// realtime feeds EventSub's stream.online/offline into presence: the same
// observation path as polls, with the event's own time. Its health (every
// streamer subscribed, the session on the shard) is handed to the engine,
// which may then poll less often with poll.interval: auto.
type realtime struct {
	es     *eventsub.Client
	engine *presence.Engine
	log    zerolog.Logger
	health chan bool // latest wins: the forwarder hands it to the engine
	ctx    context.Context
}

// newRealtime returns nil (polling only) when EventSub is off or cannot
// work: conduits need an app token, which a public application has not.
func newRealtime(cfg *config.Config, hc *helix.Client, log zerolog.Logger, tune tuning) *realtime {
	if !cfg.EventSub.Enabled {
		return nil
	}
	if !hc.UsesAppToken() {
		log.Warn().Msg("eventsub needs an app token, and a Public application (no twitch.client_secret) has none; polling only")
		return nil
	}
	r := &realtime{log: log, health: make(chan bool, 1)}
	opts := eventsub.Options{
		HelixURL:     cfg.Twitch.HelixURL,
		WebSocketURL: cfg.EventSub.WebSocketURL,
		ClientID:     cfg.Twitch.ClientID,
		Tokens:       hc,
		Logger:       log,
		OnHealth:     r.onHealth,
		OnEvent:      func(ev eventsub.Event) { r.observe(r.ctx, ev) },
	}
	if tune.eventsub != nil {
		tune.eventsub(&opts)
	}
	r.es = eventsub.New(opts)
	return r
}

var _ eventsub.Tokens = (*helix.Client)(nil)

// onHealth runs on eventsub's goroutines: hand over, never block.
func (r *realtime) onHealth(st eventsub.Status) {
	healthy := st.Healthy && st.PolledOnly == 0
	for {
		select {
		case r.health <- healthy:
			return
		default:
		}
		select { // replace the older value
		case <-r.health:
		default:
		}
	}
}

// streamers is presence's OnStreamers: subscribe to exactly these.
func (r *realtime) streamers(ids []string) {
	if r != nil {
		r.es.SetStreamers(ids)
	}
}

// run runs the client, the event feed and the health forwarder until ctx
// ends.
func (r *realtime) run(ctx context.Context, engine *presence.Engine) error {
	if r == nil {
		return nil
	}
	r.engine, r.ctx = engine, ctx // before Run starts the goroutines that read them
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case h := <-r.health:
				if err := engine.SetRealtime(ctx, h); err != nil {
					return
				}
			}
		}
	}()
	err := r.es.Run(ctx)
	<-done
	return err
}

// observe is eventsub's OnEvent (its delivery goroutine, which may
// block): the event becomes an observation made at its own time.
func (r *realtime) observe(ctx context.Context, ev eventsub.Event) {
	st := presence.Status{UserID: ev.BroadcasterID, At: ev.At, Source: presence.SourceEventSub}
	if ev.Kind == eventsub.Online {
		st.Live, st.Login = true, ev.BroadcasterLogin
	}
	if err := r.engine.Observe(ctx, []presence.Status{st}); err != nil && ctx.Err() == nil {
		r.log.Warn().Err(err).Msg("could not hand an eventsub event to presence")
	}
}

// status is ops' view of the client; nil when farmd polls only.
func (r *realtime) status() func() eventsub.Status {
	if r == nil {
		return nil
	}
	return r.es.Status
}
