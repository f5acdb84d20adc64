package streamelements

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/farmd/farmd/backoff"
)

// Request limits.
const (
	// maxBody bounds an answer: the documented ones are a few hundred
	// bytes.
	maxBody = 64 << 10
	// maxAttempts bounds the tries of one request that fails with a 5xx
	// or a transport error; the next round tries again anyway.
	maxAttempts = 3
	// maxRateLimited bounds the 429s one request waits out.
	maxRateLimited = 3
	// defaultRetryAfter is the pause after a 429 without a usable
	// Retry-After.
	defaultRetryAfter = time.Minute
	// maxRetryAfter caps a Retry-After, so a broken header cannot silence
	// the package for longer than the no-StreamElements mark.
	maxRetryAfter = 24 * time.Hour
	// maxGateWait is the longest a round waits for a 429's pause to pass;
	// a longer one leaves the channel to a later round.
	maxGateWait = 5 * time.Minute
)

// errNotFound is a 404: the channel has no StreamElements, or the
// account is not on its leaderboard.
var errNotFound = errors.New("not found")

// ErrRateLimited is returned (wrapped) for a request left undone because
// StreamElements asked farmd to wait (429, Retry-After) longer than a
// round waits.
var ErrRateLimited = errors.New("rate limited")

// StatusError is an answer with an unexpected HTTP status.
type StatusError struct {
	Status int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("status %d %s", e.Status, http.StatusText(e.Status))
}

// resolve returns channel login's StreamElements id, or errNotFound.
func (w *Watcher) resolve(ctx context.Context, login string) (string, error) {
	body, err := w.fetch(ctx, "/channels/"+url.PathEscape(login))
	if err != nil {
		return "", fmt.Errorf("channel %s: %w", login, err)
	}
	id, err := decodeChannel(body)
	if err != nil {
		return "", fmt.Errorf("channel %s: %w", login, err)
	}
	return id, nil
}

// points returns the account's reading in the channel with id, or
// errNotFound.
func (w *Watcher) points(ctx context.Context, login, id string) (Reading, error) {
	body, err := w.fetch(ctx, "/points/"+url.PathEscape(id)+"/"+url.PathEscape(w.user))
	if err != nil {
		return Reading{}, fmt.Errorf("points in %s: %w", login, err)
	}
	r, err := decodePoints(body)
	if err != nil {
		return Reading{}, fmt.Errorf("points in %s: %w", login, err)
	}
	return r, nil
}

// fetch GETs path under the API URL and returns the body of a 200. A 404
// is errNotFound; 5xx and transport errors are retried with backoff, 429s
// after their Retry-After; other statuses are a *StatusError at once.
func (w *Watcher) fetch(ctx context.Context, path string) ([]byte, error) {
	b := backoff.Backoff{Min: 2 * time.Second, Max: time.Minute, Jitter: 0.5}
	failures, limited := 0, 0
	for {
		if err := w.waitGate(ctx); err != nil {
			return nil, err
		}
		status, header, body, err := w.send(ctx, path)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		case status == http.StatusOK:
			return body, nil
		case status == http.StatusNotFound:
			return nil, errNotFound
		case status == http.StatusTooManyRequests:
			limited++
			d := retryAfter(header.Get("Retry-After"), w.now())
			w.pause(d)
			w.log.Debug().Str("path", path).Dur("retry_after", d).Msg("rate limited")
			if limited >= maxRateLimited {
				return nil, fmt.Errorf("%w: %d answers 429", ErrRateLimited, limited)
			}
			continue
		case status >= 500:
			err = &StatusError{Status: status}
		default:
			return nil, &StatusError{Status: status}
		}
		failures++
		if failures >= maxAttempts {
			return nil, fmt.Errorf("giving up after %d attempts: %w", failures, err)
		}
		if err := w.sleep(ctx, b.Next()); err != nil {
			return nil, err
		}
	}
}

// send performs one GET and reads at most maxBody bytes of the answer.
func (w *Watcher) send(ctx context.Context, path string) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.base+path, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := w.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the log line's fields already
		}
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read body: %w", err)
	}
	if len(body) > maxBody {
		return 0, nil, nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformed, maxBody)
	}
	return resp.StatusCode, resp.Header, body, nil
}

// waitGate waits until a 429's pause has passed, or returns
// ErrRateLimited when that is more than maxGateWait away.
func (w *Watcher) waitGate(ctx context.Context) error {
	for {
		w.mu.Lock()
		d := w.notBefore.Sub(w.now())
		w.mu.Unlock()
		if d <= 0 {
			return nil
		}
		if d > maxGateWait {
			return fmt.Errorf("%w for %s", ErrRateLimited, d.Round(time.Second))
		}
		if err := w.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// pause holds every request for d from now.
func (w *Watcher) pause(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t := w.now().Add(d); t.After(w.notBefore) {
		w.notBefore = t
	}
}

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	d := defaultRetryAfter
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
		d = time.Duration(min(s, int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(now), 0)
	}
	return min(d, maxRetryAfter)
}
