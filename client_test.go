package librato

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewClientRefusesBadInput(t *testing.T) {
	cases := []struct {
		name, email, token string
		opts               []Option
		want               string // part of the error that says what to fix
	}{
		{"empty email", "", "t", nil, "email"},
		{"blank email", "  ", "t", nil, "email"},
		{"colon in email", "a:b@example.com", "t", nil, "':'"},
		{"empty token", "a@example.com", "", nil, "token"},
		{"blank token", "a@example.com", " \t", nil, "token"},
		{"unparsable base URL", "a@example.com", "t", []Option{WithBaseURL("https://exa mple.com/%zz")}, "does not parse"},
		{"relative base URL", "a@example.com", "t", []Option{WithBaseURL("/v1")}, "absolute"},
		{"plain http remote", "a@example.com", "t", []Option{WithBaseURL("http://metrics-api.librato.com")}, "use https"},
		{"plain http private net", "a@example.com", "t", []Option{WithBaseURL("http://10.0.0.5:8080")}, "loopback"},
		{"ftp scheme", "a@example.com", "t", []Option{WithBaseURL("ftp://example.com")}, "use https"},
		{"credentials in URL", "a@example.com", "t", []Option{WithBaseURL("https://u:p@example.com")}, "credentials"},
		{"query in URL", "a@example.com", "t", []Option{WithBaseURL("https://example.com/?x=1")}, "query"},
		{"unknown role", "a@example.com", "t", []Option{WithRole("root")}, "admin"},
		{"nil http client", "a@example.com", "t", []Option{WithHTTPClient(nil)}, "WithHTTPClient"},
		{"zero attempts", "a@example.com", "t", []Option{WithMaxAttempts(0)}, "at least 1"},
		{"bad backoff", "a@example.com", "t", []Option{WithBackoff(time.Second, time.Millisecond)}, "min <= max"},
		{"bad body cap", "a@example.com", "t", []Option{WithMaxResponseBytes(0)}, "positive"},
		{"newline UA", "a@example.com", "t", []Option{WithUserAgent("x\r\ny")}, "line breaks"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(tc.email, tc.token, tc.opts...)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestNewClientAcceptsLoopbackHTTPAndDefaults(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:1234/", "http://[::1]:9", "HTTPS://Example.com/prefix/"} {
		c, err := NewClient("a@example.com", "t", WithBaseURL(u))
		require.NoError(t, err, u)
		assert.False(t, strings.HasSuffix(c.BaseURL(), "/"), "trailing slash trimmed: %s", c.BaseURL())
	}
	c, err := NewClient("a@example.com", "t")
	require.NoError(t, err)
	assert.Equal(t, DefaultBaseURL, c.BaseURL())
	assert.Equal(t, Role(""), c.Role())
	hc := c.hc
	assert.Equal(t, DefaultTimeout, hc.Timeout, "a default client never hangs forever")
	tr, ok := hc.Transport.(*http.Transport)
	require.True(t, ok)
	assert.True(t, tr.TLSClientConfig == nil || !tr.TLSClientConfig.InsecureSkipVerify, "TLS verification is on")
	assert.NotZero(t, tr.TLSHandshakeTimeout)
	assert.NotZero(t, tr.ResponseHeaderTimeout)
}

func TestWithHTTPClientIsNotMutated(t *testing.T) {
	mine := &http.Client{Timeout: 3 * time.Second}
	_, err := NewClient("a@example.com", "t", WithHTTPClient(mine))
	require.NoError(t, err)
	assert.Nil(t, mine.CheckRedirect, "the caller's client is copied, not changed")
}

func TestRequestHeaders(t *testing.T) {
	c, mt := newMockClient(t, WithUserAgent("my-agent/1.2"))
	var got http.Header
	mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", func(req *http.Request) (*http.Response, error) {
		got = req.Header.Clone()
		return httpmock.NewStringResponse(200, `{"name":"cpu"}`), nil
	})
	_, err := c.Metrics.Get(context.Background(), "cpu")
	require.NoError(t, err)
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(testEmail+":"+testToken))
	assert.Equal(t, want, got.Get("Authorization"))
	assert.Equal(t, "application/json", got.Get("Accept"))
	assert.Equal(t, "", got.Get("Content-Type"), "no body, no content type")
	assert.True(t, strings.HasPrefix(got.Get("User-Agent"), "my-agent/1.2 librato-go/"+Version), got.Get("User-Agent"))

	mt.RegisterResponder("PUT", testBase+"/v1/metrics/cpu", func(req *http.Request) (*http.Response, error) {
		got = req.Header.Clone()
		return httpmock.NewStringResponse(204, ""), nil
	})
	err = c.Metrics.Update(context.Background(), "cpu", &MetricUpdate{Description: Ptr("d")})
	require.NoError(t, err)
	assert.Equal(t, "application/json", got.Get("Content-Type"))
	assert.Equal(t, want, got.Get("Authorization"))
}

