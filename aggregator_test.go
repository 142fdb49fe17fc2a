package librato

import (
	"context"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refSummary is the textbook computation the aggregator is checked against:
// two passes, population standard deviation, in 256-bit arithmetic so the
// reference itself loses nothing on large values.
type refSummary struct {
	count                       int64
	sum, min, max, last, stddev float64
}

func reference(samples []float64) refSummary {
	r := refSummary{count: int64(len(samples)), min: math.Inf(1), max: math.Inf(-1)}
	for _, v := range samples {
		r.sum += v
		r.min = math.Min(r.min, v)
		r.max = math.Max(r.max, v)
		r.last = v
	}
	bf := func(v float64) *big.Float { return new(big.Float).SetPrec(256).SetFloat64(v) }
	sum := bf(0)
	for _, v := range samples {
		sum.Add(sum, bf(v))
	}
	r.sum, _ = sum.Float64()
	mean := new(big.Float).SetPrec(256).Quo(sum, bf(float64(len(samples))))
	sq := bf(0)
	for _, v := range samples {
		d := new(big.Float).SetPrec(256).Sub(bf(v), mean)
		sq.Add(sq, d.Mul(d, d))
	}
	variance, _ := sq.Quo(sq, bf(float64(len(samples)))).Float64()
	r.stddev = math.Sqrt(variance)
	return r
}

func assertSummary(t *testing.T, want refSummary, m Measurement) {
	t.Helper()
	require.Equal(t, want.count, m.Count)
	require.NotNil(t, m.Sum)
	tol := func(x float64) float64 { return 1e-9 * math.Max(1, math.Abs(x)) }
	assert.InDelta(t, want.sum, *m.Sum, tol(want.sum), "sum")
	assert.Equal(t, want.min, *m.Min, "min")
	assert.Equal(t, want.max, *m.Max, "max")
	assert.Equal(t, want.last, *m.Last, "last")
	assert.InDelta(t, want.stddev, *m.StdDev, 1e-6*math.Max(1, want.stddev), "stddev")
}

// fakeClock is a settable clock for the aggregator.
type fakeClock struct{ t atomic.Int64 }

func (c *fakeClock) now() time.Time { return time.Unix(c.t.Load(), 0) }
func (c *fakeClock) set(unix int64) { c.t.Store(unix) }

func newTestAggregator(t *testing.T, period time.Duration, opts BatcherOptions) (*Aggregator, *Batcher, *fakeIngest, *fakeClock) {
	f := &fakeIngest{}
	c := newIngestClient(t, f)
	b, err := c.Measurements.NewBatcher(opts)
	require.NoError(t, err)
	clk := &fakeClock{}
	return newAggregator(b, period, clk.now, false), b, f, clk
}

func byName(ms []Measurement) map[string][]Measurement {
	out := map[string][]Measurement{}
	for _, m := range ms {
		out[m.Name] = append(out[m.Name], m)
	}
	for _, list := range out {
		sort.Slice(list, func(i, j int) bool { return list[i].Time < list[j].Time })
	}
	return out
}

func TestAggregatorStatistics(t *testing.T) {
	a, b, f, clk := newTestAggregator(t, time.Minute, BatcherOptions{})
	clk.set(1700000010) // period [1699999980, 1700000040)
	rng := rand.New(rand.NewPCG(1, 2))
	var normal, large, single []float64
	for i := 0; i < 1000; i++ {
		v := rng.NormFloat64()*10 + 50
		normal = append(normal, v)
		require.NoError(t, a.Observe("gauge.normal", map[string]string{"host": "a"}, v))
		lv := 1e15 + rng.Float64()*1000 // large values with a small spread
		large = append(large, lv)
		require.NoError(t, a.Observe("gauge.large", map[string]string{"host": "a"}, lv))
	}
	single = append(single, -3.25)
	require.NoError(t, a.Observe("gauge.single", nil, -3.25))
	require.NoError(t, a.Close(context.Background()))
	require.NoError(t, b.Close(context.Background()))

	got := byName(f.all())
	require.Len(t, got["gauge.normal"], 1)
	m := got["gauge.normal"][0]
	assertSummary(t, reference(normal), m)
	assert.Equal(t, int64(1699999980), m.Time, "aligned to the period boundary")
	assert.Equal(t, int64(60), m.Period)
	assert.Equal(t, map[string]string{"host": "a"}, m.Tags)
	assert.Zero(t, m.Value, "a summary sends no value")

	assertSummary(t, reference(large), got["gauge.large"][0])
	s := got["gauge.single"][0]
	assertSummary(t, reference(single), s)
	assert.Zero(t, *s.StdDev, "one sample has no spread")
	assert.Nil(t, s.Tags, "nil tags leave the batcher's top-level tags in charge")
}

func TestAggregatorPeriodsAndSeries(t *testing.T) {
	a, b, f, clk := newTestAggregator(t, 10*time.Second, BatcherOptions{DefaultTags: map[string]string{"env": "prod"}})
	clk.set(1000)
	require.NoError(t, a.Observe("lat", map[string]string{"route": "/a"}, 1))
	require.NoError(t, a.Observe("lat", map[string]string{"route": "/b"}, 2))
	require.NoError(t, a.Observe("lat", map[string]string{"route": "/a"}, 3))
	require.NoError(t, a.Increment("hits", nil, 1))
	require.NoError(t, a.Increment("hits", nil, 4))
	clk.set(1009)
	require.NoError(t, a.Observe("lat", map[string]string{"route": "/a"}, 5))
	a.flush(false)
	assert.Zero(t, b.Stats().Added, "the period has not ended")

	clk.set(1010)
	require.NoError(t, a.Observe("lat", map[string]string{"route": "/a"}, 100)) // next period: the old one is emitted first
	a.flush(false)
	require.NoError(t, b.Flush(context.Background()))
	got := byName(f.all())
	require.Len(t, got["lat"], 2)
	require.Len(t, got["hits"], 1)
	for _, m := range got["lat"] {
		assert.Equal(t, int64(1000), m.Time)
		switch m.Tags["route"] {
		case "/a":
			assertSummary(t, reference([]float64{1, 3, 5}), m)
		case "/b":
			assertSummary(t, reference([]float64{2}), m)
		default:
			t.Fatalf("unexpected tags %v", m.Tags)
		}
	}
	hits := got["hits"][0]
	assert.Equal(t, int64(2), hits.Count)
	assert.Equal(t, 5.0, *hits.Sum, "a counter's total is its sum")
	require.NotNil(t, hits.Attributes)
	assert.Equal(t, "sum", hits.Attributes.SummarizeFunction)

	require.NoError(t, a.Close(context.Background()))
	require.NoError(t, b.Close(context.Background()))
	got = byName(f.all())
	require.Len(t, got["lat"], 3, "Close emits the unfinished period")
	last := got["lat"][2]
	assert.Equal(t, int64(1010), last.Time)
	assertSummary(t, reference([]float64{100}), last)
	assert.ErrorIs(t, a.Observe("lat", nil, 1), ErrAggregatorClosed)
	assert.NoError(t, a.Close(context.Background()), "closing twice is harmless")
}

func TestAggregatorRejectsInvalidSamples(t *testing.T) {
	a, b, _, clk := newTestAggregator(t, time.Minute, BatcherOptions{})
	clk.set(60)
	var ve *ValidationError
	assert.ErrorAs(t, a.Observe("bad name", nil, 1), &ve)
	assert.ErrorAs(t, a.Observe("ok", map[string]string{"k": "bad\"value"}, 1), &ve)
	assert.ErrorAs(t, a.Observe("ok", nil, math.NaN()), &ve)
	assert.ErrorAs(t, a.Increment("ok", nil, math.Inf(-1)), &ve)
	require.NoError(t, a.Close(context.Background()))
	require.NoError(t, b.Close(context.Background()))
	assert.Zero(t, b.Stats().Added)
	_, err := NewAggregator(b, 1500*time.Millisecond)
	assert.Error(t, err)
	_, err = NewAggregator(nil, time.Second)
	assert.Error(t, err)
}

func TestAggregatorConcurrentAndTicking(t *testing.T) {
	checkNoLeak(t)
	f := &fakeIngest{}
	c := newIngestClient(t, f)
	b, err := c.Measurements.NewBatcher(BatcherOptions{})
	require.NoError(t, err)
	a, err := NewAggregator(b, time.Second)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				assert.NoError(t, a.Increment("events", map[string]string{"kind": "x"}, 1))
			}
		}()
	}
	wg.Wait()
	require.NoError(t, a.Close(context.Background()))
	require.NoError(t, b.Close(context.Background()))
	var total float64
	var count int64
	for _, m := range f.all() {
		total += *m.Sum
		count += m.Count
	}
	assert.Equal(t, 4000.0, total, "every increment is counted once, across however many periods")
	assert.Equal(t, int64(4000), count)
}

