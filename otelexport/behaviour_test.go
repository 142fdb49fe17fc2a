package otelexport_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
	"github.com/librato-sdk/librato-go/otelexport"
)

// TestNewRefusesViewOnly: a View Only client may not submit measurements;
// New says so with the guard's typed error, before any request.
func TestNewRefusesViewOnly(t *testing.T) {
	srv := mock.NewServer()
	defer srv.Close()
	client, err := srv.Client(librato.RoleViewOnly)
	require.NoError(t, err)
	exp, err := otelexport.New(client)
	require.Nil(t, exp)
	var refused *librato.ErrForbiddenForRole
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, librato.RoleViewOnly, refused.Role)
	assert.Equal(t, "/v1/measurements", refused.Endpoint)
	assert.Zero(t, srv.Requests())

	for _, role := range []librato.Role{librato.RoleRecordOnly, librato.RoleFullAccess} {
		client, err := srv.Client(role)
		require.NoError(t, err)
		exp, err := otelexport.New(client)
		require.NoError(t, err, role)
		require.NoError(t, exp.Shutdown(context.Background()))
	}
}

// TestNewRejectsBadOptions names the option at fault.
func TestNewRejectsBadOptions(t *testing.T) {
	_, client := newMock(t)
	for _, tc := range []struct {
		opt  otelexport.Option
		want string
	}{
		{otelexport.WithPeriod(1500 * time.Millisecond), "WithPeriod"},
		{otelexport.WithPeriod(0), "WithPeriod"},
		{otelexport.WithPrefix("my app/"), "WithPrefix"},
		{otelexport.WithTags(map[string]string{"bad name": "x"}), "WithTags"},
		{otelexport.WithTags(map[string]string{"ok": ""}), "WithTags"},
		{otelexport.WithTemporalitySelector(nil), "WithTemporalitySelector"},
		{otelexport.WithAggregationSelector(nil), "WithAggregationSelector"},
		{otelexport.WithBatchSize(0), "WithBatchSize"},
		{otelexport.WithFlushInterval(-time.Second), "WithFlushInterval"},
		{otelexport.WithMaxBuffered(-1), "WithMaxBuffered"},
	} {
		exp, err := otelexport.New(client, tc.opt)
		assert.Nil(t, exp)
		assert.ErrorContains(t, err, tc.want)
	}
	_, err := otelexport.New(nil)
	assert.Error(t, err)
}

// TestTemporalityAndAggregation: delta for Counter and Histogram,
// cumulative for the rest; histograms without buckets; selectors can be
// replaced.
func TestTemporalityAndAggregation(t *testing.T) {
	_, client := newMock(t)
	exp, err := otelexport.New(client)
	require.NoError(t, err)
	defer exp.Shutdown(context.Background())
	for k, want := range map[sdkmetric.InstrumentKind]metricdata.Temporality{
		sdkmetric.InstrumentKindCounter:                 metricdata.DeltaTemporality,
		sdkmetric.InstrumentKindHistogram:               metricdata.DeltaTemporality,
		sdkmetric.InstrumentKindUpDownCounter:           metricdata.CumulativeTemporality,
		sdkmetric.InstrumentKindObservableCounter:       metricdata.CumulativeTemporality,
		sdkmetric.InstrumentKindObservableUpDownCounter: metricdata.CumulativeTemporality,
		sdkmetric.InstrumentKindObservableGauge:         metricdata.CumulativeTemporality,
		sdkmetric.InstrumentKindGauge:                   metricdata.CumulativeTemporality,
	} {
		assert.Equal(t, want, exp.Temporality(k), k)
	}
	assert.Equal(t, sdkmetric.AggregationExplicitBucketHistogram{Boundaries: []float64{}}, exp.Aggregation(sdkmetric.InstrumentKindHistogram))
	assert.Equal(t, sdkmetric.AggregationSum{}, exp.Aggregation(sdkmetric.InstrumentKindCounter))

	exp2, err := otelexport.New(client,
		otelexport.WithTemporalitySelector(sdkmetric.CumulativeTemporalitySelector),
		otelexport.WithAggregationSelector(func(sdkmetric.InstrumentKind) sdkmetric.Aggregation {
			return sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 20}
		}))
	require.NoError(t, err)
	defer exp2.Shutdown(context.Background())
	assert.Equal(t, metricdata.CumulativeTemporality, exp2.Temporality(sdkmetric.InstrumentKindCounter))
	assert.Equal(t, sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 20}, exp2.Aggregation(sdkmetric.InstrumentKindHistogram))
}

// gate is a transport that holds every request until it is opened.
type gate struct {
	next http.RoundTripper
	open chan struct{}
}

func (g gate) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case <-g.open:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return g.next.RoundTrip(r)
}

