package librato

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// legacyCreateExample is the JSON body of the reference's "Create a
// Metric" example (librato/api-docs, branch legacy,
// source/includes/_metrics.md).
const legacyCreateExample = `{
  "measure_time": 1481637660,
  "source": "my.app",
  "gauges": [
    {"name": "my.metric", "value": 42},
    {"name": "my.other.metric", "value": 43},
    {"name": "cpu", "value": 88.4, "source": "my.machine", "measure_time": 1481637540}
  ]
}`

func TestLegacyCreateReferenceExample(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "POST", "/v1/metrics", 200, "", "")
	err := c.Legacy.Create(context.Background(), &LegacyBatch{
		MeasureTime: 1481637660,
		Source:      "my.app",
		Gauges: []LegacyMeasurement{
			{Name: "my.metric", Value: 42},
			{Name: "my.other.metric", Value: 43},
			{Name: "cpu", Value: 88.4, Source: "my.machine", MeasureTime: 1481637540},
		},
	})
	require.NoError(t, err)
	call := rec.one(t)
	famAssertRequest(t, call, "POST", "/v1/metrics")
	assert.Equal(t, "application/json", call.Header.Get("Content-Type"))
	assert.JSONEq(t, legacyCreateExample, call.Body)
}

// TestLegacyCreateSummaries sends what real agents send: a gauge summary
// with count, sum, min, max and sum_squares and a per-measurement source,
// with the period and attributes librato-node puts on its batches
// (src/librato.coffee and src/aggregator.coffee of goodeggs/librato-node),
// and counters beside them; the hand-written encoder must agree with
// encoding/json's reading of the same fields.
func TestLegacyCreateSummaries(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "POST", "/v1/metrics", 200, "", "")
	batch := &LegacyBatch{
		Period: 60,
		Gauges: []LegacyMeasurement{
			{Name: "app.request.time", Count: 3, Sum: Ptr(0.6), Min: Ptr(0.1), Max: Ptr(0.3), SumSquares: Ptr(0.14), Source: "web-1"},
			{Name: "app.load", Value: -0.5, MeasureTime: 1700000000, Period: 30, DisplayName: "Load", Description: "1-minute load",
				Attributes: &MetricAttributes{DisplayMin: Ptr(0.0), Aggregate: Ptr(false)}},
		},
		Counters: []LegacyMeasurement{{Name: "app.requests", Value: 123456789, Source: "web-1", MeasureTime: 1700000000}},
	}
	require.NoError(t, c.Legacy.Create(context.Background(), batch))
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(rec.one(t).Body), &got))
	assert.Equal(t, map[string]any{
		"period": float64(60),
		"gauges": []any{
			map[string]any{"name": "app.request.time", "count": float64(3), "sum": 0.6, "min": 0.1, "max": 0.3, "sum_squares": 0.14, "source": "web-1"},
			map[string]any{"name": "app.load", "value": -0.5, "measure_time": float64(1700000000), "period": float64(30), "display_name": "Load",
				"description": "1-minute load", "attributes": map[string]any{"display_min": float64(0), "aggregate": false}},
		},
		"counters": []any{map[string]any{"name": "app.requests", "value": float64(123456789), "source": "web-1", "measure_time": float64(1700000000)}},
	}, got)

	raw, err := batch.MarshalJSON()
	require.NoError(t, err)
	assert.True(t, json.Valid(raw))
	m, err := json.Marshal(batch.Gauges[0])
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"app.request.time","count":3,"sum":0.6,"min":0.1,"max":0.3,"sum_squares":0.14,"source":"web-1"}`, string(m), "a summary sends no value")
}

// TestLegacyEncoderMatchesEncodingJSON checks the hand-written encoder
// against encoding/json on awkward strings and floats.
func TestLegacyEncoderMatchesEncodingJSON(t *testing.T) {
	names := []string{"a", `quo"te`, "back\\slash", "tab\tnew\nline", "ünïcode", "\u2028", "bad\xffutf8", "<html>&"}
	floats := []float64{0, -0, 1, -1.5, 1e-7, 1e21, 123456789.123, 5e-324, 1.7976931348623157e308, 1e126}
	for i, n := range names {
		f := floats[i%len(floats)]
		b := &LegacyBatch{Source: n, Gauges: []LegacyMeasurement{{Name: "m", Value: f, Description: n}}}
		raw, err := b.appendJSON(nil)
		require.NoError(t, err)
		var got, want any
		require.NoError(t, json.Unmarshal(raw, &got), string(raw))
		ref, err := json.Marshal(map[string]any{"source": n, "gauges": []any{map[string]any{"name": "m", "value": f, "description": n}}})
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(ref, &want))
		assert.Equal(t, want, got, "%q %g", n, f)
	}
}

