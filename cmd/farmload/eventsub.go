package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/farmd/farmd/eventsub/eventsubtest"
	"github.com/farmd/farmd/irc/irctest"
)

// minJoinSpacing is the closest two go-lives may be: farmd's JOIN limiter
// allows 20 JOINs per 11 s (Twitch's 10 s plus a tenth as margin), so one
// go-live every 550 ms or more never waits in the limiter and the figure
// is EventSub's, not the limiter's.
const minJoinSpacing = 11 * time.Second / 20

// eventsubLatency: o.streamers streamers, farmd polling every o.interval
// with EventSub on; every o.every the next streamer in turn goes live
// through EventSub (the fake pushes stream.online), o.samples times. Helix
// never shows these streams (its lag outlasts them), so only the event can
// JOIN them. Each sample is the time from GoLive to the JOIN line reaching
// the chat fake. Half a cycle later the streamer goes offline; with an
// offline_grace of 0 farmd parts at once, and the streamer's next go-live
// waits for that PART, so every go-live is a fresh JOIN.
func eventsubLatency(ctx context.Context, o options, out io.Writer) error {
	if o.every < minJoinSpacing {
		return fmt.Errorf("-every %s: below %s the JOINs would wait in farmd's limiter (20 per 11 s)", o.every, minJoinSpacing)
	}
	if o.streamers < 2 || o.samples < 1 {
		return errors.New("-streamers must be at least 2 and -samples at least 1")
	}
	w, err := newWorld(irctest.Options{EnforceJoinLimit: true}, 0)
	if err != nil {
		return err
	}
	defer w.close()
	es := eventsubtest.New(eventsubtest.Options{Authorize: w.tw.ValidAppToken, ClientID: w.tw.ClientID()})
	defer es.Close()
	// Mounted on Helix's fake, as the demo does: the REST calls go through
	// the timing proxy like every Helix call, the WebSocket goes direct.
	w.tw.Handle("/helix/eventsub/", es)
	w.tw.Handle("GET /ws", es)
	names := logins("es", o.streamers)
	ids := make([]string, len(names))
	for i, n := range names {
		ids[i] = w.tw.AddUser(n)
	}
	f, err := w.startFarmd(o.farmd, farmdConfig{
		streamers:   names,
		interval:    o.interval.String(),
		grace:       "0s",
		eventsubURL: "ws" + strings.TrimPrefix(w.tw.URL(), "http") + "/ws",
	})
	if err != nil {
		return err
	}
	defer f.stop()

	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = es.Wait(rctx, func(e *eventsubtest.Fake) bool { return e.Ready(len(names)) })
	cancel()
	if err != nil {
		return fmt.Errorf("eventsub not ready with %d streamers (conduits %+v, %d subscriptions): %w",
			len(names), es.Conduits(), len(es.Subscriptions()), err)
	}
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = w.chat.Wait(lctx, func(s *irctest.Server) bool { return s.Logins() > 0 })
	cancel()
	if err != nil {
		return fmt.Errorf("farmd did not log in: %w", err)
	}
	polls0 := w.tw.Count("streams")

	var (
		mu      sync.Mutex
		lat     []time.Duration
		missed  []string
		waited  int // go-lives that had to wait for the previous PART
		wg      sync.WaitGroup
		cycle   = time.Duration(len(names)) * o.every
		ended   = make([]chan struct{}, len(names)) // closed once a streamer's last go-live was parted
		tick    = time.NewTicker(o.every)
		started = time.Now()
	)
	defer tick.Stop()
	// Whatever ends the loop, the sample goroutines are told to stop and
	// have ended before the fakes close.
	defer wg.Wait()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	for k := range o.samples {
		i := k % len(names)
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		if ended[i] != nil {
			select {
			case <-ended[i]:
			default:
				waited++
				select {
				case <-ended[i]:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		ch, id := names[i], ids[i]
		done := make(chan struct{})
		ended[i] = done
		from := len(w.chat.JoinLog())
		t0 := time.Now()
		if n := es.GoLive(id, ch); n != 1 {
			return fmt.Errorf("stream.online of %s reached %d shards, want 1", ch, n)
		}
		wg.Go(func() {
			defer close(done)
			jctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			var at time.Time
			err := w.chat.Wait(jctx, func(s *irctest.Server) bool {
				var ok bool
				at, ok = joinAfter(s.JoinLog(), from, ch)
				return ok
			})
			cancel()
			mu.Lock()
			if err != nil {
				missed = append(missed, ch)
			} else {
				lat = append(lat, at.Sub(t0))
			}
			mu.Unlock()
			// Live for half a cycle, then offline; the PART must come
			// before the next go-live of this streamer.
			select {
			case <-time.After(time.Until(t0.Add(cycle / 2))):
			case <-ctx.Done():
				return
			}
			es.GoOffline(id, ch)
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			_ = w.chat.Wait(pctx, func(s *irctest.Server) bool { return !slices.Contains(s.Joined(), ch) })
		})
	}
	wg.Wait()
	elapsed := time.Since(started)

	parts := 0
	for _, l := range w.chat.Received() {
		if strings.HasPrefix(l, "PART ") {
			parts++
		}
	}
	fmt.Fprintf(out, "eventsub_latency interval=%s streamers=%d every=%s golives=%d joined=%d missed=%d join_lines=%d part_lines=%d violations=%d waited_for_part=%d ws_connections=%d polls=%d elapsed=%s\n",
		o.interval, len(names), o.every, o.samples, len(lat), len(missed), len(w.chat.JoinLog()), parts,
		w.chat.Violations(), waited, es.Connections(), w.tw.Count("streams")-polls0, elapsed.Round(time.Second))
	fmt.Fprintf(out, "  golive_to_join   %s\n", dist(lat))
	if len(missed) > 0 {
		return fmt.Errorf("%d go-lives not joined within 10 s: %v", len(missed), missed)
	}
	return nil
}

// joinAfter returns when the first JOIN of channel at or after log[from]
// arrived.
func joinAfter(log []irctest.JoinRecord, from int, channel string) (time.Time, bool) {
	for _, r := range log[min(from, len(log)):] {
		if slices.Contains(r.Channels, channel) {
			return r.Time, true
		}
	}
	return time.Time{}, false
}
