package mock_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFailNext(t *testing.T) {
	srv := newServer(t)
	c := sdk(t, srv, librato.RoleFullAccess)
	ctx := context.Background()

	t.Run("retried through", func(t *testing.T) {
		before := srv.Requests()
		srv.FailNext(2, 503)
		_, err := c.Metrics.List(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, 3, srv.Requests()-before, "two injected failures, then the real answer")
	})
	t.Run("retries run out", func(t *testing.T) {
		srv.FailNext(10, 503)
		_, err := c.Metrics.List(ctx, nil)
		var apiErr *librato.APIError
		require.True(t, errors.As(err, &apiErr), "%v", err)
		assert.Equal(t, 503, apiErr.StatusCode)
		assert.Equal(t, librato.DefaultMaxAttempts, apiErr.Attempts)
		assert.NotEmpty(t, apiErr.System)
		assert.ErrorIs(t, err, librato.ErrUnavailable)
		srv.FailNext(0, 0) // cancel the rest
		_, err = c.Metrics.List(ctx, nil)
		require.NoError(t, err)
	})
	t.Run("whatever the request", func(t *testing.T) {
		w := newWire(t, srv, librato.RoleViewOnly)
		srv.FailNext(3, 429)
		for _, r := range []resp{
			w.as("", "").do("GET", "/v1/metrics", nil),         // not even authenticated
			w.do("GET", "/v1/nothing", nil),                    // no such endpoint
			w.do("POST", "/v1/spaces", map[string]any{"n": 1}), // refused to the role
		} {
			r.requireStatus(t, 429)
			assert.Equal(t, "0", r.Header.Get("Retry-After"), "default Retry-After keeps tests fast")
			_, request, _ := r.errs(t)
			assert.NotEmpty(t, request)
			assert.NotEmpty(t, r.Header.Get("X-Librato-RateLimit-Std"))
		}
		w.do("GET", "/v1/metrics", nil).requireStatus(t, 200)
		srv.FailNext(1, 400)
		r := w.do("GET", "/v1/metrics", nil).requireStatus(t, 400)
		assert.Empty(t, r.Header.Get("Retry-After"))
	})
	t.Run("Retry-After option", func(t *testing.T) {
		srv := newServer(t, mock.WithRetryAfter(7))
		w := newWire(t, srv, librato.RoleFullAccess)
		srv.FailNext(1, 503)
		assert.Equal(t, "7", w.do("GET", "/v1/metrics", nil).requireStatus(t, 503).Header.Get("Retry-After"))
	})
}

