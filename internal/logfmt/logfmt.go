// Package logfmt holds farmd's one rule for durations in logs: every
// duration is logged with zerolog's Dur, which writes seconds as a number in
// JSON, and the console writer shows it as a Go duration string ("1m30s").
//
// A console writer only sees a field's name and its decoded value, not the
// Go type it was logged with, so which fields are durations is told by the
// name: a field is a duration when its last underscore-separated word is
// one of durationWords ("retry_in", "offline_grace", "timeout", ...).
// TestFieldNamesFollowTheRule holds every log call in the tree to it: a
// Dur field must be named so, and nothing else may be.
package logfmt

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// zerolog's duration settings are globals read by every logger in the
// process: they are set here, once, before main or any test runs, rather
// than where a logger is made (tests make many loggers concurrently).
func init() {
	zerolog.DurationFieldUnit = time.Second
	zerolog.DurationFieldInteger = false
}

// durationWords are the last words of the names of duration fields.
var durationWords = map[string]bool{
	"in":        true, // retry_in, expires_in
	"after":     true, // retry_after
	"timeout":   true, // timeout, drain_timeout
	"duration":  true,
	"wait":      true,
	"grace":     true, // offline_grace
	"interval":  true, // interval, suggested_interval
	"keepalive": true,
	"lifetime":  true, // token_lifetime
	"live":      true, // present_live: how long present while live
}

// IsDuration reports whether a field named name holds a duration.
func IsDuration(name string) bool {
	return durationWords[name[strings.LastIndexByte(name, '_')+1:]]
}

// Console returns a console writer to out that shows duration fields
// (IsDuration) as Go duration strings; color adds ANSI colours.
func Console(out io.Writer, color bool) zerolog.ConsoleWriter {
	return zerolog.ConsoleWriter{
		Out: out, TimeFormat: time.DateTime, NoColor: !color,
		FormatPrepare: formatDurations,
	}
}

// formatDurations rewrites the duration fields of a decoded event, seconds
// as numbers, into Go duration strings.
func formatDurations(evt map[string]any) error {
	for name, v := range evt {
		n, ok := v.(json.Number)
		if !ok || !IsDuration(name) {
			continue
		}
		secs, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			continue
		}
		evt[name] = time.Duration(secs * float64(time.Second)).String()
	}
	return nil
}
