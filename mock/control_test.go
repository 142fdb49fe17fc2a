package mock_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ctlClient speaks to the control plane over the socket, as a test in
// another language would.
type ctlClient struct {
	t     testing.TB
	base  string
	token string
	hc    *http.Client
}

func newCtl(t testing.TB, srv *mock.Server) *ctlClient {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &ctlClient{t: t, base: srv.URL(), token: srv.ControlToken(), hc: &http.Client{Transport: tr}}
}

// raw sends body (nil for none) with the control token.
func (c *ctlClient) raw(method, path string, body []byte, header ...string) resp {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	require.NoError(c.t, err)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.hc.Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	return resp{Status: res.StatusCode, Header: res.Header, Body: data}
}

func (c *ctlClient) do(method, path string, v any) resp {
	c.t.Helper()
	if v == nil {
		return c.raw(method, path, nil)
	}
	data, err := json.Marshal(v)
	require.NoError(c.t, err)
	return c.raw(method, path, data)
}

// requestErr checks a control-plane error: the API's shape, with a
// message in errors.request.
func (r resp) requestErr(t testing.TB, status int) string {
	t.Helper()
	r.requireStatus(t, status)
	params, request, system := r.errs(t)
	require.Empty(t, params)
	require.Empty(t, system)
	require.Len(t, request, 1)
	return request[0]
}

func TestControlAuthentication(t *testing.T) {
	srv := newServer(t)
	ctl := newCtl(t, srv)
	w := newWire(t, srv, librato.RoleFullAccess)

	ctl.do("GET", "/mock/journal", nil).requireStatus(t, 200)
	for name, c := range map[string]*ctlClient{
		"none":  {t: t, base: ctl.base, hc: ctl.hc},
		"wrong": {t: t, base: ctl.base, token: strings.Repeat("0", 64), hc: ctl.hc},
	} {
		r := c.do("GET", "/mock/journal", nil)
		msg := r.requestErr(t, 401)
		assert.Contains(t, msg, "Bearer", name)
		assert.Contains(t, r.Header.Get("WWW-Authenticate"), "Bearer")
	}
	// An API token is no control token, with Basic auth or as a bearer.
	msg := w.do("GET", "/mock/usage", nil).requestErr(t, 401)
	assert.Contains(t, msg, "Basic")
	(&ctlClient{t: t, base: ctl.base, token: w.token, hc: ctl.hc}).do("GET", "/mock/usage", nil).requestErr(t, 401)
	// And the control token is no API token.
	r := ctl.do("GET", "/v1/metrics", nil)
	msg = r.requestErr(t, 401)
	assert.Contains(t, msg, "control plane")
	assert.Contains(t, r.Header.Get("WWW-Authenticate"), "Basic")
	w.as(srv.Email(), srv.ControlToken()).do("GET", "/v1/metrics", nil).requireStatus(t, 401)

	// Snapshot images stay public.
	w.as("", "").do("GET", "/mock/snapshots/999.png", nil).requireStatus(t, 404)

	// Fixed control token.
	_, err := mock.New(mock.WithControlToken("short"))
	require.Error(t, err)
	fixed := newServer(t, mock.WithControlToken("ci-control-token-0123"))
	assert.Equal(t, "ci-control-token-0123", fixed.ControlToken())
	assert.Regexp(t, `^[0-9a-f]{64}$`, srv.ControlToken())
	assert.NotEqual(t, srv.ControlToken(), newServer(t).ControlToken(), "random per server")
}

func TestControlErrors(t *testing.T) {
	srv := newServer(t)
	ctl := newCtl(t, srv)

	msg := ctl.do("GET", "/mock/nothing", nil).requestErr(t, 404)
	assert.Contains(t, msg, "/mock/reset", "the answer lists what exists")
	ctl.do("GET", "/mock", nil).requestErr(t, 404)
	r := ctl.do("GET", "/mock/reset", nil)
	r.requestErr(t, 405)
	assert.Equal(t, "POST", r.Header.Get("Allow"))
	r = ctl.do("PATCH", "/mock/faults", nil)
	r.requestErr(t, 405)
	assert.Equal(t, "GET, POST, DELETE", r.Header.Get("Allow"))

	ctl.raw("POST", "/mock/faults", []byte(`{"count":`)).requestErr(t, 400)
	ctl.raw("POST", "/mock/faults", nil).requestErr(t, 400)
	ctl.raw("POST", "/mock/faults", []byte(`{"count":1,"status":503,"colour":"red"}`)).requestErr(t, 400)
	ctl.raw("PUT", "/mock/latency", []byte(`{"ms":1}{}`)).requestErr(t, 400)
	msg = ctl.do("GET", "/mock/recorded?metirc=cpu", nil).requestErr(t, 400)
	assert.Contains(t, msg, "metirc")
	ctl.do("GET", "/mock/journal?x=1", nil).requestErr(t, 400)
	ctl.do("GET", "/mock/recorded?account=nobody@example.com", nil).requestErr(t, 404)
	ctl.do("GET", "/mock/recorded?start_time=0001-01-01", nil).requestErr(t, 400)
}

func TestControlIsNotAPITraffic(t *testing.T) {
	srv := newServer(t, mock.WithRateLimits(2, 2))
	ctl := newCtl(t, srv)
	srv.FailNext(5, 503)
	srv.SetLatency(time.Hour)
	for i := 0; i < 5; i++ {
		ctl.do("GET", "/mock/usage", nil).requireStatus(t, 200) // no latency, no fault, no rate limit
	}
	assert.Zero(t, srv.Requests())
	assert.Empty(t, srv.Journal())
	assert.Empty(t, srv.UsageReport())
	assert.Len(t, srv.Faults(), 1)
	assert.Equal(t, 5, srv.Faults()[0].Count)
}