func TestLatency(t *testing.T) {
	srv := newServer(t, mock.WithLatency(time.Hour))
	c := sdk(t, srv, librato.RoleFullAccess, librato.WithoutRetries())

	t.Run("the request's context ends the wait", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := c.Metrics.List(ctx, nil)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("through Transport too", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://x/v1/metrics", nil)
		_, err := srv.Transport().RoundTrip(req)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("SetLatency", func(t *testing.T) {
		srv.SetLatency(0)
		_, err := c.Metrics.List(context.Background(), nil)
		require.NoError(t, err)
		srv.SetLatency(time.Hour)
	})
	t.Run("Close ends pending waits", func(t *testing.T) {
		srv := newServer(t, mock.WithLatency(time.Hour))
		w := newWire(t, srv, librato.RoleFullAccess)
		started := make(chan struct{})
		done := make(chan int, 2)
		go func() {
			close(started)
			req, _ := http.NewRequest("GET", srv.URL()+"/v1/metrics", nil)
			req.SetBasicAuth(w.email, w.token)
			res, err := w.hc.Do(req)
			if err != nil {
				done <- 0
				return
			}
			res.Body.Close()
			done <- res.StatusCode
		}()
		go func() {
			req, _ := http.NewRequest("GET", "http://x/v1/metrics", nil)
			req.SetBasicAuth(w.email, w.token)
			res, err := srv.Transport().RoundTrip(req)
			if err != nil {
				done <- 0
				return
			}
			res.Body.Close()
			done <- res.StatusCode
		}()
		<-started
		waitFor(t, func() bool { return srv.Requests() == 2 })
		closed := make(chan struct{})
		go func() { srv.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatal("Close hung on requests waiting out their latency")
		}
		for i := 0; i < 2; i++ {
			select {
			case st := <-done:
				assert.Contains(t, []int{0, 503}, st)
			case <-time.After(5 * time.Second):
				t.Fatal("a request stayed blocked after Close")
			}
		}
	})
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

type closeTracker struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeTracker) Close() error { c.closed.Store(true); return nil }

func TestTransportSharesState(t *testing.T) {
	srv := newServer(t)
	sock := sdk(t, srv, librato.RoleFullAccess)
	inproc := sdk(t, srv, librato.RoleFullAccess, librato.WithHTTPClient(&http.Client{Transport: srv.Transport()}))
	ctx := context.Background()

	before := srv.Requests()
	err := sock.Metrics.Update(ctx, "shared", &librato.MetricUpdate{Type: librato.Ptr("gauge")})
	require.NoError(t, err)
	m, err := inproc.Metrics.Get(ctx, "shared")
	require.NoError(t, err)
	assert.Equal(t, "shared", m.Name)
	_, err = inproc.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{{Name: "shared", Value: 1, Time: base}}})
	require.NoError(t, err)
	page, err := sock.Measurements.List(ctx, "shared", &librato.MeasurementsQuery{StartTime: at(base), Resolution: time.Minute})
	require.NoError(t, err)
	require.Len(t, page.Series, 1)
	assert.Equal(t, 4, srv.Requests()-before, "Requests counts both paths")
	assert.Equal(t, 1, srv.RecordedCount())

	t.Run("closes the request body", func(t *testing.T) {
		email, token := srv.Credentials(librato.RoleFullAccess)
		body := &closeTracker{Reader: strings.NewReader(`{"name":"x"}`)}
		req, _ := http.NewRequest("POST", "http://any.host/v1/spaces", body)
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(email, token)
		res, err := srv.Transport().RoundTrip(req)
		require.NoError(t, err)
		defer res.Body.Close()
		assert.Equal(t, 201, res.StatusCode)
		assert.True(t, body.closed.Load())
		assert.Equal(t, "/v1/spaces/"+idOf(t, res.Header.Get("Location")), res.Header.Get("Location"))
	})
	t.Run("a cancelled context makes no call", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		body := &closeTracker{Reader: strings.NewReader("{}")}
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://x/v1/spaces", body)
		n := srv.Requests()
		_, err := srv.Transport().RoundTrip(req)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, n, srv.Requests())
		assert.True(t, body.closed.Load())
	})
	t.Run("next links stay on the client's host", func(t *testing.T) {
		srv := newServer(t, mock.WithSeriesPageSize(1))
		c := sdk(t, srv, librato.RoleFullAccess, librato.WithHTTPClient(&http.Client{Transport: srv.Transport()}))
		_, err := c.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{
			{Name: "p", Value: 1, Time: base, Tags: map[string]string{"h": "a"}},
			{Name: "p", Value: 1, Time: base, Tags: map[string]string{"h": "b"}},
		}})
		require.NoError(t, err)
		n := 0
		for _, err := range c.Measurements.All(ctx, "p", &librato.MeasurementsQuery{StartTime: at(base), Resolution: time.Minute}) {
			require.NoError(t, err)
			n++
		}
		assert.Equal(t, 2, n)
	})
}

