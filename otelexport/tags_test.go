package otelexport_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/otelexport"
)

// handled collects what reaches the OpenTelemetry error handler during a
// test. The handler is global: tests using it do not run in parallel.
type handled struct {
	mu   sync.Mutex
	errs []error
}

func captureErrors(t *testing.T) *handled {
	h := &handled{}
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.errs = append(h.errs, err)
	}))
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	return h
}

func (h *handled) all() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]error(nil), h.errs...)
}

// exportOnce exports one gauge point with attrs under res and returns the
// tags the mock recorded for it, and the exporter's stats.
func exportOnce(t *testing.T, res *resource.Resource, attrs attribute.Set, opts ...otelexport.Option) (librato.Measurement, otelexport.Stats) {
	t.Helper()
	srv, client := newMock(t)
	exp, err := otelexport.New(client, opts...)
	require.NoError(t, err)
	rm := &metricdata.ResourceMetrics{Resource: res, ScopeMetrics: []metricdata.ScopeMetrics{{
		Scope: instrumentation.Scope{Name: "t"},
		Metrics: []metricdata.Metrics{{Name: "g", Unit: "ms", Data: metricdata.Gauge[int64]{
			DataPoints: []metricdata.DataPoint[int64]{{Attributes: attrs, Time: newClock().at(0, 0), Value: 1}},
		}}},
	}}}
	require.NoError(t, exp.Export(context.Background(), rm))
	require.NoError(t, exp.Shutdown(context.Background()))
	rec := srv.Recorded()
	require.Len(t, rec, 1)
	return rec[0], exp.Stats()
}

// TestTagSources: fixed tags, then the chosen resource attributes (others
// are not tags), then data point attributes; non-string values as Emit
// writes them, rewritten.
func TestTagSources(t *testing.T) {
	res := resource.NewSchemaless(
		attribute.String("service.name", "api"),
		attribute.String("service.namespace", "shop"),
		attribute.String("host.name", "web-1"),
		attribute.String("deployment.environment.name", "prod"),
		attribute.String("process.pid", "42"),
	)
	dp := attribute.NewSet(attribute.Int("code", 200), attribute.Bool("ok", true), attribute.Float64("ratio", 0.5),
		attribute.StringSlice("list", []string{"a", "b"}))
	m, st := exportOnce(t, res, dp, otelexport.WithTags(map[string]string{"App": "store"}))
	assert.Equal(t, map[string]string{
		"app": "store", "service.name": "api", "service.namespace": "shop", "host.name": "web-1",
		"deployment.environment.name": "prod", "code": "200", "ok": "true", "ratio": "0.5", "list": `__a___b__`,
	}, m.Tags)
	assert.Equal(t, int64(1), st.TagsRewritten, "the list")

	m, _ = exportOnce(t, res, dp, otelexport.WithResourceAttributes("process.pid", "host.name"))
	assert.Equal(t, map[string]string{"process.pid": "42", "host.name": "web-1", "code": "200", "ok": "true", "ratio": "0.5", "list": `__a___b__`}, m.Tags)

	m, _ = exportOnce(t, res, attribute.NewSet(), otelexport.WithResourceAttributes())
	assert.Empty(t, m.Tags, "no tag at all: sent without tags")
}

// TestTagCollisions: attributes whose rewritten names collide keep the tag
// of higher priority (resource before data point, then by key) and count
// the others; the error handler hears of the new stream.
func TestTagCollisions(t *testing.T) {
	errs := captureErrors(t)
	res := resource.NewSchemaless(attribute.String("service.name", "api"))
	dp := attribute.NewSet(
		attribute.String("Service.Name", "shadow"), // lower-cases onto the resource's tag
		attribute.String("user/id", "1"),           // sorts before "user_id", so it wins
		attribute.String("user_id", "2"),
	)
	m, st := exportOnce(t, res, dp)
	assert.Equal(t, map[string]string{"service.name": "api", "user_id": "1"}, m.Tags)
	assert.Equal(t, int64(2), st.TagCollisions)
	require.Len(t, errs.all(), 1)
	assert.ErrorContains(t, errs.all()[0], "1 new attribute set(s) lost attributes")
}

// TestTagLimit: beyond 50 tags, resource attributes are kept first and
// data point attributes go from the end of the key order; each data point
// counts what it lost.
func TestTagLimit(t *testing.T) {
	errs := captureErrors(t)
	res := resource.NewSchemaless(attribute.String("service.name", "api"), attribute.String("host.name", "h"))
	var kvs []attribute.KeyValue
	for i := range 60 {
		kvs = append(kvs, attribute.Int(fmt.Sprintf("k%02d", i), i))
	}
	m, st := exportOnce(t, res, attribute.NewSet(kvs...))
	require.Len(t, m.Tags, librato.MaxTagsPerStream)
	assert.Equal(t, "api", m.Tags["service.name"])
	assert.Equal(t, "h", m.Tags["host.name"])
	assert.Equal(t, "47", m.Tags["k47"], "48 data point attributes fit")
	assert.NotContains(t, m.Tags, "k48")
	assert.Equal(t, int64(12), st.TagsOverLimit)
	require.Len(t, errs.all(), 1)
	assert.ErrorContains(t, errs.all()[0], "at most 50 tags")
}

// TestTagLimitCountsPerDataPoint: the counter grows with every data point
// of a trimmed stream, and the handler hears once.
func TestTagLimitCountsPerDataPoint(t *testing.T) {
	errs := captureErrors(t)
	_, client := newMock(t)
	exp, err := otelexport.New(client, otelexport.WithResourceAttributes())
	require.NoError(t, err)
	var kvs []attribute.KeyValue
	for i := range 51 {
		kvs = append(kvs, attribute.Int(fmt.Sprintf("k%02d", i), i))
	}
	set := attribute.NewSet(kvs...)
	c := newClock()
	for k := range 3 {
		require.NoError(t, exp.Export(context.Background(), one(metricdata.Metrics{Name: "g", Data: metricdata.Gauge[int64]{
			DataPoints: []metricdata.DataPoint[int64]{{Attributes: set, Time: c.at(k, 0), Value: 1}},
		}})))
	}
	require.NoError(t, exp.Shutdown(context.Background()))
	assert.Equal(t, int64(3), exp.Stats().TagsOverLimit)
	assert.Len(t, errs.all(), 1)
}

// TestMetricNames: prefix, unit suffix and rewriting through Export.
func TestMetricNames(t *testing.T) {
	srv, client := newMock(t)
	exp, err := otelexport.New(client, otelexport.WithPrefix("shop."), otelexport.WithUnitSuffix())
	require.NoError(t, err)
	c := newClock()
	gauge := func(name, unit string) metricdata.Metrics {
		return metricdata.Metrics{Name: name, Unit: unit, Data: metricdata.Gauge[int64]{
			DataPoints: []metricdata.DataPoint[int64]{{Time: c.at(0, 0), Value: 1}}}}
	}
	rm := one(gauge("http.server.duration", "ms"))
	rm.ScopeMetrics[0].Metrics = append(rm.ScopeMetrics[0].Metrics, gauge("queue/size", "{item}"), gauge("net.io", "By/s"))
	require.NoError(t, exp.Export(context.Background(), rm))
	require.NoError(t, exp.Shutdown(context.Background()))
	var names []string
	for _, m := range srv.Recorded() {
		names = append(names, m.Name)
	}
	assert.ElementsMatch(t, []string{"shop.http.server.duration.ms", "shop.queue_size", "shop.net.io.By_per_s"}, names)
	assert.Equal(t, int64(1), exp.Stats().NamesRewritten)
}
