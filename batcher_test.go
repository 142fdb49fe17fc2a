package librato

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeIngest is an httpmock responder for POST /v1/measurements that
// decodes and keeps every accepted batch; fail decides per request.
type fakeIngest struct {
	mu      sync.Mutex
	batches [][]Measurement
	tags    []map[string]string
	calls   atomic.Int64
	fail    func(n int64, ms []Measurement) *http.Response
}

func (f *fakeIngest) respond(req *http.Request) (*http.Response, error) {
	n := f.calls.Add(1)
	b, err := readRequestBody(req)
	if err != nil {
		return nil, err
	}
	var batch MeasurementBatch
	if err := json.Unmarshal(b, &batch); err != nil {
		return httpmock.NewStringResponse(400, `{"errors":{"request":["bad json"]}}`), nil
	}
	if f.fail != nil {
		if r := f.fail(n, batch.Measurements); r != nil {
			return r, nil
		}
	}
	f.mu.Lock()
	f.batches = append(f.batches, batch.Measurements)
	f.tags = append(f.tags, batch.Tags)
	f.mu.Unlock()
	return httpmock.NewStringResponse(202, `{"measurements":{"summary":{"total":1}}}`), nil
}

func (f *fakeIngest) all() []Measurement {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Measurement
	for _, b := range f.batches {
		out = append(out, b...)
	}
	return out
}

func newIngestClient(t *testing.T, f *fakeIngest, opts ...Option) *Client {
	c, mt := newMockClient(t, opts...)
	mt.RegisterResponder("POST", testBase+"/v1/measurements", f.respond)
	return c
}

// counts is st without the controller's fields, which depend on timing,
// and without the transport's (bytes, the last success and failure),
// which TestBatcherReportsRetriesAsTheyHappen and TestBatcherCountsBytesSent
// check.
func counts(st BatcherStats) BatcherStats {
	st.Concurrency, st.PeakConcurrency, st.RTT = 0, 0, 0
	st.BytesSent, st.LastSuccess, st.LastError, st.Failures = 0, time.Time{}, nil, 0
	return st
}

// checkNoLeak fails if goroutines started during the test outlive it.
func checkNoLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > base {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines leaked:\n%s", n-base, buf[:runtime.Stack(buf, true)])
		}
	})
}

func TestBatcherBatchSizes(t *testing.T) {
	checkNoLeak(t)
	f := &fakeIngest{}
	c := newIngestClient(t, f)
	b, err := c.Measurements.NewBatcher(BatcherOptions{BatchSize: 500, FlushInterval: time.Hour, DefaultTags: map[string]string{"host": "a"}})
	require.NoError(t, err)
	for i := 0; i < 1234; i++ {
		require.NoError(t, b.Add(context.Background(), Measurement{Name: "m", Value: float64(i), Time: int64(1700000000 + i)}))
	}
	require.NoError(t, b.Close(context.Background()))
	var sizes []int
	for _, bt := range f.batches {
		sizes = append(sizes, len(bt))
	}
	slices.Sort(sizes)
	assert.Equal(t, []int{234, 500, 500}, sizes)
	for _, tags := range f.tags {
		assert.Equal(t, map[string]string{"host": "a"}, tags)
	}
	st := b.Stats()
	assert.Equal(t, BatcherStats{Added: 1234, Sent: 1234, Batches: 3}, counts(st))

	big, err := c.Measurements.NewBatcher(BatcherOptions{BatchSize: 5000})
	require.NoError(t, err)
	assert.Equal(t, MaxMeasurementsPerRequest, big.opts.BatchSize, "never above the API's advice")
	require.NoError(t, big.Close(context.Background()))
}

func TestBatcherOrderingWithOneWorker(t *testing.T) {
	checkNoLeak(t)
	f := &fakeIngest{fail: func(n int64, _ []Measurement) *http.Response {
		if n%3 == 0 { // every third request fails transiently
			return httpmock.NewStringResponse(503, ``)
		}
		return nil
	}}
	c := newIngestClient(t, f)
	b, err := c.Measurements.NewBatcher(BatcherOptions{BatchSize: 7, Concurrency: 1, FlushInterval: time.Hour})
	require.NoError(t, err)
	for i := 0; i < 100; i++ {
		require.NoError(t, b.Add(context.Background(), Measurement{Name: "seq", Value: float64(i), Time: 1700000000}))
	}
	require.NoError(t, b.Close(context.Background()))
	got := f.all()
	require.Len(t, got, 100)
	for i, m := range got {
		assert.Equal(t, float64(i), m.Value, "position %d", i)
	}
	st := b.Stats()
	assert.Positive(t, st.Retried)
	assert.Equal(t, 1, st.Concurrency, "an explicit Concurrency pins the window")
	assert.Equal(t, 1, st.PeakConcurrency)
}

