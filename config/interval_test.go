package config

import (
	"strings"
	"testing"
	"time"
)

// TestPollIntervalAuto checks that poll.interval accepts "auto" (exactly)
// besides durations, and that validation accepts an automatic interval
// while still refusing a zero one.
func TestPollIntervalAuto(t *testing.T) {
	tests := []struct {
		name     string
		value    string
		auto     bool
		interval time.Duration
		problem  string // substring of the Parse error; "" for none
	}{
		{name: "auto", value: "auto", auto: true},
		{name: "auto quoted", value: `"auto"`, auto: true},
		{name: "duration", value: "30s", interval: 30 * time.Second},
		{name: "capitalised", value: "Auto", problem: `poll.interval: "Auto" is not a duration`},
		{name: "misspelt", value: "automatic", problem: `poll.interval: "automatic" is not a duration`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader("poll:\n  interval: " + tc.value + "\n"))
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problem) {
					t.Fatalf("got error %v, want one containing %q", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if c.Poll.AutoInterval != tc.auto || c.Poll.Interval != tc.interval {
				t.Errorf("got auto %v interval %s, want %v %s", c.Poll.AutoInterval, c.Poll.Interval, tc.auto, tc.interval)
			}
		})
	}
}

// TestValidateAutoInterval checks that Validate accepts an automatic
// interval (Interval 0) and still names poll.interval when it is neither.
func TestValidateAutoInterval(t *testing.T) {
	for _, tc := range []struct {
		name    string
		auto    bool
		wantBad bool
	}{{"auto", true, false}, {"zero", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Poll.Interval, c.Poll.AutoInterval = 0, tc.auto
			err := c.Validate()
			bad := err != nil && strings.Contains(err.Error(), "poll.interval")
			if bad != tc.wantBad {
				t.Errorf("got error %v; want a poll.interval problem: %v", err, tc.wantBad)
			}
		})
	}
}