func TestControlReset(t *testing.T) {
	seed, err := mock.LoadSeed(strings.NewReader(seedJSON))
	require.NoError(t, err)
	seed.Tokens = append(seed.Tokens, mock.SeedToken{Name: "generated", Role: librato.RoleViewOnly})
	srv := newServer(t, mock.WithSeed(seed), mock.WithRateLimits(100, 100), mock.WithLatency(0))
	ctl := newCtl(t, srv)
	w := newWire(t, srv, librato.RoleFullAccess)
	client, err := srv.Client(librato.RoleRecordOnly, librato.WithoutRetries())
	require.NoError(t, err)
	ctx := context.Background()
	assert.Empty(t, seed.Tokens[1].Token, "the caller's seed is left alone")
	generated := tokenNamed(t, w, "generated")

	mutate := func() {
		w.do("POST", "/v1/spaces", map[string]any{"name": "extra"}).requireStatus(t, 201)
		w.do("POST", "/v1/api_tokens", map[string]any{"name": "made-by-api", "role": "viewer"}).requireStatus(t, 201)
		w.do("PUT", "/v1/metrics/extra", map[string]any{"type": "gauge"}).requireStatus(t, 201)
		_, err := client.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{{Name: "cpu", Value: 99}}})
		require.NoError(t, err)
		require.NoError(t, srv.InjectFault(mock.Fault{Count: 3, Status: 500, Endpoint: "/v1/alerts"}))
		srv.SetLatency(time.Millisecond)
		require.NoError(t, srv.SetRateLimits(50, 50))
		// A token handed out is changed through the API: Reset restores it.
		id := idOf(t, tokenNamed(t, w, issuedName(librato.RoleRecordOnly, 2))["href"].(string))
		w.do("PUT", "/v1/api_tokens/"+id, map[string]any{"active": false}).requireStatus(t, 200)
	}
	check := func(how string) {
		t.Helper()
		assert.Equal(t, 3, srv.RecordedCount(), how)
		spaces := w.do("GET", "/v1/spaces", nil).requireStatus(t, 200).obj(t)["spaces"].([]any)
		require.Len(t, spaces, 1, how)
		assert.Equal(t, "Ops", spaces[0].(map[string]any)["name"])
		w.do("GET", "/v1/metrics/extra", nil).requireStatus(t, 404)
		w.do("GET", "/v1/metrics/cpu", nil).requireStatus(t, 200)
		names := map[string]bool{}
		for _, tk := range w.do("GET", "/v1/api_tokens", nil).obj(t)["api_tokens"].([]any) {
			names[tk.(map[string]any)["name"].(string)] = true
		}
		assert.False(t, names["made-by-api"], how)
		assert.True(t, names["ci"] && names["generated"] && names[issuedName(librato.RoleFullAccess, 1)] && names[issuedName(librato.RoleRecordOnly, 2)], "%s: %v", how, names)
		// The seed's generated secret is the same, the handed-out tokens work.
		assert.Equal(t, generated["token"], tokenNamed(t, w, "generated")["token"])
		w.as(srv.Email(), "ci-viewer-secret").do("GET", "/v1/spaces", nil).requireStatus(t, 200)
		_, err := client.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{{Name: "cpu", Value: 1}}})
		require.NoError(t, err, how)
		assert.Equal(t, 4, srv.RecordedCount())
		// Observations, faults, latency and limits are as at the start.
		assert.Empty(t, srv.Faults(), how)
		assert.Zero(t, srv.Latency(), how)
		agg, std := srv.RateLimits()
		assert.Equal(t, [2]int{100, 100}, [2]int{agg, std}, how)
		journal := srv.Journal()
		require.NotEmpty(t, journal)
		assert.Equal(t, "/v1/spaces", journal[0].Path, "%s: the journal starts after the reset", how)
		report := srv.UsageReport()
		require.Len(t, report, 3, how) // the wire, the seed's ci token, the client
		assert.Equal(t, issuedName(librato.RoleFullAccess, 1), report[0].TokenName)
	}

	mutate()
	oldAccount := srv.DefaultAccount()
	require.NoError(t, srv.Reset())
	assert.NotSame(t, oldAccount, srv.DefaultAccount(), "the default account is created anew")
	check("Reset")

	mutate()
	ctl.do("POST", "/mock/reset", nil).requireStatus(t, 204)
	check("POST /mock/reset")

	t.Run("without a seed: empty", func(t *testing.T) {
		srv := newServer(t)
		w := newWire(t, srv, librato.RoleFullAccess)
		other := srv.Account("other@example.com")
		require.NoError(t, other.Apply(&mock.Seed{Metrics: []map[string]any{{"name": "o", "type": "gauge"}}}))
		w.do("POST", "/v1/spaces", map[string]any{"name": "x"}).requireStatus(t, 201)
		newCtl(t, srv).do("POST", "/mock/reset", nil).requireStatus(t, 204)
		assert.Zero(t, w.do("GET", "/v1/spaces", nil).requireStatus(t, 200).obj(t)["query"].(map[string]any)["total"])
		c, err := srv.Account("other@example.com").Client(librato.RoleViewOnly)
		require.NoError(t, err)
		_, err = c.Metrics.Get(context.Background(), "o")
		require.ErrorIs(t, err, librato.ErrNotFound, "other accounts are emptied too")
	})
}