func deltaSums(c clock, k int, values map[string]int64) metricdata.Metrics {
	var pts []metricdata.DataPoint[int64]
	for _, name := range []string{"a", "b", "c"} {
		if v, ok := values[name]; ok {
			pts = append(pts, metricdata.DataPoint[int64]{Attributes: attribute.NewSet(attribute.String("s", name)), Time: c.at(k, 0), Value: v})
		}
	}
	return metricdata.Metrics{Name: "n", Data: metricdata.Sum[int64]{IsMonotonic: true, Temporality: metricdata.DeltaTemporality, DataPoints: pts}}
}

// TestExportHonoursContext: with the batcher full and the server holding
// every request, Export returns when its context ends instead of waiting.
// The sums it could not queue are carried, into the stream's next
// measurement or queued on their own at the next Export, so none is lost;
// the gauge is lost and counted.
func TestExportHonoursContext(t *testing.T) {
	srv := mock.NewServer()
	defer srv.Close()
	g := gate{next: srv.Transport(), open: make(chan struct{})}
	client, err := srv.Client(librato.RoleRecordOnly, librato.WithHTTPClient(&http.Client{Transport: g}))
	require.NoError(t, err)
	exp, err := otelexport.New(client, otelexport.WithBatchSize(1), otelexport.WithMaxBuffered(1))
	require.NoError(t, err)
	c := newClock()

	rm := one(deltaSums(c, 1, map[string]int64{"a": 1, "b": 2, "c": 3}))
	rm.ScopeMetrics[0].Metrics = append(rm.ScopeMetrics[0].Metrics, metricdata.Metrics{Name: "g", Data: metricdata.Gauge[float64]{
		DataPoints: []metricdata.DataPoint[float64]{{Time: c.at(1, 0), Value: 9}}}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = exp.Export(ctx, rm)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "3 measurement(s) not queued")
	st := exp.Stats()
	assert.Equal(t, int64(1), st.Queued)
	assert.Equal(t, int64(3), st.NotQueued)
	assert.Equal(t, int64(2), st.Carried)
	assert.Equal(t, int64(1), st.Lost, "the gauge")

	close(g.open)
	require.NoError(t, exp.Export(context.Background(), one(deltaSums(c, 2, map[string]int64{"b": 20}))))
	err = exp.Shutdown(context.Background())
	require.Error(t, err, "the gauge was never queued")
	assert.ErrorContains(t, err, "1 value(s) were never queued")

	got := map[string][]float64{}
	for _, m := range srv.Recorded() {
		got[m.Name+"/"+m.Tags["s"]] = append(got[m.Name+"/"+m.Tags["s"]], m.Value)
	}
	assert.Equal(t, map[string][]float64{"n/a": {1}, "n/b": {22}, "n/c": {3}}, got)
	assert.Equal(t, int64(1), exp.Stats().Lost)
}

// TestExportWithEndedContextQueuesWhatFits: the periodic reader cancels
// the context of the export it is in when Shutdown starts. An Export whose
// context has already ended still queues what fits without waiting, every
// time (a select between a free exporter and an ended context used to
// lose about half of them).
func TestExportWithEndedContextQueuesWhatFits(t *testing.T) {
	srv, client := newMock(t)
	exp, err := otelexport.New(client)
	require.NoError(t, err)
	c := newClock()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	const exports = 40
	for k := 1; k <= exports; k++ {
		require.NoError(t, exp.Export(ended, one(deltaSums(c, k, map[string]int64{"a": 1, "b": 2, "c": 3}))), "export %d", k)
	}
	require.NoError(t, exp.Shutdown(context.Background()))
	assert.Zero(t, exp.Stats().Lost)
	assert.Equal(t, 3*exports, srv.RecordedCount())
}

// TestShutdownQueuesCarried: a value still carried when Shutdown starts is
// queued and delivered by it.
func TestShutdownQueuesCarried(t *testing.T) {
	srv := mock.NewServer()
	defer srv.Close()
	g := gate{next: srv.Transport(), open: make(chan struct{})}
	client, err := srv.Client(librato.RoleRecordOnly, librato.WithHTTPClient(&http.Client{Transport: g}))
	require.NoError(t, err)
	exp, err := otelexport.New(client, otelexport.WithBatchSize(1), otelexport.WithMaxBuffered(1))
	require.NoError(t, err)
	c := newClock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, exp.Export(ctx, one(deltaSums(c, 1, map[string]int64{"a": 1, "b": 2}))), context.DeadlineExceeded)
	close(g.open)
	require.NoError(t, exp.Shutdown(context.Background()))
	assert.Equal(t, 2, srv.RecordedCount())
	assert.Zero(t, exp.Stats().Lost)
}

