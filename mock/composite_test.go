package mock_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cfix is a server with an SDK client and a raw client, for composite
// queries over data laid out as in composite.md §8: values at t = 0, 60,
// 120, ... (here base + t), resolution 60.
type cfix struct {
	t   *testing.T
	srv *mock.Server
	c   *librato.Client
	w   *wire
}

func newCfix(t *testing.T) *cfix {
	t.Helper()
	srv := newServer(t)
	return &cfix{t: t, srv: srv, c: sdk(t, srv, librato.RoleFullAccess), w: newWire(t, srv, librato.RoleFullAccess)}
}

// metric creates gauge name with period seconds (0: none).
func (f *cfix) metric(name string, period int) {
	f.t.Helper()
	m := &librato.MetricUpdate{Type: librato.Ptr(librato.MetricTypeGauge)}
	if period > 0 {
		m.Period = librato.Ptr(period)
	}
	err := f.c.Metrics.Update(context.Background(), name, m)
	require.NoError(f.t, err)
}

// stream submits vals at base, base+60, ...; a NaN leaves that slot empty.
func (f *cfix) stream(name string, tags map[string]string, vals ...float64) {
	f.t.Helper()
	f.streamAt(name, tags, base, vals...)
}

func (f *cfix) streamAt(name string, tags map[string]string, start int64, vals ...float64) {
	f.t.Helper()
	var ms []librato.Measurement
	for i, v := range vals {
		if !math.IsNaN(v) {
			ms = append(ms, librato.Measurement{Name: name, Value: v, Time: start + 60*int64(i), Tags: tags})
		}
	}
	_, err := f.c.Measurements.Create(context.Background(), &librato.MeasurementBatch{Measurements: ms})
	require.NoError(f.t, err)
}

// compose runs expr through the SDK over [base, base+3600] at resolution 60.
func (f *cfix) compose(expr string) []librato.CompositeSeries {
	f.t.Helper()
	return f.composeIn(expr, base, base+3600)
}

func (f *cfix) composeIn(expr string, start, end int64) []librato.CompositeSeries {
	f.t.Helper()
	out, err := f.c.Measurements.Compose(context.Background(), &librato.CompositeQuery{
		Compose: expr, StartTime: at(start), EndTime: at(end), Resolution: time.Minute,
	})
	require.NoError(f.t, err, expr)
	return out
}

// composeError runs expr over the raw wire and returns the one message of
// the 400's errors.params.compose.
func (f *cfix) composeError(expr string) string {
	f.t.Helper()
	q := url.Values{"compose": {expr}, "start_time": {strconv.FormatInt(base, 10)}, "end_time": {strconv.FormatInt(base+3600, 10)}, "resolution": {"60"}}
	r := f.w.do("GET", "/v1/measurements?"+q.Encode(), nil)
	r.requireStatus(f.t, 400)
	params, _, _ := r.errs(f.t)
	require.Len(f.t, params["compose"], 1, "body: %s", r.Body)
	require.Len(f.t, params, 1, "body: %s", r.Body)
	return params["compose"][0]
}

// tv builds points from (seconds after base, value) pairs.
func tv(pairs ...float64) []librato.Point {
	out := make([]librato.Point, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, librato.Point{Time: base + int64(pairs[i]), Value: pairs[i+1]})
	}
	return out
}

// only returns the points of the single series of out.
func only(t *testing.T, out []librato.CompositeSeries) []librato.Point {
	t.Helper()
	require.Len(t, out, 1)
	return out[0].Measurements
}

var nan = math.NaN()

// abc seeds metric m with streams host=a, b and c.
func (f *cfix) abc(m string, a, b, c []float64) {
	f.t.Helper()
	f.stream(m, map[string]string{"host": "a", "env": "prod"}, a...)
	f.stream(m, map[string]string{"host": "b", "env": "prod"}, b...)
	f.stream(m, map[string]string{"host": "c", "env": "prod"}, c...)
}

// TestComposeExample1Aggregates: composite.md §8.1.
func TestComposeExample1Aggregates(t *testing.T) {
	f := newCfix(t)
	f.abc("agg", []float64{1, 2, 3}, []float64{4, 5, 6}, []float64{7, 8, 9})
	f.abc("agg.gap", []float64{1, 2, 3}, []float64{4, 5, 6}, []float64{7, nan, 9})

	assert.Equal(t, tv(0, 12, 60, 15, 120, 18), only(t, f.compose(`sum(s("agg", "*"))`)))
	assert.Equal(t, tv(0, 4, 60, 5, 120, 6), only(t, f.compose(`mean(s("agg", "*"))`)))
	assert.Equal(t, tv(0, 1, 60, 2, 120, 3), only(t, f.compose(`min(s("agg", "*"))`)))
	assert.Equal(t, tv(0, 7, 60, 8, 120, 9), only(t, f.compose(`max(s("agg", "*"))`)))
	// C missing at t=60: the aggregates use the inputs that have a point.
	assert.Equal(t, tv(0, 12, 60, 7, 120, 18), only(t, f.compose(`sum(s("agg.gap", "*"))`)))
	assert.Equal(t, tv(0, 4, 60, 3.5, 120, 6), only(t, f.compose(`mean(s("agg.gap", "*"))`)))

	// The output keeps the tags all inputs share and the first input's metric.
	out := f.compose(`sum(s("agg", {}))`)
	require.Len(t, out, 1)
	assert.Equal(t, map[string]string{"env": "prod"}, out[0].Tags)
	require.NotNil(t, out[0].Metric)
	assert.Equal(t, "agg", out[0].Metric.Name)
	assert.Equal(t, 60, out[0].Period)
	// A set literal of calls, nested sets flattened.
	assert.Equal(t, tv(0, 12, 60, 15, 120, 18), only(t, f.compose(`sum([s("agg", {"host":"a"}), [s("agg", {"host":"b"}), [s("agg", {"host":"c"})]]])`)))
}

// TestComposeExample2DeriveNoReset: composite.md §8.2.
func TestComposeExample2DeriveNoReset(t *testing.T) {
	f := newCfix(t)
	f.stream("ctr", nil, 100, 200, 350, 400)
	want := tv(60, 100, 120, 150, 180, 50)
	assert.Equal(t, want, only(t, f.compose(`derive(s("ctr", "*"))`)))
	assert.Equal(t, want, only(t, f.compose(`derive(s("ctr", "*"), {detect_reset: "true"})`)))
	assert.Equal(t, want, only(t, f.compose(`derive(s("ctr", "*"), {"detect_reset": "false"})`)))
}