func TestMinimalRole(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	// Clients without a declared role do not guard, so the server sees
	// (and records) every call.
	client := func() (*librato.Client, string) {
		email, token := srv.Credentials(librato.RoleFullAccess)
		c, err := librato.NewClient(email, token, librato.WithBaseURL(srv.URL()), librato.WithoutRetries())
		require.NoError(t, err)
		return c, token
	}

	agent, agentTok := client()
	_, err := agent.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{{Name: "cpu", Value: 1}}})
	require.NoError(t, err)
	_, err = agent.Metrics.Get(ctx, "cpu")
	require.NoError(t, err)
	role, ok := srv.MinimalRole(agentTok)
	require.True(t, ok)
	assert.Equal(t, librato.RoleRecordOnly, role)
	usage := srv.Usage(agentTok)
	require.Len(t, usage, 2)
	assert.Equal(t, "POST", usage[0].Method)
	assert.Equal(t, "/v1/measurements", usage[0].Endpoint)
	assert.Equal(t, "/v1/metrics/:name", usage[1].Endpoint)

	dash, dashTok := client()
	_, err = dash.Metrics.List(ctx, nil)
	require.NoError(t, err)
	require.NoError(t, dash.Do(ctx, "GET", "/v1/spaces", nil, nil))
	role, _ = srv.MinimalRole(dashTok)
	assert.Equal(t, librato.RoleViewOnly, role)

	both, bothTok := client()
	require.NoError(t, both.Do(ctx, "GET", "/v1/spaces", nil, nil))
	require.NoError(t, both.Do(ctx, "GET", "/v1/alerts", nil, nil))
	role, _ = srv.MinimalRole(bothTok)
	assert.Equal(t, librato.RoleFullAccess, role, "no narrower role reads both spaces and alerts")

	// Calls that failed count too: a viewer trying to record needs Record Only.
	email, viewerTok := srv.Credentials(librato.RoleViewOnly)
	viewer, err := librato.NewClient(email, viewerTok, librato.WithBaseURL(srv.URL()), librato.WithoutRetries())
	require.NoError(t, err)
	_, err = viewer.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{{Name: "cpu", Value: 1}}})
	require.ErrorIs(t, err, librato.ErrForbidden)
	role, _ = srv.MinimalRole(viewerTok)
	assert.Equal(t, librato.RoleRecordOnly, role)

	// The inferred roles of unlisted rows count: jobs are Full Access only.
	jobs, jobsTok := client()
	_, err = jobs.Jobs.Get(ctx, 123456)
	require.ErrorIs(t, err, librato.ErrNotFound)
	role, _ = srv.MinimalRole(jobsTok)
	assert.Equal(t, librato.RoleFullAccess, role)

	_, idle := srv.Credentials(librato.RoleViewOnly)
	_, ok = srv.MinimalRole(idle)
	assert.False(t, ok)
	assert.Nil(t, srv.Usage(idle))
	_, ok = srv.MinimalRole("not-a-token")
	assert.False(t, ok)
}

func TestConcurrency(t *testing.T) {
	srv := newServer(t)
	inproc := &http.Client{Transport: srv.Transport()}
	const workers, rounds = 24, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			opts := []librato.Option{}
			if g%2 == 1 {
				opts = append(opts, librato.WithHTTPClient(inproc))
			}
			c, err := srv.Client(librato.RoleFullAccess, opts...)
			if err != nil {
				errs <- err
				return
			}
			ctx := context.Background()
			for i := 0; i < rounds; i++ {
				_, err := c.Measurements.Create(ctx, &librato.MeasurementBatch{
					Tags:         map[string]string{"worker": fmt.Sprint(g)},
					Measurements: []librato.Measurement{{Name: "conc", Value: float64(i), Time: base + int64(i)}, {Name: fmt.Sprintf("conc.%d", g), Value: 1}},
				})
				if err == nil {
					_, err = c.Metrics.Get(ctx, "conc")
				}
				if err == nil {
					err = c.Do(ctx, "POST", "/v1/spaces", map[string]string{"name": fmt.Sprintf("s-%d-%d", g, i)}, nil)
				}
				if err == nil {
					_, err = c.Metrics.List(ctx, &librato.ListOptions{Name: "conc"})
				}
				if err == nil {
					_, err = c.Measurements.List(ctx, "conc", &librato.MeasurementsQuery{StartTime: at(base), Resolution: time.Minute})
				}
				if err == nil && i%5 == 0 {
					srv.SetLatency(0)
					_ = srv.Recorded()
					_, _ = srv.MinimalRole("x")
					email, token := srv.Credentials(librato.RoleViewOnly)
					_ = srv.Account(email).RecordedCount()
					_ = token
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, workers*rounds*2, srv.RecordedCount())
	assert.GreaterOrEqual(t, srv.Requests(), workers*rounds*5)
	w := newWire(t, srv, librato.RoleFullAccess)
	r := w.do("GET", "/v1/spaces?length=1", nil).requireStatus(t, 200).obj(t)
	assert.Equal(t, float64(workers*rounds), r["query"].(map[string]any)["total"])
	r = w.do("GET", fmt.Sprintf("/v1/measurements/conc?start_time=%d&resolution=3600", base), nil).requireStatus(t, 200).obj(t)
	assert.Len(t, r["series"], workers)
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	settle := func() int {
		n := runtime.NumGoroutine()
		for i := 0; i < 50; i++ {
			time.Sleep(2 * time.Millisecond)
			n = min(n, runtime.NumGoroutine())
		}
		return n
	}
	baseline := settle()

	srv, err := mock.New(mock.WithLatency(time.Millisecond))
	require.NoError(t, err)
	tr := &http.Transport{}
	hc := &http.Client{Transport: tr}
	email, token := srv.Credentials(librato.RoleFullAccess)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", srv.URL()+"/v1/measurements", bytes.NewReader([]byte(`{"measurements":[{"name":"g","value":1}]}`)))
			req.SetBasicAuth(email, token)
			req.Header.Set("Content-Type", "application/json")
			if res, err := hc.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
			req, _ = http.NewRequest("GET", "http://x/v1/metrics", nil)
			req.SetBasicAuth(email, token)
			if res, err := srv.Transport().RoundTrip(req); err == nil {
				res.Body.Close()
			}
		}()
	}
	wg.Wait()
	srv.Close()
	srv.Close() // idempotent
	tr.CloseIdleConnections()

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("%d goroutines after Close, %d before:\n%s", n, baseline, buf)
	}

	// Closed: the socket refuses, the transport fails.
	_, err = hc.Get(srv.URL() + "/v1/metrics")
	require.Error(t, err)
	req, _ := http.NewRequest("GET", "http://x/v1/metrics", nil)
	_, err = srv.Transport().RoundTrip(req)
	require.Error(t, err)
	tr.CloseIdleConnections()
}