func TestLegacyValidationRefuses(t *testing.T) {
	g := func(m LegacyMeasurement) *LegacyBatch { return &LegacyBatch{Gauges: []LegacyMeasurement{m}} }
	ctr := func(m LegacyMeasurement) *LegacyBatch {
		return &LegacyBatch{Gauges: []LegacyMeasurement{{Name: "ok", Value: 1}}, Counters: []LegacyMeasurement{m}}
	}
	for _, tc := range []struct {
		name  string
		batch *LegacyBatch
		field string
	}{
		{"nil batch", nil, "gauges"},
		{"no measurement", &LegacyBatch{Source: "x"}, "gauges"},
		{"empty name", g(LegacyMeasurement{Value: 1}), "gauges[0].name"},
		{"name of 256", g(LegacyMeasurement{Name: strings.Repeat("a", 256), Value: 1}), "gauges[0].name"},
		{"name with a space", g(LegacyMeasurement{Name: "my metric", Value: 1}), "gauges[0].name"},
		{"name with a slash", g(LegacyMeasurement{Name: "a/b", Value: 1}), "gauges[0].name"},
		{"batch source with a space", &LegacyBatch{Source: "my app", Gauges: []LegacyMeasurement{{Name: "m"}}}, "source"},
		{"batch source all", &LegacyBatch{Source: "all", Gauges: []LegacyMeasurement{{Name: "m"}}}, "source"},
		{"source ALL, any case", g(LegacyMeasurement{Name: "m", Source: "ALL"}), "gauges[0].source"},
		{"source of 256", g(LegacyMeasurement{Name: "m", Source: strings.Repeat("s", 256)}), "gauges[0].source"},
		{"source with a star", g(LegacyMeasurement{Name: "m", Source: "web*"}), "gauges[0].source"},
		{"negative batch time", &LegacyBatch{MeasureTime: -1, Gauges: []LegacyMeasurement{{Name: "m"}}}, "measure_time"},
		{"negative batch period", &LegacyBatch{Period: -60, Gauges: []LegacyMeasurement{{Name: "m"}}}, "period"},
		{"negative time", g(LegacyMeasurement{Name: "m", MeasureTime: -1}), "gauges[0].measure_time"},
		{"negative period", g(LegacyMeasurement{Name: "m", Period: -1}), "gauges[0].period"},
		{"NaN value", g(LegacyMeasurement{Name: "m", Value: math.NaN()}), "gauges[0].value"},
		{"infinite value", g(LegacyMeasurement{Name: "m", Value: math.Inf(-1)}), "gauges[0].value"},
		{"value beyond 1e126", g(LegacyMeasurement{Name: "m", Value: 2e126}), "gauges[0].value"},
		{"negative count", g(LegacyMeasurement{Name: "m", Count: -1, Sum: Ptr(1.0)}), "gauges[0].count"},
		{"count without sum", g(LegacyMeasurement{Name: "m", Count: 2}), "gauges[0].sum"},
		{"sum without count", g(LegacyMeasurement{Name: "m", Sum: Ptr(2.0)}), "gauges[0].count"},
		{"min without count", g(LegacyMeasurement{Name: "m", Min: Ptr(0.0)}), "gauges[0].count"},
		{"max without count", g(LegacyMeasurement{Name: "m", Max: Ptr(0.0)}), "gauges[0].count"},
		{"sum_squares without count", g(LegacyMeasurement{Name: "m", SumSquares: Ptr(0.0)}), "gauges[0].count"},
		{"min above the mean", g(LegacyMeasurement{Name: "m", Count: 2, Sum: Ptr(4.0), Min: Ptr(2.5)}), "gauges[0].min"},
		{"max below the mean", g(LegacyMeasurement{Name: "m", Count: 2, Sum: Ptr(4.0), Max: Ptr(1.5)}), "gauges[0].max"},
		{"sum_squares below sum²/count", g(LegacyMeasurement{Name: "m", Count: 2, Sum: Ptr(4.0), SumSquares: Ptr(7.9)}), "gauges[0].sum_squares"},
		{"negative sum_squares", g(LegacyMeasurement{Name: "m", Count: 1, Sum: Ptr(0.0), SumSquares: Ptr(-1.0)}), "gauges[0].sum_squares"},
		{"infinite sum", g(LegacyMeasurement{Name: "m", Count: 1, Sum: Ptr(math.Inf(1))}), "gauges[0].sum"},
		{"NaN min", g(LegacyMeasurement{Name: "m", Count: 1, Sum: Ptr(1.0), Min: Ptr(math.NaN())}), "gauges[0].min"},
		{"huge sum_squares", g(LegacyMeasurement{Name: "m", Count: 1, Sum: Ptr(1.0), SumSquares: Ptr(1e127)}), "gauges[0].sum_squares"},
		{"counter with count", ctr(LegacyMeasurement{Name: "c", Count: 2, Sum: Ptr(2.0)}), "counters[0].count"},
		{"counter with min", ctr(LegacyMeasurement{Name: "c", Value: 3, Min: Ptr(1.0)}), "counters[0].count"},
		{"counter with sum_squares", ctr(LegacyMeasurement{Name: "c", Value: 3, SumSquares: Ptr(9.0)}), "counters[0].count"},
		{"counter without a name", ctr(LegacyMeasurement{Value: 3}), "counters[0].name"},
		{"bad attribute", g(LegacyMeasurement{Name: "m", Attributes: &MetricAttributes{Color: "red"}}), "gauges[0].attributes.color"},
		{"counter in gauges", g(LegacyMeasurement{Name: "m", Value: 1, Counter: true}), "gauges[0].counter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			err := c.Legacy.Create(context.Background(), tc.batch)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field, "%v", err)
			assert.Equal(t, -1, ve.Index)
			assert.Contains(t, err.Error(), "librato: "+tc.field+": ")
			assert.Zero(t, mt.GetTotalCallCount(), "nothing is sent")
		})
	}
}