func TestPathPrefixAndEscaping(t *testing.T) {
	c, mt := newMockClient(t)
	var paths []string
	mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
		paths = append(paths, req.URL.EscapedPath())
		return httpmock.NewStringResponse(200, `{}`), nil
	})
	for _, name := range []string{"a b", "?x", "#y", "%2F", "ünï", "a.b:c-d_e", "...", ".a"} {
		_, err := c.Metrics.Get(context.Background(), name)
		require.NoError(t, err)
	}
	assert.Equal(t, []string{
		"/prefix/v1/metrics/a%20b",
		"/prefix/v1/metrics/%3Fx",
		"/prefix/v1/metrics/%23y",
		"/prefix/v1/metrics/%252F",
		"/prefix/v1/metrics/%C3%BCn%C3%AF",
		"/prefix/v1/metrics/a.b:c-d_e",
		"/prefix/v1/metrics/...",
		"/prefix/v1/metrics/.a",
	}, paths)

	// What a server or a proxy on the way could read as another path is
	// refused before anything is sent, escaped or not.
	for _, name := range []string{"", ".", "..", "a/b", "../api_tokens/42", `a\b`, "a\nb", "a\x00b", "\x7f"} {
		_, err := c.Metrics.Get(context.Background(), name)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, "%q", name)
		assert.Equal(t, "name", ve.Field)
	}
	assert.Len(t, paths, 8, "nothing more was sent")
}

func TestGuardPolicy(t *testing.T) {
	ctx := context.Background()
	type call struct {
		name string
		do   func(*Client) error
	}
	published := call{"DELETE /v1/metrics/:name (published, admin only)", func(c *Client) error { return c.Metrics.Delete(ctx, "cpu") }}
	unlisted := call{"GET /v1/jobs/:id (unlisted, admin only)", func(c *Client) error { _, err := c.Jobs.Get(ctx, 7); return err }}
	unknown := call{"GET /v1/brand_new (no row)", func(c *Client) error { return c.Do(ctx, "GET", "/v1/brand_new", nil, nil) }}

	cases := []struct {
		role    Role
		strict  bool
		c       call
		refused bool
	}{
		{"", false, published, false},
		{"", true, published, false},
		{RoleFullAccess, true, published, false},
		{RoleFullAccess, true, unlisted, false},
		{RoleFullAccess, true, unknown, false},
		{RoleRecordOnly, false, published, true},
		{RoleViewOnly, false, published, true},
		{RoleRecordOnly, false, unlisted, false},
		{RoleRecordOnly, true, unlisted, true},
		{RoleViewOnly, false, unknown, false},
		{RoleViewOnly, true, unknown, true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s strict=%v %s", tc.role.Label(), tc.strict, tc.c.name), func(t *testing.T) {
			opts := []Option{}
			if tc.role != "" {
				opts = append(opts, WithRole(tc.role))
			}
			if tc.strict {
				opts = append(opts, WithStrictGuard())
			}
			c, mt := newMockClient(t, opts...)
			mt.RegisterNoResponder(httpmock.NewStringResponder(200, `{"id":7,"state":"complete"}`))
			err := tc.c.do(c)
			if !tc.refused {
				require.NoError(t, err)
				assert.Equal(t, 1, mt.GetTotalCallCount())
				return
			}
			var fe *ErrForbiddenForRole
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.role, fe.Role)
			assert.Equal(t, []Role{RoleFullAccess}, fe.Allowed)
			assert.Zero(t, mt.GetTotalCallCount(), "a refused call sends nothing")
		})
	}
}