func TestBatcherFlushAndInterval(t *testing.T) {
	checkNoLeak(t)
	f := &fakeIngest{}
	c := newIngestClient(t, f)
	b, err := c.Measurements.NewBatcher(BatcherOptions{FlushInterval: time.Hour})
	require.NoError(t, err)
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "a", Value: 1}))
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "b", Value: 2}))
	require.NoError(t, b.Flush(context.Background()))
	assert.Len(t, f.all(), 2, "Flush returns once delivered")
	require.NoError(t, b.Flush(context.Background()), "an empty flush is fine")
	assert.EqualValues(t, 1, f.calls.Load())
	require.NoError(t, b.Close(context.Background()))

	ticking, err := c.Measurements.NewBatcher(BatcherOptions{FlushInterval: 20 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, ticking.Add(context.Background(), Measurement{Name: "c", Value: 3}))
	require.Eventually(t, func() bool { return len(f.all()) == 3 }, 5*time.Second, 5*time.Millisecond, "the interval sends a partial batch")
	require.NoError(t, ticking.Close(context.Background()))
}

func TestBatcherStampsTime(t *testing.T) {
	f := &fakeIngest{}
	c := newIngestClient(t, f)
	b, err := c.Measurements.NewBatcher(BatcherOptions{})
	require.NoError(t, err)
	before := time.Now().Unix()
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "a", Value: 1}))
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "b", Value: 1, Time: 42}))
	require.NoError(t, b.Close(context.Background()))
	got := f.all()
	require.Len(t, got, 2)
	assert.GreaterOrEqual(t, got[0].Time, before, "a retried request must not record a point twice")
	assert.LessOrEqual(t, got[0].Time, time.Now().Unix())
	assert.Equal(t, int64(42), got[1].Time)
}

func TestBatcherInvalidMeasurementDoesNotPoisonTheBatch(t *testing.T) {
	f := &fakeIngest{}
	c := newIngestClient(t, f)
	var mu sync.Mutex
	var reported []string
	b, err := c.Measurements.NewBatcher(BatcherOptions{OnError: func(err error, lost []Measurement) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range lost {
			reported = append(reported, m.Name)
		}
	}})
	require.NoError(t, err)
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "good.1", Value: 1}))
	err = b.Add(context.Background(), Measurement{Name: "bad name", Value: 1})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "good.2", Value: 2}))
	err = b.Close(context.Background())
	require.Error(t, err, "Close reports what was not delivered")
	assert.Contains(t, err.Error(), "1 invalid")
	assert.Len(t, f.all(), 2)
	assert.Equal(t, []string{"bad name"}, reported)
	st := b.Stats()
	assert.Equal(t, int64(2), st.Added)
	assert.Equal(t, int64(2), st.Sent)
	assert.Equal(t, int64(1), st.Invalid)
}

func TestBatcherSplitsBatchesTheServerRejects(t *testing.T) {
	f := &fakeIngest{fail: func(_ int64, ms []Measurement) *http.Response {
		for _, m := range ms {
			if strings.HasPrefix(m.Name, "poison") {
				return httpmock.NewStringResponse(400, `{"errors":{"params":{"name":["is not allowed"]}}}`)
			}
		}
		return nil
	}}
	c := newIngestClient(t, f)
	var lost atomic.Int64
	b, err := c.Measurements.NewBatcher(BatcherOptions{BatchSize: 64, FlushInterval: time.Hour, OnError: func(err error, ms []Measurement) {
		var ae *APIError
		if assert.ErrorAs(t, err, &ae) {
			assert.Equal(t, 400, ae.StatusCode)
		}
		lost.Add(int64(len(ms)))
	}})
	require.NoError(t, err)
	for i := 0; i < 64; i++ {
		name := "ok"
		if i == 13 || i == 50 {
			name = "poison"
		}
		require.NoError(t, b.Add(context.Background(), Measurement{Name: name, Value: float64(i), Time: 1700000000}))
	}
	require.Error(t, b.Close(context.Background()))
	assert.Len(t, f.all(), 62)
	st := b.Stats()
	assert.Equal(t, int64(62), st.Sent)
	assert.Equal(t, int64(2), st.Failed)
	assert.Equal(t, int64(2), lost.Load())
	assert.Equal(t, st.Added, st.Sent+st.Failed+st.Buffered)
}

