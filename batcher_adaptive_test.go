package librato_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// roundTrip is one request as the client's transport saw it.
type roundTrip struct {
	start, end time.Time
	status     int
}

// tripLog is a transport that records every request's start, end and
// status.
type tripLog struct {
	next  http.RoundTripper
	mu    sync.Mutex
	trips []roundTrip
}

func (l *tripLog) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := l.next.RoundTrip(req)
	rt := roundTrip{start: start, end: time.Now()}
	if resp != nil {
		rt.status = resp.StatusCode
	}
	l.mu.Lock()
	l.trips = append(l.trips, rt)
	l.mu.Unlock()
	return resp, err
}

func (l *tripLog) all() []roundTrip {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]roundTrip(nil), l.trips...)
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

// TestBatcherAdaptsToLatencyAndHonoursRetryAfter drives an adaptive
// batcher to its peak window with mock latency and a producer that keeps
// a backlog, then makes some of the requests in flight meet a 429 with
// Retry-After: 1. The window must shrink, nothing may be sent during the
// Retry-After second, the window must grow back to its peak, and the mock
// must hold every point exactly once.
func TestBatcherAdaptsToLatencyAndHonoursRetryAfter(t *testing.T) {
	const peak = 16
	srv := mock.NewServer(mock.WithRetryAfter(1))
	defer srv.Close()
	srv.SetLatency(30 * time.Millisecond)
	log := &tripLog{next: &http.Transport{MaxIdleConnsPerHost: peak}}
	c, err := srv.Client(librato.RoleRecordOnly, librato.WithHTTPClient(&http.Client{Transport: log}))
	require.NoError(t, err)
	b, err := c.Measurements.NewBatcher(librato.BatcherOptions{BatchSize: 5, MaxConcurrency: peak, MaxBuffered: 40 * peak, FlushInterval: time.Hour})
	require.NoError(t, err)
	assert.Less(t, b.Stats().Concurrency, peak, "the window starts small")

	base := time.Now().Add(-time.Hour).Unix()
	stop := make(chan struct{})
	produced := make(chan int)
	go func() {
		n := 0
		defer func() { produced <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			m := librato.Measurement{Name: fmt.Sprintf("adaptive.m%d", n%7), Value: float64(n), Time: base + int64(n/7),
				Tags: map[string]string{"slot": fmt.Sprint(n % 3)}}
			if !assert.NoError(t, b.Add(context.Background(), m)) {
				return
			}
			n++
		}
	}()

	require.Eventually(t, func() bool { return b.Stats().Concurrency == peak }, 20*time.Second, time.Millisecond,
		"a backlog at 30 ms latency grows the window to its maximum")
	assert.Equal(t, peak, b.Stats().PeakConcurrency)
	// A quarter of the requests in flight meet a 429: the others answer
	// 2xx and free their slots, so only the hold keeps new ones back.
	const throttle = peak / 4
	srv.FailNext(throttle, http.StatusTooManyRequests)

	require.Eventually(t, func() bool { return b.Stats().Concurrency <= peak/2 }, 20*time.Second, time.Millisecond,
		"429s shrink the window")
	require.Eventually(t, func() bool { return b.Stats().Concurrency == peak }, 30*time.Second, time.Millisecond,
		"the window recovers once the server accepts again")
	close(stop)
	n := <-produced
	require.NoError(t, b.Close(context.Background()))

	st := b.Stats()
	assert.EqualValues(t, n, st.Added)
	assert.EqualValues(t, n, st.Sent)
	assert.GreaterOrEqual(t, st.Retried, int64(throttle), "every 429'd batch was sent again")
	rec := srv.Recorded()
	require.Len(t, rec, n, "exactly N points recorded")
	seen := make(map[string]bool, n)
	for _, m := range rec {
		k := pointKey(m)
		require.False(t, seen[k], "recorded twice: %s", k)
		seen[k] = true
	}

	// The Retry-After window: from the first 429 the client saw, no
	// request may start for a second. The first 100 ms are left out, for
	// requests already on their way while the 429 was being read.
	trips := log.all()
	first := -1
	for i, rt := range trips {
		if rt.status == http.StatusTooManyRequests && (first < 0 || rt.end.Before(trips[first].end)) {
			first = i
		}
	}
	require.GreaterOrEqual(t, first, 0, "the client met the injected 429s")
	t0 := trips[first].end
	var during, throttled, after int
	for _, rt := range trips {
		if rt.status == http.StatusTooManyRequests {
			throttled++
		}
		switch {
		case rt.start.After(t0.Add(100*time.Millisecond)) && rt.start.Before(t0.Add(time.Second)):
			during++
		case !rt.start.Before(t0.Add(time.Second)):
			after++
		}
	}
	assert.Equal(t, throttle, throttled, "the injected 429s were all met")
	assert.Zero(t, during, "no request during the Retry-After second")
	assert.Positive(t, after, "sending resumed after it")
}