func TestGuardRunsBeforeValidation(t *testing.T) {
	c, mt := newMockClient(t, WithRole(RoleViewOnly))
	_, err := c.Measurements.Create(context.Background(), &MeasurementBatch{}) // invalid too
	var fe *ErrForbiddenForRole
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "POST", fe.Method)
	assert.Equal(t, "/v1/measurements", fe.Endpoint)
	assert.Equal(t, []Role{RoleFullAccess, RoleRecordOnly}, fe.Allowed)
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestRetries(t *testing.T) {
	ctx := context.Background()
	t.Run("GET 503 then 200 is retried", func(t *testing.T) {
		c, mt := newMockClient(t)
		mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", httpmock.ResponderFromMultipleResponses([]*http.Response{
			httpmock.NewStringResponse(503, `{"errors":{"system":["maintenance"]}}`),
			httpmock.NewStringResponse(200, `{"name":"cpu"}`),
		}))
		m, err := c.Metrics.Get(ctx, "cpu")
		require.NoError(t, err)
		assert.Equal(t, "cpu", m.Name)
		assert.Equal(t, 2, mt.GetTotalCallCount())
	})
	t.Run("400 is not retried", func(t *testing.T) {
		c, mt := newMockClient(t)
		mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", httpmock.NewStringResponder(400, `{"errors":{"params":{"name":["is invalid"]}}}`))
		_, err := c.Metrics.Get(ctx, "cpu")
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, 400, ae.StatusCode)
		assert.Equal(t, map[string][]string{"name": {"is invalid"}}, ae.Params)
		assert.Equal(t, 1, ae.Attempts)
		assert.Equal(t, 1, mt.GetTotalCallCount())
	})
	t.Run("POST to another endpoint is never repeated", func(t *testing.T) {
		c, mt := newMockClient(t)
		mt.RegisterResponder("POST", testBase+"/v1/spaces", httpmock.NewStringResponder(503, `{"errors":{"system":["down"]}}`))
		err := c.Do(ctx, "POST", "/v1/spaces", map[string]string{"name": "ops"}, nil)
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, 503, ae.StatusCode)
		assert.True(t, errors.Is(err, ErrUnavailable))
		assert.Equal(t, 1, mt.GetTotalCallCount())
	})
	t.Run("POST measurements is retried with its body replayed", func(t *testing.T) {
		c, mt := newMockClient(t)
		var bodies []string
		n := 0
		mt.RegisterResponder("POST", testBase+"/v1/measurements", func(req *http.Request) (*http.Response, error) {
			b, _ := readRequestBody(req)
			bodies = append(bodies, string(b))
			n++
			if n < 3 {
				r := httpmock.NewStringResponse(429, `{"errors":{"request":["slow down"]}}`)
				r.Header.Set("Retry-After", "0")
				return r, nil
			}
			return httpmock.NewStringResponse(202, `{"measurements":{"summary":{"total":1,"accepted":1,"failed":0,"filtered":0}}}`), nil
		})
		sum, err := c.Measurements.Create(ctx, &MeasurementBatch{Measurements: []Measurement{{Name: "cpu", Value: 1, Time: 1700000000}}})
		require.NoError(t, err)
		assert.Equal(t, 1, sum.Accepted)
		require.Len(t, bodies, 3)
		assert.Equal(t, bodies[0], bodies[1])
		assert.Equal(t, bodies[0], bodies[2])
		assert.JSONEq(t, `{"measurements":[{"name":"cpu","value":1,"time":1700000000}]}`, bodies[0])
	})
	t.Run("retries run out: last answer with the attempts", func(t *testing.T) {
		c, mt := newMockClient(t, WithMaxAttempts(3))
		mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", func(*http.Request) (*http.Response, error) {
			r := httpmock.NewStringResponse(503, `<html><body>Bad gateway from the proxy</body></html>`)
			r.Header.Set("Retry-After", "0")
			return r, nil
		})
		_, err := c.Metrics.Get(ctx, "cpu")
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, 3, ae.Attempts)
		assert.Equal(t, 3, mt.GetTotalCallCount())
		assert.Contains(t, ae.Message, "Bad gateway")
		assert.Contains(t, err.Error(), "after 3 attempts")
	})
	t.Run("network errors are retried and report attempts", func(t *testing.T) {
		c, mt := newMockClient(t, WithMaxAttempts(2))
		mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", httpmock.NewErrorResponder(errors.New("connection reset by peer")))
		_, err := c.Metrics.Get(ctx, "cpu")
		var te *TransportError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 2, te.Attempts)
		assert.Equal(t, "/v1/metrics/:name", te.Endpoint)
		assert.Contains(t, err.Error(), "connection reset")
		assert.Equal(t, 2, mt.GetTotalCallCount())
	})
	t.Run("WithoutRetries makes one attempt", func(t *testing.T) {
		c, mt := newMockClient(t, WithoutRetries())
		mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", httpmock.NewStringResponder(500, ``))
		_, err := c.Metrics.Get(ctx, "cpu")
		require.Error(t, err)
		assert.Equal(t, 1, mt.GetTotalCallCount())
	})
	t.Run("context cancels the wait", func(t *testing.T) {
		c, mt := newMockClient(t, WithBackoff(time.Hour, time.Hour))
		mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", httpmock.NewStringResponder(503, ``))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := c.Metrics.Get(ctx, "cpu")
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorIs(t, err, ErrUnavailable, "the answer that caused the wait is the error")
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, 1, ae.Attempts)
		assert.Equal(t, 1, mt.GetTotalCallCount())
	})
}

func TestBackoffAndRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	d, ok := parseRetryAfter("7", now)
	assert.True(t, ok)
	assert.Equal(t, 7*time.Second, d)
	d, ok = parseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now)
	assert.True(t, ok)
	assert.Equal(t, 90*time.Second, d)
	d, ok = parseRetryAfter(now.Add(-time.Hour).Format(http.TimeFormat), now)
	assert.True(t, ok)
	assert.Zero(t, d)
	for _, bad := range []string{"", "-1", "soon", "1.5"} {
		_, ok = parseRetryAfter(bad, now)
		assert.False(t, ok, bad)
	}

	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"3"}}}
	assert.Equal(t, 3*time.Second, backoff(time.Millisecond, time.Second, 0, resp), "Retry-After beats the cap")

	min, max := 100*time.Millisecond, 2*time.Second
	for attempt := 0; attempt < 40; attempt++ {
		base := max
		if attempt < 5 {
			base = min << attempt
		}
		for i := 0; i < 20; i++ {
			w := backoff(min, max, attempt, &http.Response{StatusCode: 503, Header: http.Header{}})
			assert.GreaterOrEqual(t, w, base/2, "attempt %d", attempt)
			assert.LessOrEqual(t, w, base, "attempt %d", attempt)
		}
	}
	seen := map[time.Duration]bool{}
	for i := 0; i < 50; i++ {
		seen[backoff(time.Second, time.Minute, 3, nil)] = true
	}
	assert.Greater(t, len(seen), 1, "waits are jittered")
}

func TestAPIErrorDecoding(t *testing.T) {
	c, mt := newMockClient(t)
	resp := httpmock.NewStringResponse(403, `{"errors":{"request":["You have hit the API rate limit"],"system":["x"],"params":{"name":["is invalid","is too long"]}},"extra":1}`)
	resp.Header.Set("X-Librato-RateLimit-Agg", "limit=300, remaining=0, reset=1700000100")
	resp.Header.Set("X-Librato-RateLimit-Std", "limit=1000,remaining=999,reset=1700000200,bogus,x=y")
	mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", httpmock.ResponderFromResponse(resp))
	_, err := c.Metrics.Get(context.Background(), "cpu")
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 403, ae.StatusCode)
	assert.Equal(t, "GET", ae.Method)
	assert.Equal(t, "/v1/metrics/:name", ae.Endpoint)
	assert.Equal(t, []string{"You have hit the API rate limit"}, ae.Request)
	assert.Equal(t, []string{"x"}, ae.System)
	assert.Equal(t, []string{"is invalid", "is too long"}, ae.Params["name"])
	assert.Equal(t, RateLimit{Limit: 300, Remaining: 0, Reset: time.Unix(1700000100, 0)}, ae.RateLimit.Agg)
	assert.Equal(t, RateLimit{Limit: 1000, Remaining: 999, Reset: time.Unix(1700000200, 0)}, ae.RateLimit.Std)
	assert.True(t, errors.Is(err, ErrForbidden))
	assert.True(t, errors.Is(err, ErrRateLimited), "a 403 that says rate limit")
	assert.True(t, ae.Temporary())
	assert.False(t, errors.Is(err, ErrNotFound))
	assert.Contains(t, err.Error(), "name is invalid, is too long")
	assert.Contains(t, err.Error(), "You have hit the API rate limit")
}