func TestLegacyValidationAccepts(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    LegacyMeasurement
	}{
		{"zero value", LegacyMeasurement{Name: "m"}},
		{"every name character", LegacyMeasurement{Name: "A-Za-z0-9.:_", Value: 1}},
		{"name and source of 255", LegacyMeasurement{Name: strings.Repeat("n", 255), Source: strings.Repeat("s", 255)}},
		{"source allx is not all", LegacyMeasurement{Name: "m", Source: "allx"}},
		{"count of one", LegacyMeasurement{Name: "m", Count: 1, Sum: Ptr(5.0), Min: Ptr(5.0), Max: Ptr(5.0), SumSquares: Ptr(25.0)}},
		// 0.1+0.2+0.3 and its squares do not add up exactly in float64.
		{"float rounding", LegacyMeasurement{Name: "m", Count: 3, Sum: Ptr(0.1 + 0.1 + 0.1), Min: Ptr(0.1), Max: Ptr(0.1), SumSquares: Ptr(0.01 + 0.01 + 0.01)}},
		{"negative values", LegacyMeasurement{Name: "m", Count: 2, Sum: Ptr(-6.0), Min: Ptr(-4.0), Max: Ptr(-2.0), SumSquares: Ptr(20.0)}},
		{"summary without min and max", LegacyMeasurement{Name: "m", Count: 10, Sum: Ptr(0.0)}},
		{"value ignored in a summary", LegacyMeasurement{Name: "m", Value: math.NaN(), Count: 1, Sum: Ptr(1.0)}},
		{"metric properties", LegacyMeasurement{Name: "m", Period: 60, DisplayName: "M (ms)", Description: "any text", Attributes: &MetricAttributes{Color: "#52D74C"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &LegacyBatch{Source: "my.app", MeasureTime: 1, Gauges: []LegacyMeasurement{tc.m}}
			assert.NoError(t, b.Validate())
		})
	}
	assert.True(t, ValidSourceName("web-1.example.com:8080"))
	assert.False(t, ValidSourceName("All"))
	assert.False(t, ValidSourceName(""))
	assert.False(t, ValidSourceName("a b"))
}

// TestLegacyCounterField: in a LegacyBatch the slice decides (a
// measurement in Counters is a counter whatever its Counter field says),
// and the field is never sent; a LegacyBatcher queues each measurement by
// its Counter field, and refuses a nil context without queueing.
func TestLegacyCounterField(t *testing.T) {
	ctx := context.Background()
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "POST", "/v1/metrics", 200, "", "")
	require.NoError(t, c.Legacy.Create(ctx, &LegacyBatch{MeasureTime: 1700000000,
		Gauges:   []LegacyMeasurement{{Name: "g", Value: 1}},
		Counters: []LegacyMeasurement{{Name: "c1", Value: 5, Counter: true}, {Name: "c2", Value: 6}},
	}))
	assert.JSONEq(t, `{"measure_time":1700000000,"gauges":[{"name":"g","value":1}],
		"counters":[{"name":"c1","value":5},{"name":"c2","value":6}]}`, rec.one(t).Body)

	var lost []LegacyMeasurement
	b, err := c.Legacy.NewBatcher(LegacyBatcherOptions{Concurrency: 1, OnError: func(_ error, ms []LegacyMeasurement) { lost = append(lost, ms...) }})
	require.NoError(t, err)
	var nilCtx context.Context
	assert.Error(t, b.Add(nilCtx, LegacyMeasurement{Name: "g", Value: 9}), "a nil context is refused, not a panic")
	require.NoError(t, b.Add(ctx, LegacyMeasurement{Name: "g", Value: 2, MeasureTime: 1700000060}))
	require.NoError(t, b.Add(ctx, LegacyMeasurement{Name: "c", Value: 7, MeasureTime: 1700000060, Counter: true}))
	var ve *ValidationError
	require.ErrorAs(t, b.Add(ctx, LegacyMeasurement{Name: "c", Count: 2, Sum: Ptr(3.0), Counter: true}), &ve, "a counter takes a value only")
	var de *DeliveryError
	require.ErrorAs(t, b.Close(ctx), &de)
	assert.EqualValues(t, 1, de.Invalid, "the nil context was not counted")
	require.Len(t, lost, 1)
	assert.True(t, lost[0].Counter, "OnError tells a lost counter by its field")
	calls := rec.all()
	require.Len(t, calls, 2)
	assert.JSONEq(t, `{"gauges":[{"name":"g","value":2,"measure_time":1700000060}],
		"counters":[{"name":"c","value":7,"measure_time":1700000060}]}`, calls[1].Body)
	assert.Equal(t, BatcherStats{Added: 2, Sent: 2, Invalid: 1, Batches: 1}, counts(b.Stats()))
}