// tokenNamed finds a token by name through the API.
func tokenNamed(t *testing.T, w *wire, name string) map[string]any {
	t.Helper()
	for _, tk := range w.do("GET", "/v1/api_tokens?name="+url.QueryEscape(name), nil).requireStatus(t, 200).obj(t)["api_tokens"].([]any) {
		if m := tk.(map[string]any); m["name"] == name {
			return m
		}
	}
	t.Fatalf("no token named %q", name)
	return nil
}

func TestControlSeed(t *testing.T) {
	srv := newServer(t)
	ctl := newCtl(t, srv)
	w := newWire(t, srv, librato.RoleFullAccess)

	ctl.raw("POST", "/mock/seed", []byte(seedJSON)).requireStatus(t, 204)
	w.do("GET", "/v1/metrics/cpu", nil).requireStatus(t, 200)
	assert.Equal(t, 3, srv.RecordedCount())
	w.as(srv.Email(), "ci-viewer-secret").do("GET", "/v1/spaces", nil).requireStatus(t, 200)

	// gzipped, into another account
	ctl.raw("POST", "/mock/seed?account=team@example.com", gzipped(t, `{"metrics":[{"name":"team.m","type":"gauge"}]}`), "Content-Encoding", "gzip").requireStatus(t, 204)
	c, err := srv.Account("team@example.com").Client(librato.RoleViewOnly)
	require.NoError(t, err)
	_, err = c.Metrics.Get(context.Background(), "team.m")
	require.NoError(t, err)

	msg := ctl.raw("POST", "/mock/seed", []byte(`{"metricz":[]}`)).requestErr(t, 400)
	assert.Contains(t, msg, "metricz")
	msg = ctl.raw("POST", "/mock/seed", []byte(`{"metrics":[{"name":"bad name","type":"gauge"}]}`)).requestErr(t, 400)
	assert.Contains(t, msg, "metrics[0]: name")
	msg = ctl.raw("POST", "/mock/seed", []byte(`{"tokens":[{"name":"x","role":"viewer","token":"`+srv.ControlToken()+`"}]}`)).requestErr(t, 400)
	assert.Contains(t, msg, "control token")
	assert.NotContains(t, msg, srv.ControlToken())
}

func TestControlFaults(t *testing.T) {
	srv := newServer(t, mock.WithRetryAfter(4))
	ctl := newCtl(t, srv)
	w := newWire(t, srv, librato.RoleFullAccess)

	ctl.do("POST", "/mock/faults", map[string]any{"count": 2, "status": 503, "retry_after": 9, "method": "post", "endpoint": "/v1/measurements"}).requireStatus(t, 204)
	ctl.do("POST", "/mock/faults", map[string]any{"count": 1, "status": 422, "endpoint": "/v1/metrics/:name"}).requireStatus(t, 204)
	ctl.do("POST", "/mock/faults", map[string]any{"count": 1, "status": 429, "endpoint": "/v1/spaces/42"}).requireStatus(t, 204)
	var list struct {
		Faults []mock.Fault `json:"faults"`
	}
	require.NoError(t, json.Unmarshal(ctl.do("GET", "/mock/faults", nil).requireStatus(t, 200).Body, &list))
	require.Len(t, list.Faults, 3)
	assert.Equal(t, mock.Fault{Count: 2, Status: 503, RetryAfter: 9, Method: "POST", Endpoint: "/v1/measurements"}, list.Faults[0])

	// Requests that match nothing pass.
	w.do("GET", "/v1/metrics", nil).requireStatus(t, 200)
	w.do("PUT", "/v1/metrics", map[string]any{"names": []string{"a"}}).requireStatus(t, 202)
	body := map[string]any{"measurements": []any{map[string]any{"name": "f", "value": 1}}}
	for i := 0; i < 2; i++ {
		r := w.do("POST", "/v1/measurements", body).requireStatus(t, 503)
		assert.Equal(t, "9", r.Header.Get("Retry-After"))
		_, _, system := r.errs(t)
		assert.Contains(t, system[0], "injected")
	}
	w.do("POST", "/v1/measurements", body).requireStatus(t, 202)
	w.do("GET", "/v1/metrics/f", nil).requireStatus(t, 422) // template match
	w.do("GET", "/v1/metrics/f", nil).requireStatus(t, 200)
	w.do("GET", "/v1/spaces/41", nil).requireStatus(t, 404)
	r := w.do("GET", "/v1/spaces/42", nil).requireStatus(t, 429) // exact path match
	assert.Equal(t, "4", r.Header.Get("Retry-After"), "WithRetryAfter is the default")
	assert.Empty(t, srv.Faults())

	// Clearing, and FailNext replacing what is pending.
	require.NoError(t, srv.InjectFault(mock.Fault{Count: 5, Status: 500}))
	ctl.do("DELETE", "/mock/faults", nil).requireStatus(t, 204)
	w.do("GET", "/v1/metrics", nil).requireStatus(t, 200)
	require.NoError(t, srv.InjectFault(mock.Fault{Count: 5, Status: 500}))
	srv.FailNext(1, 400)
	require.Len(t, srv.Faults(), 1)
	w.do("GET", "/v1/metrics", nil).requireStatus(t, 400)
	w.do("GET", "/v1/metrics", nil).requireStatus(t, 200)

	for _, bad := range []map[string]any{
		{"status": 503},
		{"count": 0, "status": 503},
		{"count": 1},
		{"count": 1, "status": 1000},
		{"count": 1, "status": 503, "drop": true},
		{"count": 1, "status": 503, "retry_after": -1},
		{"count": 1, "status": 503, "method": "G3T"},
		{"count": 1, "status": 503, "endpoint": "v1/metrics"},
		{"count": 1, "status": 503, "endpoint": "/v1/metrics?x=1"},
		{"count": 1, "status": 503, "endpoint": "/v1/metric/:name"},
		{"count": 1, "status": 503, "method": "POST", "endpoint": "/v1/metrics/:name"},
	} {
		ctl.do("POST", "/mock/faults", bad).requestErr(t, 400)
		assert.Error(t, srv.InjectFault(faultOf(t, bad)), "%v", bad)
	}
	assert.Empty(t, srv.Faults())
}

