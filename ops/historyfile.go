package ops

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/farmd/farmd/statefile"
)

// HistoryFile is the name of the history's file in state_dir.
const HistoryFile = "history.json"

// historyVersion is the format of HistoryFile; a file of another version
// is refused rather than misread.
const historyVersion = 1

type historyFile struct {
	Version int `json:"version"`
	HistorySnapshot
}

// Save writes the history to dir/history.json (atomically, mode 0600: it
// names the channels farmd visits) if it changed since the last Save or
// Load.
func (h *History) Save(dir string) error {
	h.mu.Lock()
	changed := h.changed
	h.changed = false
	h.mu.Unlock()
	if !changed {
		return nil
	}
	err := statefile.WriteJSON(filepath.Join(dir, HistoryFile), historyFile{Version: historyVersion, HistorySnapshot: h.Snapshot()}, 0o600)
	if err != nil {
		h.mu.Lock()
		h.changed = true // try again next time
		h.mu.Unlock()
	}
	return err
}

// Load replaces the history with dir/history.json. A missing file is no
// error (the first run); a corrupt one is an error naming it, and the
// history is then left empty. What was open when the file was saved is
// closed at that time: farmd did not watch after it, and the page shows
// the gap.
func (h *History) Load(dir string) error {
	path := filepath.Join(dir, HistoryFile)
	var f historyFile
	if err := statefile.ReadJSON(path, &f); err != nil {
		if errors.Is(err, statefile.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("load history: %w", err)
	}
	if f.Version != historyVersion {
		return fmt.Errorf("load history: read %s: version %d, want %d", path, f.Version, historyVersion)
	}
	if err := h.restore(f.HistorySnapshot); err != nil {
		return fmt.Errorf("load history: read %s: %w", path, err)
	}
	return nil
}

// RunHistory keeps Options.History until ctx is cancelled: every every
// (30s suits the page's refresh) it reconciles the history with the
// IRC status (History.Observe), and saves it to
// dir when it changed; it saves once more when ctx is cancelled. With dir
// "" (no state_dir) the history lives in memory only. A failed save is
// logged, once per distinct error, and retried at the next tick: the
// history is a convenience, never a reason to stop farmd. It returns nil
// at once without Options.History.
func (s *Server) RunHistory(ctx context.Context, dir string, every time.Duration) error {
	h := s.o.History
	if h == nil {
		return nil
	}
	log := s.o.Logger.With().Str("component", "history").Logger()
	var lastErr string
	save := func() {
		if dir == "" {
			return
		}
		err := h.Save(dir)
		switch {
		case err == nil:
			lastErr = ""
		case err.Error() != lastErr:
			lastErr = err.Error()
			log.Warn().Err(err).Msg("cannot save the status page's history; retrying")
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			save()
			return nil
		case <-t.C:
		}
		s.observe()
		save()
	}
}

// observe feeds the history what the IRC manager shows now (a few hundred
// channels at most). Streams going live and offline reach the history as
// they happen (the daemon calls Live and Offline); asking presence for its
// per-streamer list here would build a megabyte at 10,000 streamers every
// tick for nothing (BENCHMARKS.md, memory).
func (s *Server) observe() {
	s.o.History.ObserveChat(s.o.Chat.Status(), s.o.Now())
}
