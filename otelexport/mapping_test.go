package otelexport_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/otelexport"
)

// clock gives data point times after the exporter's creation, on an hour
// boundary, so floored times are easy to read: at(k, s) is k periods of 60 s
// and s seconds after it.
type clock struct{ base time.Time }

func newClock() clock {
	return clock{base: time.Unix((time.Now().Unix()/3600+1)*3600, 0)}
}

func (c clock) at(k, s int) time.Time {
	return c.base.Add(time.Duration(k)*time.Minute + time.Duration(s)*time.Second)
}

func (c clock) unix(k int) int64 { return c.at(k, 0).Unix() }

// one wraps a metric in a ResourceMetrics of a resource with only
// service.name.
func one(m metricdata.Metrics) *metricdata.ResourceMetrics {
	return &metricdata.ResourceMetrics{
		Resource: resource.NewSchemaless(attribute.String("service.name", "svc")),
		ScopeMetrics: []metricdata.ScopeMetrics{{
			Scope:   instrumentation.Scope{Name: "test"},
			Metrics: []metricdata.Metrics{m},
		}},
	}
}

var (
	svc   = map[string]string{"service.name": "svc"}
	attrs = attribute.NewSet(attribute.String("k", "v"))
	kv    = map[string]string{"service.name": "svc", "k": "v"}
)

func ext[N int64 | float64](v N) metricdata.Extrema[N] { return metricdata.NewExtrema(v) }

