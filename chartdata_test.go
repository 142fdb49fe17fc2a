package librato_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// chartFixture submits three minutes of app.cpu for hosts a, b (region us,
// eu) and c (us) to a fresh mock and returns a View Only client and the
// window that covers them at one-minute resolution.
func chartFixture(t *testing.T) (*librato.Client, *librato.ChartWindow) {
	t.Helper()
	srv := mock.NewServer()
	t.Cleanup(srv.Close)
	admin, err := srv.Client(librato.RoleFullAccess)
	require.NoError(t, err)
	t0 := time.Now().Truncate(time.Minute).Add(-3 * time.Minute)
	hosts := []struct {
		host, region string
		values       [3]float64
	}{{"a", "us", [3]float64{10, 20, 30}}, {"b", "eu", [3]float64{30, 40, 50}}, {"c", "us", [3]float64{50, 60, 70}}}
	batch := &librato.MeasurementBatch{}
	for _, h := range hosts {
		for i, v := range h.values {
			batch.Measurements = append(batch.Measurements, librato.Measurement{
				Name: "app.cpu", Value: v, Time: t0.Add(time.Duration(i) * time.Minute).Unix(),
				Tags: map[string]string{"host": h.host, "region": h.region},
			})
		}
	}
	_, err = admin.Measurements.Create(context.Background(), batch)
	require.NoError(t, err)
	viewer, err := srv.Client(librato.RoleViewOnly)
	require.NoError(t, err)
	return viewer, &librato.ChartWindow{End: t0.Add(3 * time.Minute), Duration: 4 * time.Minute, Resolution: time.Minute}
}

func values(pts []librato.Point) []float64 {
	out := make([]float64, len(pts))
	for i, p := range pts {
		out[i] = p.Value
	}
	return out
}

func TestChartSeriesDrawsEachStreamTheWayTheChartDoes(t *testing.T) {
	c, w := chartFixture(t)
	chart := &librato.Chart{Name: "CPU", Streams: []librato.ChartStream{
		{Metric: "app.cpu", UnitsShort: "%"}, // average of every stream: one line
		{Metric: "app.cpu", GroupFunction: "sum", Tags: []librato.StreamTag{{Name: "region", Values: []string{"*"}, Grouped: true}}},
		{Metric: "app.cpu", GroupFunction: "breakout"}, // host has 3 values, region 2: one line per host
		{Metric: "app.cpu", Name: "a doubled", Tags: []librato.StreamTag{{Name: "host", Values: []string{"a"}}}, TransformFunction: "x*2 + p/60"},
		{Metric: "app.missing"},
		{Composite: `s("app.cpu", {"host":"b"})`, UnitsLong: "percent"},
	}}
	got, err := c.Charts.Series(context.Background(), chart, w)
	require.NoError(t, err)

	type line struct {
		stream int
		label  string
		tags   map[string]string
		units  string
		values []float64
	}
	var lines []line
	for _, s := range got {
		lines = append(lines, line{s.StreamIndex, s.Label, s.Tags, s.Units, values(s.Points)})
		assert.Equal(t, chart.Streams[s.StreamIndex], s.Stream)
	}
	assert.Equal(t, []line{
		{0, "app.cpu", nil, "%", []float64{30, 40, 50}},
		{1, "app.cpu region=eu", map[string]string{"region": "eu"}, "", []float64{30, 40, 50}},
		{1, "app.cpu region=us", map[string]string{"region": "us"}, "", []float64{60, 80, 100}},
		{2, "app.cpu host=a", map[string]string{"host": "a"}, "", []float64{10, 20, 30}},
		{2, "app.cpu host=b", map[string]string{"host": "b"}, "", []float64{30, 40, 50}},
		{2, "app.cpu host=c", map[string]string{"host": "c"}, "", []float64{50, 60, 70}},
		{3, "a doubled", nil, "", []float64{21, 41, 61}},
		{5, "composite host=b region=eu", map[string]string{"host": "b", "region": "eu"}, "percent", []float64{30, 40, 50}},
	}, lines)
}