func TestOptions(t *testing.T) {
	for _, o := range []mock.Option{
		mock.WithLatency(-time.Second), mock.WithEmail(""), mock.WithEmail("a:b"), mock.WithMaxBodyBytes(0),
		mock.WithRetryAfter(-1), mock.WithJobSteps(-1), mock.WithSeriesPageSize(0), mock.WithRateLimits(0, 1),
		mock.WithAddr("256.0.0.1:99999"),
	} {
		_, err := mock.New(o)
		require.Error(t, err)
	}
	require.Panics(t, func() { mock.NewServer(mock.WithJobSteps(-1)) })

	srv := mock.NewServer(mock.WithEmail("team@example.com"), nil)
	defer srv.Close()
	assert.Equal(t, "team@example.com", srv.Email())
	email, token := srv.Credentials(librato.RoleViewOnly)
	assert.Equal(t, "team@example.com", email)
	assert.Regexp(t, `^[0-9a-f]{64}$`, token)
	_, token2 := srv.Credentials(librato.RoleViewOnly)
	assert.NotEqual(t, token, token2, "fresh token each time")
	_, bad := srv.Credentials("root")
	assert.Empty(t, bad)
	_, err := srv.Client("root")
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(srv.URL(), "http://127.0.0.1:"))
	c, err := srv.Client(librato.RoleViewOnly)
	require.NoError(t, err)
	assert.Equal(t, librato.RoleViewOnly, c.Role())
	assert.Same(t, srv.DefaultAccount(), srv.Account("TEAM@example.com"))
	assert.NotSame(t, srv.DefaultAccount(), srv.Account("other@example.com"))
}

func TestAccountsAreIsolated(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	a := srv.Account("a@example.com")
	b := srv.Account("b@example.com")
	ca, err := a.Client(librato.RoleFullAccess)
	require.NoError(t, err)
	cb, err := b.Client(librato.RoleFullAccess)
	require.NoError(t, err)
	_, err = ca.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{{Name: "mine", Value: 1}}})
	require.NoError(t, err)
	assert.Equal(t, 1, a.RecordedCount())
	assert.Equal(t, 0, b.RecordedCount())
	assert.Equal(t, 0, srv.RecordedCount())
	_, err = cb.Metrics.Get(ctx, "mine")
	require.ErrorIs(t, err, librato.ErrNotFound)
	list, err := cb.Metrics.List(ctx, nil)
	require.NoError(t, err)
	assert.Zero(t, list.Query.Total)

	// b's token with a's email: 401.
	_, tokB := b.Credentials(librato.RoleFullAccess)
	mixed, err := librato.NewClient(a.Email(), tokB, librato.WithBaseURL(srv.URL()), librato.WithoutRetries())
	require.NoError(t, err)
	_, err = mixed.Metrics.List(ctx, nil)
	require.ErrorIs(t, err, librato.ErrUnauthorized)
}

