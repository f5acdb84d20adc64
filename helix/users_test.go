package helix_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/farmd/farmd/helix"
	"github.com/farmd/farmd/helix/helixtest"
	"github.com/farmd/farmd/presence"
)

func TestResolveLogins(t *testing.T) {
	e := newEnv(t, helixtest.Options{}, nil)
	alice := e.srv.AddUser("alice")
	bob := e.srv.AddUser("bob")
	got, err := e.c.ResolveLogins(context.Background(), []string{"Alice", "ghost", "bad login!", "bob", "alice"})
	if err != nil {
		t.Fatalf("ResolveLogins: %v", err)
	}
	want := []presence.Streamer{{ID: alice, Login: "alice"}, {ID: bob, Login: "bob"}}
	slices.SortFunc(got, func(a, b presence.Streamer) int { return strings.Compare(a.ID, b.ID) })
	if !slices.Equal(got, want) {
		t.Errorf("streamers: got %+v, want %+v", got, want)
	}
	reqs := e.srv.Requests(helixtest.EndpointUsers)
	if len(reqs) != 1 {
		t.Fatalf("users requests: got %d, want 1", len(reqs))
	}
	if got, want := reqs[0]["login"], []string{"alice", "ghost", "bob"}; !slices.Equal(got, want) {
		t.Errorf("logins sent: got %v, want %v (malformed one never sent)", got, want)
	}
}

func TestResolveLoginsBatches(t *testing.T) {
	e := newEnv(t, helixtest.Options{}, nil)
	var logins []string
	for i := range 120 {
		logins = append(logins, "user"+strconv.Itoa(i))
		if i%2 == 0 {
			e.srv.AddUser(logins[i])
		}
	}
	got, err := e.c.ResolveLogins(context.Background(), logins)
	if err != nil {
		t.Fatalf("ResolveLogins: %v", err)
	}
	if len(got) != 60 {
		t.Errorf("streamers: got %d, want 60", len(got))
	}
	reqs := e.srv.Requests(helixtest.EndpointUsers)
	if len(reqs) != 2 || len(reqs[0]["login"]) != 100 || len(reqs[1]["login"]) != 20 {
		t.Errorf("users requests: got %d, want 2 with 100 and 20 logins", len(reqs))
	}
}

func TestResolveLoginsErrors(t *testing.T) {
	tests := []struct {
		name    string
		fault   helixtest.Fault
		wantErr string
		wantAPI int
	}{
		{"malformed JSON", helixtest.Fault{Body: "not json", Times: 1}, "helix users: decode response", 0},
		{"400", helixtest.Fault{Status: http.StatusBadRequest, Message: "Invalid login names, emails or IDs in request", Times: 1},
			"helix users: 400 Bad Request: Invalid login names, emails or IDs in request", http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, helixtest.Options{}, nil)
			var logins []string
			for i := range 150 {
				logins = append(logins, "user"+strconv.Itoa(i))
				e.srv.AddUser(logins[i])
			}
			e.srv.Fail(helixtest.EndpointUsers, tc.fault)
			got, err := e.c.ResolveLogins(context.Background(), logins)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err: got %v, want it to contain %q", err, tc.wantErr)
			}
			var ae *helix.APIError
			if errors.As(err, &ae) != (tc.wantAPI != 0) {
				t.Errorf("APIError in chain: got %v, want status %d", ae, tc.wantAPI)
			}
			if len(got) != 50 {
				t.Errorf("streamers: got %d, want 50 (the second batch still resolved)", len(got))
			}
		})
	}
}