// TestDeliveryFailures: measurements the server rejects for good reach the
// error handler, ForceFlush and Shutdown report them, and Shutdown's error
// unwraps to the batcher's.
func TestDeliveryFailures(t *testing.T) {
	errs := captureErrors(t)
	srv, client := newMock(t)
	exp, err := otelexport.New(client)
	require.NoError(t, err)
	srv.FailNext(100, http.StatusUnauthorized)
	require.NoError(t, exp.Export(context.Background(), one(deltaSums(newClock(), 1, map[string]int64{"a": 1, "b": 2}))))
	require.Error(t, exp.ForceFlush(context.Background()))
	err = exp.Shutdown(context.Background())
	require.Error(t, err)
	assert.ErrorContains(t, err, "2 measurement(s) failed")
	assert.NotNil(t, errors.Unwrap(err))
	require.NotEmpty(t, errs.all())
	assert.ErrorContains(t, errs.all()[0], "2 measurement(s) will not be delivered")
	st := exp.Stats()
	assert.Equal(t, int64(2), st.Batcher.Failed)
	assert.Zero(t, srv.RecordedCount())
}

// TestInvalidValue: a NaN is refused by the batcher's validation; Export
// returns the *librato.ValidationError, the rest is delivered.
func TestInvalidValue(t *testing.T) {
	errs := captureErrors(t)
	srv, client := newMock(t)
	exp, err := otelexport.New(client)
	require.NoError(t, err)
	c := newClock()
	err = exp.Export(context.Background(), one(metricdata.Metrics{Name: "g", Data: metricdata.Gauge[float64]{
		DataPoints: []metricdata.DataPoint[float64]{{Time: c.at(0, 0), Value: math.NaN()}, {Attributes: attrs, Time: c.at(0, 0), Value: 1}}}}))
	var ve *librato.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "value", ve.Field)
	assert.Error(t, exp.Shutdown(context.Background()))
	assert.Equal(t, 1, srv.RecordedCount())
	assert.Equal(t, int64(1), exp.Stats().Lost)
	assert.Empty(t, errs.all(), "returned by Export, not reported twice")
}

// TestAfterShutdown: Export and Shutdown after Shutdown return
// sdkmetric.ErrExporterShutdown.
func TestAfterShutdown(t *testing.T) {
	_, client := newMock(t)
	exp, err := otelexport.New(client)
	require.NoError(t, err)
	require.NoError(t, exp.Shutdown(context.Background()))
	assert.ErrorIs(t, exp.Shutdown(context.Background()), sdkmetric.ErrExporterShutdown)
	assert.ErrorIs(t, exp.Export(context.Background(), one(deltaSums(newClock(), 1, map[string]int64{"a": 1}))), sdkmetric.ErrExporterShutdown)
}

// TestPeriodicReader runs the exporter the standard way: the provider's
// ForceFlush collects, exports and flushes; its Shutdown makes the final
// collection and shuts the exporter down, delivering everything.
func TestPeriodicReader(t *testing.T) {
	srv, client := newMock(t)
	exp, err := otelexport.New(client)
	require.NoError(t, err)
	provider := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))),
		sdkmetric.WithResource(testResource))
	counter, err := provider.Meter("m").Int64Counter("jobs")
	require.NoError(t, err)
	ctx := context.Background()

	counter.Add(ctx, 2)
	require.NoError(t, provider.ForceFlush(ctx))
	rec := srv.Recorded()
	require.Len(t, rec, 1)
	assert.Equal(t, 2.0, rec[0].Value)

	counter.Add(ctx, 5)
	require.NoError(t, provider.Shutdown(ctx))
	rec = srv.Recorded()
	require.Len(t, rec, 2)
	assert.Equal(t, 5.0, rec[1].Value)
	assert.Equal(t, resourceTags(nil), rec[1].Tags)
	assert.ErrorIs(t, exp.Export(ctx, &metricdata.ResourceMetrics{}), sdkmetric.ErrExporterShutdown)
}

// TestConcurrentUse exports, flushes and reads stats from several
// goroutines at once (run it with -race); everything queued is delivered.
func TestConcurrentUse(t *testing.T) {
	srv, client := newMock(t)
	exp, err := otelexport.New(client, otelexport.WithBatchSize(7))
	require.NoError(t, err)
	c := newClock()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 25 {
				m := deltaSums(c, k, map[string]int64{"a": 1, "b": 2, "c": 3})
				m.Name = []string{"w0", "w1", "w2", "w3"}[w]
				assert.NoError(t, exp.Export(context.Background(), one(m)))
				if k%5 == 0 {
					assert.NoError(t, exp.ForceFlush(context.Background()))
				}
				_ = exp.Stats()
			}
		}()
	}
	wg.Wait()
	require.NoError(t, exp.Shutdown(context.Background()))
	st := exp.Stats()
	assert.Equal(t, int64(4*25*3), st.Queued)
	assert.Equal(t, st.Queued, st.Batcher.Sent)
	assert.Equal(t, 4*25*3, srv.RecordedCount())
}