func TestGzipBodies(t *testing.T) {
	srv := newServer(t, mock.WithMaxBodyBytes(64<<10))
	w := newWire(t, srv, librato.RoleFullAccess)
	send := func(method, path, ct, encoding string, body []byte) resp {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL()+path, bytes.NewReader(body))
		require.NoError(t, err)
		req.SetBasicAuth(w.email, w.token)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if encoding != "" {
			req.Header.Set("Content-Encoding", encoding)
		}
		res, err := w.hc.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		data, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return resp{Status: res.StatusCode, Header: res.Header, Body: data}
	}

	// A gzipped JSON measurement body, built in Go as appoptics-api-go
	// builds it, is accepted and recorded.
	batch := fmt.Sprintf(`{"tags":{"host":"gz"},"measurements":[{"name":"gz.metric","value":7,"time":%d}]}`, base)
	send("POST", "/v1/measurements", "application/json", "gzip", gzipped(t, batch)).requireStatus(t, 202)
	got := srv.DefaultAccount().RecordedMatching(mock.RecordedFilter{Metric: "gz.metric"})
	require.Len(t, got, 1)
	assert.Equal(t, 7.0, got[0].Value)
	assert.Equal(t, map[string]string{"host": "gz"}, got[0].Tags)
	send("POST", "/v1/measurements", "application/json", "x-gzip", gzipped(t, batch)).requireStatus(t, 202)
	send("POST", "/v1/measurements", "application/json", "identity", []byte(batch)).requireStatus(t, 202)
	// Every body goes through the same reader: forms and other endpoints too.
	send("POST", "/v1/spaces", "application/x-www-form-urlencoded", "gzip", gzipped(t, "name=zipped")).requireStatus(t, 201)
	// appoptics-api-go sends Content-Encoding: gzip on bodiless requests.
	send("GET", "/v1/spaces?name=zipped", "application/json", "gzip", nil).requireStatus(t, 200)
	send("DELETE", "/v1/metrics/none", "application/json", "gzip", nil).requireStatus(t, 404)

	// A bomb: 20 KiB of gzip that would be 64 MiB.
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for i := 0; i < 64; i++ {
		_, _ = zw.Write(zeros)
	}
	require.NoError(t, zw.Close())
	require.Less(t, bomb.Len(), 128<<10)
	r := send("POST", "/v1/measurements", "application/json", "gzip", bomb.Bytes()).requireStatus(t, 413)
	_, request, _ := r.errs(t)
	assert.Contains(t, request[0], "decompressed")

	r = send("POST", "/v1/measurements", "application/json", "br", []byte(batch)).requireStatus(t, 415)
	_, request, _ = r.errs(t)
	assert.Contains(t, request[0], `"br"`)
	assert.Contains(t, request[0], "gzip")
	send("POST", "/v1/spaces", "application/json", "gzip, deflate", gzipped(t, `{"name":"y"}`)).requireStatus(t, 415)
	r = send("POST", "/v1/spaces", "application/json", "gzip", []byte(`{"name":"not gzip"}`)).requireStatus(t, 400)
	_, request, _ = r.errs(t)
	assert.Contains(t, request[0], "gzip")
	assert.Equal(t, 3, srv.RecordedCount(), "nothing refused was recorded")

	// The SDK's own client, which gzips its submissions by default.
	c := sdk(t, srv, librato.RoleFullAccess)
	_, err := c.Measurements.Create(context.Background(), &librato.MeasurementBatch{Measurements: []librato.Measurement{{Name: "gz.sdk", Value: 1}}})
	require.NoError(t, err)
	assert.Len(t, srv.DefaultAccount().RecordedMatching(mock.RecordedFilter{Metric: "gz.sdk"}), 1)
}