// TestComposeExample3DeriveReset: composite.md §8.3, and the mock's
// default detect_reset (false).
func TestComposeExample3DeriveReset(t *testing.T) {
	f := newCfix(t)
	f.stream("ctr", nil, 10, 20, 5, 15)
	assert.Equal(t, tv(60, 10, 120, 5, 180, 10), only(t, f.compose(`derive(s("ctr", "*"), {detect_reset: "true"})`)))
	assert.Equal(t, tv(60, 10, 120, -15, 180, 10), only(t, f.compose(`derive(s("ctr", "*"), {detect_reset: "false"})`)))
	assert.Equal(t, tv(60, 10, 120, -15, 180, 10), only(t, f.compose(`derive(s("ctr", "*"))`)), "detect_reset defaults to false")
	// A bare value is accepted as well as a quoted one.
	assert.Equal(t, tv(60, 10, 120, 5, 180, 10), only(t, f.compose(`derive(s("ctr", "*"), {detect_reset: true})`)))
}

// TestComposeExample4Rate: composite.md §8.4.
func TestComposeExample4Rate(t *testing.T) {
	f := newCfix(t)
	f.metric("reqs", 60)
	f.stream("reqs", nil, 120, 60)
	assert.Equal(t, tv(0, 2, 60, 1), only(t, f.compose(`rate(s("reqs", "*"))`)), "duration defaults to 1")
	assert.Equal(t, tv(0, 2, 60, 1), only(t, f.compose(`rate(s("reqs", "*"), {duration: "1"})`)))
	assert.Equal(t, tv(0, 120, 60, 60), only(t, f.compose(`rate(s("reqs", "*"), {duration: "60"})`)))

	// series() period 300 read at resolution 60: p = max(300, 60).
	f.metric("big", 60)
	f.stream("big", nil, 600) // base is a multiple of 300
	out := f.compose(`rate(s("big", "*", {period: "300"}), {duration: "60"})`)
	assert.Equal(t, tv(0, 120), only(t, out))
	assert.Equal(t, 300, out[0].Period)

	// A metric without a period uses the resolution.
	f.stream("noperiod", nil, 120, 60)
	assert.Equal(t, tv(0, 2, 60, 1), only(t, f.compose(`rate(s("noperiod", "*"))`)))
}

// TestComposeExample5Integrate: composite.md §8.5.
func TestComposeExample5Integrate(t *testing.T) {
	f := newCfix(t)
	f.stream("x", nil, 1, 2, 3, 4)
	assert.Equal(t, tv(0, 1, 60, 3, 120, 6, 180, 10), only(t, f.compose(`integrate(s("x", "*"))`)))
}

// TestComposeExample6Window: composite.md §8.6.
func TestComposeExample6Window(t *testing.T) {
	f := newCfix(t)
	f.stream("x", nil, 1, 2, 3, 4, 5)
	assert.Equal(t, tv(120, 2, 180, 3, 240, 4), only(t, f.compose(`window(s("x", "*"), {size: "3"})`)))
	assert.Equal(t, tv(120, 6, 180, 9, 240, 12), only(t, f.compose(`window(s("x", "*"), {size: "3", function: "sum"})`)))
	assert.Equal(t, tv(120, 3, 180, 4, 240, 5), only(t, f.compose(`window(s("x", "*"), {size: "3", function: "max"})`)))
	assert.Equal(t, tv(120, 1, 180, 2, 240, 3), only(t, f.compose(`window(s("x", "*"), {size: "3", function: "min"})`)))
	assert.Equal(t, tv(120, 2, 180, 3, 240, 4), only(t, f.compose(`window(s("x", "*"), {size: "3", function: "median"})`)))
	assert.Equal(t, tv(60, 1.5, 120, 2.5, 180, 3.5, 240, 4.5), only(t, f.compose(`moving_average(s("x", "*"), {size: "2"})`)))
	// size 64 is the limit; a window larger than the series leaves nothing.
	assert.Empty(t, f.compose(`window(s("x", "*"), {size: "64"})`))
}

// TestComposeExample7Scale: composite.md §8.7.
func TestComposeExample7Scale(t *testing.T) {
	f := newCfix(t)
	f.stream("bytes", nil, 2048, 512)
	f.stream("ten", nil, 10)
	assert.Equal(t, tv(0, 2, 60, 0.5), only(t, f.compose(`scale(s("bytes", "*"), {factor: "1/1024"})`)))
	assert.Equal(t, tv(0, 1), only(t, f.compose(`scale(s("ten", "*"), {factor: "0.1"})`)))
	assert.Equal(t, tv(0, 10240), only(t, f.compose(`scale(s("ten", "*"), {factor: "1024"})`)))
}

// TestComposeExample8Fill: composite.md §8.8, window t = 0…180, period 60.
func TestComposeExample8Fill(t *testing.T) {
	f := newCfix(t)
	f.metric("gappy", 60)
	f.stream("gappy", nil, 5, nan, 7)
	assert.Equal(t, tv(0, 5, 60, 0, 120, 7, 180, 0), only(t, f.composeIn(`zero_fill(s("gappy", "*"))`, base, base+180)))
	assert.Equal(t, tv(0, 5, 60, 5, 120, 7, 180, 7), only(t, f.composeIn(`fill(s("gappy", "*"), {value: "last"})`, base, base+180)))
	assert.Equal(t, tv(0, 5, 60, 5, 120, 7, 180, 7), only(t, f.composeIn(`last_fill(s("gappy", "*"))`, base, base+180)))
	assert.Equal(t, tv(0, 5, 60, -1.5, 120, 7, 180, -1.5), only(t, f.composeIn(`fill(s("gappy", "*"), {value: "-1.5"})`, base, base+180)))

	// "last" does not reach back before the first point in the window.
	f.metric("late", 60)
	f.stream("late", nil, nan, 3)
	assert.Equal(t, tv(60, 3, 120, 3, 180, 3), only(t, f.composeIn(`last_fill(s("late", "*"))`, base, base+180)))

	// A metric without a period needs a series() period.
	f.stream("noperiod", nil, 5, nan, 7)
	msg := f.composeError(`zero_fill(s("noperiod", "*"))`)
	assert.Contains(t, msg, "zero_fill()")
	assert.Contains(t, msg, "period")
	assert.Contains(t, msg, "line 1, column 1")
	assert.Equal(t, tv(0, 5, 60, 0, 120, 7, 180, 0), only(t, f.composeIn(`zero_fill(s("noperiod", "*", {period: "60"}))`, base, base+180)))
}