// TestAggregatorCloseWithEndedContext: once the periodic emission has
// stopped, Close emits even with an ended context (a bare select picked
// the context half of the time and lost the period); while it has not,
// Close returns the context's error and keeps the data for the next Close.
func TestAggregatorCloseWithEndedContext(t *testing.T) {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; i < 30; i++ {
		a, b, f, clk := newTestAggregator(t, 10*time.Second, BatcherOptions{})
		clk.set(1000)
		require.NoError(t, a.Observe("lat", nil, float64(i)))
		require.NoError(t, a.Close(ended), "run %d", i)
		require.NoError(t, b.Close(context.Background()))
		require.Len(t, f.all(), 1, "run %d", i)
	}

	a, b, f, clk := newTestAggregator(t, 10*time.Second, BatcherOptions{})
	clk.set(1000)
	require.NoError(t, a.Observe("lat", nil, 7))
	a.stopped = make(chan struct{}) // the periodic emission is still busy
	require.ErrorIs(t, a.Close(ended), context.Canceled)
	assert.ErrorIs(t, a.Observe("lat", nil, 1), ErrAggregatorClosed)
	close(a.stopped)
	require.NoError(t, a.Close(context.Background()), "a later Close emits what the first kept")
	require.NoError(t, a.Close(context.Background()))
	require.NoError(t, b.Close(context.Background()))
	got := f.all()
	require.Len(t, got, 1, "emitted once")
	assert.Equal(t, 7.0, *got[0].Sum)
}