func TestChartSeriesSendsTheStreamsQuery(t *testing.T) {
	mt := httpmock.NewMockTransport()
	c, err := librato.NewClient("ops@example.com", "tok", librato.WithBaseURL("https://api.test"),
		librato.WithHTTPClient(&http.Client{Transport: mt}), librato.WithRole(librato.RoleViewOnly))
	require.NoError(t, err)
	var got []url.Values
	mt.RegisterResponder("GET", `=~^https://api\.test/v1/measurements/app\.cpu`, func(r *http.Request) (*http.Response, error) {
		got = append(got, r.URL.Query())
		return httpmock.NewStringResponse(200, `{"name":"app.cpu","resolution":60,"series":[],"links":[]}`), nil
	})
	end := time.Unix(1_700_000_000, 0)
	chart := &librato.Chart{Streams: []librato.ChartStream{
		{Metric: "app.cpu", SummaryFunction: "max", GroupFunction: "min", Tags: []librato.StreamTag{
			{Name: "region", Values: []string{"us-*", "eu-*"}}, {Name: "host", Values: []string{"*"}, Grouped: true}}},
		{Metric: "app.cpu", SummaryFunction: "count", GroupFunction: "breakout"},
	}}
	_, err = c.Charts.Series(context.Background(), chart, &librato.ChartWindow{End: end, Duration: time.Hour, Resolution: time.Minute})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, url.Values{
		"end_time": {"1700000000"}, "duration": {"3600"}, "resolution": {"60"},
		"summary_function": {"max"}, "group_by": {"host"}, "group_by_function": {"min"},
		"tags[region]": {"us-*", "eu-*"}, "tags[host]": {"*"},
	}, got[0])
	assert.Equal(t, url.Values{
		"end_time": {"1700000000"}, "duration": {"3600"}, "resolution": {"60"}, "summary_function": {"count"},
	}, got[1], "breakout reads every stream and groups them on the client")
}

func TestChartSeriesRefusesWhatItCannotDraw(t *testing.T) {
	c, w := chartFixture(t)
	ctx := context.Background()
	var ve *librato.ValidationError

	_, err := c.Charts.Series(ctx, &librato.Chart{Streams: []librato.ChartStream{{Metric: "app.cpu", TransformFunction: "x*(2"}}}, w)
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, err.Error(), "transform_function")

	_, err = c.Charts.Series(ctx, &librato.Chart{Streams: []librato.ChartStream{{Metric: "app.cpu"}}}, &librato.ChartWindow{Duration: time.Hour})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "resolution", ve.Field)

	_, err = c.Charts.Series(ctx, nil, w)
	require.ErrorAs(t, err, &ve)

	_, err = c.Charts.Series(ctx, &librato.Chart{Streams: []librato.ChartStream{{}}}, w)
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "metric", ve.Field)
}

func TestChartSeriesPassesTheGuard(t *testing.T) {
	srv := mock.NewServer()
	defer srv.Close()
	agent, err := srv.Client(librato.RoleRecordOnly)
	require.NoError(t, err)
	// Record Only may read measurements, so the guard lets it through; a
	// missing metric reads as no line.
	got, err := agent.Charts.Series(context.Background(), &librato.Chart{Streams: []librato.ChartStream{{Metric: "nothing.yet"}}},
		&librato.ChartWindow{Duration: time.Hour, Resolution: time.Minute})
	require.NoError(t, err)
	assert.Empty(t, got)

	before := srv.Requests()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = agent.Charts.Series(ctx, &librato.Chart{Streams: []librato.ChartStream{{Metric: "app.cpu"}}},
		&librato.ChartWindow{Duration: time.Hour, Resolution: time.Minute})
	assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
	assert.Equal(t, before, srv.Requests())
}