// TestComposeExample9Filter: composite.md §8.9.
func TestComposeExample9Filter(t *testing.T) {
	f := newCfix(t)
	f.abc("m", []float64{1, 2}, []float64{4, 1}, []float64{3, 3})
	hosts := func(out []librato.CompositeSeries) []string {
		var h []string
		for _, s := range out {
			h = append(h, s.Tags["host"])
		}
		return h
	}
	assert.Equal(t, []string{"b"}, hosts(f.compose(`filter(s("m", "*"), {gt: "3", function: "max"})`)))
	assert.Equal(t, []string{"b", "c"}, hosts(f.compose(`filter(s("m", "*"), {gte: "3", function: "max"})`)))
	assert.Equal(t, []string{"a"}, hosts(f.compose(`filter(s("m", "*"), {lt: "2", function: "mean"})`)))
	assert.Equal(t, []string{"a"}, hosts(f.compose(`filter(s("m", "*"), {lt: "2"})`)), "function defaults to mean")
	// Several bounds are ANDed: means 1.5, 2.5, 3.
	assert.Equal(t, []string{"b"}, hosts(f.compose(`filter(s("m", "*"), {gt: "2", lt: "3"})`)))
	assert.Equal(t, []string{"b", "c"}, hosts(f.compose(`filter(s("m", "*"), {gte: "2.5", lte: "3"})`)))
	assert.Equal(t, []string{"b", "c"}, hosts(f.compose(`filter(s("m", "*"), {gt: "4", function: "sum"})`)), "sums 3, 5, 6")
	assert.Equal(t, []string{"a", "b"}, hosts(f.compose(`filter(s("m", "*"), {lte: "1", function: "min"})`)), "mins 1, 1, 3")
}

// TestComposeExample10Top: composite.md §8.10.
func TestComposeExample10Top(t *testing.T) {
	f := newCfix(t)
	f.abc("m", []float64{1, 2}, []float64{4, 1}, []float64{3, 3})
	out := f.compose(`top(s("m", "*"), {"count": "2", "function": "mean"})`)
	require.Len(t, out, 2)
	assert.Equal(t, "c", out[0].Tags["host"])
	assert.Equal(t, "b", out[1].Tags["host"])
	out = f.compose(`top(s("m", "*"), {count: "1", function: "max"})`)
	require.Len(t, out, 1)
	assert.Equal(t, "b", out[0].Tags["host"])
	// count defaults to 10 (mock choice): all three, highest mean first.
	out = f.compose(`top(s("m", "*"))`)
	require.Len(t, out, 3)
	assert.Equal(t, []string{"c", "b", "a"}, []string{out[0].Tags["host"], out[1].Tags["host"], out[2].Tags["host"]})
}

// TestComposeExample11TwoInputs: composite.md §8.11.
func TestComposeExample11TwoInputs(t *testing.T) {
	f := newCfix(t)
	f.stream("p", nil, 10, 20)
	f.stream("q", nil, 2, 5)
	assert.Equal(t, tv(0, 5, 60, 4), only(t, f.compose(`divide([s("p", "*"), s("q", "*")])`)))
	assert.Equal(t, tv(0, 8, 60, 15), only(t, f.compose(`subtract([s("p", "*"), s("q", "*")])`)))
	assert.Equal(t, tv(0, 20, 60, 100), only(t, f.compose(`multiply([s("p", "*"), s("q", "*")])`)))

	// Only where both have a point; a zero divisor drops the point.
	f.stream("r", nil, 1, nan, 3)
	f.stream("z", nil, 0, 4, 2)
	assert.Equal(t, tv(120, 1.5), only(t, f.compose(`divide([s("r", "*"), s("z", "*")])`)))
	assert.Equal(t, tv(0, 1, 120, 1), only(t, f.compose(`subtract([s("r", "*"), s("z", "*")])`)))
	assert.Equal(t, tv(0, 0, 120, 6), only(t, f.compose(`multiply([s("r", "*"), s("z", "*")])`)))
	// A side with no data: no point has both, no series.
	assert.Empty(t, f.compose(`divide([s("p", "*"), s("nothing", "*")])`))
}

// TestComposeExample12GroupBy: composite.md §8.12.
func TestComposeExample12GroupBy(t *testing.T) {
	f := newCfix(t)
	f.stream("m", map[string]string{"region": "us-east-1", "host": "a"}, 1, 2)
	f.stream("m", map[string]string{"region": "us-east-1", "host": "b"}, 3, 4)
	f.stream("m", map[string]string{"region": "us-west-1", "host": "c"}, 5, 6)
	f.stream("m", map[string]string{"region": "eu-west-1", "host": "d"}, 50, 60)
	f.stream("m", map[string]string{"host": "e"}, 500, 600)
	out := f.compose(`group_by("region", sum(series("m", {"region":"us*"})))`)
	require.Len(t, out, 2)
	assert.Equal(t, map[string]string{"region": "us-east-1"}, out[0].Tags)
	assert.Equal(t, tv(0, 4, 60, 6), out[0].Measurements)
	assert.Equal(t, map[string]string{"region": "us-west-1", "host": "c"}, out[1].Tags)
	assert.Equal(t, tv(0, 5, 60, 6), out[1].Measurements)

	// {group: "false"}: the series loads all its streams in every group,
	// here each region's share of the whole; host e has no region and
	// belongs to no group.
	out = f.compose(`group_by("region", divide([sum(s("m", "*")), sum(s("m", "*", {group: "false"}))]))`)
	require.Len(t, out, 3)
	total0, total1 := 1.+3+5+50+500, 2.+4+6+60+600
	assert.Equal(t, "eu-west-1", out[0].Tags["region"])
	assert.Equal(t, tv(0, 50/total0, 60, 60/total1), out[0].Measurements)
	assert.Equal(t, "us-east-1", out[1].Tags["region"])
	assert.Equal(t, tv(0, 4/total0, 60, 6/total1), out[1].Measurements)
	assert.Equal(t, "us-west-1", out[2].Tags["region"])

	// Two tags; streams lacking one are in no group.
	out = f.compose(`group_by("region,host", s("m", "*"))`)
	assert.Len(t, out, 4)
}