// TestLegacyCreateIsRetried: POST /v1/metrics is retried like the tagged
// submission, and every attempt carries the same body.
func TestLegacyCreateIsRetried(t *testing.T) {
	c, mt := newMockClient(t)
	var mu sync.Mutex
	var bodies []string
	mt.RegisterResponder("POST", testBase+"/v1/metrics", func(req *http.Request) (*http.Response, error) {
		b, _ := readRequestBody(req)
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, string(b))
		if len(bodies) < 3 {
			return httpmock.NewStringResponse(503, `{"errors":{"system":["maintenance"]}}`), nil
		}
		return httpmock.NewStringResponse(200, ""), nil
	})
	b := &LegacyBatch{MeasureTime: 1700000000, Counters: []LegacyMeasurement{{Name: "reqs", Value: 10, Source: "web-1"}}}
	require.NoError(t, c.Legacy.Create(context.Background(), b))
	require.Len(t, bodies, 3)
	assert.Equal(t, bodies[0], bodies[2])
	assert.JSONEq(t, `{"measure_time":1700000000,"counters":[{"name":"reqs","value":10,"source":"web-1"}]}`, bodies[0])
	assert.True(t, epLegacyCreate.retry)
}

func TestLegacyCreateGuard(t *testing.T) {
	b := &LegacyBatch{Gauges: []LegacyMeasurement{{Name: "m", Value: 1}}}
	// Record Only may record; View Only is refused by a strict guard and,
	// the row being unlisted, passed to the server by a lenient one.
	c, mt := newMockClient(t, WithRole(RoleRecordOnly), WithStrictGuard())
	mt.RegisterResponder("POST", testBase+"/v1/metrics", httpmock.NewStringResponder(200, ""))
	require.NoError(t, c.Legacy.Create(context.Background(), b))

	c, mt = newMockClient(t, WithRole(RoleViewOnly), WithStrictGuard())
	err := c.Legacy.Create(context.Background(), b)
	var fe *ErrForbiddenForRole
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "/v1/metrics", fe.Endpoint)
	assert.Equal(t, "POST", fe.Method)
	assert.Zero(t, mt.GetTotalCallCount())

	c, mt = newMockClient(t, WithRole(RoleViewOnly))
	mt.RegisterResponder("POST", testBase+"/v1/metrics", httpmock.NewStringResponder(403, `{"errors":{"request":["forbidden"]}}`))
	err = c.Legacy.Create(context.Background(), b)
	assert.ErrorIs(t, err, ErrForbidden)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

// legacyReadExample is the reference's answer to
// GET /v1/metrics/cpu_temp?count=4&resolution=60 (librato/api-docs, branch
// legacy, source/includes/_metrics.md, "Retrieve a Metric by Name").
const legacyReadExample = `{
  "resolution": 60,
  "measurements": {
    "server1.acme.com": [
      {"measure_time": 1234567890, "value": 84.5, "count": 1},
      {"measure_time": 1234567950, "value": 86.7, "count": 1},
      {"measure_time": 1234568010, "value": 84.6, "count": 1},
      {"measure_time": 1234568070, "value": 89.7, "count": 1}
    ]
  },
  "name": "cpu_temp",
  "display_name": "cpu_temp",
  "description": "Current CPU temperature in Fahrenheit",
  "period": 60,
  "type": "gauge",
  "attributes": {
    "created_by_ua": "librato-metrics/0.7.4 (ruby; 1.9.3p194; x86_64-linux) direct-faraday/0.8.4",
    "display_max": null,
    "display_min": 0,
    "display_stacked": true,
    "display_units_long": "Fahrenheit",
    "display_units_short": "°F"
  }
}`

func TestLegacyListReferenceExample(t *testing.T) {
	c, mt := newMockClient(t)
	got := capture(mt, 200, legacyReadExample)
	m, err := c.Legacy.List(context.Background(), "cpu_temp", &LegacyQuery{Count: 4, Resolution: time.Minute})
	require.NoError(t, err)
	r := (*got)[0]
	assert.Equal(t, "GET", r.method)
	assert.Equal(t, "/prefix/v1/metrics/cpu_temp", r.path)
	q, _ := url.ParseQuery(r.query)
	assert.Equal(t, url.Values{"count": {"4"}, "resolution": {"60"}}, q)

	assert.Equal(t, "cpu_temp", m.Name)
	assert.Equal(t, MetricTypeGauge, m.Type)
	assert.Equal(t, 60, *m.Period)
	assert.Equal(t, "°F", m.Attributes.DisplayUnitsShort)
	assert.Equal(t, 0.0, *m.Attributes.DisplayMin)
	assert.Equal(t, 60, m.Resolution)
	assert.Equal(t, map[string][]LegacyPoint{"server1.acme.com": {
		{MeasureTime: 1234567890, Value: 84.5, Count: 1},
		{MeasureTime: 1234567950, Value: 86.7, Count: 1},
		{MeasureTime: 1234568010, Value: 84.6, Count: 1},
		{MeasureTime: 1234568070, Value: 89.7, Count: 1},
	}}, m.Measurements)
	assert.Zero(t, m.NextTime())
}

