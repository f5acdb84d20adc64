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