func faultOf(t *testing.T, m map[string]any) mock.Fault {
	data, err := json.Marshal(m)
	require.NoError(t, err)
	var f mock.Fault
	require.NoError(t, json.Unmarshal(data, &f))
	return f
}

func TestControlDropFault(t *testing.T) {
	srv := newServer(t)
	ctl := newCtl(t, srv)
	email, token := srv.Credentials(librato.RoleFullAccess)
	ctl.do("POST", "/mock/faults", map[string]any{"count": 2, "drop": true, "endpoint": "/v1/metrics"}).requireStatus(t, 204)

	// Over the socket: the connection closes without an answer.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	req, _ := http.NewRequest("GET", srv.URL()+"/v1/metrics", nil)
	req.SetBasicAuth(email, token)
	_, err := hc.Do(req)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), token)

	// In process: ErrDropped.
	req, _ = http.NewRequest("GET", "http://x/v1/metrics", nil)
	req.SetBasicAuth(email, token)
	_, err = srv.Transport().RoundTrip(req)
	require.ErrorIs(t, err, mock.ErrDropped)

	// The SDK retries a dropped GET as a network failure.
	require.NoError(t, srv.InjectFault(mock.Fault{Count: 1, Drop: true}))
	c, err := srv.Client(librato.RoleFullAccess, librato.WithHTTPClient(&http.Client{Transport: srv.Transport()}))
	require.NoError(t, err)
	_, err = c.Metrics.List(context.Background(), nil)
	require.NoError(t, err)

	j := srv.Journal()
	require.Len(t, j, 4)
	for _, e := range j[:3] {
		assert.Zero(t, e.Status)
		assert.True(t, e.Injected)
		assert.Contains(t, e.Error, "dropped")
	}
	assert.Equal(t, 200, j[3].Status)
}

func TestControlLatencyAndRateLimits(t *testing.T) {
	srv := newServer(t)
	ctl := newCtl(t, srv)
	w := newWire(t, srv, librato.RoleFullAccess)

	ctl.do("PUT", "/mock/latency", map[string]any{"ms": 250}).requireStatus(t, 204)
	assert.Equal(t, 250*time.Millisecond, srv.Latency())
	assert.JSONEq(t, `{"ms":250}`, string(ctl.do("GET", "/mock/latency", nil).requireStatus(t, 200).Body))
	ctl.do("PUT", "/mock/latency", map[string]any{"ms": 0}).requireStatus(t, 204)
	assert.Zero(t, srv.Latency())
	ctl.do("PUT", "/mock/latency", map[string]any{"ms": -1}).requestErr(t, 400)
	ctl.do("PUT", "/mock/latency", map[string]any{}).requestErr(t, 400)

	w.do("GET", "/v1/metrics", nil).requireStatus(t, 200) // counted before the change
	ctl.do("PUT", "/mock/ratelimits", map[string]any{"agg": 1, "std": 2}).requireStatus(t, 204)
	assert.JSONEq(t, `{"agg":1,"std":2}`, string(ctl.do("GET", "/mock/ratelimits", nil).requireStatus(t, 200).Body))
	r := w.do("GET", "/v1/metrics", nil).requireStatus(t, 200)
	assert.Contains(t, r.Header.Get("X-Librato-RateLimit-Std"), "limit=2,remaining=1,", "a new window starts")
	assert.Contains(t, r.Header.Get("X-Librato-RateLimit-Agg"), "limit=1,remaining=1,")
	w.do("GET", "/v1/metrics", nil).requireStatus(t, 200)
	r = w.do("GET", "/v1/metrics", nil).requireStatus(t, 429)
	assert.NotEmpty(t, r.Header.Get("Retry-After"))
	body := map[string]any{"measurements": []any{map[string]any{"name": "r", "value": 1}}}
	w.do("POST", "/v1/measurements", body).requireStatus(t, 202)
	w.do("POST", "/v1/measurements", body).requireStatus(t, 429)

	// The SDK reports the limits.
	c := sdk(t, srv, librato.RoleFullAccess, librato.WithoutRetries())
	_, err := c.Metrics.List(context.Background(), nil)
	var apiErr *librato.APIError
	require.True(t, errors.As(err, &apiErr), "%v", err)
	assert.Equal(t, 429, apiErr.StatusCode)

	ctl.do("PUT", "/mock/ratelimits", map[string]any{"std": 100}).requireStatus(t, 204)
	agg, std := srv.RateLimits()
	assert.Equal(t, [2]int{1, 100}, [2]int{agg, std}, "agg is kept")
	w.do("GET", "/v1/metrics", nil).requireStatus(t, 200)
	ctl.do("PUT", "/mock/ratelimits", map[string]any{"agg": 0}).requestErr(t, 400)
	ctl.do("PUT", "/mock/ratelimits", map[string]any{}).requestErr(t, 400)
	require.Error(t, srv.SetRateLimits(1, 0))
}

