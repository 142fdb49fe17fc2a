package otelexport_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
	"github.com/librato-sdk/librato-go/otelexport"
)

// accept is a transport that reads each request and answers 202, so the
// benchmarks measure the client side only.
type accept struct{}

func (accept) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusAccepted, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{}`)), Request: r,
	}, nil
}

func benchClient(tb testing.TB) *librato.Client {
	c, err := librato.NewClient("bench@example.com", "bench-token", librato.WithRole(librato.RoleRecordOnly),
		librato.WithBaseURL("http://127.0.0.1:1"), librato.WithHTTPClient(&http.Client{Transport: accept{}}))
	require.NoError(tb, err)
	return c
}

// benchData is one collection of 10,000 data points: 100 metrics of 100
// streams each, three attributes per stream; 40 monotonic delta sums, 20
// gauges, 20 up-down sums, 20 delta histograms.
// With unique, every stream has attributes of its own; otherwise the
// metrics share the same 100 attribute sets, as instruments of one
// service usually do.
func benchData(unique bool) *metricdata.ResourceMetrics {
	c := newClock()
	at := c.at(1, 0)
	var ms []metricdata.Metrics
	for m := range 100 {
		attrsOf := func(i int) attribute.Set {
			zone := fmt.Sprintf("zone-%d", i%7)
			if unique {
				zone = fmt.Sprintf("zone-%d-%d", i%7, m)
			}
			return attribute.NewSet(
				attribute.String("route", fmt.Sprintf("/api/v1/item%d", i)),
				attribute.String("method", []string{"GET", "POST", "PUT", "DELETE"}[i%4]),
				attribute.String("zone", zone),
			)
		}
		name := fmt.Sprintf("bench.metric%02d", m)
		switch {
		case m < 40:
			pts := make([]metricdata.DataPoint[int64], 100)
			for i := range pts {
				pts[i] = metricdata.DataPoint[int64]{Attributes: attrsOf(i), StartTime: c.at(0, 0), Time: at, Value: int64(i)}
			}
			ms = append(ms, metricdata.Metrics{Name: name, Data: metricdata.Sum[int64]{IsMonotonic: true, Temporality: metricdata.DeltaTemporality, DataPoints: pts}})
		case m < 60:
			pts := make([]metricdata.DataPoint[float64], 100)
			for i := range pts {
				pts[i] = metricdata.DataPoint[float64]{Attributes: attrsOf(i), Time: at, Value: float64(i) / 3}
			}
			ms = append(ms, metricdata.Metrics{Name: name, Data: metricdata.Gauge[float64]{DataPoints: pts}})
		case m < 80:
			pts := make([]metricdata.DataPoint[int64], 100)
			for i := range pts {
				pts[i] = metricdata.DataPoint[int64]{Attributes: attrsOf(i), StartTime: c.at(0, 0), Time: at, Value: int64(i - 50)}
			}
			ms = append(ms, metricdata.Metrics{Name: name, Data: metricdata.Sum[int64]{Temporality: metricdata.CumulativeTemporality, DataPoints: pts}})
		default:
			pts := make([]metricdata.HistogramDataPoint[float64], 100)
			for i := range pts {
				pts[i] = metricdata.HistogramDataPoint[float64]{Attributes: attrsOf(i), StartTime: c.at(0, 0), Time: at,
					Count: uint64(i + 3), Sum: float64(10 * (i + 3)), Min: metricdata.NewExtrema(1.0), Max: metricdata.NewExtrema(float64(20 + i))}
			}
			ms = append(ms, metricdata.Metrics{Name: name, Data: metricdata.Histogram[float64]{Temporality: metricdata.DeltaTemporality, DataPoints: pts}})
		}
	}
	return &metricdata.ResourceMetrics{
		Resource:     resource.NewSchemaless(attribute.String("service.name", "bench"), attribute.String("host.name", "h1")),
		ScopeMetrics: []metricdata.ScopeMetrics{{Scope: instrumentation.Scope{Name: "bench"}, Metrics: ms}},
	}
}

const benchPoints = 10000

// benchMeasurements are the measurements the exporter makes of benchData,
// as the mock recorded them.
func benchMeasurements(tb testing.TB, rm *metricdata.ResourceMetrics) []librato.Measurement {
	srv := mock.NewServer()
	defer srv.Close()
	c, err := srv.Client(librato.RoleRecordOnly, librato.WithHTTPClient(&http.Client{Transport: srv.Transport()}))
	require.NoError(tb, err)
	exp, err := otelexport.New(c)
	require.NoError(tb, err)
	require.NoError(tb, exp.Export(context.Background(), rm))
	require.NoError(tb, exp.Shutdown(context.Background()))
	ms := srv.Recorded()
	require.Len(tb, ms, benchPoints)
	return ms
}

// BenchmarkOTelExport exports 10,000 data points per operation and flushes
// them. "exporter" is the steady state (streams known from earlier
// exports); "exporter-new-streams" a fresh exporter meeting every stream
// for the first time, the metrics sharing 100 attribute sets;
// "exporter-new-attribute-sets" the same with 10,000 distinct attribute
// sets (the worst case: each needs a tags map of its own); and
// "batcher-baseline" adds the same 10,000 measurements straight to a
// batcher: the batcher's own cost. The difference in allocs/op, divided by
// 10,000, is what the exporter adds per data point.
func BenchmarkOTelExport(b *testing.B) {
	rm := benchData(false)
	ctx := context.Background()
	b.Run("exporter", func(b *testing.B) {
		exp, err := otelexport.New(benchClient(b), otelexport.WithBatchSize(1000))
		require.NoError(b, err)
		require.NoError(b, exp.Export(ctx, rm)) // the streams become known
		require.NoError(b, exp.ForceFlush(ctx))
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := exp.Export(ctx, rm); err != nil {
				b.Fatal(err)
			}
			if err := exp.ForceFlush(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		require.NoError(b, exp.Shutdown(ctx))
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchPoints, "ns/point")
	})
	fresh := func(rm *metricdata.ResourceMetrics) func(b *testing.B) {
		return func(b *testing.B) {
			client := benchClient(b)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				exp, err := otelexport.New(client, otelexport.WithBatchSize(1000))
				require.NoError(b, err)
				b.StartTimer()
				if err := exp.Export(ctx, rm); err != nil {
					b.Fatal(err)
				}
				if err := exp.ForceFlush(ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				require.NoError(b, exp.Shutdown(ctx))
				b.StartTimer()
			}
		}
	}
	b.Run("exporter-new-streams", fresh(rm))
	b.Run("exporter-new-attribute-sets", fresh(benchData(true)))
	b.Run("batcher-baseline", func(b *testing.B) {
		ms := benchMeasurements(b, rm)
		bt, err := benchClient(b).Measurements.NewBatcher(librato.BatcherOptions{BatchSize: 1000})
		require.NoError(b, err)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			for _, m := range ms {
				if err := bt.Add(ctx, m); err != nil {
					b.Fatal(err)
				}
			}
			if err := bt.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		require.NoError(b, bt.Close(ctx))
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchPoints, "ns/point")
	})
}

// TestExportAllocationBudget: in the steady state, Export adds at most two
// allocations per data point to what adding the same measurements to a
// batcher costs.
func TestExportAllocationBudget(t *testing.T) {
	rm := benchData(false)
	ctx := context.Background()
	exp, err := otelexport.New(benchClient(t), otelexport.WithBatchSize(1000))
	require.NoError(t, err)
	defer exp.Shutdown(ctx)
	require.NoError(t, exp.Export(ctx, rm))
	require.NoError(t, exp.ForceFlush(ctx))
	exporter := testing.AllocsPerRun(5, func() {
		_ = exp.Export(ctx, rm)
		_ = exp.ForceFlush(ctx)
	})

	ms := benchMeasurements(t, rm)
	bt, err := benchClient(t).Measurements.NewBatcher(librato.BatcherOptions{BatchSize: 1000})
	require.NoError(t, err)
	defer bt.Close(ctx)
	baseline := testing.AllocsPerRun(5, func() {
		for _, m := range ms {
			_ = bt.Add(ctx, m)
		}
		_ = bt.Flush(ctx)
	})
	perPoint := (exporter - baseline) / benchPoints
	t.Logf("allocations per export of %d points: exporter %.0f, batcher alone %.0f: %.3f per point added", benchPoints, exporter, baseline, perPoint)
	require.LessOrEqual(t, perPoint, 2.0)
}