func TestBatcherLosesBatchOnAuthFailure(t *testing.T) {
	f := &fakeIngest{fail: func(int64, []Measurement) *http.Response {
		return httpmock.NewStringResponse(401, `{"errors":{"request":["Authorization Required"]}}`)
	}}
	c := newIngestClient(t, f)
	var errs []error
	b, err := c.Measurements.NewBatcher(BatcherOptions{Concurrency: 1, OnError: func(err error, _ []Measurement) { errs = append(errs, err) }})
	require.NoError(t, err)
	for i := 0; i < 10; i++ {
		require.NoError(t, b.Add(context.Background(), Measurement{Name: "m", Value: 1}))
	}
	require.Error(t, b.Close(context.Background()))
	assert.Equal(t, int64(10), b.Stats().Failed)
	require.Len(t, errs, 1)
	assert.True(t, errors.Is(errs[0], ErrUnauthorized))
	assert.EqualValues(t, 1, f.calls.Load(), "a 401 is not retried")
}

func TestBatcherRetriesTransientFailures(t *testing.T) {
	f := &fakeIngest{fail: func(n int64, _ []Measurement) *http.Response {
		switch n % 4 {
		case 1:
			r := httpmock.NewStringResponse(429, `{"errors":{"request":["slow down"]}}`)
			r.Header.Set("Retry-After", "0")
			return r
		case 2:
			return httpmock.NewStringResponse(503, ``)
		}
		return nil
	}}
	c := newIngestClient(t, f, WithMaxAttempts(1)) // the batcher itself must keep retrying
	b, err := c.Measurements.NewBatcher(BatcherOptions{BatchSize: 10})
	require.NoError(t, err)
	for i := 0; i < 95; i++ {
		require.NoError(t, b.Add(context.Background(), Measurement{Name: "m", Value: float64(i), Time: 1700000000 + int64(i)}))
	}
	require.NoError(t, b.Close(context.Background()))
	got := f.all()
	require.Len(t, got, 95)
	seen := map[int64]bool{}
	for _, m := range got {
		assert.False(t, seen[m.Time], "recorded twice: %d", m.Time)
		seen[m.Time] = true
	}
	st := b.Stats()
	assert.Positive(t, st.Retried)
	assert.Equal(t, f.calls.Load()-st.Batches, st.Retried, "every repeated request is counted")
	assert.Equal(t, BatcherStats{Added: 95, Sent: 95, Batches: 10, Retried: st.Retried}, counts(st))
}

