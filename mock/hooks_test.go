package mock_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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
	_, err := sock.Metrics.Update(ctx, "shared", &librato.Metric{Type: "gauge"})
	require.NoError(t, err)
	m, err := inproc.Metrics.Get(ctx, "shared")
	require.NoError(t, err)
	assert.Equal(t, "shared", m.Name)
	_, err = inproc.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{{Name: "shared", Value: 1, Time: base}}})
	require.NoError(t, err)
	page, err := sock.Measurements.Get(ctx, "shared", &librato.MeasurementsQuery{StartTime: at(base), Resolution: time.Minute})
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
					_, err = c.Metrics.List(ctx, &librato.MetricListOptions{Name: "conc"})
				}
				if err == nil {
					_, err = c.Measurements.Get(ctx, "conc", &librato.MeasurementsQuery{StartTime: at(base), Resolution: time.Minute})
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