func TestBasicAuthForms(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleViewOnly)
	// Email and token, as the Librato reference documents.
	w.do("GET", "/v1/metrics", nil).requireStatus(t, 200)
	// User "token" and the token, as appoptics-api-go sends it.
	r := w.as("token", w.token).do("GET", "/v1/metrics", nil).requireStatus(t, 200)
	assert.NotEmpty(t, r.Header.Get("X-Librato-RateLimit-Std"))
	j := srv.Journal()
	assert.Equal(t, issuedName(librato.RoleViewOnly, 1), j[len(j)-1].TokenName)
	// The token in another account still says which one it is.
	other := srv.Account("other@example.com")
	_, otherTok := other.Credentials(librato.RoleFullAccess)
	w.as("token", otherTok).do("POST", "/v1/spaces", map[string]any{"name": "theirs"}).requireStatus(t, 201)
	// The token as user name and an empty password, as appoptics-api-go's
	// legacy client sends it (TestAppOpticsLegacyClientAuth replays it).
	w.as(otherTok, "").do("POST", "/v1/spaces", map[string]any{"name": "theirs too"}).requireStatus(t, 201)
	c, err := other.Client(librato.RoleViewOnly)
	require.NoError(t, err)
	list, err := c.Spaces.List(context.Background(), nil)
	require.NoError(t, err)
	assert.Len(t, list.Spaces, 2)

	// Anything else is a 401 that says what is expected.
	for name, ww := range map[string]*wire{
		"token as user and password":      w.as(w.token, w.token),
		"user token, wrong token":         w.as("token", strings.Repeat("f", 64)),
		"user token, empty password":      w.as("token", ""),
		"Token with a capital":            w.as("Token", w.token),
		"email, no password":              w.as(w.email, ""),
		"wrong token as user, empty":      w.as(strings.Repeat("f", 64), ""),
		"empty user, password \":\"":      w.as("", ":"),
		"control token as user, empty":    w.as(srv.ControlToken(), ""),
		"email of another, right token":   w.as("other@example.com", w.token),
		"token as user, password a space": w.as(w.token, " "),
	} {
		r := ww.do("GET", "/v1/metrics", nil).requireStatus(t, 401)
		_, request, _ := r.errs(t)
		assert.Contains(t, request[0], "email as user name", name)
		assert.NotContains(t, string(r.Body), w.token, name)
	}
	// A fixed secret two accounts share names no account.
	a1 := srv.Account("one@example.com")
	a2 := srv.Account("two@example.com")
	require.NoError(t, a1.Apply(&mock.Seed{Tokens: []mock.SeedToken{{Name: "s", Role: librato.RoleViewOnly, Token: "shared-secret"}}}))
	require.NoError(t, a2.Apply(&mock.Seed{Tokens: []mock.SeedToken{{Name: "s", Role: librato.RoleViewOnly, Token: "shared-secret"}}}))
	w.as("token", "shared-secret").do("GET", "/v1/metrics", nil).requireStatus(t, 401)
	w.as("shared-secret", "").do("GET", "/v1/metrics", nil).requireStatus(t, 401)
	w.as("one@example.com", "shared-secret").do("GET", "/v1/metrics", nil).requireStatus(t, 200)
}