// TestAggregatorNeverWaitsForTheBatcher: while a BlockWhenFull batcher is
// full, Observe and Increment still record at once, across a period
// boundary too (the finished period's summary waits in memory). A Close
// whose context ends while the batcher is full returns the context's
// error and keeps the summaries; a later Close hands each over once.
func TestAggregatorNeverWaitsForTheBatcher(t *testing.T) {
	b, release, accepted := fullBatcher(t)
	clk := &fakeClock{}
	a := newAggregator(b, 10*time.Second, clk.now, false)

	recorded := make(chan error, 1)
	go func() {
		clk.set(1000)
		err := errors.Join(a.Observe("lat", nil, 1), a.Increment("hits", nil, 2))
		clk.set(1010)
		recorded <- errors.Join(err, a.Observe("lat", nil, 3)) // a new period: the old one's summary is due
	}()
	select {
	case err := <-recorded:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Observe waited for the full batcher")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, a.Close(ctx), context.DeadlineExceeded, "the batcher is still full")
	var nilCtx context.Context
	assert.Error(t, a.Close(nilCtx), "a nil context is refused, not a panic")
	close(release)
	require.NoError(t, a.Close(context.Background()), "a later Close hands over what the first kept")
	require.NoError(t, b.Close(context.Background()))
	assert.EqualValues(t, 4, accepted.Load(), "the filler and three summaries")
	assert.Equal(t, BatcherStats{Added: 4, Sent: 4, Batches: 4}, counts(b.Stats()), "each once")
}

// BenchmarkAggregatorObserve is the cost of recording one sample: the key
// of its series and its running statistics, under the lock.
func BenchmarkAggregatorObserve(b *testing.B) {
	c, mt := newMockClient(b)
	mt.RegisterResponder("POST", testBase+"/v1/measurements", httpmock.NewStringResponder(202, ""))
	bt, err := c.Measurements.NewBatcher(BatcherOptions{})
	require.NoError(b, err)
	a := newAggregator(bt, time.Minute, func() time.Time { return time.Unix(1700000000, 0) }, false)
	tags := map[string]string{"host": "web-1", "route": "/api"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := a.Observe("http.latency", tags, float64(i%100)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	require.NoError(b, a.Close(context.Background()))
	require.NoError(b, bt.Close(context.Background()))
}