// TestLegacyQueryEncoding checks the query string, including the
// reference's sources example
// (sources%5B%5D=server1.acme.com&sources%5B%5D=server2.acme.com&count=4&resolution=60).
func TestLegacyQueryEncoding(t *testing.T) {
	c, mt := newMockClient(t)
	got := capture(mt, 200, `{"name":"cpu_temp","measurements":{}}`)
	ctx := context.Background()
	_, err := c.Legacy.List(ctx, "cpu_temp", &LegacyQuery{Sources: []string{"server1.acme.com", "server2.acme.com"}, Count: 4, Resolution: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, "count=4&resolution=60&sources%5B%5D=server1.acme.com&sources%5B%5D=server2.acme.com", (*got)[0].query)

	for _, tc := range []struct {
		q    LegacyQuery
		want url.Values
	}{
		{LegacyQuery{Source: "server*", Count: 4, Resolution: time.Minute}, url.Values{"source": {"server*"}, "count": {"4"}, "resolution": {"60"}}},
		{LegacyQuery{StartTime: time.Unix(1305560000, 900), EndTime: time.Unix(1305562061, 0)}, url.Values{"start_time": {"1305560000"}, "end_time": {"1305562061"}}},
		{LegacyQuery{Count: 10, EndTime: time.Unix(1305562061, 0)}, url.Values{"count": {"10"}, "end_time": {"1305562061"}}},
		{LegacyQuery{StartTime: time.Unix(100, 0), SummarizeTime: true, SummarizeSources: true, BreakoutSources: Ptr(false)},
			url.Values{"start_time": {"100"}, "summarize_time": {"true"}, "summarize_sources": {"true"}, "breakout_sources": {"false"}}},
		{LegacyQuery{StartTime: time.Unix(100, 0), Sources: []string{"a", "b"}, GroupBy: LegacyGroupByMax},
			url.Values{"start_time": {"100"}, "sources[]": {"a", "b"}, "group_by": {"max"}, "summarize_sources": {"true"}}},
		{LegacyQuery{StartTime: time.Unix(100, 0), Sources: []string{"a"}, GroupBy: LegacyGroupBySum, BreakoutSources: Ptr(true)},
			url.Values{"start_time": {"100"}, "sources[]": {"a"}, "group_by": {"sum"}, "summarize_sources": {"true"}, "breakout_sources": {"true"}}},
	} {
		got := capture(mt, 200, `{"name":"m"}`)
		_, err := c.Legacy.List(ctx, "m", &tc.q)
		require.NoError(t, err)
		q, _ := url.ParseQuery((*got)[0].query)
		assert.Equal(t, tc.want, q)
	}
}

func TestLegacyQueryValidation(t *testing.T) {
	start, end := time.Unix(1700000000, 0), time.Unix(1700003600, 0)
	for _, tc := range []struct {
		name  string
		q     *LegacyQuery
		field string
	}{
		{"nil", nil, "start_time"},
		{"no interval", &LegacyQuery{Resolution: time.Minute}, "start_time"},
		{"end time alone", &LegacyQuery{EndTime: end}, "start_time"},
		{"negative count", &LegacyQuery{StartTime: start, Count: -1}, "count"},
		{"count with both times", &LegacyQuery{StartTime: start, EndTime: end, Count: 5}, "count"},
		{"end before start", &LegacyQuery{StartTime: end, EndTime: start}, "end_time"},
		{"sub-second resolution", &LegacyQuery{StartTime: start, Resolution: 1500 * time.Millisecond}, "resolution"},
		{"negative resolution", &LegacyQuery{StartTime: start, Resolution: -time.Minute}, "resolution"},
		{"source and sources", &LegacyQuery{StartTime: start, Source: "a", Sources: []string{"b"}}, "source"},
		{"bad group_by", &LegacyQuery{StartTime: start, Sources: []string{"a"}, GroupBy: "average"}, "group_by"},
		{"group_by without sources", &LegacyQuery{StartTime: start, GroupBy: "max"}, "group_by"},
		{"group_by with a source pattern", &LegacyQuery{StartTime: start, Source: "web*", GroupBy: "max"}, "group_by"},
		{"breakout false alone", &LegacyQuery{StartTime: start, BreakoutSources: Ptr(false)}, "breakout_sources"},
		{"source with a space", &LegacyQuery{StartTime: start, Source: "web 1"}, "source"},
		{"source too long", &LegacyQuery{StartTime: start, Source: strings.Repeat("s", 256)}, "source"},
		{"empty source in list", &LegacyQuery{StartTime: start, Sources: []string{"a", ""}}, "sources[1]"},
		{"pattern in list", &LegacyQuery{StartTime: start, Sources: []string{"web*"}}, "sources[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			_, err := c.Legacy.List(context.Background(), "m", tc.q)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field, "%v", err)
			assert.Zero(t, mt.GetTotalCallCount())
			for _, err := range c.Legacy.All(context.Background(), "m", tc.q) {
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, tc.field, ve.Field)
			}
			assert.Zero(t, mt.GetTotalCallCount())
		})
	}
	for _, q := range []*LegacyQuery{
		{StartTime: start},
		{Count: 1},
		{Count: 3, StartTime: start},
		{Count: 3, EndTime: end},
		{StartTime: start, EndTime: start},
		{StartTime: start, Source: "server*"},
		{StartTime: start, Sources: []string{"a", "b"}, GroupBy: "count", BreakoutSources: Ptr(false)},
		{StartTime: start, SummarizeSources: true, BreakoutSources: Ptr(false)},
	} {
		assert.NoError(t, q.validate(), "%+v", q)
	}
}