func TestInvalidUTF8IsRejected(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)

	// Before, these made three spaces that all read back as U+FFFD.
	w.form("POST", "/v1/spaces", "name=%FF").requireParam(t, "name")
	w.form("POST", "/v1/spaces", "name=%FE").requireParam(t, "name")
	w.raw("POST", "/v1/spaces", "application/json", []byte("{\"name\":\"\xfd\"}")).requireParam(t, "name")
	w.raw("POST", "/v1/spaces", "application/json", []byte(`{"name":"\udcff"}`)).requireParam(t, "name")
	w.raw("POST", "/v1/spaces", "application/json", []byte(`{"name":"\ud800x"}`)).requireParam(t, "name")
	assert.Zero(t, w.do("GET", "/v1/spaces", nil).requireStatus(t, 200).obj(t)["query"].(map[string]any)["total"])

	// Valid text, escapes and pairs included, passes.
	w.raw("POST", "/v1/spaces", "application/json", []byte(`{"name":"caf\u00e9 \ud83d\ude00 \\udcff <&>"}`)).requireStatus(t, 201)
	w.form("POST", "/v1/spaces", "name=%C3%A9t%C3%A9").requireStatus(t, 201)

	// Nested fields are named as errors.params names them elsewhere.
	r := w.raw("POST", "/v1/measurements", "application/json",
		[]byte("{\"measurements\":[{\"name\":\"ok\",\"value\":1},{\"name\":\"m\",\"value\":1,\"tags\":{\"host\":\"\xff\"}}]}")).requireStatus(t, 400)
	params, _, _ := r.errs(t)
	assert.Contains(t, params, "measurements[1].tags.host")
	w.raw("POST", "/v1/services", "application/json",
		[]byte("{\"title\":\"t\",\"type\":\"mail\",\"settings\":{\"addresses\":\"a\xc3@example.com\"}}")).requireParam(t, "settings.addresses")
	w.form("POST", "/v1/services", "title=t&type=campfire&settings[room]=%FF").requireParam(t, "settings.room")
	w.raw("PUT", "/v1/metrics/cpu", "application/json", []byte("{\"type\":\"gauge\",\"attributes\":{\"\xff\":1}}")).requireParam(t, "attributes.\uFFFD")

	// Query and path parameters.
	w.do("GET", "/v1/spaces?name=%FF", nil).requireParam(t, "name")
	w.do("GET", "/v1/metrics/%FF", nil).requireParam(t, "name")
	w.do("PUT", "/v1/annotations/%FE", map[string]any{"display_name": "x"}).requireParam(t, "name")
	assert.Zero(t, srv.RecordedCount())

	// Seeds go through the same checks.
	_, err := mock.LoadSeed(strings.NewReader("{\"spaces\":[{\"name\":\"\xff\"}]}"))
	require.Error(t, err)
	err = srv.DefaultAccount().Apply(&mock.Seed{Spaces: []map[string]any{{"name": "\xfe"}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "spaces[0]: name")
	err = srv.DefaultAccount().Apply(&mock.Seed{Tokens: []mock.SeedToken{{Name: "\xff", Role: librato.RoleViewOnly}}})
	require.Error(t, err)
}

func TestServerTimeouts(t *testing.T) {
	srv := newServer(t, mock.WithTimeouts(100*time.Millisecond, 300*time.Millisecond, time.Second))
	email, token := srv.Credentials(librato.RoleFullAccess)
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+token))
	host := strings.TrimPrefix(srv.URL(), "http://")

	// closedWithin reports whether the server closed conn within d while
	// the client keeps dripping bytes.
	closedWithin := func(conn net.Conn, drip []byte, d time.Duration) bool {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for _, b := range drip {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if _, err := conn.Write([]byte{b}); err != nil {
					return
				}
			}
		}()
		_ = conn.SetReadDeadline(time.Now().Add(d))
		_, err := io.Copy(io.Discard, conn) // returns at EOF (closed) or the deadline
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}
	t.Run("a dripping body", func(t *testing.T) {
		conn, err := net.Dial("tcp", host)
		require.NoError(t, err)
		defer conn.Close()
		_, err = fmt.Fprintf(conn, "POST /v1/spaces HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n", host, auth)
		require.NoError(t, err)
		assert.True(t, closedWithin(conn, bytes.Repeat([]byte(" "), 1000), 5*time.Second), "the read timeout closes it")
	})
	t.Run("dripping headers", func(t *testing.T) {
		conn, err := net.Dial("tcp", host)
		require.NoError(t, err)
		defer conn.Close()
		assert.True(t, closedWithin(conn, []byte("GET /v1/metrics HTTP/1.1\r\nX-Slow: "+strings.Repeat("a", 500)), 5*time.Second))
	})
	t.Run("an idle keep-alive connection", func(t *testing.T) {
		conn, err := net.Dial("tcp", host)
		require.NoError(t, err)
		defer conn.Close()
		_, err = fmt.Fprintf(conn, "GET /v1/metrics HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\n\r\n", host, auth)
		require.NoError(t, err)
		assert.True(t, closedWithin(conn, nil, 5*time.Second), "closed after the idle timeout")
	})
	t.Run("options", func(t *testing.T) {
		_, err := mock.New(mock.WithTimeouts(-1, 0, 0))
		require.Error(t, err)
		srv := newServer(t, mock.WithTimeouts(0, 0, 0)) // no limits, as net/http
		newWire(t, srv, librato.RoleViewOnly).do("GET", "/v1/metrics", nil).requireStatus(t, 200)
	})
}

