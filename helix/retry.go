package helix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"
)

// response is an HTTP answer whose body has been read (bounded).
type response struct {
	status int
	header http.Header
	body   []byte
}

// send performs one HTTP request and reads its body up to c.maxBody bytes.
// Errors name the endpoint but never the URL, whose query can be long.
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
		return nil, fmt.Errorf("%s %s: %w", apiName(endpoint), endpoint, err)
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
		return nil, fmt.Errorf("%s %s: read body: %w", apiName(endpoint), endpoint, err)
	}
	if int64(len(body)) > c.maxBody {
		return nil, fmt.Errorf("%s %s: %w (over %d bytes)", apiName(endpoint), endpoint, errBodyTooLarge, c.maxBody)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// do sends the request newReq builds until it gets a 2xx answer, whose body
// it returns. 5xx, timeouts and transport errors are retried with
// exponential backoff and jitter, 429 after Ratelimit-Reset, up to
// c.maxAttempts attempts in all. Other statuses (including 401, which the
// caller handles) return an *APIError at once.
func (c *Client) do(ctx context.Context, endpoint string, newReq func(ctx context.Context) (*http.Request, error)) ([]byte, error) {
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			c.stats.retries.Add(1)
		}
		req, err := newReq(ctx)
		if err != nil {
			return nil, fmt.Errorf("build %s request: %w", endpoint, err)
		}
		resp, err := c.send(req, endpoint)
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s %s: %w", apiName(endpoint), endpoint, ctx.Err())
			}
			if errors.Is(err, errBodyTooLarge) {
				return nil, err
			}
			lastErr = err
			wait = c.backoff(attempt)
		case resp.status >= 200 && resp.status < 300:
			return resp.body, nil
		case resp.status == http.StatusTooManyRequests:
			lastErr = newAPIError(endpoint, resp.status, resp.body)
			wait = c.rateLimitWait(resp.header, attempt)
		case resp.status >= 500:
			lastErr = newAPIError(endpoint, resp.status, resp.body)
			wait = c.backoff(attempt)
		default:
			return nil, newAPIError(endpoint, resp.status, resp.body)
		}
		if attempt+1 >= c.maxAttempts {
			return nil, fmt.Errorf("giving up after %d attempts: %w", c.maxAttempts, lastErr)
		}
		c.log.Debug().Str("endpoint", endpoint).Int("attempt", attempt+1).
			Dur("wait", wait).Err(lastErr).Msg("retrying request")
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%s %s: wait before retry: %w (last error: %v)", apiName(endpoint), endpoint, err, lastErr)
		}
	}
}

// backoff is the wait before attempt+2: base*2^attempt capped at max, with
// "equal jitter" (half fixed, half random) so that concurrent clients
// spread out but never retry immediately.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.backoffMax
	if attempt < 30 {
		if e := c.backoffBase << attempt; e > 0 && e < d {
			d = e
		}
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// rateLimitWait is the wait after a 429: until Ratelimit-Reset, bounded by
// c.maxRLWait; backoff when the header is missing or unreadable.
func (c *Client) rateLimitWait(h http.Header, attempt int) time.Duration {
	reset, ok := parseReset(h.Get("Ratelimit-Reset"))
	if !ok {
		return c.backoff(attempt)
	}
	d := reset.Sub(c.now())
	if d < 0 {
		d = 0
	}
	if d > c.maxRLWait {
		d = c.maxRLWait
	}
	return d
}