// TestComposeExample13Timeshift: composite.md §8.13.
func TestComposeExample13Timeshift(t *testing.T) {
	f := newCfix(t)
	const day = 86400
	f.streamAt("x", nil, base-day, 7, 8)
	f.stream("x", nil, 1, 2)
	out := f.composeIn(`timeshift("0,1d", s("x", "*"))`, base, base+600)
	require.Len(t, out, 2)
	assert.Equal(t, tv(0, 1, 60, 2), out[0].Measurements, "shift 0 is X over [T, end]")
	assert.Equal(t, tv(0, 7, 60, 8), out[1].Measurements, "shift 1d is X over [T-1d, end-1d], shown at +1d")
	// "-1d" is the same as "1d"; "+1d" looks forward; units s, m, h, w.
	assert.Equal(t, out[1].Measurements, only(t, f.composeIn(`timeshift("-1d", s("x", "*"))`, base, base+600)))
	assert.Equal(t, out[1].Measurements, only(t, f.composeIn(`timeshift("24h", s("x", "*"))`, base, base+600)))
	assert.Equal(t, out[1].Measurements, only(t, f.composeIn(`timeshift("1440m", s("x", "*"))`, base, base+600)))
	assert.Equal(t, out[1].Measurements, only(t, f.composeIn(`timeshift("86400s", s("x", "*"))`, base, base+600)))
	assert.Equal(t, tv(-day, 1, -day+60, 2), only(t, f.composeIn(`timeshift("+1d", s("x", "*"))`, base-day, base-day+600)), "+1d reads a day later, shown a day earlier")
	assert.Empty(t, f.composeIn(`timeshift("1w", s("x", "*"))`, base, base+600))
	// The blog's own examples parse and run.
	assert.Len(t, f.composeIn(`timeshift("0,1,2,3w", mean(s("x", "%")))`, base, base+600), 1)
	assert.Len(t, f.composeIn(`timeshift("0,1,2,3w", window(max(s("x", "*")), {size: "1"}))`, base, base+600), 1)
}

// referenceExample is the documented composite request and response
// (testdata/composite_reference_derive.json).
type referenceExample struct {
	Source             string          `json:"source"`
	Compose            string          `json:"compose"`
	CurlComposeEscaped string          `json:"curl_compose_escaped"`
	StartTime          int64           `json:"start_time"`
	Resolution         int             `json:"resolution"`
	Response           json.RawMessage `json:"response"`
}

// TestComposeReferenceExample replays the API reference's composite query
// (derive with detect_reset "true") against data whose deltas are the
// documented values, and compares the whole answer with the documented
// response.
func TestComposeReferenceExample(t *testing.T) {
	data, err := os.ReadFile("testdata/composite_reference_derive.json")
	require.NoError(t, err)
	var ex referenceExample
	require.NoError(t, json.Unmarshal(data, &ex))
	f := newCfix(t)
	const name = "librato.disk.disk_ops.read"
	f.w.do("PUT", "/v1/metrics/"+name, map[string]any{
		"type": "gauge", "period": 60,
		"attributes": map[string]any{"display_units_long": "Operations", "display_min": 0, "created_by_ua": "Librato Agent Integration", "display_units_short": "ops"},
	}).requireStatus(t, 201)
	tags := map[string]any{"disk": "disk0", "host": "ip-192-168-15-18.ec2.internal"}
	var ms []map[string]any
	for i, v := range []float64{1000, 1430, 2168, 2279} { // deltas 430, 738, 111
		ms = append(ms, map[string]any{"name": name, "value": v, "time": 1484686980 + 60*i, "tags": tags})
	}
	// Another disk of another host, which the host filter leaves out.
	ms = append(ms, map[string]any{"name": name, "value": 5, "time": 1484687040, "tags": map[string]any{"disk": "disk0", "host": "other"}})
	f.w.do("POST", "/v1/measurements", map[string]any{"measurements": ms}).requireStatus(t, 202)

	q := url.Values{"compose": {ex.Compose}, "start_time": {strconv.FormatInt(ex.StartTime, 10)}, "resolution": {strconv.Itoa(ex.Resolution)}}
	r := f.w.do("GET", "/v1/measurements?"+q.Encode(), nil).requireStatus(t, 200)
	assert.JSONEq(t, string(ex.Response), string(r.Body), ex.Source)

	// Through the SDK, the same query decodes into CompositeSeries.
	out, err := f.c.Measurements.Compose(context.Background(), &librato.CompositeQuery{Compose: ex.Compose, StartTime: at(ex.StartTime), Resolution: time.Minute})
	require.NoError(t, err)
	require.Len(t, out, 1)
	assert.Equal(t, []librato.Point{{Time: 1484687040, Value: 430}, {Time: 1484687100, Value: 738}, {Time: 1484687160, Value: 111}}, out[0].Measurements)

	// The reference's curl URL lacks the '}' closing the tag set: a syntax
	// error that names the spot.
	r = f.w.do("GET", "/v1/measurements?compose="+ex.CurlComposeEscaped+"&start_time=1484678910&resolution=60", nil)
	r.requireStatus(t, 400)
	params, _, _ := r.errs(t)
	require.Len(t, params["compose"], 1)
	assert.Contains(t, params["compose"][0], "syntax error at line 1, column 79")
}

