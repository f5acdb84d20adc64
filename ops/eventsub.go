package ops

import (
	"time"

	"github.com/farmd/farmd/eventsub"
)

// EventSubStatus is the EventSub conduit as /status shows it.
type EventSubStatus struct {
	Healthy       bool   `json:"healthy"`
	ConduitID     string `json:"conduit_id,omitempty"`
	ShardStatus   string `json:"shard_status"`
	Subscriptions int    `json:"subscriptions"`
	TotalCost     int    `json:"total_cost"`
	MaxTotalCost  int    `json:"max_total_cost,omitempty"`
	// PolledOnly counts streamers past max_total_cost: watched by polls only.
	PolledOnly        int       `json:"polled_only"`
	EventsReceived    int64     `json:"events_received"`
	DuplicatesIgnored int64     `json:"duplicates_ignored"`
	Reconnects        int64     `json:"reconnects"`
	LastError         string    `json:"last_error,omitempty"`
	LastErrorAt       time.Time `json:"last_error_at,omitzero"`
}

func eventSubStatus(st eventsub.Status) *EventSubStatus {
	return &EventSubStatus{
		Healthy: st.Healthy, ConduitID: st.ConduitID, ShardStatus: st.ShardStatus,
		Subscriptions: st.Subscriptions, TotalCost: st.TotalCost, MaxTotalCost: st.MaxTotalCost,
		PolledOnly: st.PolledOnly, EventsReceived: st.EventsReceived, DuplicatesIgnored: st.DuplicatesIgnored,
		Reconnects: st.Reconnects, LastError: st.LastError, LastErrorAt: st.LastErrorAt,
	}
}
