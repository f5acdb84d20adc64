package main

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/farmd/farmd/config"
	"github.com/farmd/farmd/eventsub/eventsubtest"
	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/helix/helixtest"
	"github.com/farmd/farmd/irc/irctest"
	"github.com/farmd/farmd/streamelements/setest"
	"github.com/farmd/farmd/usertoken"
)

// The demo's simulated world: a few streamers, one login Twitch does not
// know and one channel that refuses the account.
var (
	demoStreamers = []string{"demo_alice", "demo_bob", "demo_carol", "demo_dave", "demo_erin", "demo_frank", "demo_banned"}
	demoUnknown   = "demo_ghost"
	demoUser      = "farmd_demo"
)

// demoTokenTTL is the simulated chat token's lifetime: short, so the demo
// shows farmd renewing it (with a quarter of it left) every few seconds.
const demoTokenTTL = 12 * time.Second

// runDemo runs the real daemon against in-process fakes of Helix and Twitch
// IRC on loopback, flipping streamers live and offline every few seconds.
func runDemo(ctx context.Context, log zerolog.Logger, stdout io.Writer, signals <-chan os.Signal, tune tuning) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dlog := log.With().Str("component", "demo").Logger()

	// The simulated account approves `farmd login` at once, and its tokens
	// live demoTokenTTL; chat accepts only tokens that have not expired.
	tw := helixtest.New(helixtest.Options{UserTokenTTL: demoTokenTTL, DeviceInterval: time.Second, AutoApprove: demoUser})
	defer tw.Close()
	for _, s := range demoStreamers {
		tw.AddUser(s)
	}
	// EventSub beside Helix, as on Twitch: go-lives are pushed, so the
	// demo's JOINs come the instant a simulated stream starts.
	es := eventsubtest.New(eventsubtest.Options{Authorize: tw.ValidAppToken, ClientID: tw.ClientID()})
	defer es.Close()
	tw.Handle("/helix/eventsub/", es)
	tw.Handle("GET /ws", es)

	chat, err := irctest.NewServer(irctest.Options{
		Username:         demoUser,
		CheckToken:       tw.UserTokenLogin,
		JoinLimit:        20,
		JoinWindow:       10 * time.Second,
		EnforceJoinLimit: true,
	})
	if err != nil {
		dlog.Error().Err(err).Msg("cannot start the simulated Twitch chat")
		return exitFatal
	}
	defer chat.Close()
	chat.SetNotice("demo_banned", "msg_banned", "You are permanently banned from talking in demo_banned.")

	// The demo keeps its token in memory: it must not touch a real
	// state_dir, and it also runs where nothing is writable (a read-only
	// container, an empty chroot).
	tune.store = &usertoken.MemoryStorage{}
	cfg := config.Default()
	cfg.Twitch.ClientID = tw.ClientID()
	cfg.Twitch.ClientSecret = config.Secret(tw.ClientSecret())
	cfg.Twitch.AuthURL, cfg.Twitch.HelixURL = tw.AuthURL(), tw.HelixURL()
	cfg.IRC.Address, cfg.IRC.TLS = chat.Addr(), false
	cfg.EventSub.WebSocketURL = "ws" + strings.TrimPrefix(tw.URL(), "http") + "/ws"
	cfg.IRC.MaxChannels = 5 // the three live at start, the always one and the banned one: the refusal shows at once
	cfg.Poll.Interval, cfg.Poll.OfflineGrace = 3*time.Second, 5*time.Second
	logins := append([]string{demoUnknown}, demoStreamers...)
	cfg.Streamers = config.PlainStreamers(logins...)
	// One streamer farmd sits with even offline (a bot that pays offline),
	// one it only watches and notifies about.
	for i := range cfg.Streamers {
		switch cfg.Streamers[i].Login {
		case "demo_erin":
			cfg.Streamers[i].Presence = config.PresenceAlways
		case "demo_frank":
			cfg.Streamers[i].Presence = config.PresenceNever
		}
	}
	// Notifications go to the log (shoutrrr's logger service), and the
	// StreamElements check reads a simulated StreamElements whose bot
	// credits the demo account in every demo channel.
	cfg.Notify = []config.Notify{{URL: "logger://"}}
	se := setest.New(setest.Options{})
	defer se.Close()
	for _, s := range demoStreamers {
		se.Watch(s, demoUser, true)
	}
	cfg.Points = config.Points{StreamElements: true, APIURL: se.URL(), Every: 15 * time.Second}

	dlog.Info().Str("helix", tw.URL()).Str("irc", chat.Addr()).Strs("streamers", logins).
		Int("max_channels", cfg.IRC.MaxChannels).
		Msg("demo: simulated Twitch on loopback; streamers go live and offline every few seconds (Ctrl-C to stop)")

	// What `farmd login` does, against the simulated Twitch, which
	// approves it at once: the token goes to the demo's state_dir.
	dlog.Info().Msg("demo: `farmd login` first; the simulated account approves it by itself")
	hopts := helixOptions(&cfg, log)
	if code := (&loginFlow{
		out: stdout, log: log, api: helix.New(hopts), cfg: &cfg,
		sleep: tune.sleep, now: tune.now, store: tune.store,
	}).run(ctx, stdout); code != exitOK {
		return code
	}
	dlog.Info().Dur("token_lifetime", demoTokenTTL).
		Msg("demo: the simulated chat token expires quickly; watch farmd renew it (\"user token refreshed\")")

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		simulate(ctx, dlog, tw, es)
	}()
	wg.Add(1)
	go func() { // StreamElements credits watch time every few seconds
		defer wg.Done()
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				se.Credit(10)
			}
		}
	}()
	defer wg.Wait()
	defer cancel()
	load := func() (*config.Config, []string, error) { return &cfg, nil, nil }
	return serve(ctx, log, &cfg, "(demo)", load, signals, tune)
}

// simulate flips a random streamer every two to four seconds, on Helix and
// through EventSub.
func simulate(ctx context.Context, log zerolog.Logger, tw *helixtest.Server, es *eventsubtest.Fake) {
	live := map[string]bool{}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	for _, s := range demoStreamers[:3] {
		live[s] = true
		tw.SetLive(s, true)
	}
	live["demo_banned"] = true
	tw.SetLive("demo_banned", true)
	for {
		t := time.NewTimer(2*time.Second + time.Duration(r.Int64N(int64(2*time.Second))))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		s := demoStreamers[r.IntN(len(demoStreamers)-1)] // demo_banned stays live
		live[s] = !live[s]
		tw.SetLive(s, live[s])
		if id := tw.AddUser(s); live[s] {
			es.GoLive(id, s)
		} else {
			es.GoOffline(id, s)
		}
		state := "offline"
		if live[s] {
			state = "live"
		}
		log.Info().Str("streamer", s).Msgf("demo: %s went %s on simulated Twitch", s, state)
	}
}
