package helix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/farmd/farmd/backoff"
)

// response is an HTTP answer whose body has been read (bounded).
type response struct {
	status int
	header http.Header
	body   []byte
}

// send performs one HTTP request and reads its body up to c.maxBody bytes.
// Errors name the endpoint but never the URL, whose query can be long, nor
// the request body, which for the token endpoint holds the client secret.
func (c *Client) send(req *http.Request, endpoint string) (*response, error) {
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.stats.transportErrors.Add(1)
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		c.log.Debug().Str("method", req.Method).Str("endpoint", req.URL.Path).
			Dur("duration", time.Since(start)).Err(err).Msg("request failed")
		return nil, fmt.Errorf("%s: %w", errPrefix(endpoint), err)
	}
	defer resp.Body.Close()
	c.stats.response(endpoint, resp.StatusCode)
	isHelix := apiName(endpoint) == "helix"
	if isHelix {
		c.rl.observe(resp.Header)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	ev := c.log.Debug().Str("method", req.Method).Str("endpoint", req.URL.Path).
		Int("status", resp.StatusCode).Dur("duration", time.Since(start))
	if isHelix {
		if rl := c.rl.get(); rl.Known {
			ev = ev.Int("ratelimit_remaining", rl.Remaining)
		}
	}
	ev.Msg("request")
	if err != nil {
		c.stats.transportErrors.Add(1)
		return nil, fmt.Errorf("%s: read body: %w", errPrefix(endpoint), err)
	}
	if int64(len(body)) > c.maxBody {
		return nil, fmt.Errorf("%s: %w (over %d bytes)", errPrefix(endpoint), errBodyTooLarge, c.maxBody)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// do sends the request newReq builds until it gets a 2xx answer, whose body
// it returns, through retry.
func (c *Client) do(ctx context.Context, endpoint string, newReq func(ctx context.Context) (*http.Request, error)) ([]byte, error) {
	return c.retry(ctx, endpoint, func(ctx context.Context) (*response, error) {
		req, err := newReq(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %w", errPrefix(endpoint), errBuild, err)
		}
		return c.send(req, endpoint)
	})
}

// errBuild marks an attempt that failed before anything was sent: it is
// not retried.
var errBuild = errors.New("build request")

// retry runs try until it gets a 2xx answer, whose body it returns. It
// is the package's one retry loop: the token grants (x/oauth2 exchanges),
// /validate and Helix all go through it, so that they retry alike. 5xx,
// timeouts and transport errors are retried after a backoff, 429 after
// Ratelimit-Reset, up to c.maxAttempts attempts in all. Other statuses
// (including 401, which withAppToken handles for the app token) return an
// *APIError at once.
func (c *Client) retry(ctx context.Context, endpoint string, try func(ctx context.Context) (*response, error)) ([]byte, error) {
	b := c.newBackoff()
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			c.stats.retries.Add(1)
		}
		resp, err := try(ctx)
		if err == nil && resp.status >= 200 && resp.status < 300 {
			return resp.body, nil
		}
		c.stats.attemptFailed(endpoint)
		// Drawn for every failed attempt, so that the n-th retry's backoff
		// does not depend on whether a 429 came before it.
		wait := b.Next()
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s: %w", errPrefix(endpoint), ctx.Err())
			}
			if errors.Is(err, errBodyTooLarge) || errors.Is(err, errBuild) || errors.Is(err, ErrMalformedResponse) {
				return nil, err
			}
			lastErr = err
		case resp.status == http.StatusTooManyRequests:
			lastErr = newAPIError(endpoint, resp.status, resp.body)
			if d, ok := c.rateLimitWait(resp.header); ok {
				wait = d
			}
		case resp.status >= 500:
			lastErr = newAPIError(endpoint, resp.status, resp.body)
		default:
			return nil, newAPIError(endpoint, resp.status, resp.body)
		}
		if attempt+1 >= c.maxAttempts {
			return nil, fmt.Errorf("%s: giving up after %d attempts: %w", errPrefix(endpoint), c.maxAttempts, lastErr)
		}
		c.log.Debug().Str("endpoint", endpoint).Int("attempt", attempt+1).
			Dur("wait", wait).Err(lastErr).Msg("retrying request")
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%s: wait before retry: %w (last error: %v)", errPrefix(endpoint), err, lastErr)
		}
	}
}

// newBackoff returns the waits between one request's attempts: base*2^n
// capped at max, with "equal jitter" (half fixed, half random) so that
// concurrent requests spread out but never retry immediately. A Backoff
// counts its calls, so every request makes its own.
func (c *Client) newBackoff() *backoff.Backoff {
	return &backoff.Backoff{Min: c.backoffBase, Max: c.backoffMax, Jitter: 0.5}
}

// rateLimitWait is the wait after a 429: until Ratelimit-Reset, bounded by
// c.maxRLWait. It reports false when the header is missing or unreadable.
func (c *Client) rateLimitWait(h http.Header) (time.Duration, bool) {
	reset, ok := parseReset(h.Get("Ratelimit-Reset"))
	if !ok {
		return 0, false
	}
	return min(max(reset.Sub(c.now()), 0), c.maxRLWait), true
}
