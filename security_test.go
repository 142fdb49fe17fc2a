package librato

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allVerbs is every fmt verb that prints a value, the ones that do not
// consult String or Error included.
var allVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%t", "%d", "%b", "%o", "%O", "%f", "%e", "%E", "%g", "%G", "%c", "%U", "%10.3v", "%T"}

// captureT is a testify TestingT that keeps what a failed assertion says.
type captureT struct{ out strings.Builder }

func (c *captureT) Errorf(format string, args ...any) { fmt.Fprintf(&c.out, format, args...) }

// printedEveryWay is v through every verb, testify's diff against other
// (which differs from v) and slog's text and JSON handlers.
func printedEveryWay(v, other any) map[string]string {
	out := map[string]string{}
	for _, verb := range allVerbs {
		out[verb] = fmt.Sprintf(verb, v)
	}
	ct := &captureT{}
	assert.Equal(ct, v, other)
	out["testify diff"] = ct.out.String()
	ct = &captureT{}
	assert.Nil(ct, v)
	out["testify Nil"] = ct.out.String()
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
	out["slog"] = buf.String()
	return out
}

// TestSecretsUnderEveryPrinter prints the client, its services, the
// batchers, an API token and every error type through every fmt verb, a
// failing testify assertion (whose diff walks values by reflection,
// pointers and unexported fields included) and slog, and finds no piece
// of the token anywhere.
func TestSecretsUnderEveryPrinter(t *testing.T) {
	const tok = "s3cret-Token-0123456789abcdef"
	lc := newLeakChecker(tok)
	c, mt := newMockClientWithToken(t, tok)
	c2, _ := newMockClientWithToken(t, tok+"X")
	mt.RegisterResponder("GET", testBase+"/v1/metrics/down", httpmock.NewErrorResponder(errors.New("connection refused")))
	mt.RegisterResponder("GET", testBase+"/v1/metrics/bad", httpmock.NewStringResponder(400, `{"errors":{"params":{"name":["is bad"]}}}`))
	mt.RegisterResponder("GET", testBase+"/v1/metrics/garbled", httpmock.NewStringResponder(200, `{"name":`))
	ctx := context.Background()

	b, err := c.Measurements.NewBatcher(BatcherOptions{})
	require.NoError(t, err)
	defer b.Close(ctx)
	b2, err := c2.Measurements.NewBatcher(BatcherOptions{})
	require.NoError(t, err)
	defer b2.Close(ctx)
	lb, err := c.Legacy.NewBatcher(LegacyBatcherOptions{})
	require.NoError(t, err)
	defer lb.Close(ctx)

	var token, token2 APIToken
	require.NoError(t, json_Unmarshal(`{"name":"ci","token":"`+tok+`","role":"admin","href":"https://x/v1/api_tokens/7"}`, &token))
	require.NoError(t, json_Unmarshal(`{"name":"ci","token":"`+tok+`Y","role":"admin","href":"https://x/v1/api_tokens/7"}`, &token2))

	_, transportErr := c.Metrics.Get(ctx, "down")
	_, apiErr := c.Metrics.Get(ctx, "bad")
	_, decodeErr := c.Metrics.Get(ctx, "garbled")
	viewer, _ := newMockClientWithToken(t, tok, WithRole(RoleViewOnly))
	_, guardErr := viewer.Spaces.Create(ctx, &Space{Name: "x"})
	_, validationErr := c.Metrics.Get(ctx, "")
	mt.RegisterResponder("GET", testBase+"/v1/metrics", httpmock.NewStringResponder(200, `{"query":{"found":5,"length":1,"offset":0},"metrics":[{"name":"a"}]}`))
	var paginationErr error
	for _, err := range c.Metrics.All(ctx, nil) {
		paginationErr = err
	}
	mt.RegisterResponder("GET", testBase+"/v1/jobs/9", httpmock.NewStringResponder(200, `{"id":9,"state":"failed","errors":{"name":["is bad"]}}`))
	_, jobErr := c.Jobs.Wait(ctx, 9)
	mt.RegisterResponder("POST", testBase+"/v1/measurements", httpmock.NewStringResponder(400, `{"errors":{"request":["no"]}}`))
	lost, err := c.Measurements.NewBatcher(BatcherOptions{})
	require.NoError(t, err)
	require.NoError(t, lost.Add(ctx, Measurement{Name: "cpu", Value: 1}))
	deliveryErr := lost.Close(ctx)
	redirect := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:1/v1/x", http.StatusFound)
	}))
	defer redirect.Close()
	rc, err := NewClient(testEmail, tok, WithBaseURL(redirect.URL), WithHTTPClient(redirect.Client()), WithoutRetries())
	require.NoError(t, err)
	_, redirectErr := rc.Metrics.Get(ctx, "cpu")
	var (
		pe *PaginationError
		je *JobError
		de *DeliveryError
		re *RedirectError
	)
	require.ErrorAs(t, paginationErr, &pe)
	require.ErrorAs(t, jobErr, &je)
	require.ErrorAs(t, deliveryErr, &de)
	require.ErrorAs(t, redirectErr, &re)
	require.Error(t, transportErr)
	require.Error(t, apiErr)
	require.Error(t, decodeErr)
	require.Error(t, guardErr)
	require.Error(t, validationErr)

	values := map[string][2]any{
		"*Client":        {c, c2},
		"Client":         {*c, *c2},
		"service":        {c.Spaces, c2.Spaces},
		"*Batcher":       {b, b2},
		"Batcher":        {*b, *b2},
		"*LegacyBatcher": {lb, b2},
		"APIToken":       {token, token2},
		"*APIToken":      {&token, &token2},
		"TransportError": {transportErr, apiErr},
		"*TransportError value": {func() any {
			var te *TransportError
			require.ErrorAs(t, transportErr, &te)
			return *te
		}(), 1},
		"APIError":        {apiErr, transportErr},
		"DecodeError":     {decodeErr, apiErr},
		"guard refusal":   {guardErr, apiErr},
		"ValidationError": {validationErr, apiErr},
		"PaginationError": {paginationErr, apiErr},
		"JobError":        {jobErr, apiErr},
		"DeliveryError":   {deliveryErr, apiErr},
		"RedirectError":   {redirectErr, apiErr},
	}
	for name, pair := range values {
		for how, text := range printedEveryWay(pair[0], pair[1]) {
			lc.check(t, name+" "+how, text)
		}
	}
	assert.Equal(t, token, token, "equal tokens stay equal for reflect.DeepEqual")
}