// TestComposeSeries covers series() selectors and options.
func TestComposeSeries(t *testing.T) {
	f := newCfix(t)
	f.metric("cpu.user", 60)
	f.stream("cpu.user", map[string]string{"host": "web1", "region": "us-east"}, 1, 2)
	f.stream("cpu.user", map[string]string{"host": "web2", "region": "us-west"}, 3, 4)
	f.stream("cpu.user", map[string]string{"host": "db1", "source": "prod.db1"}, 5, 6)
	f.stream("cpu.system", map[string]string{"host": "web1"}, 7, 8)

	count := func(expr string) int { return len(f.compose(expr)) }
	assert.Equal(t, 3, count(`s("cpu.user", "*")`))
	assert.Equal(t, 3, count(`series("cpu.user", {})`))
	assert.Equal(t, 3, count(`s("cpu.user", "%")`), `"%" (dynamic) reads every stream`)
	assert.Equal(t, 4, count(`s("cpu.*", "*")`), "metric wildcards")
	assert.Equal(t, 2, count(`s("cpu.user", {"host": "web*"})`))
	assert.Equal(t, 1, count(`s("cpu.user", {host: "web*", region: "us-east"})`), "bare keys; tags ANDed")
	assert.Equal(t, 1, count(`s("cpu.user", {"@host": "db1"})`), `a leading "@" on a tag name is ignored`)
	assert.Equal(t, 1, count(`s("CPU.USER", {"HOST": "WEB1"})`), "names and values ignore case")
	assert.Equal(t, 2, count(`s("cpu.user", {"region": "*"})`), "'*' needs the tag")
	assert.Equal(t, 1, count(`s("cpu.user", {"region": "!us-east"})`), "'!' negates, as in tags[...]")
	assert.Equal(t, 1, count(`s("cpu.user", "prod.*")`), "a legacy source pattern matches the tag source")
	assert.Equal(t, 0, count(`s("nothing", "*")`))

	// An expression matching nothing answers 200 with an empty array.
	q := url.Values{"compose": {`sum(s("nothing", "*"))`}, "start_time": {strconv.FormatInt(base, 10)}, "resolution": {"60"}}
	r := f.w.do("GET", "/v1/measurements?"+q.Encode(), nil).requireStatus(t, 200)
	assert.JSONEq(t, `[]`, string(r.Body))

	// Output shape of series(): full tags, metric, period.
	out := f.compose(`s("cpu.user", {"host": "web1"})`)
	require.Len(t, out, 1)
	assert.Equal(t, map[string]string{"host": "web1", "region": "us-east"}, out[0].Tags)
	assert.Equal(t, "cpu.user", out[0].Metric.Name)
	assert.Equal(t, "gauge", out[0].Metric.Type)
	require.NotNil(t, out[0].Metric.Period)
	assert.Equal(t, 60, *out[0].Metric.Period)

	// function and period options.
	f.stream("samples", nil, 2, 10, 5, 1) // t = 0, 60, 120, 180
	assert.Equal(t, tv(0, 2, 60, 10, 120, 5, 180, 1), only(t, f.compose(`s("samples", "*")`)), "mean of one sample")
	assert.Equal(t, tv(0, 6, 120, 3), only(t, f.compose(`s("samples", "*", {period: "120"})`)), "mean per 120 s")
	assert.Equal(t, tv(0, 12, 120, 6), only(t, f.compose(`s("samples", "*", {period: "120", function: "sum"})`)))
	assert.Equal(t, tv(0, 2, 120, 1), only(t, f.compose(`s("samples", "*", {period: "120", function: "min"})`)))
	assert.Equal(t, tv(0, 10, 120, 5), only(t, f.compose(`s("samples", "*", {period: "120", function: "max"})`)))
	assert.Equal(t, tv(0, 2, 120, 2), only(t, f.compose(`s("samples", "*", {period: "120", function: "count"})`)))
	assert.Equal(t, tv(0, 6, 120, 3), only(t, f.compose(`s("samples", "*", {period: 120})`)), "a bare number")
	out = f.compose(`s("samples", "*", {period: "30"})`)
	assert.Equal(t, 60, out[0].Period, "a period shorter than the resolution reads at the resolution")

	// Whitespace and newlines between tokens, as in the reference.
	assert.Equal(t, tv(60, 8, 120, -5, 180, -4), only(t, f.compose("derive(\n  s( \"samples\" ,\t\"*\" ) ,\r\n  { detect_reset : \"false\" }\n)\n")))
	// A top-level set literal.
	assert.Len(t, f.compose(`[s("cpu.system", "*"), s("samples", "*")]`), 2)
	assert.Empty(t, f.compose(`[]`))
}

// TestComposeTransforms covers abs, multiply of many, fill's slots and map.
func TestComposeTransforms(t *testing.T) {
	f := newCfix(t)
	f.stream("neg", nil, -2, 3, -4.5)
	assert.Equal(t, tv(0, 2, 60, 3, 120, 4.5), only(t, f.compose(`abs(s("neg", "*"))`)))
	assert.Equal(t, tv(0, 2, 60, 3, 120, 4.5), only(t, f.compose(`absolute_value(s("neg", "*"))`)))
	f.abc("m", []float64{1, 2}, []float64{3, 4}, []float64{5, nan})
	assert.Equal(t, tv(0, 15), only(t, f.compose(`multiply(s("m", "*"))`)), "only where every input has a point")

	// map over metrics: "&" is each matching metric name, in name order.
	f.stream("disk.a.read", nil, 1, 2)
	f.stream("disk.a.write", nil, 10, 20)
	f.stream("disk.b.read", nil, 100, 200)
	out := f.compose(`map({metric: "disk.*.read"}, scale(s("&", "*"), {factor: "2"}))`)
	require.Len(t, out, 2)
	assert.Equal(t, "disk.a.read", out[0].Metric.Name)
	assert.Equal(t, tv(0, 2, 60, 4), out[0].Measurements)
	assert.Equal(t, "disk.b.read", out[1].Metric.Name)
	assert.Equal(t, tv(0, 200, 60, 400), out[1].Measurements)
	// map over sources (the tag source): "&" in the source argument.
	f.stream("src", map[string]string{"source": "web1"}, 1, 2)
	f.stream("src", map[string]string{"source": "web2"}, 3, 4)
	f.stream("src", map[string]string{"source": "db1"}, 5, 6)
	out = f.compose(`map({source: "web*"}, derive(s("src", "&")))`)
	require.Len(t, out, 2)
	assert.Equal(t, "web1", out[0].Tags["source"])
	assert.Equal(t, "web2", out[1].Tags["source"])
	out = f.compose(`map({"source": "*1"}, s("src", {"source": "&"}))`)
	require.Len(t, out, 2)
	assert.Equal(t, "db1", out[0].Tags["source"])
}

