package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nicholas-fedor/shoutrrr/pkg/router"
	"github.com/nicholas-fedor/shoutrrr/pkg/services/chat/discord"
	"github.com/nicholas-fedor/shoutrrr/pkg/types"
	"github.com/rs/zerolog"
)

// binding is the HTTP client (and, for Discord, the sleeper) of one
// service. No shoutrrr service takes a context: each builds its requests on
// context.Background. binding hands every request the context of the
// current send, so a send timeout or a shutdown aborts a request to a
// hanging server, and Discord's own retry sleeps end with it.
type binding struct {
	client types.HTTPClient

	mu  sync.Mutex
	ctx context.Context
}

func newBinding(client types.HTTPClient) *binding {
	return &binding{client: client, ctx: context.Background()}
}

// bind makes ctx the context of the requests that follow.
func (b *binding) bind(ctx context.Context) {
	b.mu.Lock()
	b.ctx = ctx
	b.mu.Unlock()
}

func (b *binding) current() context.Context {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ctx
}

// Do sends req, cancelled when either its own context or the bound one ends.
func (b *binding) Do(req *http.Request) (*http.Response, error) {
	ctx := b.current()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	merged, cancel := context.WithCancelCause(req.Context())
	// Fires when the send is over (its context is always cancelled),
	// which also releases merged: the response body has been read by then.
	context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	return b.client.Do(req.WithContext(merged))
}

// Sleep waits d or until the bound context ends.
func (b *binding) Sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-b.current().Done():
	}
}

var _ discord.Sleeper = (*binding)(nil)

// locate builds the shoutrrr service for u with shoutrrr's own parser.
// With a binding, the service's HTTP requests go through it. Errors are
// scrubbed of u.
func locate(u URL, b *binding) (types.Service, error) {
	var opts types.SenderOptions
	if b != nil {
		opts.HTTPClient = b
	}
	r, err := router.NewWithOptions(nil, opts)
	if err != nil {
		return nil, newScrubber(u).err(err)
	}
	svc, err := r.Locate(string(u))
	if err != nil {
		return nil, newScrubber(u).err(err)
	}
	if d, ok := svc.(*discord.Service); ok && b != nil {
		d.Sleeper = b
	}
	return svc, nil
}

// httpClient returns opts.HTTPClient, or a client with a transport of its
// own (returned too, for closing its idle connections) and SendTimeout.
func httpClient(opts Options) (*http.Client, *http.Transport) {
	if opts.HTTPClient != nil {
		return opts.HTTPClient, nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{Transport: tr, Timeout: opts.SendTimeout}, tr
}

// sendGrace is how long a send may outlive its context: an HTTP service
// returns at once (its request is cancelled), one that ignores contexts
// (SMTP, MQTT) is left to finish on its own after it.
const sendGrace = time.Second

// service is one target's shoutrrr service, used by one goroutine at a
// time: shoutrrr services are not safe for concurrent sends (Twilio edits
// its config in Send).
type service struct {
	name  string
	svc   types.Service
	bind  *binding
	scrub scrubber
	// busy is a send that outlived its context and is still running; the
	// next send waits for it rather than use the service concurrently.
	busy chan error
}

// newService builds the service of target index i. log receives the
// messages of the "logger://" service, which writes each one as a log line.
func newService(u URL, client types.HTTPClient, log zerolog.Logger) (*service, error) {
	b := newBinding(client)
	svc, err := locate(u, b)
	if err != nil {
		return nil, err
	}
	if svc.GetID() == "logger" {
		svc.SetLogger(logWriter{log})
	}
	return &service{name: u.Service(), svc: svc, bind: b, scrub: newScrubber(u)}, nil
}

// send delivers text, returning when it is delivered, has failed, or ctx
// has ended. The error is scrubbed.
func (s *service) send(ctx context.Context, text string) error {
	if s.busy != nil {
		select {
		case <-s.busy:
			s.busy = nil
		case <-ctx.Done():
			return fmt.Errorf("previous send still running: %w", ctx.Err())
		}
	}
	s.bind.bind(ctx)
	done := make(chan error, 1)
	go func() { done <- s.svc.Send(text, &types.Params{}) }()
	select {
	case err := <-done:
		return s.scrub.err(err)
	case <-ctx.Done():
	}
	t := time.NewTimer(sendGrace)
	defer t.Stop()
	select {
	case err := <-done:
		if err == nil {
			return nil
		}
		return s.scrub.err(fmt.Errorf("%w: %v", ctx.Err(), err))
	case <-t.C:
		s.busy = done
		return fmt.Errorf("send abandoned: %w", ctx.Err())
	}
}

// logWriter is the shoutrrr logger of the "logger://" service: each
// message becomes an info line "notification" with the text in a field.
type logWriter struct{ log zerolog.Logger }

func (l logWriter) Print(v ...any) { l.write(fmt.Sprint(v...)) }

func (l logWriter) Printf(format string, v ...any) { l.write(fmt.Sprintf(format, v...)) }

func (l logWriter) Println(v ...any) { l.write(fmt.Sprintln(v...)) }

func (l logWriter) write(s string) {
	l.log.Info().Str("text", strings.TrimRight(s, "\n")).Msg("notification")
}
