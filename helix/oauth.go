package helix

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"golang.org/x/oauth2"
)

// exchange returns an attempt for retry that runs one x/oauth2 token
// request (a client-credentials or refresh grant) and stores the token in
// *got. x/oauth2 builds the request and parses Twitch's answer; its HTTP
// goes through send, so token requests are counted, logged, size-bounded
// and retried exactly like every other request.
func (c *Client) exchange(endpoint string, got **oauth2.Token, fetch func(ctx context.Context) (*oauth2.Token, error)) func(ctx context.Context) (*response, error) {
	return func(ctx context.Context) (*response, error) {
		rec := &recorder{c: c, endpoint: endpoint}
		hc := &http.Client{Transport: rec, Timeout: c.hc.Timeout}
		tok, err := fetch(context.WithValue(ctx, oauth2.HTTPClient, hc))
		switch {
		case rec.resp == nil && rec.err != nil:
			return nil, rec.err // a transport error, already named by send
		case rec.resp == nil:
			return nil, fmt.Errorf("%s: %w: %w", errPrefix(endpoint), errBuild, err)
		case rec.resp.status < 200 || rec.resp.status > 299:
			return rec.resp, nil // retry decides from the status
		case err != nil:
			// Never wrap err: x/oauth2's texts can quote the answer, which
			// holds the token.
			return nil, malformed(endpoint, "not a token answer")
		}
		*got = tok
		return rec.resp, nil
	}
}

// recorder is the transport x/oauth2 is handed: it sends through
// Client.send and keeps the answer for exchange.
type recorder struct {
	c        *Client
	endpoint string
	resp     *response
	err      error
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.c.send(req, r.endpoint)
	r.resp, r.err = resp, err
	if err != nil {
		return nil, err
	}
	return &http.Response{
		Status:        http.StatusText(resp.status),
		StatusCode:    resp.status,
		Header:        resp.header,
		Body:          io.NopCloser(bytes.NewReader(resp.body)),
		ContentLength: int64(len(resp.body)),
		Request:       req,
	}, nil
}