// TestComposePersisted evaluates a persisted composite through GET
// /v1/measurements/:name, with tags_search, group_by and the errors of
// its definition under "composite".
func TestComposePersisted(t *testing.T) {
	f := newCfix(t)
	ctx := context.Background()
	f.stream("req", map[string]string{"region": "us-east", "host": "a"}, 1, 2, 3)
	f.stream("req", map[string]string{"region": "us-west", "host": "b"}, 10, 20, 30)
	err := f.c.Metrics.Update(ctx, "req.rate", &librato.MetricUpdate{Type: librato.Ptr("composite"), Composite: librato.Ptr(`derive(s("req", "*"))`)})
	require.NoError(t, err)
	q := &librato.MeasurementsQuery{StartTime: at(base), EndTime: at(base + 3600), Resolution: time.Minute}
	page, err := f.c.Measurements.List(ctx, "req.rate", q)
	require.NoError(t, err)
	require.Len(t, page.Series, 2)
	assert.Equal(t, "us-east", page.Series[0].Tags["region"])
	assert.Equal(t, tv(60, 1, 120, 1), page.Series[0].Measurements)
	assert.Equal(t, tv(60, 10, 120, 10), page.Series[1].Measurements)

	qs := *q
	qs.TagsSearch = "region=us-west"
	page, err = f.c.Measurements.List(ctx, "req.rate", &qs)
	require.NoError(t, err)
	require.Len(t, page.Series, 1)
	assert.Equal(t, "b", page.Series[0].Tags["host"])

	qg := *q
	qg.GroupBy, qg.GroupByFunction = []string{"*"}, "sum"
	page, err = f.c.Measurements.List(ctx, "req.rate", &qg)
	require.NoError(t, err)
	require.Len(t, page.Series, 1)
	assert.Equal(t, tv(60, 11, 120, 11), page.Series[0].Measurements)

	// summary_function picks the statistic of series() calls that name none.
	f.streamAt("req", map[string]string{"region": "us-east", "host": "a"}, base+1, 9) // a second sample in the bucket of base: mean 5, sum 10
	err = f.c.Metrics.Update(ctx, "req.east", &librato.MetricUpdate{Type: librato.Ptr("composite"), Composite: librato.Ptr(`s("req", {"host": "a"})`)})
	require.NoError(t, err)
	page, err = f.c.Measurements.List(ctx, "req.east", q)
	require.NoError(t, err)
	require.Len(t, page.Series, 1)
	assert.Equal(t, tv(0, 5, 60, 2, 120, 3), page.Series[0].Measurements)
	qf := *q
	qf.SummaryFunction = "sum"
	page, err = f.c.Measurements.List(ctx, "req.east", &qf)
	require.NoError(t, err)
	require.Len(t, page.Series, 1)
	assert.Equal(t, tv(0, 10, 60, 2, 120, 3), page.Series[0].Measurements)
	r := f.w.do("GET", "/v1/measurements/req.east?start_time="+strconv.FormatInt(base, 10)+"&resolution=60&summary_function=derivative", nil)
	r.requireParam(t, "summary_function")

	// The tags filter is refused for a composite.
	qt := *q
	qt.Tags = map[string][]string{"host": {"*"}}
	_, err = f.c.Measurements.List(ctx, "req.rate", &qt)
	require.ErrorIs(t, err, librato.ErrBadRequest)

	// A composite may not use another composite.
	err = f.c.Metrics.Update(ctx, "req.nested", &librato.MetricUpdate{Type: librato.Ptr("composite"), Composite: librato.Ptr(`sum(s("req.rate", "*"))`)})
	require.NoError(t, err)
	r = f.w.do("GET", "/v1/measurements/req.nested?start_time="+strconv.FormatInt(base, 10)+"&resolution=60", nil)
	r.requireStatus(t, 400)
	params, _, _ := r.errs(t)
	require.Len(t, params["composite"], 1, "body: %s", r.Body)
	assert.Contains(t, params["composite"][0], `"req.rate" is a composite metric`)
	assert.Contains(t, f.composeError(`s("req.rate", "*")`), "composite")

	// A definition the mock cannot parse fails on read, under composite.
	err = f.c.Metrics.Update(ctx, "req.bad", &librato.MetricUpdate{Type: librato.Ptr("composite"), Composite: librato.Ptr(`percentile(s("req", "*"))`)})
	require.NoError(t, err)
	r = f.w.do("GET", "/v1/measurements/req.bad?start_time="+strconv.FormatInt(base, 10)+"&resolution=60", nil)
	r.requireStatus(t, 400)
	params, _, _ = r.errs(t)
	require.Len(t, params["composite"], 1, "body: %s", r.Body)
	assert.Contains(t, params["composite"][0], `unknown function "percentile"`)
}