func TestControlRecorded(t *testing.T) {
	srv := newServer(t)
	ctl := newCtl(t, srv)
	w := newWire(t, srv, librato.RoleFullAccess)
	w.do("POST", "/v1/measurements", map[string]any{
		"tags": map[string]any{"host": "Web1"},
		"measurements": []any{
			map[string]any{"name": "cpu", "value": 1, "time": base},
			map[string]any{"name": "cpu", "value": 2, "time": base + 60},
			map[string]any{"name": "cpu", "value": 3, "time": base + 120, "tags": map[string]any{"host": "web2"}},
			map[string]any{"name": "mem", "count": 2, "sum": 10, "min": 4, "max": 6, "time": base},
		},
	}).requireStatus(t, 202)
	other := srv.Account("other@example.com")
	require.NoError(t, other.Apply(&mock.Seed{Measurements: []map[string]any{{"name": "cpu", "value": 9}}}))

	get := func(q string) []map[string]any {
		t.Helper()
		var out struct {
			Measurements []map[string]any `json:"measurements"`
		}
		require.NoError(t, json.Unmarshal(ctl.do("GET", "/mock/recorded"+q, nil).requireStatus(t, 200).Body, &out))
		require.NotNil(t, out.Measurements, "an empty list, not null")
		return out.Measurements
	}
	assert.Len(t, get(""), 4)
	assert.Len(t, get("?metric=CPU"), 3, "metric names ignore case")
	got := get("?metric=cpu&tags[host]=web1")
	require.Len(t, got, 2)
	assert.Equal(t, map[string]any{"name": "cpu", "value": 1.0, "time": float64(base), "tags": map[string]any{"host": "Web1"}}, got[0])
	assert.Len(t, get(fmt.Sprintf("?start_time=%d&end_time=%d", base+60, base+120)), 2)
	assert.Len(t, get("?start_time="+time.Unix(base+60, 0).UTC().Format(time.RFC3339)), 2, "ISO-8601 too")
	mem := get("?metric=mem")
	require.Len(t, mem, 1)
	assert.Equal(t, 2.0, mem[0]["count"])
	assert.Equal(t, 10.0, mem[0]["sum"])
	assert.NotContains(t, mem[0], "value", "a summary has no value")
	assert.Len(t, get("?account=other@example.com"), 1)
	assert.Empty(t, get("?metric=none"))

	// The Go method behind it.
	assert.Len(t, srv.DefaultAccount().RecordedMatching(mock.RecordedFilter{Metric: "cpu", Tags: map[string]string{"HOST": "WEB2"}}), 1)
	assert.Len(t, srv.DefaultAccount().RecordedMatching(mock.RecordedFilter{End: base}), 2)
}

func TestControlAnnotationsAndAlerts(t *testing.T) {
	seed, err := mock.LoadSeed(strings.NewReader(seedJSON))
	require.NoError(t, err)
	srv := newServer(t, mock.WithSeed(seed))
	ctl := newCtl(t, srv)
	w := newWire(t, srv, librato.RoleFullAccess)
	w.do("POST", "/v1/annotations/builds", map[string]any{"title": "b1", "source": "ci", "start_time": base, "end_time": base + 30,
		"links": []any{map[string]any{"rel": "log", "href": "http://ci/1"}}}).requireStatus(t, 201)

	var ann struct {
		Annotations []mock.AnnotationRecord `json:"annotations"`
	}
	require.NoError(t, json.Unmarshal(ctl.do("GET", "/mock/annotations", nil).requireStatus(t, 200).Body, &ann))
	require.Len(t, ann.Annotations, 2)
	b := ann.Annotations[0]
	assert.Equal(t, "builds", b.Stream)
	assert.Equal(t, "b1", b.Title)
	assert.Equal(t, "ci", b.Source)
	assert.Equal(t, base, b.StartTime)
	assert.Equal(t, base+30, b.EndTime)
	assert.Equal(t, []librato.Link{{Rel: "log", Href: "http://ci/1"}}, b.Links)
	assert.Equal(t, "deploys", ann.Annotations[1].Stream)
	assert.Equal(t, "Deploys", ann.Annotations[1].DisplayName)
	require.NoError(t, json.Unmarshal(ctl.do("GET", "/mock/annotations?stream=Deploys", nil).requireStatus(t, 200).Body, &ann))
	require.Len(t, ann.Annotations, 1)

	w.do("POST", "/v1/alerts", map[string]any{"name": "quiet", "conditions": []any{map[string]any{"type": "above", "metric_name": "cpu", "threshold": 1}}}).requireStatus(t, 201)
	var fired struct {
		Alerts []mock.FiredAlert `json:"alerts"`
	}
	require.NoError(t, json.Unmarshal(ctl.do("GET", "/mock/alerts/fired", nil).requireStatus(t, 200).Body, &fired))
	require.Len(t, fired.Alerts, 1, "the seed's firing alert")
	assert.Equal(t, "cpu.high", fired.Alerts[0].Name)
	assert.True(t, fired.Alerts[0].Firing)

	quiet := w.do("GET", "/v1/alerts?name=quiet", nil).obj(t)["alerts"].([]any)[0].(map[string]any)
	id := num(t, quiet["id"])
	ctl.do("POST", fmt.Sprintf("/mock/alerts/%d/fire", id), nil).requireStatus(t, 204)
	assert.Len(t, w.do("GET", "/v1/alerts/status", nil).obj(t)["firing"], 2)
	w.do("POST", fmt.Sprintf("/v1/alerts/%d/clear", id), nil).requireStatus(t, 204)
	require.NoError(t, json.Unmarshal(ctl.do("GET", "/mock/alerts/fired", nil).requireStatus(t, 200).Body, &fired))
	require.Len(t, fired.Alerts, 2)
	assert.Equal(t, "quiet", fired.Alerts[1].Name)
	assert.False(t, fired.Alerts[1].Firing)
	assert.NotZero(t, fired.Alerts[1].ClearedAt)

	ctl.do("POST", "/mock/alerts/999999/fire", nil).requestErr(t, 404)
	ctl.do("POST", "/mock/alerts/x/fire", nil).requestErr(t, 404)
	srv.Account("empty@example.com")
	assert.JSONEq(t, `{"alerts":[]}`, string(ctl.do("GET", "/mock/alerts/fired?account=empty@example.com", nil).requireStatus(t, 200).Body))
	assert.JSONEq(t, `{"annotations":[]}`, string(ctl.do("GET", "/mock/annotations?account=empty@example.com", nil).requireStatus(t, 200).Body))
}

