package notify

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/farmd/farmd/statefile"
)

// RunningFile is the marker MarkRunning leaves in state_dir while farmd runs.
const RunningFile = "farmd.running"

// MarkRunning writes the running marker in state directory dir and reports
// whether one was already there: the last run ended without MarkStopped (a
// crash, a kill, a power loss), which the daemon event tells the user
// (DaemonRestarted).
func MarkRunning(dir string) (uncleanBefore bool, err error) {
	path := filepath.Join(dir, RunningFile)
	_, err = os.Lstat(path)
	switch {
	case err == nil:
		uncleanBefore = true
	case !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("running marker: %w", err)
	}
	marker := struct {
		PID       int       `json:"pid"`
		StartedAt time.Time `json:"started_at"`
	}{os.Getpid(), time.Now().UTC()}
	if err := statefile.WriteJSON(path, marker, 0o600); err != nil {
		return uncleanBefore, fmt.Errorf("running marker: %w", err)
	}
	return uncleanBefore, nil
}

// MarkStopped removes the running marker at a clean stop, durably (the
// directory is synced), so the next start does not report an unclean exit.
// A missing marker is not an error.
func MarkStopped(dir string) error {
	err := os.Remove(filepath.Join(dir, RunningFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("running marker: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("running marker: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("running marker: sync %s: %w", dir, err)
	}
	return nil
}