// json_Unmarshal decodes s into v as the pipeline decodes bodies.
func json_Unmarshal(s string, v any) error { return decodeJSON([]byte(s), v) }

func newMockClientWithToken(t *testing.T, tok string, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	c, err := NewClient(testEmail, tok, append([]Option{WithBaseURL(testBase), WithHTTPClient(&http.Client{Transport: mt}), WithoutRetries()}, opts...)...)
	require.NoError(t, err)
	return c, mt
}

// TestErrorTextsEscapeControlCharacters: a server's (or a caller's)
// control characters, terminal escapes and bidirectional overrides reach
// no error's text raw, so they cannot forge log lines or colours; the
// decoded fields keep what the server sent.
func TestErrorTextsEscapeControlCharacters(t *testing.T) {
	hostile := "bad\x1b[31m red\r\nFAKE 200 OK\u202egnp.exe\x00"
	raw := func(s string) bool { return strings.ContainsAny(s, "\x1b\r\n\u202e\x00") }
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	body := fmt.Sprintf(`{"errors":{"params":{%s:[%s]},"request":[%s],"system":[%s]}}`, q("na\x1bme"), q(hostile), q(hostile), q(hostile))
	c, mt := newMockClient(t, WithoutRetries())
	mt.RegisterResponder("GET", testBase+"/v1/metrics/a", httpmock.NewStringResponder(400, body))
	mt.RegisterResponder("GET", testBase+"/v1/metrics/b", httpmock.NewStringResponder(502, hostile))
	mt.RegisterResponder("GET", testBase+"/v1/metrics/c", httpmock.NewStringResponder(200, `{"name":`+q(hostile)+`,"period":`+q("x\x1b")+`}`))
	mt.RegisterResponder("GET", testBase+"/v1/jobs/9", httpmock.NewStringResponder(200, fmt.Sprintf(`{"id":9,"state":"failed","errors":{"name":[%s]}}`, q(hostile))))
	ctx := context.Background()

	_, err := c.Metrics.Get(ctx, "a")
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.False(t, raw(err.Error()), "APIError text: %q", err.Error())
	assert.Contains(t, err.Error(), `\x1b[31m`, "escaped, not dropped")
	assert.Equal(t, []string{hostile}, ae.Params["na\x1bme"], "the field keeps what the server sent")
	assert.Equal(t, []string{hostile}, ae.Request)

	_, err = c.Metrics.Get(ctx, "b")
	require.Error(t, err)
	assert.False(t, raw(err.Error()), "a body that is not the API's JSON: %q", err.Error())

	_, err = c.Metrics.Get(ctx, "c")
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.False(t, raw(err.Error()), "DecodeError text: %q", err.Error())

	_, err = c.Jobs.Wait(ctx, 9)
	var je *JobError
	require.ErrorAs(t, err, &je)
	assert.False(t, raw(err.Error()), "JobError text: %q", err.Error())

	_, err = c.Measurements.Create(ctx, &MeasurementBatch{Measurements: []Measurement{{Name: "ok\x1b[2J", Value: 1}}})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.False(t, raw(err.Error()), "ValidationError text: %q", err.Error())

	err = c.Do(ctx, "GET", "/v1/x%0Ay", nil, nil)
	if err != nil {
		assert.False(t, raw(err.Error()), "Do's error text: %q", err.Error())
	}

	redirect := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:1/v1/%1B%5B31m%0D%0Ax", http.StatusFound)
	}))
	defer redirect.Close()
	rc, err := NewClient(testEmail, testToken, WithBaseURL(redirect.URL), WithHTTPClient(redirect.Client()), WithoutRetries())
	require.NoError(t, err)
	_, err = rc.Metrics.Get(ctx, "cpu")
	var re *RedirectError
	require.ErrorAs(t, err, &re)
	assert.False(t, raw(err.Error()), "RedirectError text: %q", err.Error())
}