func TestSnapshotTimes(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	sid := idOf(t, w.do("POST", "/v1/spaces", map[string]any{"name": "S"}).requireStatus(t, 201).Header.Get("Location"))
	ch := w.do("POST", "/v1/spaces/"+sid+"/charts", map[string]any{"name": "c", "streams": []any{map[string]any{"metric": "cpu"}}}).requireStatus(t, 201).obj(t)
	subject := map[string]any{"chart": map[string]any{"id": ch["id"], "type": "line"}}
	snap := func(end any) resp {
		return w.do("POST", "/v1/snapshots", map[string]any{"subject": subject, "end_time": end})
	}
	for _, bad := range []any{"0001-01-01T00:00:00Z", "0001-01-01", "1969-12-31T23:59:59Z", "2100-01-01T00:00:00Z",
		0, -5, 1_700_000_000_000, "1700000000000", 0.5, 4_102_444_800, "yesterday", true} {
		snap(bad).requireParam(t, "end_time")
	}
	for end, want := range map[any]string{
		1_714_564_800:               "2024-05-01T12:00:00Z",
		"1714564800":                "2024-05-01T12:00:00Z",
		1_714_564_800.75:            "2024-05-01T12:00:00Z",
		"2024-05-01T12:00:00Z":      "2024-05-01T12:00:00Z",
		"2024-05-01T14:00:00+02:00": "2024-05-01T12:00:00Z",
		"2024-05-01T12:00:00.75Z":   "2024-05-01T12:00:00Z",
		"2024-05-01":                "2024-05-01T00:00:00Z",
	} {
		assert.Equal(t, want, snap(end).requireStatus(t, 202).obj(t)["end_time"], "%v", end)
	}
	// A form carries the same value as a string.
	w.form("POST", "/v1/snapshots", fmt.Sprintf("subject[chart][id]=%v&subject[chart][type]=line&end_time=0001-01-01", ch["id"])).requireParam(t, "end_time")
	w.form("POST", "/v1/snapshots", fmt.Sprintf("subject[chart][id]=%v&subject[chart][type]=line&end_time=1714564800", ch["id"])).requireStatus(t, 202)
}

func TestUsageOfDeletedTokens(t *testing.T) {
	srv := newServer(t)
	_, adminTok := srv.Credentials(librato.RoleFullAccess)
	in := &http.Client{Transport: srv.Transport()}
	call := func(method, path, token string, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, "http://x"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(srv.Email(), token)
		res, err := in.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Less(t, res.StatusCode, 300)
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return m
	}
	// use creates a token through the API, calls with it, deletes it.
	use := func() string {
		tk := call("POST", "/v1/api_tokens", adminTok, `{"name":"short-lived","role":"viewer"}`)
		secret := tk["token"].(string)
		call("GET", "/v1/metrics", secret, "")
		call("DELETE", "/v1/api_tokens/"+idOf(t, tk["href"].(string)), adminTok, "")
		return secret
	}
	// A deleted token's usage stays readable for a while...
	first := use()
	role, ok := srv.MinimalRole(first)
	require.True(t, ok)
	assert.Equal(t, librato.RoleViewOnly, role)

	// ...but the records of deleted tokens are bounded: 2,500 tokens used
	// once and deleted leave at most 2,000 of them.
	for i := 0; i < 2500; i++ {
		use()
	}
	report := srv.UsageReport()
	assert.LessOrEqual(t, len(report), 2001, "the admin token and at most 2,000 deleted ones")
	deleted := 0
	for _, u := range report {
		if u.Deleted {
			deleted++
		}
	}
	assert.GreaterOrEqual(t, deleted, 1000)
	_, ok = srv.MinimalRole(first)
	assert.False(t, ok, "the oldest deleted token's record went")
	_, ok = srv.MinimalRole(adminTok)
	assert.True(t, ok, "a live token's record stays")
}
