package main

import (
	"fmt"
	"sync"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// notifier tells systemd (Type=notify) about farmd's state through
// $NOTIFY_SOCKET; without it every call is a no-op. READY=1 is sent once the
// IRC connection is logged in and the first poll has finished.
type notifier struct {
	log zerolog.Logger

	mu        sync.Mutex
	connected bool
	polled    bool
	ready     bool
}

func (n *notifier) send(state string) {
	if _, err := sd.SdNotify(false, state); err != nil {
		n.log.Warn().Err(err).Msg("sd_notify failed")
	}
}

// connectedIRC and polledOnce record the two conditions for READY=1.
func (n *notifier) connectedIRC() { n.update(func() { n.connected = true }) }
func (n *notifier) polledOnce()   { n.update(func() { n.polled = true }) }

func (n *notifier) update(f func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f()
	if n.connected && n.polled && !n.ready {
		n.ready = true
		n.send(sd.SdNotifyReady + "\nSTATUS=connected to Twitch chat, polling")
	}
}

// reloading and reloaded bracket a SIGHUP reload.
func (n *notifier) reloading() {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	n.send(fmt.Sprintf("%s\nMONOTONIC_USEC=%d", sd.SdNotifyReloading, ts.Nano()/1000))
}

func (n *notifier) reloaded() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ready {
		n.send(sd.SdNotifyReady)
	}
}

func (n *notifier) stopping() { n.send(sd.SdNotifyStopping) }

func (n *notifier) watchdog() { n.send(sd.SdNotifyWatchdog) }

// watchdogInterval returns how often to ping the watchdog (half of
// WatchdogSec), or 0 when systemd does not watch farmd.
func watchdogInterval() time.Duration {
	d, err := sd.SdWatchdogEnabled(false)
	if err != nil || d <= 0 {
		return 0
	}
	return d / 2
}
