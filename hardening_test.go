package librato

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretForms are the spellings of the test token that must never leak.
var secretForms = []string{
	testToken,
	base64.StdEncoding.EncodeToString([]byte(testEmail + ":" + testToken)),
	url.QueryEscape(testToken),
}

func assertNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, f := range secretForms {
		if strings.Contains(text, f) {
			t.Errorf("%s leaks the token: %q", what, text)
		}
	}
}

// echoBody is an error body that repeats the request's credentials, as a
// careless proxy or server might.
func echoBody(req *http.Request) string {
	auth := req.Header.Get("Authorization")
	return fmt.Sprintf(`{"errors":{"request":["rejected %s with %s (token %s)"],"params":{"%s":["was %s"]},"system":["%s"]}}`,
		req.URL, auth, testToken, testToken, auth, testToken)
}

// TestCredentialsNeverLeak drives every error path with a recognisable
// token and searches every rendering of the errors, the client and the
// debug log for it.
func TestCredentialsNeverLeak(t *testing.T) {
	var logBuf bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logBuf, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	var errs []error
	record := func(err error) {
		t.Helper()
		require.Error(t, err)
		errs = append(errs, err)
	}

	// Guard refusal and validation.
	viewer, _ := newMockClient(t, WithRole(RoleViewOnly), WithLogger(logger))
	record(viewer.Metrics.Delete(ctx, "cpu"))
	c, mt := newMockClient(t, WithLogger(logger), WithMaxAttempts(2))
	_, err := c.Measurements.Create(ctx, &MeasurementBatch{Measurements: []Measurement{{Name: testToken + " x"}}})
	record(err)

	// Server errors whose bodies echo the request, JSON and not.
	for _, status := range []int{400, 401, 403, 404, 413, 422, 429, 500, 503} {
		mt.RegisterResponder("GET", testBase+"/v1/metrics/m"+fmt.Sprint(status), func(req *http.Request) (*http.Response, error) {
			r := httpmock.NewStringResponse(status, echoBody(req))
			r.Header.Set("Retry-After", "0")
			return r, nil
		})
		_, err := c.Metrics.Get(ctx, "m"+fmt.Sprint(status))
		record(err)
	}
	mt.RegisterResponder("GET", testBase+"/v1/metrics/html", func(req *http.Request) (*http.Response, error) {
		return httpmock.NewStringResponse(502, "<html>proxy saw Authorization: "+req.Header.Get("Authorization")+" "+testToken+"</html>"), nil
	})
	_, err = c.Metrics.Get(ctx, "html")
	record(err)

	// A network failure whose message carries the credentials.
	mt.RegisterResponder("GET", testBase+"/v1/metrics/net", httpmock.NewErrorResponder(errors.New("dial tcp: lookup "+testEmail+":"+testToken+"@proxy failed")))
	_, err = c.Metrics.Get(ctx, "net")
	record(err)

	// A 2xx body that cannot be decoded.
	mt.RegisterResponder("GET", testBase+"/v1/metrics/bad", httpmock.NewStringResponder(200, `{"name":`+testToken))
	_, err = c.Metrics.Get(ctx, "bad")
	record(err)

	// Context cancellation, before and during a call.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Metrics.Get(cancelled, "m500")
	record(err)
	slow, _ := newMockClient(t, WithLogger(logger), WithBackoff(time.Hour, time.Hour))
	deadline, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	_, err = slow.Metrics.Get(deadline, "nothing-registered")
	record(err)

	for i, err := range errs {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			assertNoSecret(t, fmt.Sprintf("error %d %s", i, verb), fmt.Sprintf(verb, err))
		}
		for e := err; e != nil; e = errors.Unwrap(e) {
			assertNoSecret(t, fmt.Sprintf("error %d in its chain", i), e.Error())
		}
		var ae *APIError
		if errors.As(err, &ae) {
			assertNoSecret(t, "APIError fields", fmt.Sprintf("%#v", *ae))
		}
	}
	for _, cl := range []*Client{c, viewer, slow} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
			assertNoSecret(t, "client "+verb, fmt.Sprintf(verb, cl))
		}
		assertNoSecret(t, "client fields", fmt.Sprintf("%+v", struct{ C *Client }{cl}))
	}
	logMu.Lock()
	logs := logBuf.String()
	logMu.Unlock()
	assert.Contains(t, logs, "librato: retrying", "the retry path was logged")
	assert.Contains(t, logs, `"status":401`)
	assertNoSecret(t, "debug log", logs)
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestRedirectToAnotherHostDropsAuthorization follows a redirect from one
// loopback server to another and checks only the first saw credentials.
func TestRedirectToAnotherHostDropsAuthorization(t *testing.T) {
	var gotAuth []string
	var mu sync.Mutex
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Write([]byte(`{"name":"cpu"}`))
	}))
	defer other.Close()
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			t.Error("the first host got no credentials")
		}
		if strings.Contains(r.URL.Path, "same") {
			http.Redirect(w, r, "/v1/metrics/cpu-moved", http.StatusFound)
			return
		}
		http.Redirect(w, r, other.URL+"/v1/metrics/cpu", http.StatusFound)
	}))
	defer first.Close()
	// Different ports on one loopback address are different hosts.
	c, err := NewClient(testEmail, testToken, WithBaseURL(first.URL))
	require.NoError(t, err)
	_, err = c.Metrics.Get(context.Background(), "cpu")
	require.NoError(t, err)
	mu.Lock()
	assert.Equal(t, []string{""}, gotAuth, "credentials must not follow a redirect to another host")
	mu.Unlock()

	mine := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	c, err = NewClient(testEmail, testToken, WithBaseURL(first.URL), WithHTTPClient(mine))
	require.NoError(t, err)
	_, err = c.Metrics.Get(context.Background(), "cpu")
	require.NoError(t, err)
	mu.Lock()
	assert.Equal(t, []string{"", ""}, gotAuth, "even with the caller's own redirect policy")
	mu.Unlock()
}