// TestLegacyListSummaries decodes the fields the reference names for
// summarised records (min, max, sum, sum_squares; summarized in "all";
// rollups with summarize_time) and the paging hint it shows,
// "query":{"next_time":1305562061}.
func TestLegacyListSummaries(t *testing.T) {
	c, mt := newMockClient(t)
	capture(mt, 200, `{"name":"lat","type":"gauge","resolution":300,
		"measurements":{
			"web-1":[{"measure_time":1305561000,"value":2,"count":3,"min":1,"max":3,"sum":6,"sum_squares":14,"rollups":5}],
			"all":[{"measure_time":1305561000,"value":2,"count":6,"min":0,"max":3,"sum":12,"sum_squares":28,"summarized":2}]},
		"query":{"next_time":1305562061}}`)
	m, err := c.Legacy.List(context.Background(), "lat", &LegacyQuery{StartTime: time.Unix(1305560000, 0), Sources: []string{"web-1", "web-2"}, GroupBy: "mean", SummarizeTime: true})
	require.NoError(t, err)
	assert.Equal(t, []LegacyPoint{{MeasureTime: 1305561000, Value: 2, Count: 3, Min: Ptr(1.0), Max: Ptr(3.0), Sum: Ptr(6.0), SumSquares: Ptr(14.0), Rollups: 5}}, m.Measurements["web-1"])
	assert.Equal(t, []LegacyPoint{{MeasureTime: 1305561000, Value: 2, Count: 6, Min: Ptr(0.0), Max: Ptr(3.0), Sum: Ptr(12.0), SumSquares: Ptr(28.0), Summarized: 2}}, m.Measurements[SummarySource])
	assert.EqualValues(t, 1305562061, m.NextTime())
	assert.Equal(t, 300, m.Resolution)

	raw, err := json.Marshal(m.Measurements["web-1"][0])
	require.NoError(t, err)
	assert.JSONEq(t, `{"measure_time":1305561000,"value":2,"count":3,"min":1,"max":3,"sum":6,"sum_squares":14,"rollups":5}`, string(raw))
}

// legacyPager answers GET /v1/metrics/m with a page per start_time from
// pages, and records the start_times asked for.
func legacyPager(t *testing.T, mt *httpmock.MockTransport, pages map[string]string) *[]string {
	var mu sync.Mutex
	var asked []string
	mt.RegisterResponder("GET", testBase+"/v1/metrics/m", func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		st := req.URL.Query().Get("start_time")
		asked = append(asked, st)
		body, ok := pages[st]
		if !ok {
			t.Errorf("unexpected start_time %q", st)
			return httpmock.NewStringResponse(500, ""), nil
		}
		return httpmock.NewStringResponse(200, body), nil
	})
	return &asked
}

func collectLegacy(t *testing.T, seq func(func(LegacySeries, error) bool)) ([]LegacySeries, error) {
	t.Helper()
	var out []LegacySeries
	var last error
	seq(func(s LegacySeries, err error) bool {
		if err != nil {
			last = err
			return true
		}
		out = append(out, s)
		return true
	})
	return out, last
}

