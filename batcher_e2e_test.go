package librato_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// pointKey names one recorded point: what the API treats as the same
// measurement.
func pointKey(m librato.Measurement) string {
	return fmt.Sprintf("%s|%v|%d", m.Name, m.Tags, m.Time)
}

// TestBatcherLosesNothingUnderFaults adds N measurements from many
// goroutines while the mock answers about one request in four with 503 or
// 429, Close's drain included; after Close the mock holds exactly the N
// points, none twice. It runs with the adaptive window and with a pinned
// one.
//
// Faults follow the requests (one after every third request), not the
// clock: a fault every 2 ms whatever the traffic would fail every retry of
// a batcher that slowed down as asked, and Close could never finish.
func TestBatcherLosesNothingUnderFaults(t *testing.T) {
	for _, conc := range []int{0, 4} {
		t.Run(fmt.Sprintf("concurrency=%d", conc), func(t *testing.T) { losesNothingUnderFaults(t, conc) })
	}
}

// injectFaults fails one request in about four with 503 or 429, in turn,
// following the traffic (one after every third request) rather than the
// clock, until stop is called; injected counts the faults.
func injectFaults(srv *mock.Server) (stop func(), injected *atomic.Int64) {
	done, exited := make(chan struct{}), make(chan struct{})
	injected = new(atomic.Int64)
	go func() {
		defer close(exited)
		last := 0
		for i := 0; ; {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Microsecond):
			}
			if n := srv.Requests(); n-last >= 3 {
				last = n
				srv.FailNext(1, []int{http.StatusServiceUnavailable, http.StatusTooManyRequests}[i%2])
				injected.Add(1)
				i++
			}
		}
	}()
	return func() { close(done); <-exited }, injected
}

func losesNothingUnderFaults(t *testing.T, concurrency int) {
	srv := mock.NewServer()
	defer srv.Close()
	c, err := srv.Client(librato.RoleRecordOnly, librato.WithBackoff(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	b, err := c.Measurements.NewBatcher(librato.BatcherOptions{
		BatchSize: 50, Concurrency: concurrency, MaxBuffered: 400, FlushInterval: 5 * time.Millisecond,
		DefaultTags: map[string]string{"host": "agent-1"},
	})
	require.NoError(t, err)

	stopFaults, injected := injectFaults(srv)

	const goroutines, perG = 16, 250
	base := time.Now().Add(-time.Hour).Unix()
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perG; i++ {
				m := librato.Measurement{Name: fmt.Sprintf("agent.g%d", g), Value: float64(i), Time: base + int64(i)}
				if i%5 == 0 {
					m.Tags = map[string]string{"host": "agent-1", "slot": fmt.Sprint(i % 3)}
				}
				assert.NoError(t, b.Add(context.Background(), m))
			}
		}(g)
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, b.Close(ctx))
	stopFaults()

	st := b.Stats()
	const n = goroutines * perG
	assert.Equal(t, librato.BatcherStats{Added: n, Sent: n, Retried: st.Retried, Batches: st.Batches,
		Concurrency: st.Concurrency, PeakConcurrency: st.PeakConcurrency, RTT: st.RTT,
		BytesSent: st.BytesSent, LastSuccess: st.LastSuccess, LastError: st.LastError}, st)
	assert.Zero(t, st.Failures, "the last request was accepted")
	assert.False(t, st.LastSuccess.IsZero())
	assert.Error(t, st.LastError, "the last failure is kept after a success")
	assert.Positive(t, st.BytesSent)
	assert.Positive(t, injected.Load())
	assert.Positive(t, st.Retried, "some requests met the injected faults")
	if concurrency > 0 {
		assert.Equal(t, concurrency, st.PeakConcurrency, "a pinned window never moves")
	} else {
		assert.LessOrEqual(t, st.PeakConcurrency, librato.DefaultMaxConcurrency)
	}

	rec := srv.Recorded()
	require.Len(t, rec, n, "exactly N points recorded")
	seen := make(map[string]bool, n)
	for _, m := range rec {
		k := pointKey(m)
		require.False(t, seen[k], "recorded twice: %s", k)
		seen[k] = true
		if m.Tags["slot"] == "" {
			assert.Equal(t, map[string]string{"host": "agent-1"}, m.Tags, "the batcher's tags apply when a measurement has none")
		}
	}
}

// TestBatcherOverTheSocketAndInProcess runs the same workload through the
// mock's socket and its in-process transport.
func TestBatcherOverTheSocketAndInProcess(t *testing.T) {
	for _, inProcess := range []bool{false, true} {
		srv := mock.NewServer()
		opts := []librato.Option{}
		if inProcess {
			opts = append(opts, librato.WithHTTPClient(&http.Client{Transport: srv.Transport()}))
		}
		c, err := srv.Client(librato.RoleRecordOnly, opts...)
		require.NoError(t, err)
		b, err := c.Measurements.NewBatcher(librato.BatcherOptions{BatchSize: 100})
		require.NoError(t, err)
		for i := 0; i < 1000; i++ {
			require.NoError(t, b.Add(context.Background(), librato.Measurement{Name: "x", Value: float64(i), Time: 1700000000 + int64(i)}))
		}
		require.NoError(t, b.Close(context.Background()))
		assert.Equal(t, 1000, srv.RecordedCount(), "inProcess=%v", inProcess)
		assert.Equal(t, int64(10), b.Stats().Batches)
		srv.Close()
	}
}