// TestMapping checks every row of the mapping table in the package
// documentation: each case exports its data in order, one Export per
// element, and lists what the mock recorded.
func TestMapping(t *testing.T) {
	c := newClock()
	longAgo := time.Now().Add(-time.Hour)
	cases := []struct {
		name    string
		exports []metricdata.Metrics
		want    []got
		skipped int64
		resets  int64
	}{
		{
			name: "gauge: one measurement per data point, int and float",
			exports: []metricdata.Metrics{
				{Name: "g", Data: metricdata.Gauge[int64]{DataPoints: []metricdata.DataPoint[int64]{
					{Attributes: attrs, Time: c.at(0, 5), Value: 7},
					{Time: c.at(0, 5), Value: -3},
				}}},
				{Name: "g", Data: metricdata.Gauge[float64]{DataPoints: []metricdata.DataPoint[float64]{
					{Attributes: attrs, Time: c.at(1, 59), Value: 2.5},
				}}},
			},
			want: []got{
				{Name: "g", Tags: kv, Time: c.unix(0), Period: 60, Value: 7},
				{Name: "g", Tags: svc, Time: c.unix(0), Period: 60, Value: -3},
				{Name: "g", Tags: kv, Time: c.unix(1), Period: 60, Value: 2.5},
			},
		},
		{
			name: "monotonic delta sum: the period's increase as is",
			exports: []metricdata.Metrics{
				{Name: "s", Data: metricdata.Sum[int64]{IsMonotonic: true, Temporality: metricdata.DeltaTemporality,
					DataPoints: []metricdata.DataPoint[int64]{{Attributes: attrs, StartTime: c.at(0, 0), Time: c.at(1, 0), Value: 4}}}},
				{Name: "s", Data: metricdata.Sum[float64]{IsMonotonic: true, Temporality: metricdata.DeltaTemporality,
					DataPoints: []metricdata.DataPoint[float64]{{Attributes: attrs, StartTime: c.at(1, 0), Time: c.at(2, 0), Value: 0.5}}}},
			},
			want: []got{
				{Name: "s", Tags: kv, Time: c.unix(1), Period: 60, Value: 4},
				{Name: "s", Tags: kv, Time: c.unix(2), Period: 60, Value: 0.5},
			},
		},
		{
			name: "monotonic cumulative sum: deltas, restarts on a new start time and on a drop",
			exports: []metricdata.Metrics{
				cumSum(c.at(0, 1), c.at(1, 0), 10),
				cumSum(c.at(0, 1), c.at(2, 0), 15),
				cumSum(c.at(0, 1), c.at(3, 0), 15),
				cumSum(c.at(3, 30), c.at(4, 0), 3), // new start time: restarted
				cumSum(c.at(3, 30), c.at(5, 0), 9),
				cumSum(c.at(3, 30), c.at(6, 0), 2), // dropped: restarted
			},
			want: []got{
				{Name: "c", Tags: kv, Time: c.unix(1), Period: 60, Value: 10},
				{Name: "c", Tags: kv, Time: c.unix(2), Period: 60, Value: 5},
				{Name: "c", Tags: kv, Time: c.unix(3), Period: 60, Value: 0},
				{Name: "c", Tags: kv, Time: c.unix(4), Period: 60, Value: 3},
				{Name: "c", Tags: kv, Time: c.unix(5), Period: 60, Value: 6},
				{Name: "c", Tags: kv, Time: c.unix(6), Period: 60, Value: 2},
			},
			resets: 2,
		},
		{
			name: "monotonic cumulative sum that began before the exporter: the first point is a baseline",
			exports: []metricdata.Metrics{
				cumSum(longAgo, c.at(1, 0), 1000),
				cumSum(longAgo, c.at(2, 0), 1004),
			},
			want:    []got{{Name: "c", Tags: kv, Time: c.unix(2), Period: 60, Value: 4}},
			skipped: 1,
		},
		{
			name: "non-monotonic sum: its value, cumulative or delta",
			exports: []metricdata.Metrics{
				{Name: "u", Data: metricdata.Sum[int64]{Temporality: metricdata.CumulativeTemporality,
					DataPoints: []metricdata.DataPoint[int64]{{Attributes: attrs, StartTime: c.at(0, 0), Time: c.at(1, 0), Value: 12}}}},
				{Name: "u", Data: metricdata.Sum[int64]{Temporality: metricdata.CumulativeTemporality,
					DataPoints: []metricdata.DataPoint[int64]{{Attributes: attrs, StartTime: c.at(0, 0), Time: c.at(2, 0), Value: 8}}}},
				{Name: "u", Data: metricdata.Sum[float64]{Temporality: metricdata.DeltaTemporality,
					DataPoints: []metricdata.DataPoint[float64]{{Attributes: attrs, StartTime: c.at(2, 0), Time: c.at(3, 0), Value: -1.5}}}},
			},
			want: []got{
				{Name: "u", Tags: kv, Time: c.unix(1), Period: 60, Value: 12},
				{Name: "u", Tags: kv, Time: c.unix(2), Period: 60, Value: 8},
				{Name: "u", Tags: kv, Time: c.unix(3), Period: 60, Value: -1.5},
			},
		},
		{
			name: "delta histogram: count, sum, min, max; stddev only where exact",
			exports: []metricdata.Metrics{
				hist(metricdata.DeltaTemporality, c.at(1, 0),
					metricdata.HistogramDataPoint[float64]{Count: 1, Sum: 4, Min: ext(4.0), Max: ext(4.0)},
					metricdata.HistogramDataPoint[float64]{Attributes: attribute.NewSet(attribute.Int("n", 2)), Count: 2, Sum: 10, Min: ext(2.0), Max: ext(8.0)},
					metricdata.HistogramDataPoint[float64]{Attributes: attribute.NewSet(attribute.Int("n", 3)), Count: 3, Sum: 15, Min: ext(5.0), Max: ext(5.0)},
					metricdata.HistogramDataPoint[float64]{Attributes: attribute.NewSet(attribute.Int("n", 4)), Count: 4, Sum: 10, Min: ext(1.0), Max: ext(4.0),
						Bounds: []float64{2}, BucketCounts: []uint64{2, 2}},
					metricdata.HistogramDataPoint[float64]{Attributes: attribute.NewSet(attribute.Int("n", 5)), Count: 5, Sum: 10}, // NoMinMax
				),
			},
			want: []got{
				{Name: "h", Tags: svc, Time: c.unix(1), Period: 60, Value: 4, Count: 1, Sum: f(4), Min: f(4), Max: f(4), StdDev: f(0)},
				{Name: "h", Tags: map[string]string{"service.name": "svc", "n": "2"}, Time: c.unix(1), Period: 60, Value: 5, Count: 2, Sum: f(10), Min: f(2), Max: f(8), StdDev: f(3)},
				{Name: "h", Tags: map[string]string{"service.name": "svc", "n": "3"}, Time: c.unix(1), Period: 60, Value: 5, Count: 3, Sum: f(15), Min: f(5), Max: f(5), StdDev: f(0)},
				{Name: "h", Tags: map[string]string{"service.name": "svc", "n": "4"}, Time: c.unix(1), Period: 60, Value: 2.5, Count: 4, Sum: f(10), Min: f(1), Max: f(4)},
				{Name: "h", Tags: map[string]string{"service.name": "svc", "n": "5"}, Time: c.unix(1), Period: 60, Value: 2, Count: 5, Sum: f(10)},
			},
		},
		{
			name: "cumulative histogram: count and sum deltas, extrema only for a whole interval",
			exports: []metricdata.Metrics{
				hist(metricdata.CumulativeTemporality, c.at(1, 0), metricdata.HistogramDataPoint[int64]{StartTime: c.at(0, 1), Count: 2, Sum: 6, Min: ext[int64](1), Max: ext[int64](5)}),
				hist(metricdata.CumulativeTemporality, c.at(2, 0), metricdata.HistogramDataPoint[int64]{StartTime: c.at(0, 1), Count: 5, Sum: 30, Min: ext[int64](1), Max: ext[int64](9)}),
				hist(metricdata.CumulativeTemporality, c.at(3, 0), metricdata.HistogramDataPoint[int64]{StartTime: c.at(0, 1), Count: 5, Sum: 30, Min: ext[int64](1), Max: ext[int64](9)}),
				hist(metricdata.CumulativeTemporality, c.at(4, 0), metricdata.HistogramDataPoint[int64]{StartTime: c.at(3, 10), Count: 1, Sum: 7, Min: ext[int64](7), Max: ext[int64](7)}),
			},
			want: []got{
				{Name: "h", Tags: svc, Time: c.unix(1), Period: 60, Value: 3, Count: 2, Sum: f(6), Min: f(1), Max: f(5), StdDev: f(2)},
				{Name: "h", Tags: svc, Time: c.unix(2), Period: 60, Value: 8, Count: 3, Sum: f(24)},
				{Name: "h", Tags: svc, Time: c.unix(4), Period: 60, Value: 7, Count: 1, Sum: f(7), Min: f(7), Max: f(7), StdDev: f(0)},
			},
			skipped: 1, // the period without samples
			resets:  1,
		},
		{
			name: "exponential histogram: as a histogram",
			exports: []metricdata.Metrics{
				{Name: "e", Data: metricdata.ExponentialHistogram[float64]{Temporality: metricdata.DeltaTemporality,
					DataPoints: []metricdata.ExponentialHistogramDataPoint[float64]{{
						Attributes: attrs, Time: c.at(1, 0), Count: 3, Sum: 6, Min: ext(1.0), Max: ext(3.0), ZeroCount: 0, Scale: 2,
						PositiveBucket: metricdata.ExponentialBucket{Offset: 0, Counts: []uint64{1, 1, 1}},
					}}}},
				{Name: "e", Data: metricdata.ExponentialHistogram[int64]{Temporality: metricdata.DeltaTemporality,
					DataPoints: []metricdata.ExponentialHistogramDataPoint[int64]{{
						Attributes: attrs, Time: c.at(2, 0), Count: 2, Sum: 4, Min: ext[int64](0), Max: ext[int64](4), ZeroCount: 1,
					}}}},
			},
			want: []got{
				{Name: "e", Tags: kv, Time: c.unix(1), Period: 60, Value: 2, Count: 3, Sum: f(6), Min: f(1), Max: f(3)},
				{Name: "e", Tags: kv, Time: c.unix(2), Period: 60, Value: 2, Count: 2, Sum: f(4), Min: f(0), Max: f(4), StdDev: f(2)},
			},
		},
		{
			name: "summary: cumulative count and sum as deltas, no extrema from quantiles",
			exports: []metricdata.Metrics{
				summaryOf(c.at(0, 1), c.at(1, 0), 4, 20),
				summaryOf(c.at(0, 1), c.at(2, 0), 6, 32),
			},
			want: []got{
				{Name: "q", Tags: svc, Time: c.unix(1), Period: 60, Value: 5, Count: 4, Sum: f(20)},
				{Name: "q", Tags: svc, Time: c.unix(2), Period: 60, Value: 6, Count: 2, Sum: f(12)},
			},
		},
		{
			name: "exemplars are ignored",
			exports: []metricdata.Metrics{
				{Name: "x", Data: metricdata.Gauge[float64]{DataPoints: []metricdata.DataPoint[float64]{{
					Time: c.at(0, 0), Value: 1,
					Exemplars: []metricdata.Exemplar[float64]{{Value: 99, Time: c.at(0, 0), TraceID: []byte{1, 2}, FilteredAttributes: []attribute.KeyValue{attribute.String("user", "u")}}},
				}}}},
			},
			want: []got{{Name: "x", Tags: svc, Time: c.unix(0), Period: 60, Value: 1}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, client := newMock(t)
			exp, err := otelexport.New(client)
			require.NoError(t, err)
			for _, m := range tc.exports {
				require.NoError(t, exp.Export(context.Background(), one(m)))
			}
			require.NoError(t, exp.Shutdown(context.Background()))
			assert.Equal(t, tc.want, reduceInOrder(srv.Recorded()))
			st := exp.Stats()
			assert.Equal(t, tc.skipped, st.Skipped, "skipped")
			assert.Equal(t, tc.resets, st.Resets, "resets")
			assert.Equal(t, int64(len(tc.want)), st.Batcher.Sent)
		})
	}
}