// stallingIngest accepts requests only once release is closed.
func stallingIngest(t *testing.T, release chan struct{}) (*Client, *atomic.Int64) {
	var accepted atomic.Int64
	c, mt := newMockClient(t)
	mt.RegisterResponder("POST", testBase+"/v1/measurements", func(req *http.Request) (*http.Response, error) {
		select {
		case <-release:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
		var batch MeasurementBatch
		b, _ := readRequestBody(req)
		_ = json.Unmarshal(b, &batch)
		accepted.Add(int64(len(batch.Measurements)))
		return httpmock.NewStringResponse(202, ``), nil
	})
	return c, &accepted
}

func TestBatcherBlocksAtTheBound(t *testing.T) {
	checkNoLeak(t)
	release := make(chan struct{})
	c, accepted := stallingIngest(t, release)
	b, err := c.Measurements.NewBatcher(BatcherOptions{BatchSize: 10, MaxBuffered: 20, Concurrency: 1})
	require.NoError(t, err)
	for i := 0; i < 20; i++ {
		require.NoError(t, b.Add(context.Background(), Measurement{Name: "m", Value: 1}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	err = b.Add(ctx, Measurement{Name: "m", Value: 1})
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "at the bound Add waits, and its context ends the wait")
	assert.Equal(t, int64(20), b.Stats().Buffered)

	added := make(chan error, 1)
	go func() { added <- b.Add(context.Background(), Measurement{Name: "m", Value: 2}) }()
	select {
	case err := <-added:
		t.Fatalf("Add returned %v while the buffer was full", err)
	case <-time.After(30 * time.Millisecond):
	}
	close(release)
	require.NoError(t, <-added, "space freed by delivery unblocks Add")
	require.NoError(t, b.Close(context.Background()))
	assert.Equal(t, int64(21), accepted.Load())
	assert.Equal(t, BatcherStats{Added: 21, Sent: 21, Batches: 3}, counts(b.Stats()))
}

func TestBatcherDropsAtTheBound(t *testing.T) {
	checkNoLeak(t)
	release := make(chan struct{})
	c, accepted := stallingIngest(t, release)
	var dropped atomic.Int64
	b, err := c.Measurements.NewBatcher(BatcherOptions{BatchSize: 10, MaxBuffered: 20, WhenFull: DropWhenFull, OnError: func(err error, lost []Measurement) {
		if errors.Is(err, ErrBufferFull) {
			dropped.Add(int64(len(lost)))
		}
	}})
	require.NoError(t, err)
	for i := 0; i < 25; i++ {
		err := b.Add(context.Background(), Measurement{Name: "m", Value: 1})
		if i < 20 {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, ErrBufferFull)
		}
	}
	close(release)
	err = b.Close(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "5 dropped")
	assert.Equal(t, int64(20), accepted.Load())
	assert.Equal(t, int64(5), dropped.Load())
	assert.Equal(t, BatcherStats{Added: 20, Sent: 20, Dropped: 5, Batches: 2}, counts(b.Stats()))
}

func TestBatcherCloseWithCancelledContext(t *testing.T) {
	checkNoLeak(t)
	c, accepted := stallingIngest(t, make(chan struct{})) // never accepts
	var lost atomic.Int64
	b, err := c.Measurements.NewBatcher(BatcherOptions{BatchSize: 5, OnError: func(_ error, ms []Measurement) { lost.Add(int64(len(ms))) }})
	require.NoError(t, err)
	for i := 0; i < 12; i++ {
		require.NoError(t, b.Add(context.Background(), Measurement{Name: "m", Value: 1}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = b.Close(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "12 measurement(s) failed")
	var de *DeliveryError
	require.ErrorAs(t, err, &de)
	assert.EqualValues(t, 12, de.Failed)
	assert.Len(t, de.Causes, 1, "every batch was cut off by the same deadline")
	assert.Zero(t, accepted.Load())
	st := b.Stats()
	assert.Equal(t, BatcherStats{Added: 12, Failed: 12}, BatcherStats{Added: st.Added, Failed: st.Failed})
	assert.Zero(t, st.Buffered)
	assert.Equal(t, int64(12), lost.Load(), "every undelivered measurement is reported")

	assert.ErrorIs(t, b.Add(context.Background(), Measurement{Name: "m", Value: 1}), ErrBatcherClosed)
	assert.Error(t, b.Close(context.Background()), "closing again gives the same accounting")
}

func TestBatcherCloseEndsARetryAfterWait(t *testing.T) {
	checkNoLeak(t)
	f := &fakeIngest{fail: func(int64, []Measurement) *http.Response {
		r := httpmock.NewStringResponse(429, `{"errors":{"request":["slow down"]}}`)
		r.Header.Set("Retry-After", "3600")
		return r
	}}
	c := newIngestClient(t, f)
	b, err := c.Measurements.NewBatcher(BatcherOptions{BatchSize: 5})
	require.NoError(t, err)
	for i := 0; i < 12; i++ {
		require.NoError(t, b.Add(context.Background(), Measurement{Name: "m", Value: 1}))
	}
	// Close only once the 429 has been heard (the window halves from 4):
	// before that, the last partial batch may still go out legitimately.
	require.Eventually(t, func() bool { return b.Stats().Concurrency < initialConcurrency }, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = b.Close(ctx) // the hour-long hold must not keep Close waiting
	require.ErrorIs(t, err, context.DeadlineExceeded)
	st := b.Stats()
	assert.EqualValues(t, 12, st.Failed)
	assert.Zero(t, st.Buffered)
	assert.LessOrEqual(t, f.calls.Load(), int64(2), "nothing was sent during the hold: only the first window, which met the 429")
	assert.Zero(t, st.Retried, "no request was repeated")
}

func TestBatcherAddAfterCloseAndBlockedAddWakes(t *testing.T) {
	checkNoLeak(t)
	release := make(chan struct{})
	c, _ := stallingIngest(t, release)
	b, err := c.Measurements.NewBatcher(BatcherOptions{BatchSize: 2, MaxBuffered: 2})
	require.NoError(t, err)
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "m", Value: 1}))
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "m", Value: 1}))
	blocked := make(chan error, 1)
	go func() { blocked <- b.Add(context.Background(), Measurement{Name: "m", Value: 1}) }()
	time.Sleep(20 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- b.Close(context.Background()) }()
	require.ErrorIs(t, <-blocked, ErrBatcherClosed, "Close wakes a blocked Add")
	close(release)
	require.NoError(t, <-closed)
	require.ErrorIs(t, b.Add(context.Background(), Measurement{Name: "m", Value: 1}), ErrBatcherClosed)
}

