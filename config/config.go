// Package config reads farmd's YAML configuration.
//
// The struct tags of Config are the schema: every key's name, default,
// checks, secret file and environment variable, and whether a reload
// applies it, are written once, on its field (see schema.go), and
// decoding, Default, Validate, Load and RestartNeeded all follow them.
//
// Load is what the daemon and its --check mode use: it reads the file,
// decodes it strictly over Default (an unknown key is an error), applies
// the environment overrides, reads the *_file secrets, normalises logins
// and URLs and validates the result. Every problem found is reported at
// once, each naming its field and, where known, its line, in an *Error.
//
// Secrets are held in the Secret type, whose String, GoString, Format,
// MarshalText and MarshalJSON methods redact the value, so a Config can be
// logged or printed without leaking them.
package config

import "time"

// Environment variables that override the config file: the env tags of
// Config's secrets name them, and a test checks that they agree.
const (
	// EnvClientSecret overrides twitch.client_secret and twitch.client_secret_file.
	EnvClientSecret = "FARMD_CLIENT_SECRET"
	// EnvIRCToken overrides irc.token and irc.token_file.
	EnvIRCToken = "FARMD_IRC_TOKEN"
)

// AutoIntervalValue is the poll.interval value that selects AutoInterval.
const AutoIntervalValue = "auto"

// Config is farmd's whole configuration.
type Config struct {
	// StateDir is where farmd keeps its state: the token `farmd login`
	// stores, and what later runs need to remember. After Load it is set:
	// when the file has none, $STATE_DIRECTORY (systemd's StateDirectory=)
	// or else the config file's directory.
	StateDir string `yaml:"state_dir" check:"path"`
	Twitch   Twitch `yaml:"twitch"`
	IRC      IRC    `yaml:"irc"`
	Poll     Poll   `yaml:"poll" reload:""`
	HTTP     HTTP   `yaml:"http"`
	// EventSub is real-time live detection through an EventSub conduit.
	EventSub EventSub `yaml:"eventsub"`
	// Points checks that presence is credited by loyalty bots.
	Points Points `yaml:"points"`
	// Notify lists the notification services and what each is told.
	Notify []Notify `yaml:"notify"`
	// Streamers are the streamers to be present for, in priority order:
	// when more are to be joined than irc.max_channels allows, the first
	// ones win. An entry is a plain login or a mapping with its own
	// settings. After Load the logins are lowercase, without '#', and free
	// of duplicates (a login repeated as plain entries is dropped with a
	// warning; repeated where either entry is a mapping, it is an error).
	// It may be empty only when Follows is enabled.
	Streamers []Streamer `yaml:"streamers" scalar:"login" dedupe:"plain" reload:""`
	// Follows adds the channels the chat account follows to Streamers.
	Follows Follows `yaml:"follows" reload:""`
}

// Streamer is one entry of Config.Streamers: a login and how farmd treats
// it. A plain login in the file sets Login and leaves the rest at their
// defaults. presence.StreamerSettings is what the daemon makes of it.
type Streamer struct {
	// Login is the streamer's Twitch login (lowercase after Load).
	Login string `yaml:"login" check:"login" required:"required (a Twitch login)"`
	// Presence says when the account is in the streamer's chat: "live"
	// (while live, and for the offline grace after), "always" (whether
	// live or not, within irc.max_channels) or "never" (never joined; still
	// watched, for notifications).
	Presence string `yaml:"presence" oneof:"live|always|never" default:"live"`
	// OfflineGrace, when set, replaces poll.offline_grace for this
	// streamer; nil means poll.offline_grace.
	OfflineGrace *time.Duration `yaml:"offline_grace" check:"nonnegative"`
	// Notify says whether notifications about this streamer going live and
	// offline are sent.
	Notify bool `yaml:"notify" default:"true"`
}

// The values of Streamer.Presence.
const (
	PresenceLive   = "live"
	PresenceAlways = "always"
	PresenceNever  = "never"
)

// PlainStreamers returns the entries a list of plain logins gives: each
// login with the default settings, as Load makes them.
func PlainStreamers(logins ...string) []Streamer {
	out := make([]Streamer, len(logins))
	for i, l := range logins {
		out[i] = defaultStreamer
		out[i].Login = l
	}
	return out
}

// Follows holds the settings of adding the followed channels.
type Follows struct {
	// Enabled adds the channels the chat account follows (Helix
	// /channels/followed, with its user token and the user:read:follows
	// scope) after the listed streamers, with the default settings; a
	// listed streamer keeps its own settings and place.
	Enabled bool `yaml:"enabled"`
	// Refresh is how often the followed channels are fetched again.
	Refresh time.Duration `yaml:"refresh" default:"1h" check:"positive"`
}

