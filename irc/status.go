package irc

import "time"

// ChannelStatus is the state of one wanted channel.
type ChannelStatus struct {
	Name   string
	State  ChannelState
	Since  time.Time
	Reason string
}

// Status is a snapshot of a Manager, for /status.
type Status struct {
	// Connected is true while a connection is welcomed (001 received).
	Connected bool
	// Since is when Connected last changed.
	Since time.Time
	// Channels are the wanted channels in priority order.
	Channels []ChannelStatus

	// Connects counts welcomed connections.
	Connects int64
	// Disconnects counts welcomed connections that were lost.
	Disconnects int64
	// ReconnectAttempts counts connection attempts after the first.
	ReconnectAttempts int64
	// JoinsSent counts channels JOINed (each channel of a multi-channel JOIN).
	JoinsSent int64
	// PartsSent counts channels PARTed.
	PartsSent int64
}