// TestRedirectsPassTheGuard: a redirect that keeps the credentials (same
// origin, under the base path) is classified by the guard as if it were
// the call, so a Record Only client cannot be led to create an API token;
// one that leaves the base path goes on without the credentials.
func TestRedirectsPassTheGuard(t *testing.T) {
	var tokensHit, outsideHit atomic.Int64
	var outsideAuth atomic.Value
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/measurements", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("POST /api/v1/api_tokens", func(w http.ResponseWriter, r *http.Request) {
		tokensHit.Add(1)
		w.WriteHeader(201)
	})
	mux.HandleFunc("POST /api/v1/spaces", func(w http.ResponseWriter, r *http.Request) {
		tokensHit.Add(1)
		w.WriteHeader(201)
	})
	mux.HandleFunc("POST /other/v1/measurements", func(w http.ResponseWriter, r *http.Request) {
		outsideHit.Add(1)
		outsideAuth.Store(r.Header.Get("Authorization"))
		w.WriteHeader(202)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := context.Background()
	batch := &MeasurementBatch{Measurements: []Measurement{{Name: "cpu", Value: 1, Time: time.Now().Unix()}}}

	for _, tc := range []struct {
		name   string
		opts   []Option
		to     string
		refuse bool
	}{
		{"to an unlisted row, strict guard", []Option{WithRole(RoleRecordOnly), WithStrictGuard()}, "/api/v1/api_tokens", true},
		{"to a published row, lenient guard", []Option{WithRole(RoleRecordOnly)}, "/api/v1/spaces", true},
		{"to a row the role may call", []Option{WithRole(RoleFullAccess)}, "/api/v1/api_tokens", false},
	} {
		tokensHit.Store(0)
		c, err := NewClient(testEmail, testToken, append([]Option{WithBaseURL(srv.URL + "/api"), WithoutRetries()}, tc.opts...)...)
		require.NoError(t, err)
		req := &request{ep: epMeasurementsCreate, rawPath: "/v1/measurements?to=" + tc.to, body: batch}
		_, err = c.call(ctx, req)
		if tc.refuse {
			var fe *ErrForbiddenForRole
			require.ErrorAs(t, err, &fe, tc.name)
			assert.Zero(t, tokensHit.Load(), "%s: nothing reached the target", tc.name)
		} else {
			assert.Equal(t, int64(1), tokensHit.Load(), tc.name)
		}
	}

	c, err := NewClient(testEmail, testToken, WithBaseURL(srv.URL+"/api"), WithoutRetries())
	require.NoError(t, err)
	_, err = c.call(ctx, &request{ep: epMeasurementsCreate, rawPath: "/v1/measurements?to=/other/v1/measurements", body: batch})
	require.NoError(t, err)
	assert.Equal(t, int64(1), outsideHit.Load())
	assert.Equal(t, "", outsideAuth.Load(), "outside the base path, no credentials")
}
