package eventsub

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Message types of EventSub's WebSocket frames (metadata.message_type).
const (
	msgWelcome      = "session_welcome"
	msgKeepalive    = "session_keepalive"
	msgNotification = "notification"
	msgReconnect    = "session_reconnect"
	msgRevocation   = "revocation"
)

// Subscription types farmd uses, both version "1".
const (
	TypeStreamOnline  = "stream.online"
	TypeStreamOffline = "stream.offline"
	subVersion        = "1"
)

// errMalformed marks a frame that is not a usable EventSub message.
var errMalformed = errors.New("malformed frame")

// message is one decoded WebSocket frame. Only the fields farmd reads are
// kept; Twitch adds fields freely.
type message struct {
	ID        string    // metadata.message_id
	Type      string    // metadata.message_type
	Timestamp time.Time // metadata.message_timestamp; zero if absent
	SubType   string    // metadata.subscription_type (notification, revocation)

	Session      session      // welcome, reconnect
	Subscription subscription // notification, revocation
	Event        streamEvent  // notification
}

type session struct {
	ID               string `json:"id"`
	Status           string `json:"status"`
	KeepaliveTimeout *int   `json:"keepalive_timeout_seconds"`
	ReconnectURL     string `json:"reconnect_url"`
}

type streamEvent struct {
	BroadcasterUserID    string `json:"broadcaster_user_id"`
	BroadcasterUserLogin string `json:"broadcaster_user_login"`
	StartedAt            string `json:"started_at"`
}

type wireMessage struct {
	Metadata struct {
		MessageID           string `json:"message_id"`
		MessageType         string `json:"message_type"`
		MessageTimestamp    string `json:"message_timestamp"`
		SubscriptionType    string `json:"subscription_type"`
		SubscriptionVersion string `json:"subscription_version"`
	} `json:"metadata"`
	Payload struct {
		Session      *session      `json:"session"`
		Subscription *subscription `json:"subscription"`
		Event        *streamEvent  `json:"event"`
	} `json:"payload"`
}

// decodeMessage parses one text frame. It rejects frames without the fields
// their type needs, so the caller never acts on half a message; a frame of
// an unknown type decodes (Twitch may add types) and is ignored by the
// caller. Every error wraps errMalformed.
func decodeMessage(data []byte) (message, error) {
	var w wireMessage
	if err := json.Unmarshal(data, &w); err != nil {
		return message{}, fmt.Errorf("%w: %v", errMalformed, err)
	}
	md := w.Metadata
	m := message{ID: md.MessageID, Type: md.MessageType, SubType: md.SubscriptionType}
	if m.Type == "" {
		return message{}, fmt.Errorf("%w: no metadata.message_type", errMalformed)
	}
	if m.ID == "" {
		return message{}, fmt.Errorf("%w: %s without metadata.message_id", errMalformed, m.Type)
	}
	if md.MessageTimestamp != "" {
		ts, err := time.Parse(time.RFC3339Nano, md.MessageTimestamp)
		if err != nil {
			return message{}, fmt.Errorf("%w: %s: bad message_timestamp %q", errMalformed, m.Type, md.MessageTimestamp)
		}
		m.Timestamp = ts
	}
	switch m.Type {
	case msgWelcome, msgReconnect:
		if w.Payload.Session == nil || w.Payload.Session.ID == "" {
			return message{}, fmt.Errorf("%w: %s without payload.session.id", errMalformed, m.Type)
		}
		m.Session = *w.Payload.Session
		if m.Type == msgReconnect && m.Session.ReconnectURL == "" {
			return message{}, fmt.Errorf("%w: %s without reconnect_url", errMalformed, m.Type)
		}
		if m.Session.KeepaliveTimeout != nil && *m.Session.KeepaliveTimeout < 0 {
			return message{}, fmt.Errorf("%w: %s: negative keepalive_timeout_seconds", errMalformed, m.Type)
		}
	case msgNotification, msgRevocation:
		if w.Payload.Subscription == nil {
			return message{}, fmt.Errorf("%w: %s without payload.subscription", errMalformed, m.Type)
		}
		m.Subscription = *w.Payload.Subscription
		if m.SubType == "" {
			m.SubType = m.Subscription.Type
		}
		if m.Type == msgNotification {
			if w.Payload.Event == nil || w.Payload.Event.BroadcasterUserID == "" {
				return message{}, fmt.Errorf("%w: %s without payload.event.broadcaster_user_id", errMalformed, m.Type)
			}
			m.Event = *w.Payload.Event
		}
	}
	return m, nil
}