func TestNewBatcherChecks(t *testing.T) {
	c, _ := newMockClient(t, WithRole(RoleViewOnly))
	_, err := c.Measurements.NewBatcher(BatcherOptions{})
	var fe *ErrForbiddenForRole
	require.ErrorAs(t, err, &fe, "a View Only token can never submit")

	c, _ = newMockClient(t, WithRole(RoleRecordOnly))
	_, err = c.Measurements.NewBatcher(BatcherOptions{DefaultTags: map[string]string{"bad key": "v"}})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	_, err = c.Measurements.NewBatcher(BatcherOptions{WhenFull: FullPolicy(7)})
	require.Error(t, err)
}

func TestBatcherConcurrentAdds(t *testing.T) {
	checkNoLeak(t)
	f := &fakeIngest{}
	c := newIngestClient(t, f)
	b, err := c.Measurements.NewBatcher(BatcherOptions{BatchSize: 100, MaxBuffered: 300, Concurrency: 4})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				assert.NoError(t, b.Add(context.Background(), Measurement{Name: fmt.Sprintf("g%d", g), Value: float64(i), Time: 1700000000 + int64(i)}))
			}
		}(g)
	}
	wg.Wait()
	require.NoError(t, b.Close(context.Background()))
	got := f.all()
	require.Len(t, got, 4000)
	seen := map[string]bool{}
	for _, m := range got {
		k := fmt.Sprintf("%s/%d", m.Name, m.Time)
		assert.False(t, seen[k])
		seen[k] = true
	}
}

func TestBatcherCommonTagsMerge(t *testing.T) {
	f := &fakeIngest{}
	c := newIngestClient(t, f)
	common := map[string]string{"host": "web-1", "region": "us-east-1"}
	b, err := c.Measurements.NewBatcher(BatcherOptions{CommonTags: common, DefaultTags: map[string]string{"env": "prod"}, FlushInterval: time.Hour})
	require.NoError(t, err)
	common["host"] = "changed-later" // the batcher keeps its own copy
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "req", Value: 1, Tags: map[string]string{"status": "200"}, Time: 1}))
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "req", Value: 2, Tags: map[string]string{"status": "500", "host": "web-9"}, Time: 2}))
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "req", Value: 3, Time: 3}))
	require.NoError(t, b.Close(context.Background()))

	// What the server reads: own tags, else the top-level ones.
	var got []map[string]string
	for i, bt := range f.batches {
		for _, m := range bt {
			if m.Tags != nil {
				got = append(got, m.Tags)
			} else {
				got = append(got, f.tags[i])
			}
		}
	}
	assert.Equal(t, []map[string]string{
		{"host": "web-1", "region": "us-east-1", "status": "200"},
		{"host": "web-9", "region": "us-east-1", "status": "500"},
		{"host": "web-1", "region": "us-east-1", "env": "prod"},
	}, got, "common tags merged into every measurement, its own winning")
}