// TestTLSVerificationIsOn talks to a loopback TLS server with a
// self-signed certificate: the default client must refuse it, once.
func TestTLSVerificationIsOn(t *testing.T) {
	hits := 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	c, err := NewClient(testEmail, testToken, WithBaseURL(srv.URL), WithBackoff(time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	_, err = c.Metrics.Get(context.Background(), "cpu")
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, err.Error(), "certificate")
	assert.Equal(t, 1, te.Attempts, "a certificate error is not retried")
	assert.Zero(t, hits)

	trusting, err := NewClient(testEmail, testToken, WithBaseURL(srv.URL), WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	_, err = trusting.Metrics.Get(context.Background(), "cpu")
	require.NoError(t, err, "a caller who trusts the certificate can say so with WithHTTPClient")
}

// pathParamCalls are the methods that put caller strings in the path,
// with the template each must reach.
var pathParamCalls = []struct {
	template string
	method   string
	call     func(ctx context.Context, c *Client, p string) error
}{
	{"/v1/metrics/:name", "GET", func(ctx context.Context, c *Client, p string) error { _, err := c.Metrics.Get(ctx, p); return err }},
	{"/v1/metrics/:name", "DELETE", func(ctx context.Context, c *Client, p string) error { return c.Metrics.Delete(ctx, p) }},
	{"/v1/metrics/:name", "PUT", func(ctx context.Context, c *Client, p string) error {
		return c.Metrics.Update(ctx, p, &MetricUpdate{Period: Ptr(60)})
	}},
	{"/v1/measurements/:name", "GET", func(ctx context.Context, c *Client, p string) error {
		_, err := c.Measurements.List(ctx, p, &MeasurementsQuery{Duration: time.Hour, Resolution: time.Minute})
		return err
	}},
	{"/v1/annotations/:name", "GET", func(ctx context.Context, c *Client, p string) error {
		_, err := c.Annotations.Get(ctx, p, &AnnotationSearch{Count: 1})
		return err
	}},
	{"/v1/annotations/:name", "POST", func(ctx context.Context, c *Client, p string) error {
		_, err := c.Annotations.CreateEvent(ctx, p, &AnnotationEvent{Title: "t"})
		return err
	}},
	{"/v1/annotations/:name", "PUT", func(ctx context.Context, c *Client, p string) error {
		return c.Annotations.Update(ctx, p, &AnnotationStreamUpdate{DisplayName: Ptr("d")})
	}},
	{"/v1/annotations/:name", "DELETE", func(ctx context.Context, c *Client, p string) error { return c.Annotations.Delete(ctx, p) }},
	{"/v1/annotations/:name/:id", "GET", func(ctx context.Context, c *Client, p string) error {
		_, err := c.Annotations.GetEvent(ctx, p, 1)
		return err
	}},
	{"/v1/annotations/:name/:id", "PUT", func(ctx context.Context, c *Client, p string) error {
		return c.Annotations.UpdateEvent(ctx, p, 1, &AnnotationEventUpdate{Title: Ptr("t")})
	}},
	{"/v1/annotations/:name/:id", "DELETE", func(ctx context.Context, c *Client, p string) error { return c.Annotations.DeleteEvent(ctx, p, 1) }},
	{"/v1/annotations/:name/:id/links", "POST", func(ctx context.Context, c *Client, p string) error {
		_, err := c.Annotations.AddLink(ctx, p, 1, &Link{Rel: "r", Href: "https://example.com"})
		return err
	}},
	{"/v1/annotations/:name/:id/links/:rel", "DELETE", func(ctx context.Context, c *Client, p string) error {
		return c.Annotations.DeleteLink(ctx, p, 1, p)
	}},
}

// checkPathSafety calls every path-parameter method with p and checks the
// request went to exactly the intended endpoint with p intact, or, for an
// empty p, that nothing was sent.
func checkPathSafety(t *testing.T, p string) {
	for _, pc := range pathParamCalls {
		c, mt := newMockClient(t)
		var got *http.Request
		mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
			got = req
			return httpmock.NewStringResponse(204, ""), nil
		})
		err := pc.call(context.Background(), c, p)
		if unsafeParam(p) {
			var ve *ValidationError
			if !errors.As(err, &ve) || mt.GetTotalCallCount() != 0 {
				t.Fatalf("%s %s with %q: want a *ValidationError and nothing sent, got err %v, %d requests", pc.method, pc.template, p, err, mt.GetTotalCallCount())
			}
			continue
		}
		if err != nil || got == nil {
			t.Fatalf("%s %s with %q: %v", pc.method, pc.template, p, err)
		}
		if got.Method != pc.method || got.URL.Host != "api.test" || got.URL.Fragment != "" {
			t.Fatalf("%q went to %s %s", p, got.Method, got.URL)
		}
		path := strings.TrimPrefix(got.URL.EscapedPath(), "/prefix")
		segs := strings.Split(path, "/")
		tmpl := strings.Split(pc.template, "/")
		if len(segs) != len(tmpl) {
			t.Fatalf("%q: path %s does not have the shape of %s", p, path, pc.template)
		}
		for i := range tmpl {
			want := tmpl[i]
			switch want {
			case ":name", ":rel":
				want = p
			case ":id":
				want = "1"
			}
			seg, err := url.PathUnescape(segs[i])
			if err != nil || seg != want {
				t.Fatalf("%q: segment %d of %s is %q, want %q", p, i, path, seg, want)
			}
		}
		perm, ok := LookupPermission(pc.method, path)
		if !ok || perm.Endpoint != pc.template {
			t.Fatalf("%q: the guard classifies %s %s as %q", p, pc.method, path, perm.Endpoint)
		}
	}
}

