package streamelements

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/farmd/farmd/internal/testkit"
	"github.com/farmd/farmd/streamelements/setest"
)

const bot = "farmbot"

// rig is a Watcher against a fake StreamElements on a fake clock.
type rig struct {
	tb    testing.TB
	srv   *setest.Server
	clock *testkit.Clock
	logs  *testkit.LogBuffer
	w     *Watcher
	dir   string

	mu      sync.Mutex
	credits []Credit
}

func newRig(tb testing.TB, edit func(*Options)) *rig {
	tb.Helper()
	r := &rig{tb: tb, clock: testkit.NewClock(), logs: testkit.NewLogBuffer(), dir: tb.TempDir()}
	r.srv = setest.New(setest.Options{Now: r.clock.Now})
	tb.Cleanup(r.srv.Close)
	r.w = r.open(edit)
	return r
}

// open makes a Watcher on the rig's server, clock and state directory.
func (r *rig) open(edit func(*Options)) *Watcher {
	r.tb.Helper()
	opts := r.options()
	if edit != nil {
		edit(&opts)
	}
	w, err := New(opts)
	if err != nil {
		r.tb.Fatalf("New: %v", err)
	}
	return w
}

func (r *rig) options() Options {
	return Options{
		APIURL:   r.srv.URL(),
		User:     bot,
		StateDir: r.dir,
		Logger:   r.logs.Logger(),
		Now:      r.clock.Now,
		Sleep:    r.clock.Sleep,
		OnCredit: func(c Credit) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.credits = append(r.credits, c)
		},
	}
}

func (r *rig) creditCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.credits)
}

// present puts farmd in the live chat of channel now.
func (r *rig) present(channel string) {
	r.w.Live(channel, r.clock.Now())
	r.w.Joined(channel, r.clock.Now())
}

// after advances the clock by d, then runs one round.
func (r *rig) after(d time.Duration) {
	r.clock.Advance(d)
	r.w.round(context.Background())
}

// channel returns the status of name, failing when it is not listed.
func (r *rig) channel(name string) Channel {
	r.tb.Helper()
	for _, c := range r.w.Channels() {
		if c.Channel == name {
			return c
		}
	}
	r.tb.Fatalf("channel %s not in Channels(): %+v", name, r.w.Channels())
	return Channel{}
}

func (r *rig) wantCount(endpoint string, want int) {
	r.tb.Helper()
	if got := r.srv.Count(endpoint); got != want {
		r.tb.Fatalf("%q requests: got %d, want %d (requests: %+v)", endpoint, got, want, r.srv.Requests())
	}
}