func TestBatcherCommonTagsLimits(t *testing.T) {
	c := newIngestClient(t, &fakeIngest{}, WithRole(RoleRecordOnly))
	many := func(prefix string, n int) map[string]string {
		m := map[string]string{}
		for i := 0; i < n; i++ {
			m[fmt.Sprintf("%s%d", prefix, i)] = "v"
		}
		return m
	}
	var ve *ValidationError
	_, err := c.Measurements.NewBatcher(BatcherOptions{CommonTags: map[string]string{"bad key": "v"}})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "CommonTags", ve.Field)
	_, err = c.Measurements.NewBatcher(BatcherOptions{CommonTags: many("c", 30), DefaultTags: many("d", 21)})
	require.ErrorAs(t, err, &ve, "CommonTags and DefaultTags together over 50")

	var lost atomic.Int64
	b, err := c.Measurements.NewBatcher(BatcherOptions{CommonTags: many("c", 30), OnError: func(_ error, ms []Measurement) { lost.Add(int64(len(ms))) }})
	require.NoError(t, err)
	own := many("o", 21)
	err = b.Add(context.Background(), Measurement{Name: "m", Value: 1, Tags: own})
	require.ErrorAs(t, err, &ve, "30 common + 21 own tags is over 50")
	assert.Contains(t, ve.Reason, "51 tags")
	own["c0"] = "overrides" // 20 own keys not in common remain... plus one shared
	delete(own, "o0")
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "m", Value: 1, Tags: own}), "a shared key counts once")
	assert.EqualValues(t, 1, b.Stats().Invalid)
	assert.EqualValues(t, 1, lost.Load())

	agg := newAggregator(b, time.Minute, time.Now, false)
	require.ErrorAs(t, agg.Observe("m", many("o", 21), 1), &ve, "the aggregator checks the merged set too")
	require.NoError(t, agg.Close(context.Background()))
	var closeVE *ValidationError
	require.ErrorAs(t, b.Close(context.Background()), &closeVE, "Close reports the refused one")
	assert.Contains(t, closeVE.Reason, "51 tags")
}

func TestBatcherCloseErrorUnwrapsToCauses(t *testing.T) {
	release := make(chan struct{})
	f := &fakeIngest{fail: func(_ int64, ms []Measurement) *http.Response {
		switch ms[0].Name {
		case "bad":
			return httpmock.NewStringResponse(400, `{"errors":{"params":{"name":["is not allowed"]}}}`)
		case "auth":
			return httpmock.NewStringResponse(401, `{"errors":{"request":["Authorization Required"]}}`)
		case "slow":
			<-release
		}
		return nil
	}}
	c := newIngestClient(t, f)
	b, err := c.Measurements.NewBatcher(BatcherOptions{BatchSize: 2, MaxBuffered: 2, Concurrency: 1, WhenFull: DropWhenFull, FlushInterval: time.Hour})
	require.NoError(t, err)

	// A 400: Flush says so, with the counts of the batches finished since
	// the previous Flush (this one may finish before Flush is called).
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "bad", Value: 1}))
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "bad", Value: 2}))
	err = b.Flush(context.Background())
	var de *DeliveryError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, DeliveryError{Op: "flush", Added: 2, Failed: 2, Causes: de.Causes}, *de)
	assert.Len(t, de.Causes, 1, "both halves met the same 400: one cause")
	assert.ErrorIs(t, err, ErrBadRequest)
	assert.NotErrorIs(t, err, ErrUnauthorized)

	// A 401.
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "auth", Value: 1}))
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "auth", Value: 2}))
	err = b.Flush(context.Background())
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.NotErrorIs(t, err, ErrBadRequest, "each loss is reported by one Flush")
	require.NoError(t, b.Flush(context.Background()), "nothing lost since")

	// A full buffer drops, an invalid measurement is refused.
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "slow", Value: 1}))
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "slow", Value: 2}))
	require.ErrorIs(t, b.Add(context.Background(), Measurement{Name: "slow", Value: 3}), ErrBufferFull)
	close(release)
	require.NoError(t, b.Flush(context.Background()))
	var ve *ValidationError
	require.ErrorAs(t, b.Add(context.Background(), Measurement{Name: "bad name", Value: 1}), &ve)

	err = b.Close(context.Background())
	require.ErrorAs(t, err, &de)
	assert.Equal(t, DeliveryError{Op: "close", Added: 6, Sent: 2, Failed: 4, Invalid: 1, Dropped: 1, Causes: de.Causes}, *de)
	require.Len(t, de.Causes, 4, "one cause per kind: 400, 401, full, invalid")
	assert.ErrorIs(t, err, ErrBadRequest)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.ErrorIs(t, err, ErrBufferFull)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 400, ae.StatusCode, "the first cause seen")
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "name", ve.Field)
	for _, want := range []string{"4 measurement(s) failed, 1 invalid, 1 dropped of 6 added; 2 sent", "400 Bad Request", "401 Unauthorized", "buffer is full"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Equal(t, err.Error(), b.Close(context.Background()).Error(), "closing again gives the same accounting")
}

