package twitch

import "testing"

func TestNormalizeLogin(t *testing.T) {
	tests := []struct{ in, want string }{
		{"shroud", "shroud"},
		{" #Shroud ", "shroud"},
		{"##x", "#x"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := NormalizeLogin(tc.in); got != tc.want {
			t.Errorf("NormalizeLogin(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestValidLogin(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"shroud", true},
		{"Shroud_2", true},
		{"a", true},
		{"abcdefghijklmnopqrstuvwxy", true},   // 25
		{"abcdefghijklmnopqrstuvwxyz", false}, // 26
		{"", false},
		{"#shroud", false},
		{"sh roud", false},
		{"shr-oud", false},
		{"shröud", false},
	}
	for _, tc := range tests {
		if got := ValidLogin(tc.in); got != tc.want {
			t.Errorf("ValidLogin(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestOAuthPrefix(t *testing.T) {
	tests := []struct{ in, bare string }{
		{"abc", "abc"},
		{"oauth:abc", "abc"},
		{"OAuth:abc", "abc"},
		{" oauth:abc\n", "abc"},
		{"oauth:oauth:abc", "oauth:abc"}, // one prefix only
		{"oauth:", ""},
	}
	for _, tc := range tests {
		if got := StripOAuthPrefix(tc.in); got != tc.bare {
			t.Errorf("StripOAuthPrefix(%q) = %q, want %q", tc.in, got, tc.bare)
		}
		if got, want := ChatPassword(tc.in), "oauth:"+tc.bare; got != want {
			t.Errorf("ChatPassword(%q) = %q, want %q", tc.in, got, want)
		}
	}
}

func TestLoginFromInput(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		changed bool
	}{
		{"shroud", "shroud", false},
		{"#Shroud", "shroud", false},
		{"Shroud", "shroud", false},
		{"https://twitch.tv/foo", "foo", true},
		{"https://www.twitch.tv/foo/", "foo", true},
		{"http://m.twitch.tv/Foo?referrer=raid", "foo", true},
		{"twitch.tv/foo", "foo", true},
		{"www.twitch.tv/foo", "foo", true},
		{"@foo", "foo", true},
		{" foo ", "foo", true},
		{"\tfoo", "foo", true},
		// Not a channel's address or a login: returned normalised, unchanged,
		// for the caller to reject.
		{"https://twitch.tv/foo/videos", "https://twitch.tv/foo/videos", false},
		{"https://example.com/foo", "https://example.com/foo", false},
		{"https://twitch.tv/", "https://twitch.tv/", false},
		{"foo bar", "foo bar", false},
		{"@", "@", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, changed := LoginFromInput(tc.in)
		if got != tc.want || changed != tc.changed {
			t.Errorf("LoginFromInput(%q) = %q, %v, want %q, %v", tc.in, got, changed, tc.want, tc.changed)
		}
	}
}

func TestGuessLogin(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://twitch.tv/foo/videos", "foo"},
		{"https://www.twitch.tv/Foo/clips?filter=all", "foo"},
		{"shroud.", "shroud"},
		{"<shroud>", "shroud"},
		{"@shroud!", "shroud"},
		{"shroud", ""}, // already a login: nothing to suggest
		{"foo bar", ""},
		{"https://example.com/foo", ""},
		{"!!!", ""},
	}
	for _, tc := range tests {
		if got := GuessLogin(tc.in); got != tc.want {
			t.Errorf("GuessLogin(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