func TestJournal(t *testing.T) {
	var logBuf bytes.Buffer
	srv := newServer(t, mock.WithJournalSize(4), mock.WithLogger(slog.New(slog.NewTextHandler(&logBuf, nil))))
	ctl := newCtl(t, srv)
	email, token := srv.Credentials(librato.RoleViewOnly)
	w := newWire(t, srv, librato.RoleViewOnly).as(email, token)

	w.do("GET", "/v1/metrics?name="+token, nil).requireStatus(t, 200) // a query holding a secret is not logged
	w.do("POST", "/v1/spaces", map[string]any{"name": "x"}).requireStatus(t, 403)
	w.as(email, token+"0").do("GET", "/v1/spaces", nil).requireStatus(t, 401)
	w.as("", "").do("GET", "/v1/nothing", nil).requireStatus(t, 401)
	w.do("GET", "/v1/nothing", nil).requireStatus(t, 404)

	j := srv.Journal()
	require.Len(t, j, 4, "bounded: the oldest went")
	assert.Equal(t, "POST", j[0].Method)
	assert.Equal(t, "/v1/spaces", j[0].Endpoint)
	assert.Equal(t, 403, j[0].Status)
	assert.Equal(t, issuedName(librato.RoleViewOnly, 1), j[0].TokenName)
	assert.Equal(t, "viewer", j[0].Role)
	assert.Contains(t, j[0].Error, "Forbidden")
	assert.Equal(t, 401, j[1].Status)
	assert.Empty(t, j[1].TokenName, "unknown credentials show no name")
	assert.Empty(t, j[1].Role)
	assert.Empty(t, j[2].TokenName)
	assert.Equal(t, "/v1/nothing", j[3].Path)
	assert.Empty(t, j[3].Endpoint)
	assert.Equal(t, 404, j[3].Status)
	for _, e := range j {
		assert.False(t, e.Time.IsZero())
		assert.GreaterOrEqual(t, e.DurationMS, 0.0)
	}

	r := ctl.do("GET", "/mock/journal", nil).requireStatus(t, 200)
	var out struct {
		Requests []mock.JournalEntry `json:"requests"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &out))
	assert.Len(t, out.Requests, 4)
	var raw struct {
		Requests []map[string]any `json:"requests"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &raw))
	for _, k := range []string{"method", "path", "endpoint", "status", "token_name", "role", "duration_ms", "error"} {
		assert.Contains(t, raw.Requests[0], k)
	}
	assert.NotContains(t, string(r.Body), token)

	logged := strings.Split(strings.TrimSpace(logBuf.String()), "\n")
	require.Len(t, logged, 5, "one line per request: %s", logBuf.String())
	assert.Contains(t, logged[1], "status=403")
	assert.Contains(t, logged[1], `token_name="`+issuedName(librato.RoleViewOnly, 1)+`"`)
	assert.NotContains(t, logBuf.String(), token)

	ctl.do("DELETE", "/mock/journal", nil).requireStatus(t, 204)
	assert.Empty(t, srv.Journal())
	assert.JSONEq(t, `{"requests":[]}`, string(ctl.do("GET", "/mock/journal", nil).requireStatus(t, 200).Body))

	none := newServer(t, mock.WithJournalSize(0))
	newWire(t, none, librato.RoleViewOnly).do("GET", "/v1/metrics", nil).requireStatus(t, 200)
	assert.Empty(t, none.Journal())
	_, err := mock.New(mock.WithJournalSize(-1))
	require.Error(t, err)
}