func TestAPIErrorSentinels(t *testing.T) {
	cases := map[int]error{400: ErrBadRequest, 401: ErrUnauthorized, 403: ErrForbidden, 404: ErrNotFound, 413: ErrTooLarge, 422: ErrAlreadyExists, 429: ErrRateLimited, 500: ErrUnavailable, 503: ErrUnavailable}
	all := []error{ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrTooLarge, ErrAlreadyExists, ErrRateLimited, ErrUnavailable}
	for status, want := range cases {
		e := &APIError{StatusCode: status}
		for _, s := range all {
			assert.Equal(t, s == want, errors.Is(e, s), "status %d vs %v", status, s)
		}
	}
	assert.False(t, errors.Is(&APIError{StatusCode: 403}, ErrRateLimited))
	assert.True(t, errors.Is(&APIError{StatusCode: 403, RateLimit: RateLimits{Std: RateLimit{Limit: 5}}}, ErrRateLimited))
}

func TestAPIErrorOddBodies(t *testing.T) {
	bodies := map[string]string{
		"html":        `<html><h1>502 Bad Gateway</h1></html>`,
		"truncated":   `{"errors":{"params":{"name":["is inv`,
		"wrong types": `{"errors":{"params":{"name":"is invalid"},"request":"no","system":[1,2]}}`,
		"empty":       ``,
		"array":       `[1,2,3]`,
		"huge":        `{"errors":{"request":["` + strings.Repeat("a", 3<<20) + `"]}}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			c, mt := newMockClient(t, WithoutRetries())
			mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", httpmock.NewStringResponder(502, body))
			_, err := c.Metrics.Get(context.Background(), "cpu")
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 502, ae.StatusCode)
			assert.Less(t, len(err.Error()), 2000)
		})
	}
	c, mt := newMockClient(t)
	mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", httpmock.NewStringResponder(404, `{"errors":{"params":{"name":"is invalid"},"request":"gone","system":[1]}}`))
	_, err := c.Metrics.Get(context.Background(), "cpu")
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, []string{"is invalid"}, ae.Params["name"])
	assert.Equal(t, []string{"gone"}, ae.Request)
	assert.Equal(t, []string{"[1]"}, ae.System)
}

func TestDecodeErrorKeepsStatus(t *testing.T) {
	for name, body := range map[string]string{
		"html":      "<!doctype html><p>hello</p>",
		"truncated": `{"name":"cp`,
		"wrong":     `{"name":42}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, mt := newMockClient(t)
			mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", httpmock.NewStringResponder(200, body))
			_, err := c.Metrics.Get(context.Background(), "cpu")
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, 200, de.StatusCode)
			assert.Equal(t, "/v1/metrics/:name", de.Endpoint)
		})
	}
	t.Run("oversized", func(t *testing.T) {
		c, mt := newMockClient(t, WithMaxResponseBytes(1000))
		big := bytes.Repeat([]byte(" "), 1010)
		mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", httpmock.NewBytesResponder(200, big))
		_, err := c.Metrics.Get(context.Background(), "cpu")
		var de *DecodeError
		require.ErrorAs(t, err, &de)
		assert.Contains(t, err.Error(), "exceeds")
	})
}

func TestDoEscapeHatch(t *testing.T) {
	ctx := context.Background()
	c, mt := newMockClient(t, WithRole(RoleViewOnly))
	mt.RegisterResponder("GET", testBase+"/v1/metrics", func(req *http.Request) (*http.Response, error) {
		assert.Equal(t, "name=cpu", req.URL.RawQuery)
		return httpmock.NewStringResponse(200, `{"query":{"found":0},"metrics":[]}`), nil
	})
	var out MetricPage
	require.NoError(t, c.Do(ctx, "get", "/v1/metrics?name=cpu", nil, &out))

	err := c.Do(ctx, "DELETE", "/v1/metrics/cpu", nil, nil)
	var fe *ErrForbiddenForRole
	require.ErrorAs(t, err, &fe, "Do goes through the guard")
	assert.Equal(t, "/v1/metrics/:name", fe.Endpoint)

	for _, bad := range []string{"", "v1/metrics", "https://evil.example/v1/metrics", "//evil.example/v1/x", "/v1/metrics/../api_tokens", "/v1/./x", "/v1//x", "/v1/x#frag", "/v1/x y", "/v1/\x00", "/v2/x", "/v1/x\\y"} {
		err := c.Do(ctx, "GET", bad, nil, nil)
		var ve *ValidationError
		assert.ErrorAs(t, err, &ve, "%q", bad)
	}
	assert.Error(t, c.Do(ctx, "GE T", "/v1/metrics", nil, nil))
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestPaginateAll(t *testing.T) {
	c, mt := newMockClient(t)
	var offsets []string
	mt.RegisterResponder("GET", testBase+"/v1/metrics", func(req *http.Request) (*http.Response, error) {
		q := req.URL.Query()
		offsets = append(offsets, q.Get("offset"))
		assert.Equal(t, "2", q.Get("length"))
		assert.Equal(t, "req", q.Get("name"))
		switch q.Get("offset") {
		case "":
			return httpmock.NewStringResponse(200, `{"query":{"found":5,"length":2,"offset":0,"total":9},"metrics":[{"name":"a"},{"name":"b"}]}`), nil
		case "2":
			return httpmock.NewStringResponse(200, `{"query":{"found":5,"length":2,"offset":2,"total":9},"metrics":[{"name":"c"},{"name":"d"}]}`), nil
		default:
			return httpmock.NewStringResponse(200, `{"query":{"found":5,"length":2,"offset":4,"total":9},"metrics":[{"name":"e"}]}`), nil
		}
	})
	var names []string
	opts := &ListOptions{Name: "req", Length: 2}
	for m, err := range c.Metrics.All(context.Background(), opts) {
		require.NoError(t, err)
		names = append(names, m.Name)
	}
	assert.Equal(t, []string{"a", "b", "c", "d", "e"}, names)
	assert.Zero(t, opts.Offset, "the caller's options are not changed")
	assert.Equal(t, []string{"", "2", "4"}, offsets)

	offsets = nil
	for m, err := range c.Metrics.All(context.Background(), &ListOptions{Name: "req", Length: 2}) {
		require.NoError(t, err)
		if m.Name == "c" {
			break
		}
	}
	assert.Equal(t, []string{"", "2"}, offsets, "breaking early fetches no further page")
}

func TestPaginateStopsOnEmptyPageAndError(t *testing.T) {
	c, mt := newMockClient(t, WithoutRetries())
	mt.RegisterResponder("GET", testBase+"/v1/metrics", httpmock.NewStringResponder(200, `{"query":{"found":50},"metrics":[]}`))
	n := 0
	for range c.Metrics.All(context.Background(), nil) {
		n++
	}
	assert.Zero(t, n)
	assert.Equal(t, 1, mt.GetTotalCallCount(), "a server that promises more but sends nothing does not loop")

	mt.RegisterResponder("GET", testBase+"/v1/metrics", httpmock.NewStringResponder(500, ``))
	var errs []error
	for _, err := range c.Metrics.All(context.Background(), nil) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.True(t, errors.Is(errs[0], ErrUnavailable))
}

func TestListOptionsValidation(t *testing.T) {
	c, mt := newMockClient(t)
	for _, o := range []ListOptions{{Offset: -1}, {Length: 101}, {Length: -1}, {Sort: "up"}} {
		_, err := c.Metrics.List(context.Background(), &o)
		var ve *ValidationError
		assert.ErrorAs(t, err, &ve, "%+v", o)
	}
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestLoggerRecordsRequestsAndRetries(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mt := newMockClient(t, WithLogger(logger))
	mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", httpmock.ResponderFromMultipleResponses([]*http.Response{
		httpmock.NewStringResponse(503, ``),
		httpmock.NewStringResponse(200, `{"name":"cpu"}`),
	}))
	_, err := c.Metrics.Get(context.Background(), "cpu")
	require.NoError(t, err)
	out := buf.String()
	assert.Contains(t, out, "librato: retrying")
	assert.Contains(t, out, "after_status=503")
	assert.Contains(t, out, "endpoint=/v1/metrics/:name")
	assert.Contains(t, out, "status=200")
	assert.Contains(t, out, "attempts=2")
	assert.NotContains(t, out, testToken)
}

func TestConcurrentCalls(t *testing.T) {
	c, mt := newMockClient(t)
	var n atomic.Int64
	mt.RegisterResponder("POST", testBase+"/v1/measurements", func(req *http.Request) (*http.Response, error) {
		b, err := readRequestBody(req)
		if err != nil || !bytes.Contains(b, []byte(`"name":"m`)) {
			return httpmock.NewStringResponse(400, ``), nil
		}
		n.Add(1)
		return httpmock.NewStringResponse(202, ``), nil
	})
	done := make(chan error, 16)
	for g := 0; g < 16; g++ {
		go func(g int) {
			var err error
			for i := 0; i < 25 && err == nil; i++ {
				_, err = c.Measurements.Create(context.Background(), &MeasurementBatch{Measurements: []Measurement{{Name: fmt.Sprintf("m%d", g), Value: float64(i)}}})
			}
			done <- err
		}(g)
	}
	for g := 0; g < 16; g++ {
		require.NoError(t, <-done)
	}
	assert.EqualValues(t, 400, n.Load())
}