func TestPtr(t *testing.T) {
	p := Ptr(2.5)
	*p = 3
	assert.Equal(t, 3.0, *p)
	assert.Equal(t, "x", *Ptr("x"))
	assert.True(t, *Ptr(true))
	assert.Equal(t, RoleViewOnly, *Ptr(RoleViewOnly))
	a, b := Ptr(1), Ptr(1)
	assert.NotSame(t, a, b, "a fresh copy each call")
}

func TestBatcherAddAllocatesNothing(t *testing.T) {
	c, err := NewClient(testEmail, testToken, WithBaseURL(testBase), WithHTTPClient(&http.Client{Transport: discardTransport{202}}))
	require.NoError(t, err)
	b, err := c.Measurements.NewBatcher(BatcherOptions{MaxBuffered: 1 << 20, FlushInterval: time.Hour,
		CommonTags: map[string]string{"host": "web-1", "region": "us-east-1"}})
	require.NoError(t, err)
	tags := map[string]string{"status": "200", "host": "web-2"}
	m := Measurement{Name: "alloc.m", Value: 1, Tags: tags, Time: 1700000000}
	// A batch is cut every 500 Adds (a small struct and a goroutine);
	// averaged over a run that is less than one allocation per Add.
	allocs := testing.AllocsPerRun(5000, func() { _ = b.Add(context.Background(), m) })
	assert.Zero(t, allocs, "Add, CommonTags check included, costs no allocation")
	require.NoError(t, b.Close(context.Background()))
}

func TestBatcherFlushReportsLossesFinishedBeforeIt(t *testing.T) {
	f := &fakeIngest{fail: func(int64, []Measurement) *http.Response {
		return httpmock.NewStringResponse(401, `{"errors":{"request":["Authorization Required"]}}`)
	}}
	c := newIngestClient(t, f)
	b, err := c.Measurements.NewBatcher(BatcherOptions{BatchSize: 3, FlushInterval: time.Hour})
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		require.NoError(t, b.Add(context.Background(), Measurement{Name: "m", Value: float64(i)}))
	}
	require.Eventually(t, func() bool { return b.Stats().Failed == 3 }, 5*time.Second, time.Millisecond)
	err = b.Flush(context.Background()) // nothing is pending any more
	var de *DeliveryError
	require.ErrorAs(t, err, &de, "a loss finished before the Flush is still reported")
	assert.EqualValues(t, 3, de.Failed)
	assert.ErrorIs(t, err, ErrUnauthorized)
	require.NoError(t, b.Flush(context.Background()))
	require.ErrorIs(t, b.Close(context.Background()), ErrUnauthorized, "Close reports the batcher's whole life")
}

// fullBatcher returns a BlockWhenFull batcher holding one measurement
// and full until release is closed; accepted counts what the server took.
func fullBatcher(t *testing.T) (b *Batcher, release chan struct{}, accepted *atomic.Int64) {
	checkNoLeak(t)
	release = make(chan struct{})
	c, accepted := stallingIngest(t, release)
	b, err := c.Measurements.NewBatcher(BatcherOptions{BatchSize: 1, MaxBuffered: 1, Concurrency: 1})
	require.NoError(t, err)
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "filler", Value: 1}))
	return b, release, accepted
}

// TestBatcherAddRefusesANilContext: a nil context is an error from Add,
// never a panic, even at the bound where Add would wait on it; nothing is
// queued or counted for it.
func TestBatcherAddRefusesANilContext(t *testing.T) {
	b, release, accepted := fullBatcher(t)
	var nilCtx context.Context
	require.Error(t, b.Add(nilCtx, Measurement{Name: "m", Value: 2}))
	close(release)
	require.NoError(t, b.Close(context.Background()))
	assert.EqualValues(t, 1, accepted.Load())
	assert.Equal(t, BatcherStats{Added: 1, Sent: 1, Batches: 1}, counts(b.Stats()))
}
