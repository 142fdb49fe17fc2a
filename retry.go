package librato

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// retryPolicy is the client's retry configuration; the decisions are
// checkRetry and backoff, which every call and both batchers use.
type retryPolicy struct {
	maxAttempts int
	minBackoff  time.Duration
	maxBackoff  time.Duration
	maxWait     time.Duration // the longest single wait, Retry-After included
}

// retrySafe says whether a call may be repeated at all: GET, PUT, DELETE,
// and the two measurement submissions. A measurement is keyed by its
// series and time, and the API keeps one sample of a series per period
// (see "Delivery guarantee" in the package doc), so a repeated
// submission of measurements with their times records nothing new; any
// other POST creates something and is never repeated.
func retrySafe(method, template string) bool {
	switch method {
	case http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodHead:
		return true
	case http.MethodPost:
		return template == "/v1/measurements" || template == "/v1/metrics"
	}
	return false
}

// checkRetry is the one retry decision, for an answer or for a failure to
// get one (the table in the package doc). It has go-retryablehttp's
// CheckRetry shape: the pipeline asks it after every attempt of a
// retry-safe call, and the batchers ask it, through APIError.Temporary and
// TransportError.Temporary, after every batch. An ended context is never
// retried.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx != nil && ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return retryableError(err), nil
	}
	return retryableStatus(resp.StatusCode, rateLimitsOf(resp.Header).exhausted()), nil
}

// retryableStatus is the table's answer for a status: 408, 425, 429, 500,
// 502, 503, 504, and a 403 whose rate-limit headers show nothing
// remaining, may succeed later; 501 and every other status will not.
func retryableStatus(code int, rateLimited bool) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case http.StatusForbidden:
		return rateLimited
	}
	return false
}

// retryableError is the table's answer for a call that got no response: a
// network failure (refused, reset, timed out, closed early) may succeed
// later; a refused certificate, a refused redirect, a guard refusal, a
// malformed request or an ended context will not.
func retryableError(err error) bool {
	var (
		re   *RedirectError
		fe   *ErrForbiddenForRole
		cert *tls.CertificateVerificationError
		ua   x509.UnknownAuthorityError
		he   x509.HostnameError
		ci   x509.CertificateInvalidError
	)
	switch {
	case errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &re), errors.As(err, &fe), errors.As(err, &cert), errors.As(err, &ua), errors.As(err, &he), errors.As(err, &ci):
		return false
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		msg := ue.Err.Error()
		if strings.Contains(msg, "unsupported protocol scheme") || strings.Contains(msg, "invalid header") || strings.Contains(msg, "stopped after") {
			return false
		}
	}
	return true
}

// backoff is the one wait before a retry, with go-retryablehttp's Backoff
// shape: what the answer's Retry-After says, else, for a rate-limited 403,
// until the exhausted limit resets, else min*2^attempt with jitter in its
// upper half, capped at max. The caller caps a server-given wait with the
// client's maximum wait.
func backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := serverWait(resp.StatusCode, resp.Header); ok {
			return d
		}
	}
	d := max
	if attempt < 32 {
		if e := min << uint(attempt); e > 0 && e < max {
			d = e
		}
	}
	half := d / 2
	return half + rand.N(half+1)
}

// serverWait is the wait an answer asks for: its Retry-After, or, for a
// rate-limited 403, the time until the exhausted limit resets.
func serverWait(code int, h http.Header) (time.Duration, bool) {
	now := time.Now()
	if d, ok := parseRetryAfter(h.Get("Retry-After"), now); ok {
		return d, true
	}
	if code == http.StatusForbidden {
		if d := rateLimitsOf(h).untilReset(now); d > 0 {
			return d, true
		}
	}
	return 0, false
}

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date.
// It keeps what the server asked, however long (up to what a Duration
// holds): the caller compares it with the client's maximum wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > int64(math.MaxInt64/time.Second) {
			return math.MaxInt64, true
		}
		return time.Duration(s) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

