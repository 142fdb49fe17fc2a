package librato

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRetryAfterOverTheCapReturnsAtOnce answers 429 and 503 with a
// Retry-After longer than the cap: the call must return that answer, with
// RetryAfter set, after one attempt and without waiting (the context's
// deadline, far shorter than the Retry-After, is never reached).
func TestRetryAfterOverTheCapReturnsAtOnce(t *testing.T) {
	inTwoHours := time.Now().Add(2 * time.Hour).UTC().Format(http.TimeFormat)
	cases := []struct {
		name       string
		opts       []Option
		status     int
		retryAfter string
		sentinel   error
		atLeast    time.Duration
	}{
		{"429, an hour, default cap", nil, 429, "3600", ErrRateLimited, time.Hour},
		{"503, a day, default cap", nil, 503, "86400", ErrUnavailable, 24 * time.Hour},
		{"429, two hours as a date", nil, 429, inTwoHours, ErrRateLimited, 119 * time.Minute},
		{"429, a year", nil, 429, "31536000", ErrRateLimited, 365 * 24 * time.Hour},
		{"429, two seconds, cap of a second", []Option{WithMaxRetryWait(time.Second)}, 429, "2", ErrRateLimited, 2 * time.Second},
		{"503, a second, no waiting at all", []Option{WithMaxRetryWait(0)}, 503, "1", ErrUnavailable, time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			waits, err := retryWaitsWithin(t, 5*time.Second, tc.opts, withRetryAfter(tc.status, tc.retryAfter), httpmock.NewStringResponse(200, `{"name":"cpu"}`))
			assert.Empty(t, waits, "no retry was made")
			require.ErrorIs(t, err, tc.sentinel)
			assert.NotErrorIs(t, err, context.DeadlineExceeded, "the call did not wait for its context to end")
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.status, ae.StatusCode)
			assert.GreaterOrEqual(t, ae.RetryAfter, tc.atLeast, "RetryAfter is what the server asked, for the caller to decide")
			assert.Equal(t, 1, ae.Attempts)
			assert.Nil(t, ae.Err)
		})
	}
}

// retryWaitsWithin is retryWaits under a context with a deadline.
func retryWaitsWithin(t *testing.T, d time.Duration, opts []Option, responses ...*http.Response) ([]time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return retryWaitsCtx(t, ctx, opts, responses...)
}

// TestRetryAfterWithinTheCapIsWaitedFor keeps the ordinary case: a
// Retry-After under the cap is a retry after that wait.
func TestRetryAfterWithinTheCapIsWaitedFor(t *testing.T) {
	waits, err := retryWaitsWithin(t, time.Minute, []Option{WithMaxRetryWait(2 * time.Second)},
		withRetryAfter(503, "1"), httpmock.NewStringResponse(200, `{"name":"cpu"}`))
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{time.Second}, waits)
}

// TestContextEndingDuringARetryWait ends the context while the client
// waits to retry: the error is the answer that caused the wait and the
// context's error at once.
func TestContextEndingDuringARetryWait(t *testing.T) {
	cases := []struct {
		name     string
		opts     []Option
		status   int
		header   string
		sentinel error
		cancel   bool
	}{
		{"429 Retry-After, deadline", []Option{WithMaxRetryWait(2 * time.Hour)}, 429, "3600", ErrRateLimited, false},
		{"429 Retry-After, cancel", []Option{WithMaxRetryWait(2 * time.Hour)}, 429, "3600", ErrRateLimited, true},
		{"503 backoff, deadline", []Option{WithBackoff(time.Hour, time.Hour)}, 503, "", ErrUnavailable, false},
		{"502 backoff, cancel", []Option{WithBackoff(time.Hour, time.Hour)}, 502, "", ErrUnavailable, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t, tc.opts...)
			mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", func(*http.Request) (*http.Response, error) {
				r := withRetryAfter(tc.status, tc.header)
				r.Body = httpmock.NewRespBodyFromString(`{"errors":{"request":["slow down"]}}`)
				return r, nil
			})
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			want := context.DeadlineExceeded
			if tc.cancel {
				ctx, cancel = context.WithCancel(context.Background())
				defer cancel()
				time.AfterFunc(20*time.Millisecond, cancel)
				want = context.Canceled
			}
			_, err := c.Metrics.Get(ctx, "cpu")
			require.ErrorIs(t, err, tc.sentinel)
			require.ErrorIs(t, err, want)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.status, ae.StatusCode)
			assert.Equal(t, []string{"slow down"}, ae.Request, "the answer's body was decoded before the wait")
			assert.Equal(t, 1, ae.Attempts)
			assert.True(t, errors.Is(ae.Err, want))
			assert.Contains(t, err.Error(), "stopped waiting to retry")
			if tc.header != "" {
				assert.Equal(t, time.Hour, ae.RetryAfter)
			}
			assert.Equal(t, 1, mt.GetTotalCallCount())
		})
	}
}

func TestWithMaxRetryWaitRefusesANegativeWait(t *testing.T) {
	_, err := NewClient(testEmail, testToken, WithMaxRetryWait(-time.Second))
	require.ErrorContains(t, err, "WithMaxRetryWait")
	c, err := NewClient(testEmail, testToken)
	require.NoError(t, err)
	assert.Equal(t, DefaultMaxRetryWait, c.retry.maxWait)
}
