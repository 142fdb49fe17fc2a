package librato

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// retrySafe says whether a call may be repeated: GET, PUT, DELETE, and the
// measurements POST (a measurement with an explicit time is idempotent).
func retrySafe(method, template string) bool {
	switch method {
	case http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodHead:
		return true
	case http.MethodPost:
		// The legacy submission (POST /v1/metrics) is idempotent for the same
		// reason: a point is keyed by (metric, source, measure_time) and a
		// counter sends its running total, so a repeat rewrites the same
		// point; see Metrics.CreateLegacy.
		return template == "/v1/measurements" || template == "/v1/metrics"
	}
	return false
}

// checkRetry retries network errors, 429 and 5xx (not 501), never a call
// whose context is done nor a refused redirect; it records the outcome for
// logs and errors. A Retry-After longer than the client's maximum wait
// (WithMaxRetryWait) ends the call at once with that answer, so the caller
// decides whether to wait that long.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st, _ := ctx.Value(callKey{}).(*callState)
	if st != nil {
		st.lastErr, st.lastStatus, st.lastWait = err, 0, 0
		if resp != nil {
			st.lastStatus = resp.StatusCode
		}
	}
	var re *RedirectError
	if errors.As(err, &re) {
		return false, nil
	}
	retry, checkErr := retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	if !retry || resp == nil {
		return retry, checkErr
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok && d > c.maxRetryWait {
		return false, nil
	}
	if st != nil && st.attempts <= c.retrying.RetryMax {
		// A wait follows. Should the context end during it, this answer,
		// decoded now before go-retryablehttp drains it, is the call's
		// error.
		st.pending = c.decodeError(resp, st)
	}
	return retry, checkErr
}

func neverRetry(ctx context.Context, _ *http.Response, _ error) (bool, error) {
	return false, ctx.Err()
}

// keepLastResponse hands the last response back when retries run out, so it
// is decoded into an *APIError; with no response the error stands, and so
// does a redirect that the redirect policy refused (net/http returns that
// 3xx, its body closed, beside the error).
func keepLastResponse(resp *http.Response, err error, _ int) (*http.Response, error) {
	if resp != nil && (err == nil || resp.StatusCode < 300 || resp.StatusCode > 399) {
		return resp, nil
	}
	return nil, err
}

// onAttempt counts attempts and logs each retry.
func (c *Client) onAttempt(_ retryablehttp.Logger, req *http.Request, i int) {
	st, ok := req.Context().Value(callKey{}).(*callState)
	if !ok {
		return
	}
	st.attempts = i + 1
	st.pending = nil
	if i == 0 || c.logger == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", st.method),
		slog.String("endpoint", st.template),
		slog.Int("attempt", i+1),
	}
	if st.lastStatus != 0 {
		attrs = append(attrs, slog.Int("after_status", st.lastStatus))
	}
	if st.lastErr != nil {
		attrs = append(attrs, slog.String("after_error", c.auth.redact(st.lastErr.Error())))
	}
	if st.lastWait > 0 {
		attrs = append(attrs, slog.Duration("waited", st.lastWait))
	}
	c.logger.LogAttrs(req.Context(), slog.LevelDebug, "librato: retrying", attrs...)
}

// recordedBackoff is backoff that notes the wait in the call's state, for
// the retry log.
func recordedBackoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	d := backoff(min, max, attempt, resp)
	if resp != nil && resp.Request != nil {
		if st, ok := resp.Request.Context().Value(callKey{}).(*callState); ok {
			st.lastWait = d
		}
	}
	return d
}

// backoff waits what Retry-After says, or min*2^attempt with full jitter in
// its upper half, capped at max.
func backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
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

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date.
// It keeps what the server asked, however long (up to what a Duration
// holds): the retry policy compares it with the client's maximum wait.
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
