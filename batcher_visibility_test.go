package librato

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unreachableURL is a loopback address where nothing listens: the port of
// a listener that was just closed.
func unreachableURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "http://" + addr
}

// TestBatcherReportsRetriesAsTheyHappen: with the API unreachable, every
// failure the batcher retries reaches OnRetry while it happens, Stats tells
// the last error and the failures in a row, and Close, given a deadline,
// returns an error that unwraps to the cause ("connection refused") as
// well as to the deadline, with the measurements counted as failed.
func TestBatcherReportsRetriesAsTheyHappen(t *testing.T) {
	c, err := NewClient(testEmail, testToken, WithBaseURL(unreachableURL(t)), WithBackoff(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	var mu sync.Mutex
	var heard []int
	b, err := c.Measurements.NewBatcher(BatcherOptions{OnRetry: func(err error, failures int) {
		mu.Lock()
		heard = append(heard, failures)
		mu.Unlock()
		assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	}})
	require.NoError(t, err)
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "cpu", Value: 1}))
	flushCtx, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	assert.ErrorIs(t, b.Flush(flushCtx), context.DeadlineExceeded, "the batch cannot be delivered") // cuts the batch
	stop()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	require.Eventually(t, func() bool { return b.Stats().Failures >= 3 }, 5*time.Second, time.Millisecond)
	st := b.Stats()
	assert.ErrorIs(t, st.LastError, syscall.ECONNREFUSED)
	assert.True(t, st.LastSuccess.IsZero())
	assert.Equal(t, int64(1), st.Buffered, "nothing is lost while retrying")

	err = b.Close(ctx)
	var de *DeliveryError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, int64(1), de.Failed)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED, "the error says why nothing got through")
	assert.Contains(t, err.Error(), "connection refused")
	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, len(heard), 3)
	assert.Equal(t, []int{1, 2, 3}, heard[:3], "failures count in a row")
}

// TestBatcherWarnsAfterRepeatedFailures: without OnRetry, the client's
// logger gets a Warn record at the third failure in a row (debug records
// before), and a success resets the count.
func TestBatcherWarnsAfterRepeatedFailures(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := &fakeIngest{fail: func(n int64, _ []Measurement) *http.Response {
		if n <= 4 {
			return httpmock.NewStringResponse(503, ``)
		}
		return nil
	}}
	c := newIngestClient(t, f, WithLogger(logger))
	b, err := c.Measurements.NewBatcher(BatcherOptions{})
	require.NoError(t, err)
	require.NoError(t, b.Add(context.Background(), Measurement{Name: "cpu", Value: 1}))
	require.NoError(t, b.Close(context.Background()))
	st := b.Stats()
	assert.Zero(t, st.Failures, "the success reset the count")
	assert.False(t, st.LastSuccess.IsZero())
	var ae *APIError
	require.ErrorAs(t, st.LastError, &ae, "the last failure is kept")
	assert.Equal(t, 503, ae.StatusCode)

	mu.Lock()
	defer mu.Unlock()
	var warns []string
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.Contains(line, "level=WARN") {
			warns = append(warns, line)
		}
	}
	require.Len(t, warns, 1, "one Warn, at the third failure in a row:\n%s", buf.String())
	assert.Contains(t, warns[0], "failures=3")
	assert.Contains(t, warns[0], "503")
}