// unsafeParam is what the pipeline refuses as a path parameter: what a
// server or a proxy could read as another path, escaped or not.
func unsafeParam(p string) bool {
	return p == "" || p == "." || p == ".." || strings.ContainsAny(p, `/\`) || strings.IndexFunc(p, unicode.IsControl) >= 0
}

func TestPathParametersCannotMisroute(t *testing.T) {
	for _, p := range []string{"", "/", "..", ".", "../api_tokens", "a/../../v1/api_tokens", "%2F", "%2E%2E", "?x=1", "#frag",
		"a b", "ünïcødé", "日本", "\x00", "\n", "\u0085", `a\b`, "links", "status", strings.Repeat("long.name", 200), "a;b", "a%b", "+"} {
		checkPathSafety(t, p)
	}
}

func FuzzPathParameters(f *testing.F) {
	for _, s := range []string{"cpu", "..", "a/b", "%2F", "?", "#", " ", "ü", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) { checkPathSafety(t, p) })
}

// FuzzResponseDecoding feeds arbitrary bodies and statuses to the
// decoders: always an error value or a result, never a panic, and the
// status is kept.
func FuzzResponseDecoding(f *testing.F) {
	seeds := []string{``, `{}`, `[]`, `null`, `{"name":"x"}`, `{"name":1}`, `<html>502</html>`, `{"errors":{"params":{"a":["b"]}}}`,
		`{"errors":"x"}`, `{"query":{"found":"lots"},"metrics":{}}`, `{"series":[{"measurements":[{"time":"x"}]}]}`, "\xff\xfe", `{"a":` + strings.Repeat("[", 10000)}
	for _, s := range seeds {
		for _, status := range []int{200, 201, 202, 204, 400, 404, 429, 500} {
			f.Add(status, []byte(s))
		}
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 200 || status > 599 {
			status = 200 + (status%400+400)%400
		}
		hc := &http.Client{Transport: cannedTransport{status, body}}
		c, err := NewClient(testEmail, testToken, WithHTTPClient(hc), WithoutRetries(), WithMaxResponseBytes(4096))
		require.NoError(t, err)
		calls := []func() error{
			func() error { _, err := c.Metrics.Get(ctx, "m"); return err },
			func() error { _, err := c.Metrics.List(ctx, nil); return err },
			func() error {
				_, err := c.Measurements.List(ctx, "m", &MeasurementsQuery{Duration: time.Hour, Resolution: time.Minute})
				return err
			},
			func() error { _, err := c.Alerts.Get(ctx, 1); return err },
			func() error { _, err := c.Annotations.Get(ctx, "s", &AnnotationSearch{Count: 1}); return err },
			func() error { _, err := c.Charts.List(ctx, 1); return err },
			func() error { _, err := c.APITokens.Get(ctx, 1); return err },
			func() error { _, err := c.Services.Get(ctx, 1); return err },
			func() error { _, err := c.Snapshots.Get(ctx, 1); return err },
			func() error { _, err := c.Jobs.Get(ctx, 1); return err },
			func() error {
				_, err := c.Metrics.UpdateBatch(ctx, &MetricsBatchUpdate{MetricNames: MetricNames{Names: []string{"a"}}})
				return err
			},
		}
		for i, call := range calls {
			err := call()
			if status >= 300 {
				var ae *APIError
				if !errors.As(err, &ae) || ae.StatusCode != status {
					t.Fatalf("call %d, status %d: want *APIError with the status, got %v", i, status, err)
				}
				continue
			}
			if err != nil {
				var de *DecodeError
				if !errors.As(err, &de) || de.StatusCode != status {
					t.Fatalf("call %d, status %d: want a *DecodeError with the status, got %v", i, status, err)
				}
			}
		}
	})
}

// retryWaits runs a call that fails with the responses given and returns
// the waits the retry log reports.
func retryWaits(t *testing.T, opts []Option, responses ...*http.Response) ([]time.Duration, error) {
	return retryWaitsCtx(t, context.Background(), opts, responses...)
}

func retryWaitsCtx(t *testing.T, ctx context.Context, opts []Option, responses ...*http.Response) ([]time.Duration, error) {
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mt := newMockClient(t, append([]Option{WithLogger(logger)}, opts...)...)
	mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", httpmock.ResponderFromMultipleResponses(responses))
	_, err := c.Metrics.Get(ctx, "cpu")
	var waits []time.Duration
	mu.Lock()
	defer mu.Unlock()
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec struct {
			Msg    string `json:"msg"`
			Waited int64  `json:"waited"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		if rec.Msg == "librato: retrying" {
			waits = append(waits, time.Duration(rec.Waited))
		}
	}
	return waits, err
}

func withRetryAfter(status int, v string) *http.Response {
	r := httpmock.NewStringResponse(status, ``)
	if v != "" {
		r.Header.Set("Retry-After", v)
	}
	return r
}

func TestRetryAfterIsHonoured(t *testing.T) {
	waits, err := retryWaits(t, []Option{WithBackoff(time.Millisecond, time.Millisecond)},
		withRetryAfter(429, "1"), httpmock.NewStringResponse(200, `{"name":"cpu"}`))
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{time.Second}, waits, "Retry-After in seconds beats the backoff")

	date := time.Now().Add(1500 * time.Millisecond).UTC().Format(http.TimeFormat)
	waits, err = retryWaits(t, []Option{WithBackoff(time.Millisecond, time.Millisecond)},
		withRetryAfter(503, date), httpmock.NewStringResponse(200, `{"name":"cpu"}`))
	require.NoError(t, err)
	require.Len(t, waits, 1)
	assert.Greater(t, waits[0], time.Duration(0), "an HTTP date in the future is waited for")
	assert.LessOrEqual(t, waits[0], 1500*time.Millisecond)
}