// TestComposeErrors: every kind of error answers 400 on compose with a
// message that says what is wrong and where.
func TestComposeErrors(t *testing.T) {
	f := newCfix(t)
	f.stream("x", nil, 1, 2, 3)
	f.stream("y", nil, 1, 2, 3)
	f.stream("x2", map[string]string{"h": "1"}, 1)
	f.stream("x2", map[string]string{"h": "2"}, 1)
	for _, c := range []struct{ expr, want string }{
		// syntax
		{`s ("x", "*")`, `syntax error at line 1, column 2: no space is allowed between the function name "s" and '('`},
		{`s("x", "*"`, "syntax error at line 1, column 2: the argument list of s() opened here is never closed"},
		{`s("x", "*"))`, `syntax error at line 1, column 12: unexpected ')' after the end`},
		{`s("x, "*")`, "syntax error at line 1, column 8"},
		{`s('x', "*")`, "strings are written in double quotes"},
		{`s("x", {"a": "b",})`, "expected an option name"},
		{`s("x", {"a" "b"})`, `expected ':' after the key "a"`},
		{`sum([s("x", "*") s("y", "*")])`, "expected ',' or ']' in the set"},
		{"sum(\n  s(\"x\", \"*\"),\n  )", "syntax error at line 3, column 3"},
		{`"x"`, "found a string"},
		{`x`, `found the bare word "x"`},
		{`s("x", {"a": "b", "a": "c"})`, `the key "a" is given twice`},
		{`s("x", "*") + s("y", "*")`, "unexpected '+' after the end"},
		// unknown functions, including the undocumented ones
		{`count(s("x", "*"))`, `unknown function "count" at line 1, column 1`},
		{`first(s("x", "*"))`, `unknown function "first"`},
		{`last(s("x", "*"))`, `unknown function "last"`},
		{`bottom(s("x", "*"))`, `unknown function "bottom"`},
		{`sort(s("x", "*"))`, `unknown function "sort"`},
		{`sum(percentile(s("x", "*")))`, `unknown function "percentile" at line 1, column 5`},
		{`SUM(s("x", "*"))`, `unknown function "SUM"`},
		// arguments
		{`s("x")`, "s() takes a metric name, a tag set"},
		{`s(x(), "*")`, "takes the metric name as its first argument"},
		{`s("x", 5)`, "syntax error"},
		{`s("x", "*", "sum")`, "takes an options map as its third argument"},
		{`sum(s("x", "*"), s("y", "*"))`, "sum() takes one set of series; put several in one set"},
		{`sum("x")`, `must be a set of series (a function call or [...]), not the string "x"`},
		{`divide([s("x", "*")])`, "divide() takes a set of exactly two series, got a set of 1"},
		{`subtract([s("x", "*"), s("y", "*"), s("x", "*")])`, "subtract() takes a set of exactly two series, got a set of 3"},
		{`divide([s("x2", "*"), s("y", "*")])`, "divide() at line 1, column 1 takes exactly two series, got 3"},
		// options
		{`derive(s("x", "*"), {detect_reset: "yes"})`, `option detect_reset of derive() must be one of true, false, got "yes"`},
		{`derive(s("x", "*"), {reset: "true"})`, `derive() has no option "reset"; its options are detect_reset`},
		{`integrate(s("x", "*"), {size: "2"})`, `integrate() takes no options, got "size"`},
		{`scale(s("x", "*"))`, "scale() needs the option factor"},
		{`scale(s("x", "*"), {factor: "x"})`, `option factor of scale() must be a number such as "0.1" or a fraction such as "1/1024", got "x"`},
		{`scale(s("x", "*"), {factor: "1/0"})`, "denominator other than 0"},
		{`window(s("x", "*"), {size: "65"})`, `option size of window() must be a whole number from 1 to 64, got "65"`},
		{`window(s("x", "*"), {size: "3", function: "percentile"})`, "must be one of mean, sum, min, max, median"},
		{`moving_average(s("x", "*"), {size: "0"})`, "from 1 to 64"},
		{`fill(s("x", "*"))`, "fill() needs the option value"},
		{`fill(s("x", "*"), {value: "next"})`, `must be a number or "last"`},
		{`fill(s("x", "*"), {value: "0"})`, "fill() at line 1, column 1 needs a period"},
		{`filter(s("x", "*"))`, "filter() needs at least one of the options gt, gte, lt, lte"},
		{`filter(s("x", "*"), {gt: "big"})`, "option gt of filter() must be a number"},
		{`filter(s("x", "*"), {gt: "1", function: "median"})`, "must be one of mean, min, max, sum"},
		{`top(s("x", "*"), {count: "0"})`, "option count of top() must be a whole number"},
		{`rate(s("x", "*"), {duration: "0"})`, "duration of rate() must be a positive number"},
		{`s("x", "*", {function: "average"})`, "must be one of min, max, mean, sum, count"},
		{`s("x", "*", {period: "0"})`, "option period of s() must be a whole number from 1"},
		{`s("x", "*", {group: "no"})`, "option group of s() must be one of true, false"},
		// timeshift, map, group_by
		{`timeshift("1y", s("x", "*"))`, `timeshift() shifts "1y" must be whole numbers separated by commas and one unit letter`},
		{`timeshift("1d,2w", s("x", "*"))`, "one unit letter"},
		{`timeshift(s("x", "*"), "1d")`, "timeshift() takes the shifts as a string"},
		{`timeshift("99999999999999d", s("x", "*"))`, "is too large"},
		{`map({metric: "x*", source: "*"}, s("&", "*"))`, "map() takes metric or source, not both"},
		{`map({}, s("&", "*"))`, "map() needs {metric"},
		{`map({name: "x"}, s("&", "*"))`, `map() has no option "name"`},
		{`s("&", "*")`, `"&" stands for each metric only inside map`},
		{`s("x", {"h": "&"})`, `"&" stands for each source only inside map`},
		{`group_by("", s("x", "*"))`, "group_by() tag names"},
		{`group_by(s("x", "*"))`, "group_by() takes tag names"},
	} {
		msg := f.composeError(c.expr)
		assert.Contains(t, msg, c.want, "expression %s", c.expr)
	}

	// Missing or invalid query parameters.
	r := f.w.do("GET", "/v1/measurements?start_time=1&resolution=60", nil)
	r.requireParam(t, "compose")
	r = f.w.do("GET", "/v1/measurements?compose="+url.QueryEscape(`s("x", "*")`)+"&resolution=60", nil)
	r.requireParam(t, "start_time")
	r = f.w.do("GET", "/v1/measurements?compose="+url.QueryEscape(`s("x", "*")`)+"&start_time=1", nil)
	r.requireParam(t, "resolution")

	// The SDK surfaces the 400 as an APIError naming compose.
	_, err := f.c.Measurements.Compose(context.Background(), &librato.CompositeQuery{Compose: `bottom(s("x", "*"))`, StartTime: at(base), Resolution: time.Minute})
	var apiErr *librato.APIError
	require.True(t, errors.As(err, &apiErr), "%v", err)
	assert.Equal(t, 400, apiErr.StatusCode)
	assert.Contains(t, apiErr.Params, "compose")
}

