package helix_test

import (
	"context"
	"errors"
	"testing"

	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/helix/helixtest"
)

// TestCheckStreamsRejectsForeignStreams: an answer listing a stream of a
// user that was not asked about is not what Twitch sends; reading it would
// make every user asked about "offline", so the whole batch fails instead.
func TestCheckStreamsRejectsForeignStreams(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"another user", `{"data":[{"user_id":"424242","user_login":"someone","type":"live"}],"pagination":{}}`},
		{"invalid UTF-8 user_id", "{\"data\":[{\"user_id\":\"\xff\xfe\",\"type\":\"live\"}]}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, helixtest.Options{}, nil)
			id := e.srv.AddUser("alice")
			e.srv.SetLive("alice", true)
			e.srv.Fail(helixtest.EndpointStreams, helixtest.Fault{Times: 1, Body: tc.body})
			got, err := e.c.CheckStreams(context.Background(), []string{id})
			if !errors.Is(err, helix.ErrMalformedResponse) {
				t.Fatalf("got error %v, want ErrMalformedResponse", err)
			}
			if len(got) != 0 {
				t.Errorf("got statuses %+v, want none (the batch failed)", got)
			}
		})
	}
}
