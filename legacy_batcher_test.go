package librato_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// TestLegacyBatcherLosesNothingUnderFaults: gauges and counters added from
// 8 goroutines while the mock fails about one request in four with 503 or
// 429 all arrive exactly once, each on its source, and read back through
// the legacy read with the values sent.
func TestLegacyBatcherLosesNothingUnderFaults(t *testing.T) {
	srv := mock.NewServer()
	defer srv.Close()
	c, err := srv.Client(librato.RoleRecordOnly, librato.WithBackoff(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	b, err := c.Legacy.NewBatcher(librato.LegacyBatcherOptions{
		Source: "agent-1", BatchSize: 40, MaxBuffered: 300, FlushInterval: 5 * time.Millisecond,
	})
	require.NoError(t, err)

	stopFaults, injected := injectFaults(srv)

	const perGoroutine = 250
	base := time.Now().Add(-time.Hour).Unix()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perGoroutine; i++ {
				at := base + int64(i)
				if g%2 == 0 {
					assert.NoError(t, b.Add(context.Background(), librato.LegacyMeasurement{
						Name: "legacy.queue", Value: float64(g*1000 + i), MeasureTime: at, Source: fmt.Sprintf("web-%d", g)}))
				} else {
					assert.NoError(t, b.Add(context.Background(), librato.LegacyMeasurement{
						Name: "legacy.hits", Value: float64(i * 10), MeasureTime: at, Source: fmt.Sprintf("web-%d", g), Counter: true}))
				}
			}
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, b.Close(ctx))
	stopFaults()

	st := b.Stats()
	const n = 8 * perGoroutine
	assert.EqualValues(t, n, st.Added)
	assert.EqualValues(t, n, st.Sent)
	assert.Zero(t, st.Failed)
	assert.Positive(t, injected.Load(), "no fault was injected")
	assert.Positive(t, st.Retried, "nothing was retried")

	got := srv.Recorded()
	require.Len(t, got, n, "every measurement once")
	seen := map[string]bool{}
	for _, m := range got {
		k := fmt.Sprintf("%s|%s|%d", m.Name, m.Tags["source"], m.Time)
		assert.False(t, seen[k], "recorded twice: %s", k)
		seen[k] = true
	}
	// The legacy read gives back each source's values, counters' raw
	// totals included.
	for g := 0; g < 8; g++ {
		name := "legacy.queue"
		if g%2 == 1 {
			name = "legacy.hits"
		}
		lm, err := c.Legacy.List(context.Background(), name, &librato.LegacyQuery{
			StartTime: time.Unix(base, 0), EndTime: time.Unix(base+perGoroutine, 0), Resolution: time.Second,
			Sources: []string{fmt.Sprintf("web-%d", g)}})
		require.NoError(t, err)
		pts := lm.Measurements[fmt.Sprintf("web-%d", g)]
		require.Len(t, pts, perGoroutine, name)
		for i, p := range pts {
			want := float64(g*1000 + i)
			if g%2 == 1 {
				want = float64(i * 10)
			}
			require.Equal(t, want, p.Value, "%s web-%d point %d", name, g, i)
		}
	}
}

// TestLegacyBatcherSourceAndSummaries: the batcher's Source goes to
// measurements without one, summaries keep their fields, and a
// measurement without a time gets the time it was added.
func TestLegacyBatcherSourceAndSummaries(t *testing.T) {
	srv := mock.NewServer()
	defer srv.Close()
	c, err := srv.Client(librato.RoleRecordOnly)
	require.NoError(t, err)
	b, err := c.Legacy.NewBatcher(librato.LegacyBatcherOptions{Source: "default-src"})
	require.NoError(t, err)
	ctx := context.Background()
	before := time.Now().Unix()
	require.NoError(t, b.Add(ctx, librato.LegacyMeasurement{Name: "lat", Count: 3, Sum: librato.Ptr(12.0),
		Min: librato.Ptr(2.0), Max: librato.Ptr(6.0), SumSquares: librato.Ptr(56.0)}))
	require.NoError(t, b.Add(ctx, librato.LegacyMeasurement{Name: "temp", Value: 21.5, Source: "room-2"}))
	require.NoError(t, b.Close(ctx))
	after := time.Now().Unix()

	got := srv.Recorded()
	require.Len(t, got, 2)
	byName := map[string]librato.Measurement{}
	for _, m := range got {
		byName[m.Name] = m
	}
	assert.Equal(t, map[string]string{"source": "default-src"}, byName["lat"].Tags)
	assert.EqualValues(t, 3, byName["lat"].Count)
	assert.Equal(t, 12.0, *byName["lat"].Sum)
	assert.Equal(t, map[string]string{"source": "room-2"}, byName["temp"].Tags)
	for _, m := range got {
		assert.True(t, m.Time >= before && m.Time <= after, "%s stamped %d, not in [%d, %d]", m.Name, m.Time, before, after)
	}
}

// TestLegacyBatcherRefusesWhatTheAPIWould: invalid measurements are
// refused at Add, counted and reported; nothing is sent for them.
func TestLegacyBatcherRefusesWhatTheAPIWould(t *testing.T) {
	srv := mock.NewServer()
	defer srv.Close()
	c, err := srv.Client(librato.RoleRecordOnly)
	require.NoError(t, err)
	var lost []librato.LegacyMeasurement
	var mu sync.Mutex
	b, err := c.Legacy.NewBatcher(librato.LegacyBatcherOptions{OnError: func(_ error, ms []librato.LegacyMeasurement) {
		mu.Lock()
		defer mu.Unlock()
		lost = append(lost, ms...)
	}})
	require.NoError(t, err)
	ctx := context.Background()
	var ve *librato.ValidationError
	err = b.Add(ctx, librato.LegacyMeasurement{Name: "hits", Count: 2, Sum: librato.Ptr(3.0), Counter: true})
	require.ErrorAs(t, err, &ve, "a counter takes a value only")
	err = b.Add(ctx, librato.LegacyMeasurement{Name: "lat", Count: 2, Sum: librato.Ptr(10.0), Min: librato.Ptr(6.0)})
	require.ErrorAs(t, err, &ve, "min above the mean")
	assert.Equal(t, "min", ve.Field)
	err = b.Add(ctx, librato.LegacyMeasurement{Name: "bad name!", Value: 1})
	require.ErrorAs(t, err, &ve)
	err = b.Add(ctx, librato.LegacyMeasurement{Name: "ok", Value: 1, Source: "all"})
	require.ErrorAs(t, err, &ve, "the source all is reserved")

	err = b.Close(ctx)
	var de *librato.DeliveryError
	require.ErrorAs(t, err, &de)
	assert.EqualValues(t, 4, de.Invalid)
	assert.True(t, errors.As(err, &ve))
	assert.Len(t, lost, 4)
	assert.Zero(t, srv.RecordedCount())
}

// TestLegacyBatcherAndViewOnly: POST /v1/metrics is an unlisted row, so a
// strict guard refuses a View Only legacy batcher at once, and a lenient
// one learns the server's 403 from Close, which unwraps to ErrForbidden.
func TestLegacyBatcherAndViewOnly(t *testing.T) {
	srv := mock.NewServer()
	defer srv.Close()
	strict, err := srv.Client(librato.RoleViewOnly, librato.WithStrictGuard())
	require.NoError(t, err)
	_, err = strict.Legacy.NewBatcher(librato.LegacyBatcherOptions{})
	var fe *librato.ErrForbiddenForRole
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "/v1/metrics", fe.Endpoint)
	assert.Zero(t, srv.Requests())

	lenient, err := srv.Client(librato.RoleViewOnly)
	require.NoError(t, err)
	b, err := lenient.Legacy.NewBatcher(librato.LegacyBatcherOptions{})
	require.NoError(t, err)
	require.NoError(t, b.Add(context.Background(), librato.LegacyMeasurement{Name: "x", Value: 1}))
	err = b.Close(context.Background())
	var de *librato.DeliveryError
	require.ErrorAs(t, err, &de)
	assert.EqualValues(t, 1, de.Failed)
	assert.ErrorIs(t, err, librato.ErrForbidden)
	assert.Zero(t, srv.RecordedCount())
}