// TestPeriodAlignment floors times to the WithPeriod period, and each
// measurement declares that period.
func TestPeriodAlignment(t *testing.T) {
	c := newClock()
	srv, client := newMock(t)
	exp, err := otelexport.New(client, otelexport.WithPeriod(5*time.Minute))
	require.NoError(t, err)
	require.NoError(t, exp.Export(context.Background(), one(metricdata.Metrics{Name: "g", Data: metricdata.Gauge[int64]{
		DataPoints: []metricdata.DataPoint[int64]{{Time: c.at(7, 31), Value: 1}, {Attributes: attrs, Time: c.at(4, 59), Value: 2}},
	}})))
	require.NoError(t, exp.Shutdown(context.Background()))
	assert.Equal(t, []got{
		{Name: "g", Tags: svc, Time: c.unix(5), Period: 300, Value: 1},
		{Name: "g", Tags: kv, Time: c.unix(0), Period: 300, Value: 2},
	}, reduceInOrder(srv.Recorded()))
}

// TestForgottenCumulativeStream: a cumulative stream absent long enough to
// be forgotten, coming back with its old start time, only sets a new
// baseline: it is not counted twice.
func TestForgottenCumulativeStream(t *testing.T) {
	c := newClock()
	srv, client := newMock(t)
	exp, err := otelexport.New(client)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, exp.Export(ctx, one(cumSum(c.at(0, 1), c.at(1, 0), 10))))
	other := metricdata.Metrics{Name: "c", Data: metricdata.Sum[int64]{IsMonotonic: true, Temporality: metricdata.CumulativeTemporality,
		DataPoints: []metricdata.DataPoint[int64]{{StartTime: c.at(0, 1), Time: c.at(2, 0), Value: 1}}}}
	for range 20 {
		require.NoError(t, exp.Export(ctx, one(other)))
	}
	require.NoError(t, exp.Export(ctx, one(cumSum(c.at(0, 1), c.at(30, 0), 12))))
	require.NoError(t, exp.Export(ctx, one(cumSum(c.at(0, 1), c.at(31, 0), 15))))
	require.NoError(t, exp.Shutdown(ctx))
	var values []float64
	for _, m := range srv.Recorded() {
		if m.Tags["k"] == "v" {
			values = append(values, m.Value)
		}
	}
	assert.Equal(t, []float64{10, 3}, values, "the first point, then nothing for the baseline, then the delta")
	assert.Equal(t, int64(1), exp.Stats().Skipped)
}