func TestControlUsage(t *testing.T) {
	srv := newServer(t)
	ctl := newCtl(t, srv)
	ctx := context.Background()
	agent, err := srv.Client(librato.RoleFullAccess, librato.WithoutRetries())
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		_, err = agent.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{{Name: "cpu", Value: 1}}})
		require.NoError(t, err)
	}
	_, err = agent.Metrics.Get(ctx, "cpu")
	require.NoError(t, err)
	role, ok := srv.MinimalRoleOf(agent)
	require.True(t, ok)
	assert.Equal(t, librato.RoleRecordOnly, role, "a Full Access client that only records needs Record Only")
	assert.Len(t, srv.UsageOf(agent), 2)

	viewer, err := srv.DefaultAccount().Client(librato.RoleViewOnly)
	require.NoError(t, err)
	_, ok = srv.MinimalRoleOf(viewer)
	assert.False(t, ok, "no call yet")
	_, err = viewer.Metrics.List(ctx, nil)
	require.NoError(t, err)
	role, _ = srv.MinimalRoleOf(viewer)
	assert.Equal(t, librato.RoleViewOnly, role)

	email, token := srv.Credentials(librato.RoleFullAccess)
	stranger, err := librato.NewClient(email, token, librato.WithBaseURL(srv.URL()))
	require.NoError(t, err)
	_, ok = srv.MinimalRoleOf(stranger)
	assert.False(t, ok, "a client the server did not make")
	assert.Nil(t, srv.UsageOf(stranger))

	r := ctl.do("GET", "/mock/usage", nil).requireStatus(t, 200)
	assert.NotContains(t, string(r.Body), token)
	var out struct {
		Tokens []mock.TokenUsage `json:"tokens"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &out))
	require.Len(t, out.Tokens, 2)
	assert.Equal(t, mock.TokenUsage{
		Account: srv.Email(), TokenName: issuedName(librato.RoleFullAccess, 1), Role: librato.RoleFullAccess, MinimalRole: librato.RoleRecordOnly,
		Endpoints: []mock.EndpointUsage{{Method: "POST", Endpoint: "/v1/measurements", Calls: 3}, {Method: "GET", Endpoint: "/v1/metrics/:name", Calls: 1}},
	}, out.Tokens[0])
	assert.Equal(t, librato.RoleViewOnly, out.Tokens[1].MinimalRole)
	assert.Equal(t, srv.UsageReport(), out.Tokens)
}

// issuedName is the name Credentials gives its n-th token.
func issuedName(role librato.Role, n int) string { return fmt.Sprintf("mock-%s-%d", role, n) }

// gzipped compresses s.
func gzipped(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

func TestControlConcurrency(t *testing.T) {
	seed, err := mock.LoadSeed(strings.NewReader(seedJSON))
	require.NoError(t, err)
	srv := newServer(t, mock.WithSeed(seed), mock.WithJournalSize(50))
	ctl := newCtl(t, srv)
	const workers, rounds = 8, 30
	clients := make([]*librato.Client, workers)
	for i := range clients {
		opts := []librato.Option{}
		if i%2 == 1 {
			opts = append(opts, librato.WithHTTPClient(&http.Client{Transport: srv.Transport()}))
		}
		clients[i], err = srv.Client(librato.RoleFullAccess, opts...)
		require.NoError(t, err)
	}
	done := make(chan struct{})
	errs := make(chan error, workers)
	for i, c := range clients {
		go func() {
			ctx := context.Background()
			for r := 0; r < rounds; r++ {
				_, err := c.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{{Name: fmt.Sprintf("c%d", i), Value: float64(r)}}})
				if err == nil {
					_, err = c.Metrics.List(ctx, nil)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			switch i % 5 {
			case 0:
				ctl.do("POST", "/mock/reset", nil).requireStatus(t, 204)
			case 1:
				_ = srv.Journal()
				_ = srv.UsageReport()
			case 2:
				_ = srv.DefaultAccount().RecordedMatching(mock.RecordedFilter{Metric: "c1"})
				_, _ = srv.MinimalRoleOf(clients[0])
			case 3:
				require.NoError(t, srv.SetRateLimits(1_000_000, 1_000_000))
				srv.SetLatency(0)
			case 4:
				ctl.do("GET", "/mock/journal", nil).requireStatus(t, 200)
				_ = srv.DefaultAccount().FiredAlerts()
			}
		}
	}()
	for range clients {
		require.NoError(t, <-errs)
	}
	<-done
	assert.LessOrEqual(t, len(srv.Journal()), 50)
}

// A fault with after runs the request first: the write lands, its answer
// is replaced by the status (or a dropped connection).
func TestControlAfterFault(t *testing.T) {
	srv := newServer(t)
	ctl := newCtl(t, srv)
	w := newWire(t, srv, librato.RoleFullAccess)
	ctl.do("POST", "/mock/faults", map[string]any{"count": 1, "status": 504, "endpoint": "/v1/spaces", "after": true}).requireStatus(t, 204)
	ctl.do("POST", "/mock/faults", map[string]any{"count": 1, "drop": true, "endpoint": "/v1/measurements", "after": true}).requireStatus(t, 204)
	var list struct {
		Faults []mock.Fault `json:"faults"`
	}
	require.NoError(t, json.Unmarshal(ctl.do("GET", "/mock/faults", nil).requireStatus(t, 200).Body, &list))
	require.Len(t, list.Faults, 2)
	assert.Equal(t, mock.Fault{Count: 1, Status: 504, Endpoint: "/v1/spaces", After: true}, list.Faults[0])

	r := w.do("POST", "/v1/spaces", map[string]any{"name": "landed"}).requireStatus(t, 504)
	_, _, system := r.errs(t)
	assert.Contains(t, system[0], "after the request was handled")
	spaces := w.do("GET", "/v1/spaces", nil).requireStatus(t, 200).obj(t)["spaces"].([]any)
	require.Len(t, spaces, 1, "the space was created before the 504")
	assert.Equal(t, "landed", spaces[0].(map[string]any)["name"])

	req, _ := http.NewRequest("POST", "http://x/v1/measurements", strings.NewReader(`{"measurements":[{"name":"dropped.after","value":1}]}`))
	req.SetBasicAuth(w.email, w.token)
	req.Header.Set("Content-Type", "application/json")
	_, err := srv.Transport().RoundTrip(req)
	require.ErrorIs(t, err, mock.ErrDropped)
	assert.Equal(t, 1, srv.RecordedCount(), "stored before the connection was dropped")

	j := srv.Journal()
	require.Len(t, j, 3)
	assert.Equal(t, 504, j[0].Status)
	assert.True(t, j[0].Injected)
	assert.NotEmpty(t, j[0].TokenName, "the handler authenticated the request")
	assert.Zero(t, j[2].Status)
	assert.True(t, j[2].Injected)
}

// WithJournalBytes bounds the journal's text: the oldest entries go first.
func TestJournalBytes(t *testing.T) {
	srv := newServer(t, mock.WithJournalBytes(20_000))
	w := newWire(t, srv, librato.RoleFullAccess)
	long := "/v1/metrics/" + strings.Repeat("n", 5000)
	for i := 0; i < 10; i++ {
		w.do("GET", long, nil)
	}
	w.do("GET", "/v1/metrics", nil).requireStatus(t, 200)
	j := srv.Journal()
	require.NotEmpty(t, j)
	size := 0
	for _, e := range j {
		size += len(e.Path) + len(e.Error)
		assert.LessOrEqual(t, len(e.Path), mock.JournalFieldBytes+32)
		assert.Contains(t, e.Path+"/v1/metrics", "/v1/metrics")
	}
	assert.LessOrEqual(t, size, 20_000)
	assert.Less(t, len(j), 11, "the oldest went")
	assert.Equal(t, "/v1/metrics", j[len(j)-1].Path, "the newest stays")
	_, err := mock.New(mock.WithJournalBytes(-1))
	assert.Error(t, err)
	none := newServer(t, mock.WithJournalBytes(0))
	newWire(t, none, librato.RoleViewOnly).do("GET", "/v1/metrics", nil).requireStatus(t, 200)
	assert.Empty(t, none.Journal())
}

// With gzip refused, the SDK on its defaults (which gzip submissions) gets
// one 415, sends that request again plain and compresses nothing more:
// Measurements.Create and a Batcher deliver everything.
func TestGzipSwitchEndToEnd(t *testing.T) {
	srv := newServer(t)
	ctl := newCtl(t, srv)
	var enc struct {
		Gzip *bool `json:"gzip"`
	}
	require.NoError(t, json.Unmarshal(ctl.do("GET", "/mock/encodings", nil).requireStatus(t, 200).Body, &enc))
	require.NotNil(t, enc.Gzip)
	assert.True(t, *enc.Gzip)
	ctl.do("PUT", "/mock/encodings", map[string]any{"gzip": false}).requireStatus(t, 204)
	assert.False(t, srv.Gzip())
	ctl.do("PUT", "/mock/encodings", map[string]any{}).requestErr(t, 400)

	c, err := srv.Client(librato.RoleRecordOnly) // default options: gzip
	require.NoError(t, err)
	ctx := context.Background()
	now := time.Now().Unix()
	_, err = c.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{
		{Name: "gz.off", Value: 1, Time: now - 1}, {Name: "gz.off", Value: 2, Time: now}}})
	require.NoError(t, err)
	b, err := c.Measurements.NewBatcher(librato.BatcherOptions{FlushInterval: time.Hour})
	require.NoError(t, err)
	for i := 0; i < 50; i++ {
		require.NoError(t, b.Add(context.Background(), librato.Measurement{Name: "gz.batched", Value: float64(i), Tags: map[string]string{"n": strconv.Itoa(i)}}))
	}
	require.NoError(t, b.Close(ctx))
	assert.Len(t, srv.DefaultAccount().RecordedMatching(mock.RecordedFilter{Metric: "gz.off"}), 2)
	assert.Len(t, srv.DefaultAccount().RecordedMatching(mock.RecordedFilter{Metric: "gz.batched"}), 50)

	j := srv.Journal()
	require.GreaterOrEqual(t, len(j), 3)
	assert.Equal(t, http.StatusUnsupportedMediaType, j[0].Status)
	assert.Equal(t, "gzip", j[0].ContentEncoding)
	assert.Contains(t, j[0].Error, `"request"`)
	for _, e := range j[1:] {
		assert.Less(t, e.Status, 300, "%+v", e)
		assert.Empty(t, e.ContentEncoding, "plain from the first 415 on: %+v", e)
	}

	// Reset takes the option's setting back.
	require.NoError(t, srv.Reset())
	assert.True(t, srv.Gzip())
	off := newServer(t, mock.WithGzip(false))
	require.NoError(t, off.Reset())
	assert.False(t, off.Gzip())
}

// What the mock accepts by choice is noted in the journal: a time with a
// fraction, a batch time of 0, on every route and either reader.
func TestJournalNotesWhatWasAcceptedByChoice(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	notes := func() []string {
		j := srv.Journal()
		return j[len(j)-1].Notes
	}
	const frac = "a time in epoch seconds had a fraction: truncated to the second (the reference gives no integer rule)"
	const zero = `the batch's "time": 0 was read as no time, as appoptics-api-go's BatchPersister sends it`

	w.raw("POST", "/v1/measurements", "application/json", []byte(`{"measurements":[{"name":"n","value":1,"time":1700000000}]}`)).requireStatus(t, 202)
	assert.Empty(t, notes())
	w.raw("POST", "/v1/measurements", "application/json", []byte(`{"time":0,"measurements":[{"name":"n","value":1,"time":1700000000.5}]}`)).requireStatus(t, 202)
	assert.Equal(t, []string{frac, zero}, notes(), "the one-pass reader")
	w.raw("POST", "/v1/measurements", "application/json", []byte(`{"time":0,"measurements":[{"name":"\u006e","value":1,"time":1700000000.5}]}`)).requireStatus(t, 202)
	assert.Equal(t, []string{frac, zero}, notes(), "the generic reader")
	w.raw("POST", "/v1/metrics", "application/json", []byte(`{"measure_time":1700000000.25,"gauges":[{"name":"n2","value":1}]}`)).requireStatus(t, 200)
	assert.Equal(t, []string{frac}, notes())
	w.do("POST", "/v1/annotations/deploys", map[string]any{"title": "t", "start_time": 1700000000.75}).requireStatus(t, 201)
	assert.Equal(t, []string{frac}, notes())
	w.do("GET", "/v1/measurements/n?resolution=60&start_time=1699999999.5", nil).requireStatus(t, 200)
	assert.Equal(t, []string{frac}, notes(), "a read's window too")

	body := newCtl(t, srv).do("GET", "/mock/journal", nil).requireStatus(t, 200).Body
	assert.Contains(t, string(body), `"notes":["a time in epoch seconds had a fraction`)
}