func TestLegacyAllFollowsNextTime(t *testing.T) {
	c, mt := newMockClient(t)
	asked := legacyPager(t, mt, map[string]string{
		"100": `{"name":"m","measurements":{"b":[{"measure_time":100,"value":1}],"a":[{"measure_time":100,"value":2}]},"query":{"next_time":160}}`,
		"160": `{"name":"m","measurements":{"a":[{"measure_time":160,"value":3}]},"query":{"next_time":220}}`,
		"220": `{"name":"m","measurements":{"a":[{"measure_time":220,"value":4}]}}`,
	})
	q := &LegacyQuery{StartTime: time.Unix(100, 0), Resolution: time.Minute, Source: "*"}
	series, err := collectLegacy(t, c.Legacy.All(context.Background(), "m", q))
	require.NoError(t, err)
	assert.Equal(t, []string{"100", "160", "220"}, *asked)
	assert.Equal(t, []LegacySeries{
		{Source: "a", Points: []LegacyPoint{{MeasureTime: 100, Value: 2}}},
		{Source: "b", Points: []LegacyPoint{{MeasureTime: 100, Value: 1}}},
		{Source: "a", Points: []LegacyPoint{{MeasureTime: 160, Value: 3}}},
		{Source: "a", Points: []LegacyPoint{{MeasureTime: 220, Value: 4}}},
	}, series)
	assert.Equal(t, time.Unix(100, 0), q.StartTime, "the caller's query is not changed")

	// Stopping early sends no more requests.
	*asked = nil
	for range c.Legacy.All(context.Background(), "m", q) {
		break
	}
	assert.Equal(t, []string{"100"}, *asked)
}

