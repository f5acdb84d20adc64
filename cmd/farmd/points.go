package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/farmd/farmd/config"
	"github.com/farmd/farmd/notify"
	"github.com/farmd/farmd/streamelements"
)

// newPoints returns the StreamElements watcher when points.streamelements
// is on, else nil: farmd then sends StreamElements nothing at all.
func newPoints(cfg *config.Config, login string, log zerolog.Logger, notes *notifications, tune tuning) (*streamelements.Watcher, error) {
	if !cfg.Points.StreamElements {
		return nil, nil
	}
	opts := streamelements.Options{
		APIURL:   cfg.Points.APIURL,
		User:     login,
		Every:    cfg.Points.Every,
		StateDir: cfg.StateDir,
		Logger:   log,
		OnCredit: func(c streamelements.Credit) {
			notes.send(notify.Credit{Login: c.Channel, Present: c.Present})
		},
	}
	if tune.points != nil {
		tune.points(&opts)
	}
	w, err := streamelements.New(opts)
	if w != nil && err != nil {
		// A corrupt state file: the watcher starts empty and says why.
		log.Warn().Err(err).Msg("StreamElements readings could not be read back; starting without them")
		err = nil
	}
	return w, err
}

// runPoints runs the watcher until ctx ends; at the end the account
// leaves every channel as far as it counts.
func runPoints(ctx context.Context, w *streamelements.Watcher) error {
	if w == nil {
		return nil
	}
	defer w.PartedAll(time.Now())
	return w.Run(ctx)
}

// pointsOf is ops' view of the watcher; nil when the check is off.
func pointsOf(w *streamelements.Watcher) func() []streamelements.Channel {
	if w == nil {
		return nil
	}
	return w.Channels
}
