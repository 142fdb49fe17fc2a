package otelexport_test

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
	"github.com/librato-sdk/librato-go/otelexport"
)

// newMock starts a mock whose injected 429 and 503 ask for no wait, and a
// Record Only client of it that retries quickly.
func newMock(t *testing.T, opts ...mock.Option) (*mock.Server, *librato.Client) {
	t.Helper()
	srv, err := mock.New(append([]mock.Option{mock.WithRetryAfter(0)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	c, err := srv.Client(librato.RoleRecordOnly, librato.WithBackoff(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	return srv, c
}

var testResource = resource.NewSchemaless(
	attribute.String("service.name", "checkout"),
	attribute.String("host.name", "web-1"),
	attribute.String("deployment.environment.name", "prod"),
	attribute.String("cloud.region", "eu-west-1"), // not a chosen resource attribute
)

// resourceTags are the tags testResource gives every measurement.
func resourceTags(extra map[string]string) map[string]string {
	tags := map[string]string{"service.name": "checkout", "host.name": "web-1", "deployment.environment.name": "prod"}
	for k, v := range extra {
		tags[k] = v
	}
	return tags
}

// got is one recorded measurement, reduced to what the tests compare. The
// mock records a summary's Value as its mean, sum / count.
type got struct {
	Name   string
	Tags   map[string]string
	Time   int64
	Period int64
	Value  float64
	Count  int64
	Sum    *float64
	Min    *float64
	Max    *float64
	StdDev *float64
}

func reduce(ms []librato.Measurement) []got {
	out := make([]got, 0, len(ms))
	for _, m := range ms {
		out = append(out, got{Name: m.Name, Tags: m.Tags, Time: m.Time, Period: m.Period, Value: m.Value,
			Count: m.Count, Sum: m.Sum, Min: m.Min, Max: m.Max, StdDev: m.StdDev})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return tagString(out[i].Tags) < tagString(out[j].Tags)
	})
	return out
}

func tagString(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + tags[k] + ",")
	}
	return b.String()
}

func f(v float64) *float64 { return &v }

// floorTime is the period-aligned time of the first data point collected.
func floorTime(t *testing.T, rm *metricdata.ResourceMetrics, period int64) int64 {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if s, ok := m.Data.(metricdata.Sum[int64]); ok && len(s.DataPoints) > 0 {
				u := s.DataPoints[0].Time.Unix()
				return u - u%period
			}
		}
	}
	t.Fatal("no int64 sum collected")
	return 0
}