func TestCancelledContextSendsNothing(t *testing.T) {
	c, mt := newMockClient(t)
	mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", httpmock.NewStringResponder(200, `{"name":"cpu"}`))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Metrics.Get(ctx, "cpu")
	require.ErrorIs(t, err, context.Canceled)
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Zero(t, te.Attempts)
	assert.Zero(t, mt.GetTotalCallCount())
	_, err = c.Metrics.Get(context.TODO(), "cpu")
	require.NoError(t, err)
}

// TestCloseIdleConnections makes calls over a socket, closes the idle
// connection, and calls again: the server sees the connection closed, and
// the client keeps working on a new one. Calls and closes run at once
// under the race detector too.
func TestCloseIdleConnections(t *testing.T) {
	var mu sync.Mutex
	states := map[http.ConnState]int{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"name":"cpu"}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		mu.Lock()
		states[s]++
		mu.Unlock()
	}
	srv.Start()
	defer srv.Close()
	count := func(s http.ConnState) int {
		mu.Lock()
		defer mu.Unlock()
		return states[s]
	}
	c, err := NewClient(testEmail, testToken, WithBaseURL(srv.URL))
	require.NoError(t, err)
	c.CloseIdleConnections() // before any call: harmless
	for i := 0; i < 3; i++ {
		_, err = c.Metrics.Get(context.Background(), "cpu")
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return count(http.StateIdle) >= 3 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, 1, count(http.StateNew), "one kept-alive connection served the three calls")
	assert.Zero(t, count(http.StateClosed))

	c.CloseIdleConnections()
	require.Eventually(t, func() bool { return count(http.StateClosed) == 1 }, 5*time.Second, time.Millisecond, "the idle connection was closed")
	_, err = c.Metrics.Get(context.Background(), "cpu")
	require.NoError(t, err, "the client stays usable")
	assert.Equal(t, 2, count(http.StateNew))

	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if g == 0 {
					c.CloseIdleConnections()
					continue
				}
				_, err := c.Metrics.Get(context.Background(), "cpu")
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	c.CloseIdleConnections()
	require.Eventually(t, func() bool { return count(http.StateClosed) == count(http.StateNew) }, 5*time.Second, time.Millisecond, "every connection is closed")

	// with the caller's own transport, its idle connections are closed
	tr := &http.Transport{}
	mine, err := NewClient(testEmail, testToken, WithBaseURL(srv.URL), WithHTTPClient(&http.Client{Transport: tr}))
	require.NoError(t, err)
	before := count(http.StateClosed)
	_, err = mine.Metrics.Get(context.Background(), "cpu")
	require.NoError(t, err)
	mine.CloseIdleConnections()
	require.Eventually(t, func() bool { return count(http.StateClosed) == before+1 }, 5*time.Second, time.Millisecond)
}