// Twitch holds the application credentials and API endpoints used for
// Helix.
type Twitch struct {
	// ClientID is the application's Client ID (dev.twitch.tv/console).
	ClientID string `yaml:"client_id" check:"id" placeholder:"REPLACE_WITH_YOUR_CLIENT_ID" required:"required (the Client ID of your application at dev.twitch.tv/console)"`
	// ClientSecret is the application's Client Secret; a public
	// application has none (Helix is then polled with the user token).
	// Load fills it from FARMD_CLIENT_SECRET, ClientSecretFile or the file
	// itself, in that order of precedence.
	ClientSecret Secret `yaml:"client_secret" file:"client_secret_file" env:"FARMD_CLIENT_SECRET" optional:""`
	// ClientSecretFile names a file holding the Client Secret. $VAR and
	// ${VAR} are expanded; a relative path is relative to the config
	// file's directory. Load reads it, stores the value in ClientSecret and
	// clears this field.
	ClientSecretFile string `yaml:"client_secret_file"`
	// AuthURL is the OAuth base: tokens come from AuthURL+"/token" and are
	// checked at AuthURL+"/validate". Load trims a trailing '/'.
	AuthURL string `yaml:"auth_url" check:"url" default:"twitch.DefaultAuthURL"`
	// HelixURL is the Helix base: HelixURL+"/users", HelixURL+"/streams".
	// Load trims a trailing '/'.
	HelixURL string `yaml:"helix_url" check:"url" default:"twitch.DefaultHelixURL"`
}

// IRC holds the chat account and connection settings.
type IRC struct {
	// Username is the chat account's login (lowercase after Load).
	// With a static Token it is required; without one it may be empty (the
	// stored token says whose it is) and, if set, must match the stored
	// token's login.
	Username string `yaml:"username" check:"login" placeholder:"your_bot_login" optional:""`
	// Token is a static user access token of the account (scope
	// chat:read), never refreshed. Without one farmd uses the token `farmd
	// login` stored in StateDir and keeps it renewed. After Load it is
	// stored without the "oauth:" prefix, whether or not the source had
	// one. Load fills it from FARMD_IRC_TOKEN, TokenFile or the file itself,
	// in that order of precedence.
	Token Secret `yaml:"token" check:"oauth" file:"token_file" env:"FARMD_IRC_TOKEN" optional:""`
	// TokenFile names a file holding the token, expanded and resolved like
	// Twitch.ClientSecretFile; Load reads it and clears this field.
	TokenFile string `yaml:"token_file"`
	// Address is the IRC server as host:port.
	Address string `yaml:"address" check:"address" default:"twitch.DefaultIRCAddress"`
	// TLS selects a TLS connection.
	TLS bool `yaml:"tls" default:"true"`
	// VerifiedBot selects the JOIN rate limit of a verified bot (2000 per
	// 10 s) instead of the normal one (20 per 10 s).
	VerifiedBot bool `yaml:"verified_bot"`
	// MaxChannels caps the channels joined at once, 1 to 100.
	MaxChannels int `yaml:"max_channels" default:"100" min:"1" max:"100" why:"Twitch's limit of channels joined at once" reload:""`
}

// Poll holds the stream polling settings.
type Poll struct {
	// Interval is the time between two Helix polls; it must be positive,
	// unless AutoInterval is set.
	Interval time.Duration `yaml:"interval" default:"60s" check:"positive" auto:"AutoInterval"`
	// AutoInterval is set by `interval: auto` (Interval is then 0): the
	// shortest interval that spends at most half of the Helix rate-limit
	// bucket on polling the streamers, and never less than
	// MinAutoInterval. presence.AutoInterval computes it.
	AutoInterval bool `yaml:"-"`
	// OfflineGrace is how long a streamer must be seen offline before its
	// channel is left; 0 leaves at once.
	OfflineGrace time.Duration `yaml:"offline_grace" default:"2m" check:"nonnegative"`
}

// EventSub holds the real-time detection settings.
type EventSub struct {
	// Enabled turns EventSub on; polling goes on either way.
	Enabled bool `yaml:"enabled" default:"true"`
	// WebSocketURL is Twitch's EventSub WebSocket endpoint.
	WebSocketURL string `yaml:"websocket_url" check:"wsurl" default:"twitch.DefaultEventSubURL"`
}

// Notify is one notification service: a shoutrrr URL (a secret: it holds
// the service's credentials) and the events it receives.
type Notify struct {
	// URL is the service's shoutrrr URL, e.g. telegram://TOKEN@telegram?chats=@x.
	// Load fills it from URLFile or the file itself.
	URL Secret `yaml:"url" file:"url_file"`
	// URLFile names a file holding the URL, expanded and resolved like the
	// other *_file keys (a systemd credential: ${CREDENTIALS_DIRECTORY}/notify).
	URLFile string `yaml:"url_file"`
	// Events are the kinds of event sent there; empty means all.
	Events []string `yaml:"events" oneof:"live|offline|unavailable|token|daemon|credit"`
}

// Points holds the loyalty checks: StreamElements' public API, asked for
// the chat account's watch time and points where farmd was present.
type Points struct {
	// StreamElements turns the check on; off, farmd talks only to Twitch.
	StreamElements bool `yaml:"streamelements"`
	// APIURL is StreamElements' API base.
	APIURL string `yaml:"api_url" check:"url" default:"https://api.streamelements.com/kappa/v2"`
	// Every is how often the readings are taken.
	Every time.Duration `yaml:"every" default:"30m" check:"positive"`
}

// HTTP holds the operations HTTP server settings.
type HTTP struct {
	// Listen is the host:port to serve on; empty disables the server.
	Listen string `yaml:"listen" check:"listen"`
}

// Default returns the configuration with every optional setting at its
// default, as the default tags give them. The required ones (client ID
// and secret, username, token, streamers) are empty.
func Default() Config {
	return defaults
}