func cumSum(start, end time.Time, v int64) metricdata.Metrics {
	return metricdata.Metrics{Name: "c", Data: metricdata.Sum[int64]{IsMonotonic: true, Temporality: metricdata.CumulativeTemporality,
		DataPoints: []metricdata.DataPoint[int64]{{Attributes: attrs, StartTime: start, Time: end, Value: v}}}}
}

func hist[N int64 | float64](tmp metricdata.Temporality, end time.Time, pts ...metricdata.HistogramDataPoint[N]) metricdata.Metrics {
	for i := range pts {
		pts[i].Time = end
	}
	return metricdata.Metrics{Name: "h", Data: metricdata.Histogram[N]{Temporality: tmp, DataPoints: pts}}
}

func summaryOf(start, end time.Time, count uint64, sum float64) metricdata.Metrics {
	return metricdata.Metrics{Name: "q", Data: metricdata.Summary{DataPoints: []metricdata.SummaryDataPoint{{
		StartTime: start, Time: end, Count: count, Sum: sum,
		QuantileValues: []metricdata.QuantileValue{{Quantile: 0, Value: 1}, {Quantile: 1, Value: 9}},
	}}}}
}

// reduceInOrder is reduce without sorting: export order.
func reduceInOrder(ms []librato.Measurement) []got {
	out := make([]got, 0, len(ms))
	for _, m := range ms {
		out = append(out, got{Name: m.Name, Tags: m.Tags, Time: m.Time, Period: m.Period, Value: m.Value,
			Count: m.Count, Sum: m.Sum, Min: m.Min, Max: m.Max, StdDev: m.StdDev})
	}
	return out
}