func TestRetryAfterIsBoundedByTheContext(t *testing.T) {
	c, mt := newMockClient(t, WithMaxRetryWait(2*time.Hour))
	mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", httpmock.ResponderFromResponse(withRetryAfter(429, "3600")))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Metrics.Get(ctx, "cpu")
	require.ErrorIs(t, err, context.DeadlineExceeded, "the hour-long Retry-After ended with the context")
	require.ErrorIs(t, err, ErrRateLimited)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 1, ae.Attempts)
	assert.Equal(t, time.Hour, ae.RetryAfter)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestServiceUnavailableStormBacksOffExponentially(t *testing.T) {
	min, max := 4*time.Millisecond, 20*time.Millisecond
	var rs []*http.Response
	for i := 0; i < 6; i++ {
		rs = append(rs, httpmock.NewStringResponse(503, `{"errors":{"system":["maintenance"]}}`))
	}
	waits, err := retryWaits(t, []Option{WithBackoff(min, max), WithMaxAttempts(6)}, rs...)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 6, ae.Attempts, "the attempts made are in the error")
	assert.Contains(t, err.Error(), "after 6 attempts")
	require.Len(t, waits, 5)
	for i, w := range waits {
		base := min << i
		if base > max {
			base = max
		}
		assert.GreaterOrEqual(t, w, base/2, "wait %d", i)
		assert.LessOrEqual(t, w, base, "wait %d", i)
	}
}