// TestComposeLimits: hostile expressions are refused quickly, with a
// message naming the limit.
func TestComposeLimits(t *testing.T) {
	f := newCfix(t)
	f.stream("x", nil, 1, 2)
	deep := strings.Repeat("sum(", 40) + `s("x", "*")` + strings.Repeat(")", 40)
	assert.Contains(t, f.composeError(deep), "nested more than 32 levels deep")
	sets := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	assert.Contains(t, f.composeError(sets), "nested more than 32 levels deep")
	// 31 levels are fine.
	ok := strings.Repeat("sum(", 30) + `s("x", "*")` + strings.Repeat(")", 30)
	assert.Equal(t, tv(0, 1, 60, 2), only(t, f.compose(ok)))
	// Too long.
	long := "sum([" + strings.Repeat(`s("x", "*"),`, 2000) + `s("x", "*")])`
	assert.Contains(t, f.composeError(long), "the mock accepts at most 16384")
	// Work: nested timeshifts multiply; the budget stops them.
	shifts := `"` + strings.TrimSuffix(strings.Repeat("0,", 60), ",") + `s"`
	nested := `timeshift(` + shifts + `, timeshift(` + shifts + `, timeshift(` + shifts + `, s("x", "*"))))`
	assert.Contains(t, f.composeError(nested), "too much work for the mock")
	// fill over a long window at a short period.
	q := url.Values{"compose": {`zero_fill(s("x", "*", {period: "1"}))`}, "start_time": {"1"}, "end_time": {strconv.FormatInt(base, 10)}, "resolution": {"1"}}
	r := f.w.do("GET", "/v1/measurements?"+q.Encode(), nil)
	r.requireParam(t, "compose")
	params, _, _ := r.errs(t)
	assert.Contains(t, params["compose"][0], "the mock fills at most 100000")
}

// --- properties ----------------------------------------------------------------

// genSeries draws a series of 1..25 whole values in -1000..1000 at
// random slots of 0..39 minutes after base (NaN marks an empty slot).
func genSeries(r *rand.Rand) []float64 {
	n := 1 + r.IntN(40)
	vals := make([]float64, n)
	have := 0
	for i := range vals {
		if r.IntN(4) == 0 {
			vals[i] = nan
			continue
		}
		vals[i] = float64(r.IntN(2001) - 1000)
		have++
	}
	if have == 0 {
		vals[0] = 7
	}
	return vals
}

func pointsOf(vals []float64) []librato.Point {
	var out []librato.Point
	for i, v := range vals {
		if !math.IsNaN(v) {
			out = append(out, librato.Point{Time: base + 60*int64(i), Value: v})
		}
	}
	return out
}

// TestComposeProperties checks identities of the language on random
// series (seeded, so failures reproduce).
func TestComposeProperties(t *testing.T) {
	f := newCfix(t)
	r := rand.New(rand.NewPCG(12, 3))
	for i := range 12 {
		name := "prop" + strconv.Itoa(i)
		vals := genSeries(r)
		f.stream(name, nil, vals...)
		x := pointsOf(vals)
		X := `s("` + name + `", "*")`
		for _, id := range []string{
			`sum(` + X + `)`, `mean(` + X + `)`, `min(` + X + `)`, `max(` + X + `)`, `multiply(` + X + `)`,
			`scale(` + X + `, {factor: "1"})`, `scale(` + X + `, {factor: "1/1"})`,
			`window(` + X + `, {size: "1"})`, `moving_average(` + X + `, {size: "1"})`,
			`timeshift("0d", ` + X + `)`, `filter(` + X + `, {gte: "-1000"})`, `top(` + X + `, {count: "1"})`,
			`[` + X + `]`, `[[` + X + `], []]`, `timeshift("0,1w", ` + X + `)`,
		} {
			assert.Equal(t, x, only(t, f.compose(id)), "%s over %v", id, vals)
		}
		// derive(integrate(X)) is X without its first point; integrate(derive(X))
		// is X minus its first value, from the second point on.
		assert.Equal(t, emptyNil(x[1:]), pointsOrNil(f.compose(`derive(integrate(`+X+`))`)), "derive∘integrate over %v", vals)
		var minusFirst []librato.Point
		for _, p := range x[1:] {
			minusFirst = append(minusFirst, librato.Point{Time: p.Time, Value: p.Value - x[0].Value})
		}
		assert.Equal(t, minusFirst, pointsOrNil(f.compose(`integrate(derive(`+X+`))`)), "integrate∘derive over %v", vals)
		// abs is idempotent and never negative; subtracting a series from
		// itself gives zeros; scale by 2 then 1/2 is identity.
		assert.Equal(t, only(t, f.compose(`abs(`+X+`)`)), only(t, f.compose(`abs(abs(`+X+`))`)))
		for _, p := range only(t, f.compose(`subtract([`+X+`, `+X+`])`)) {
			assert.Zero(t, p.Value)
		}
		assert.Equal(t, x, only(t, f.compose(`scale(scale(`+X+`, {factor: "2"}), {factor: "1/2"})`)))
		// A filter that nothing passes leaves nothing.
		assert.Empty(t, f.compose(`filter(`+X+`, {gt: "1000"})`))
		// zero_fill at the series' period puts a point on every slot of
		// the window, keeping the real ones.
		filled := only(t, f.composeIn(`zero_fill(s("`+name+`", "*", {period: "60"}))`, base, base+60*int64(len(vals)-1)))
		assert.Len(t, filled, len(vals))
		for j, p := range filled {
			assert.Equal(t, base+60*int64(j), p.Time)
			if v := vals[j]; !math.IsNaN(v) {
				assert.Equal(t, v, p.Value)
			} else {
				assert.Zero(t, p.Value)
			}
		}
	}
	// top with count >= n keeps every series, highest mean first; sum of
	// all equals the per-time sums.
	out := f.compose(`top(s("prop*", "*"), {count: "12"})`)
	require.Len(t, out, 12)
	means := make([]float64, len(out))
	for i, s := range out {
		for _, p := range s.Measurements {
			means[i] += p.Value
		}
		means[i] /= float64(len(s.Measurements))
	}
	for i := 1; i < len(means); i++ {
		assert.GreaterOrEqual(t, means[i-1], means[i])
	}
	assert.Len(t, f.compose(`top(s("prop*", "*"), {count: "100"})`), 12)
	assert.Len(t, f.compose(`filter(s("prop*", "*"), {gte: "-1000", lte: "1000"})`), 12)
}

// pointsOrNil is the points of the one series of out, nil for none.
func pointsOrNil(out []librato.CompositeSeries) []librato.Point {
	if len(out) == 0 {
		return nil
	}
	if len(out) != 1 {
		return []librato.Point{{Time: -1}} // never equal to an expectation
	}
	return out[0].Measurements
}

func emptyNil(p []librato.Point) []librato.Point {
	if len(p) == 0 {
		return nil
	}
	return p
}