// send makes the attempts of one call: it sends, asks checkRetry, waits
// backoff, and repeats while the call is retry-safe, attempts remain and
// ctx lasts. It returns the last response, which the caller decodes, or
// the error that ended the call: a *TransportError, a *RedirectError, a
// guard refusal of a redirect, or, when ctx ends during a wait, the
// answer that was being waited on as an *APIError with Err set.
//
// A 415 to a compressed body is the one row that is not a retry: the same
// request is sent again at once in plain JSON, whatever the retry
// settings, and the client stops compressing.
func (c *Client) send(ctx context.Context, r *request, u string, body *requestBody) (*http.Response, int, error) {
	ep := r.ep
	retry := ep.retry && !r.once
	for attempt := 1; ; attempt++ {
		req, err := c.newRequest(ctx, ep.method, u, body)
		if err != nil {
			return nil, attempt, err
		}
		if r.sent != nil && body != nil {
			r.sent(len(body.bytes()))
		}
		resp, err := c.hc.Do(req)
		if err == nil && resp.StatusCode == http.StatusUnsupportedMediaType && body.compressed() {
			c.gzip.Store(false)
			body.plain = true
			discard(resp)
			attempt--
			continue
		}
		again, _ := checkRetry(ctx, resp, err)
		if !again || !retry || attempt >= c.retry.maxAttempts {
			if err != nil {
				return nil, attempt, c.transportError(ctx, ep, attempt, err)
			}
			return resp, attempt, nil
		}
		wait := backoff(c.retry.minBackoff, c.retry.maxBackoff, attempt-1, resp)
		var waitingOn *APIError
		if resp != nil {
			if asked, ok := serverWait(resp.StatusCode, resp.Header); ok && asked > c.retry.maxWait {
				return resp, attempt, nil // longer than the client waits: the caller decides, RetryAfter says
			}
			waitingOn = c.decodeError(resp, ep, attempt)
			resp.Body.Close()
		}
		if werr := sleep(ctx, wait); werr != nil {
			if waitingOn != nil {
				waitingOn.Err = werr
				return nil, attempt, waitingOn
			}
			return nil, attempt, c.transportError(ctx, ep, attempt, err)
		}
		c.logRetry(ctx, ep, attempt+1, wait, waitingOn, err)
	}
}

// newRequest builds one attempt: the credentials, the client's headers and
// a fresh reader of the body (also for a redirect that resends it).
func (c *Client) newRequest(ctx context.Context, method, u string, body *requestBody) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, &ValidationError{Field: "url", Index: -1, Reason: "does not make a valid request: " + c.auth.redact(err.Error())}
	}
	h := req.Header
	h["Authorization"] = c.auth.header()
	h["User-Agent"] = c.userAgent
	h["Accept"] = hdrJSON
	if body != nil {
		h["Content-Type"] = hdrJSON
		if body.compressed() {
			h["Content-Encoding"] = hdrGzip
		}
		req.ContentLength = int64(len(body.bytes()))
		req.GetBody = body.open
		req.Body, _ = body.open()
	}
	return req, nil
}

var (
	hdrJSON = []string{"application/json"}
	hdrGzip = []string{"gzip"}
)

// sleep waits d or until ctx ends, whichever is first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// discard reads a little of a body the caller will not use and closes it,
// so its connection can be reused.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
}

// logRetry writes one debug record per retry, once its wait is over.
func (c *Client) logRetry(ctx context.Context, ep *endpoint, attempt int, wait time.Duration, after *APIError, err error) {
	if c.logger == nil || !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", ep.method),
		slog.String("endpoint", c.auth.redact(ep.template)),
		slog.Int("attempt", attempt),
		slog.Duration("waited", wait),
	}
	if after != nil {
		attrs = append(attrs, slog.Int("after_status", after.StatusCode))
	}
	if err != nil {
		attrs = append(attrs, slog.String("after_error", c.auth.redact(err.Error())))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "librato: retrying", attrs...)
}