// TestEndToEnd runs the OpenTelemetry SDK with a ManualReader over three
// collection periods against the mock, failing requests with 503 and 429
// on the way, and checks per instrument kind the exact measurements the
// mock recorded: values, summaries, tags (rewritten where the rules say)
// and period-aligned times. Nothing may be lost.
func TestEndToEnd(t *testing.T) {
	srv, client := newMock(t)
	exp, err := otelexport.New(client)
	require.NoError(t, err)
	reader := sdkmetric.NewManualReader(
		sdkmetric.WithTemporalitySelector(exp.Temporality),
		sdkmetric.WithAggregationSelector(exp.Aggregation),
	)
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(testResource))
	defer func() { require.NoError(t, provider.Shutdown(context.Background())) }()
	meter := provider.Meter("shop")
	ctx := context.Background()

	requests, err := meter.Int64Counter("http.requests")
	require.NoError(t, err)
	inFlight, err := meter.Int64UpDownCounter("queue.depth")
	require.NoError(t, err)
	duration, err := meter.Float64Histogram("http.server.duration", metric.WithUnit("ms"))
	require.NoError(t, err)
	temperature, err := meter.Float64Gauge("room.temperature")
	require.NoError(t, err)
	// An observable counter reads a total kept elsewhere (here: a value
	// the test sets); a process restart makes that total drop.
	var total atomic.Int64
	_, err = meter.Int64ObservableCounter("jobs.done", metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
		o.Observe(total.Load(), metric.WithAttributes(attribute.String("queue", "mail")))
		return nil
	}))
	require.NoError(t, err)

	// The counter's attributes break the tag rules: a "/" in the key, an
	// upper-case key, and values with "=", "&" and a non-ASCII letter.
	cart := metric.WithAttributes(attribute.String("http/route", "/cart?id=1&lang=fr"), attribute.String("Region", "Île-de-France"))
	cartTags := resourceTags(map[string]string{"http_route": "/cart?id_1_lang_fr", "region": "_le-de-France"})
	home := metric.WithAttributes(attribute.String("http/route", "/home"))
	homeTags := resourceTags(map[string]string{"http_route": "/home"})
	plain := resourceTags(nil)
	mail := resourceTags(map[string]string{"queue": "mail"})

	recorded := 0
	period := func(fail func()) ([]got, int64) {
		t.Helper()
		var rm metricdata.ResourceMetrics
		require.NoError(t, reader.Collect(ctx, &rm))
		if fail != nil {
			fail()
		}
		require.NoError(t, exp.Export(ctx, &rm))
		require.NoError(t, exp.ForceFlush(ctx))
		all := srv.Recorded()
		news := all[recorded:]
		recorded = len(all)
		return reduce(news), floorTime(t, &rm, 60)
	}

	// Period 1.
	requests.Add(ctx, 3, cart)
	requests.Add(ctx, 2, cart)
	inFlight.Add(ctx, 10)
	inFlight.Add(ctx, -3)
	duration.Record(ctx, 10)
	duration.Record(ctx, 30)
	temperature.Record(ctx, 21.5)
	total.Store(10)
	ms, ts := period(nil)
	assert.Equal(t, []got{
		{Name: "http.requests", Tags: cartTags, Time: ts, Period: 60, Value: 5},
		{Name: "http.server.duration", Tags: plain, Time: ts, Period: 60, Value: 20, Count: 2, Sum: f(40), Min: f(10), Max: f(30), StdDev: f(10)},
		{Name: "jobs.done", Tags: mail, Time: ts, Period: 60, Value: 10},
		{Name: "queue.depth", Tags: plain, Time: ts, Period: 60, Value: 7},
		{Name: "room.temperature", Tags: plain, Time: ts, Period: 60, Value: 21.5},
	}, ms, "period 1")

	// Period 2: the first three requests fail with 503.
	requests.Add(ctx, 4, cart)
	inFlight.Add(ctx, -2)
	duration.Record(ctx, 50)
	temperature.Record(ctx, 19)
	total.Store(25)
	ms, ts = period(func() { srv.FailNext(3, http.StatusServiceUnavailable) })
	assert.Equal(t, []got{
		{Name: "http.requests", Tags: cartTags, Time: ts, Period: 60, Value: 4},
		{Name: "http.server.duration", Tags: plain, Time: ts, Period: 60, Value: 50, Count: 1, Sum: f(50), Min: f(50), Max: f(50), StdDev: f(0)},
		{Name: "jobs.done", Tags: mail, Time: ts, Period: 60, Value: 15},
		{Name: "queue.depth", Tags: plain, Time: ts, Period: 60, Value: 5},
		{Name: "room.temperature", Tags: plain, Time: ts, Period: 60, Value: 19},
	}, ms, "period 2")

	// Period 3: two requests fail with 429; the cart counter and the
	// histogram have nothing new, a new route appears, and the observed
	// total drops (the process that kept it restarted).
	requests.Add(ctx, 1, home)
	total.Store(4)
	ms, ts = period(func() { srv.FailNext(2, http.StatusTooManyRequests) })
	assert.Equal(t, []got{
		{Name: "http.requests", Tags: homeTags, Time: ts, Period: 60, Value: 1},
		{Name: "jobs.done", Tags: mail, Time: ts, Period: 60, Value: 4},
		{Name: "queue.depth", Tags: plain, Time: ts, Period: 60, Value: 5},
		{Name: "room.temperature", Tags: plain, Time: ts, Period: 60, Value: 19},
	}, ms, "period 3")

	require.NoError(t, exp.Shutdown(ctx))
	st := exp.Stats()
	assert.Equal(t, int64(14), st.DataPoints)
	assert.Equal(t, int64(14), st.Queued)
	assert.Equal(t, int64(14), st.Batcher.Sent)
	assert.Zero(t, st.Batcher.Failed)
	assert.Zero(t, st.Lost)
	assert.Zero(t, st.NotQueued)
	assert.Positive(t, st.Batcher.Retried, "the injected failures were retried")
	assert.Equal(t, int64(1), st.Resets)
	assert.Equal(t, int64(2*2+1), st.TagsRewritten, "cart: route and region, in two periods; home: route once")
	assert.Equal(t, 14, srv.RecordedCount())
}