func TestLegacyAllStopsWhenNextTimeStalls(t *testing.T) {
	for name, next := range map[string]string{"same": "100", "backwards": "40"} {
		t.Run(name, func(t *testing.T) {
			c, mt := newMockClient(t)
			asked := legacyPager(t, mt, map[string]string{
				"100": `{"name":"m","measurements":{"a":[{"measure_time":100,"value":1}]},"query":{"next_time":` + next + `}}`,
			})
			series, err := collectLegacy(t, c.Legacy.All(context.Background(), "m", &LegacyQuery{StartTime: time.Unix(100, 0)}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "next_time "+next+" does not move past start_time 100")
			assert.ErrorIs(t, err, ErrPaginationStalled)
			assert.Len(t, series, 1, "the page before the stall is yielded")
			assert.Equal(t, []string{"100"}, *asked)
		})
	}
}

func TestLegacyAllEnds(t *testing.T) {
	c, mt := newMockClient(t)
	// With count the server never pages; a next_time is not followed.
	asked := legacyPager(t, mt, map[string]string{
		"": `{"name":"m","measurements":{"a":[{"measure_time":100,"value":1}]},"query":{"next_time":160}}`,
	})
	series, err := collectLegacy(t, c.Legacy.All(context.Background(), "m", &LegacyQuery{Count: 1}))
	require.NoError(t, err)
	assert.Len(t, series, 1)
	assert.Equal(t, []string{""}, *asked)

	// A next_time at or past end_time leaves nothing to ask for.
	c, mt = newMockClient(t)
	asked = legacyPager(t, mt, map[string]string{
		"100": `{"name":"m","measurements":{"a":[{"measure_time":100,"value":1}]},"query":{"next_time":200}}`,
	})
	_, err = collectLegacy(t, c.Legacy.All(context.Background(), "m", &LegacyQuery{StartTime: time.Unix(100, 0), EndTime: time.Unix(200, 0)}))
	require.NoError(t, err)
	assert.Equal(t, []string{"100"}, *asked)

	// An error ends the sequence after being yielded once.
	c, mt = newMockClient(t)
	mt.RegisterResponder("GET", testBase+"/v1/metrics/m", httpmock.NewStringResponder(404, `{"errors":{"params":{"name":["not found"]}}}`))
	n := 0
	for _, err := range c.Legacy.All(context.Background(), "m", &LegacyQuery{Count: 1}) {
		n++
		assert.True(t, errors.Is(err, ErrNotFound))
	}
	assert.Equal(t, 1, n)
}

// BenchmarkEncodeLegacy compares the legacy encoder with encoding/json on
// a 300-measurement batch, the per-request cap the reference advises.
func BenchmarkEncodeLegacy(b *testing.B) {
	batch := &LegacyBatch{Source: "my.app", MeasureTime: 1700000000}
	for i := 0; i < 300; i++ {
		m := LegacyMeasurement{Name: "app.metric." + strconv.Itoa(i%20), Source: "web-" + strconv.Itoa(i%15), Value: float64(i) * 1.25}
		if i%3 == 0 {
			m = LegacyMeasurement{Name: m.Name, Source: m.Source, Count: 10, Sum: Ptr(12.5), Min: Ptr(0.25), Max: Ptr(3.5), SumSquares: Ptr(30.0)}
		}
		batch.Gauges = append(batch.Gauges, m)
	}
	b.Run("sdk", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 64<<10)
		for i := 0; i < b.N; i++ {
			var err error
			if buf, err = batch.appendJSON(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		type plain LegacyMeasurement // the struct tags, without the MarshalJSON method
		gauges := make([]plain, len(batch.Gauges))
		for i, m := range batch.Gauges {
			gauges[i] = plain(m)
		}
		body := struct {
			Source      string  `json:"source"`
			MeasureTime int64   `json:"measure_time"`
			Gauges      []plain `json:"gauges"`
		}{batch.Source, batch.MeasureTime, gauges}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := json.Marshal(&body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestLegacyBatchUnmarshalForms loads the payload forms the legacy
// reference documents (branch legacy, source/includes/_metrics.md and
// _introduction.md): hashed by name, hashed with names inside, and a form
// body as JSON with its string values; each loads as the array form says.
func TestLegacyBatchUnmarshalForms(t *testing.T) {
	cases := []struct {
		name, in string
		want     LegacyBatch
	}{
		{"array", `{"gauges":[{"name":"login-delay","value":3.5,"source":"foo1.bar.com"},{"name":"login-delay","value":2.6,"source":"foo2.bar.com"}]}`,
			LegacyBatch{Gauges: []LegacyMeasurement{{Name: "login-delay", Value: 3.5, Source: "foo1.bar.com"}, {Name: "login-delay", Value: 2.6, Source: "foo2.bar.com"}}}},
		{"hashed by name", `{"gauges":{"login-delay":{"value":3.5,"source":"foo.bar.com"}}}`,
			LegacyBatch{Gauges: []LegacyMeasurement{{Name: "login-delay", Value: 3.5, Source: "foo.bar.com"}}}},
		{"hashed, names inside", `{"gauges":{"0":{"name":"login-delay","value":3.5,"source":"foo1.bar.com"},"1":{"name":"login-delay","value":2.6,"source":"foo2.bar.com"}}}`,
			LegacyBatch{Gauges: []LegacyMeasurement{{Name: "login-delay", Value: 3.5, Source: "foo1.bar.com"}, {Name: "login-delay", Value: 2.6, Source: "foo2.bar.com"}}}},
		{"the name inside wins", `{"counters":{"wrong-key":{"name":"jobs","value":7}}}`,
			LegacyBatch{Counters: []LegacyMeasurement{{Name: "jobs", Value: 7}}}},
		{"numeric keys by number, before names", `{"gauges":{"b":{"value":4},"10":{"name":"x","value":3},"2":{"name":"x","value":2},"a":{"value":5},"01":{"name":"x","value":1}}}`,
			LegacyBatch{Gauges: []LegacyMeasurement{{Name: "x", Value: 1}, {Name: "x", Value: 2}, {Name: "x", Value: 3}, {Name: "a", Value: 5}, {Name: "b", Value: 4}}}},
		{"form values are strings", `{"measure_time":"1481637660","source":"my.app","gauges":{"0":{"name":"my.metric","value":"42"},"1":{"name":"cpu","value":"88.4","source":"my.machine","measure_time":"1481637540"}}}`,
			LegacyBatch{MeasureTime: 1481637660, Source: "my.app", Gauges: []LegacyMeasurement{{Name: "my.metric", Value: 42}, {Name: "cpu", Value: 88.4, Source: "my.machine", MeasureTime: 1481637540}}}},
		{"summary", `{"gauges":{"lat":{"count":"3","sum":"12","min":2,"max":6,"sum_squares":56}},"period":60}`,
			LegacyBatch{Period: 60, Gauges: []LegacyMeasurement{{Name: "lat", Count: 3, Sum: Ptr(12.0), Min: Ptr(2.0), Max: Ptr(6.0), SumSquares: Ptr(56.0)}}}},
		{"null groups", `{"gauges":null,"counters":[{"name":"c","value":1}]}`,
			LegacyBatch{Counters: []LegacyMeasurement{{Name: "c", Value: 1}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := LegacyBatch{Source: "left over", Gauges: []LegacyMeasurement{{Name: "old"}}}
			require.NoError(t, json.Unmarshal([]byte(tc.in), &got))
			assert.Equal(t, tc.want, got)
			require.NoError(t, got.Validate())
		})
	}
}

// TestLegacyBatchUnmarshalReplays sends a hashed payload loaded from JSON:
// what goes out is the array form with the same measurements.
func TestLegacyBatchUnmarshalReplays(t *testing.T) {
	var b LegacyBatch
	require.NoError(t, json.Unmarshal([]byte(`{"gauges":{"login-delay":{"value":3.5,"source":"foo.bar.com"}}}`), &b))
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "POST", "/v1/metrics", 200, "", "")
	require.NoError(t, c.Legacy.Create(context.Background(), &b))
	assert.JSONEq(t, `{"gauges":[{"name":"login-delay","value":3.5,"source":"foo.bar.com"}]}`, rec.one(t).Body)
}

func TestLegacyBatchUnmarshalRefuses(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"gauges":"cpu"}`, "gauges must be a list or an object"},
		{`{"gauges":{"cpu":[1]}}`, `gauges["cpu"]`},
		{`{"gauges":[{"name":"cpu","value":"hot"}]}`, "gauges[0]"},
		{`{"measure_time":"soon","gauges":[]}`, "legacy batch"},
		{`[1]`, "legacy batch"},
	} {
		var b LegacyBatch
		err := json.Unmarshal([]byte(tc.in), &b)
		require.Error(t, err, tc.in)
		assert.Contains(t, err.Error(), tc.want, tc.in)
	}
}