// TestBatcherCommonTagsAgainstTheMock is the agent's case: a host tag for
// every measurement, and measurements with tags of their own. CommonTags
// merge; DefaultTags, the API's top-level tags, only fill in for
// measurements without tags.
func TestBatcherCommonTagsAgainstTheMock(t *testing.T) {
	srv := mock.NewServer()
	defer srv.Close()
	c, err := srv.Client(librato.RoleRecordOnly)
	require.NoError(t, err)
	base := time.Now().Add(-time.Hour).Unix()
	send := func(opts librato.BatcherOptions, name string) map[int64]map[string]string {
		b, err := c.Measurements.NewBatcher(opts)
		require.NoError(t, err)
		require.NoError(t, b.Add(context.Background(), librato.Measurement{Name: name, Value: 1, Time: base, Tags: map[string]string{"status": "200"}}))
		require.NoError(t, b.Add(context.Background(), librato.Measurement{Name: name, Value: 2, Time: base + 1, Tags: map[string]string{"status": "500", "host": "web-2"}}))
		require.NoError(t, b.Add(context.Background(), librato.Measurement{Name: name, Value: 3, Time: base + 2}))
		require.NoError(t, b.Close(context.Background()))
		got := map[int64]map[string]string{}
		for _, m := range srv.Recorded() {
			if m.Name == name {
				got[m.Time-base] = m.Tags
			}
		}
		return got
	}
	assert.Equal(t, map[int64]map[string]string{
		0: {"host": "web-1", "status": "200"},
		1: {"host": "web-2", "status": "500"},
		2: {"host": "web-1"},
	}, send(librato.BatcherOptions{CommonTags: map[string]string{"host": "web-1"}}, "agent.common"))
	assert.Equal(t, map[int64]map[string]string{
		0: {"status": "200"},
		1: {"host": "web-2", "status": "500"},
		2: {"host": "web-1"},
	}, send(librato.BatcherOptions{DefaultTags: map[string]string{"host": "web-1"}}, "agent.default"))
}

// TestBatcherCloseSaysWhyAgainstTheMock: a revoked token's 401 reaches the
// caller through Close's error.
func TestBatcherCloseSaysWhyAgainstTheMock(t *testing.T) {
	srv := mock.NewServer()
	defer srv.Close()
	email, _ := srv.Credentials(librato.RoleRecordOnly)
	c, err := librato.NewClient(email, "not-a-token", librato.WithBaseURL(srv.URL()))
	require.NoError(t, err)
	b, err := c.Measurements.NewBatcher(librato.BatcherOptions{})
	require.NoError(t, err)
	require.NoError(t, b.Add(context.Background(), librato.Measurement{Name: "m", Value: 1}))
	err = b.Close(context.Background())
	require.ErrorIs(t, err, librato.ErrUnauthorized)
	var de *librato.DeliveryError
	require.ErrorAs(t, err, &de)
	assert.EqualValues(t, 1, de.Failed)
	var ae *librato.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusUnauthorized, ae.StatusCode)
	assert.NotContains(t, fmt.Sprintf("%v %+v", err, de), "not-a-token")
	assert.Zero(t, srv.RecordedCount())
}

// BenchmarkEndToEnd measures measurements per second from Add (or from
// building the batch) to accepted by the mock over loopback: the batcher
// beside a plain net/http loop posting the same 500-measurement batches
// encoded with encoding/json.
func BenchmarkEndToEnd(b *testing.B) {
	const batch = 500
	tags := []map[string]string{}
	for i := 0; i < 20; i++ {
		tags = append(tags, map[string]string{"host": fmt.Sprintf("web-%02d", i), "region": "us-east-1", "az": "b"})
	}
	measurement := func(i int) librato.Measurement {
		return librato.Measurement{Name: fmt.Sprintf("app.m%d", i%50), Value: float64(i), Tags: tags[i%20], Time: 1700000000 + int64(i)}
	}
	b.Run("batcher", func(b *testing.B) {
		srv := mock.NewServer()
		defer srv.Close()
		c, err := srv.Client(librato.RoleRecordOnly)
		if err != nil {
			b.Fatal(err)
		}
		bt, err := c.Measurements.NewBatcher(librato.BatcherOptions{BatchSize: batch, MaxBuffered: 50000, FlushInterval: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if err := bt.Add(context.Background(), measurement(i)); err != nil {
				b.Fatal(err)
			}
		}
		if err := bt.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		if got := srv.RecordedCount(); got != b.N {
			b.Fatalf("mock recorded %d of %d", got, b.N)
		}
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "meas/s")
	})
	b.Run("raw_net_http", func(b *testing.B) {
		srv := mock.NewServer()
		defer srv.Close()
		email, token := srv.Credentials(librato.RoleRecordOnly)
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+token))
		type plainM struct {
			Name  string            `json:"name"`
			Value float64           `json:"value"`
			Tags  map[string]string `json:"tags,omitempty"`
			Time  int64             `json:"time,omitempty"`
		}
		hc := &http.Client{}
		post := func(ms []plainM) {
			body, err := json.Marshal(map[string]any{"measurements": ms})
			if err != nil {
				b.Fatal(err)
			}
			req, _ := http.NewRequest("POST", srv.URL()+"/v1/measurements", bytes.NewReader(body))
			req.Header.Set("Authorization", auth)
			req.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		pending := make([]plainM, 0, batch)
		for i := 0; i < b.N; i++ {
			m := measurement(i)
			pending = append(pending, plainM{m.Name, m.Value, m.Tags, m.Time})
			if len(pending) == batch {
				post(pending)
				pending = pending[:0]
			}
		}
		if len(pending) > 0 {
			post(pending)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		if got := srv.RecordedCount(); got != b.N {
			b.Fatalf("mock recorded %d of %d", got, b.N)
		}
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "meas/s")
	})
}
