package mock_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// base is a fixed, hour-aligned time so buckets are predictable.
const base = int64(1_700_000_400)

func sdk(t testing.TB, srv *mock.Server, role librato.Role, opts ...librato.Option) *librato.Client {
	t.Helper()
	c, err := srv.Client(role, append([]librato.Option{librato.WithBackoff(time.Millisecond, 5*time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	return c
}

func at(sec int64) time.Time { return time.Unix(sec, 0) }

// seriesByKey indexes series by their tags as "k=v,k2=v2".
func seriesByKey(page *librato.MeasurementPage) map[string][]librato.Point {
	out := map[string][]librato.Point{}
	for _, s := range page.Series {
		var parts []string
		for _, k := range sortedTagKeys(s.Tags) {
			parts = append(parts, k+"="+s.Tags[k])
		}
		out[strings.Join(parts, ",")] = s.Measurements
	}
	return out
}

func sortedTagKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

func TestMeasurementsTopLevelVersusOwnTags(t *testing.T) {
	srv := newServer(t)
	c := sdk(t, srv, librato.RoleRecordOnly)
	ctx := context.Background()

	sum, err := c.Measurements.Create(ctx, &librato.MeasurementBatch{
		Tags: map[string]string{"region": "us-east", "host": "Web1"},
		Time: base,
		Measurements: []librato.Measurement{
			{Name: "cpu", Value: 1}, // top-level tags
			{Name: "cpu", Value: 3, Tags: map[string]string{"host": "db1"}, Time: base + 10}, // own tags only
			{Name: "CPU", Value: 5}, // same metric, other case
		},
	})
	require.NoError(t, err)
	assert.Equal(t, librato.MeasurementsSummary{Total: 3, Accepted: 3}, *sum)

	rec := srv.Recorded()
	require.Len(t, rec, 3)
	assert.Equal(t, map[string]string{"region": "us-east", "host": "Web1"}, rec[0].Tags)
	assert.Equal(t, map[string]string{"host": "db1"}, rec[1].Tags, "own tags are never merged with the batch's")
	assert.Equal(t, base, rec[0].Time, "the batch's time applies")
	assert.Equal(t, base+10, rec[1].Time)
	assert.Equal(t, "CPU", rec[2].Name)
	assert.Equal(t, 3, srv.RecordedCount())

	page, err := c.Measurements.List(ctx, "cpu", &librato.MeasurementsQuery{StartTime: at(base), EndTime: at(base + 3600), Resolution: 60 * time.Second})
	require.NoError(t, err)
	got := seriesByKey(page)
	require.Len(t, got, 2, "%+v", page)
	// Tags are stored lower-cased; the two top-level-tag points share a
	// stream and a second: the later replaces the earlier.
	assert.Equal(t, []librato.Point{{Time: base, Value: 5}}, got["host=web1,region=us-east"])
	assert.Equal(t, []librato.Point{{Time: base, Value: 3}}, got["host=db1"])
	assert.Equal(t, 60, page.Resolution)
	assert.Equal(t, "cpu", page.Name)
	assert.Empty(t, page.Next())
}

func TestMeasurementsAutoCreateMetric(t *testing.T) {
	srv := newServer(t)
	c := sdk(t, srv, librato.RoleFullAccess)
	ctx := context.Background()
	_, err := c.Metrics.Get(ctx, "new.metric")
	require.ErrorIs(t, err, librato.ErrNotFound)

	_, err = c.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{{
		Name: "new.metric", Value: 1, Period: 30, DisplayName: "New",
		Attributes: &librato.MetricAttributes{DisplayUnitsShort: "ms", SummarizeFunction: "sum"},
	}}})
	require.NoError(t, err)
	m, err := c.Metrics.Get(ctx, "new.metric")
	require.NoError(t, err)
	assert.Equal(t, "gauge", m.Type)
	require.NotNil(t, m.Period)
	assert.Equal(t, 30, *m.Period)
	assert.Equal(t, "New", *m.DisplayName)
	assert.Equal(t, "ms", m.Attributes.DisplayUnitsShort)
	assert.Contains(t, m.Attributes.CreatedByUA, "librato-go/")

	// Properties of later measurements are ignored for an existing metric.
	_, err = c.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{{
		Name: "NEW.metric", Value: 2, Period: 90, Attributes: &librato.MetricAttributes{DisplayUnitsShort: "s"},
	}}})
	require.NoError(t, err)
	m, err = c.Metrics.Get(ctx, "new.metric")
	require.NoError(t, err)
	assert.Equal(t, 30, *m.Period)
	assert.Equal(t, "ms", m.Attributes.DisplayUnitsShort)
	list, err := c.Metrics.List(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, list.Query.Total)
}

// seedStreams records a known data set: three hosts over two regions.
func seedStreams(t *testing.T, c *librato.Client) {
	t.Helper()
	ms := []librato.Measurement{
		{Name: "req", Value: 10, Time: base, Tags: map[string]string{"host": "web1", "region": "us-east"}},
		{Name: "req", Value: 20, Time: base + 30, Tags: map[string]string{"host": "web1", "region": "us-east"}},
		{Name: "req", Value: 40, Time: base + 60, Tags: map[string]string{"host": "web1", "region": "us-east"}},
		{Name: "req", Value: 5, Time: base, Tags: map[string]string{"host": "web2", "region": "us-west"}},
		{Name: "req", Value: 7, Time: base + 60, Tags: map[string]string{"host": "web2", "region": "us-west"}},
		{Name: "req", Value: 100, Time: base, Tags: map[string]string{"host": "db1", "region": "eu-west", "role": "db"}},
		{Name: "req", Count: 4, Sum: librato.Ptr(8.0), Min: librato.Ptr(1.0), Max: librato.Ptr(3.0), Time: base + 120, Tags: map[string]string{"host": "db1", "region": "eu-west", "role": "db"}},
		{Name: "req", Value: 1, Time: base - 7200, Tags: map[string]string{"host": "old"}},
	}
	_, err := c.Measurements.Create(context.Background(), &librato.MeasurementBatch{Measurements: ms})
	require.NoError(t, err)
}

func TestMeasurementsQuery(t *testing.T) {
	srv := newServer(t)
	c := sdk(t, srv, librato.RoleViewOnly)
	seedStreams(t, sdk(t, srv, librato.RoleRecordOnly))
	ctx := context.Background()
	window := func(q librato.MeasurementsQuery) *librato.MeasurementsQuery {
		if q.StartTime.IsZero() && q.Duration == 0 {
			q.StartTime, q.EndTime = at(base), at(base+3600)
		}
		if q.Resolution == 0 {
			q.Resolution = 60 * time.Second
		}
		return &q
	}
	get := func(q librato.MeasurementsQuery) map[string][]librato.Point {
		t.Helper()
		page, err := c.Measurements.List(ctx, "req", window(q))
		require.NoError(t, err)
		return seriesByKey(page)
	}

	t.Run("resolution buckets with the mean", func(t *testing.T) {
		got := get(librato.MeasurementsQuery{})
		assert.Equal(t, []librato.Point{{Time: base, Value: 15}, {Time: base + 60, Value: 40}}, got["host=web1,region=us-east"])
		assert.Equal(t, []librato.Point{{Time: base, Value: 100}, {Time: base + 120, Value: 2}}, got["host=db1,region=eu-west,role=db"], "a summary's value is sum/count")
		assert.NotContains(t, got, "host=old", "outside the window")
		got = get(librato.MeasurementsQuery{Resolution: 3600 * time.Second})
		assert.Equal(t, []librato.Point{{Time: base - base%3600, Value: (10 + 20 + 40) / 3.0}}, got["host=web1,region=us-east"])
	})
	t.Run("summary functions", func(t *testing.T) {
		key := "host=web1,region=us-east"
		assert.Equal(t, 30.0, get(librato.MeasurementsQuery{SummaryFunction: "sum"})[key][0].Value)
		assert.Equal(t, 10.0, get(librato.MeasurementsQuery{SummaryFunction: "min"})[key][0].Value)
		assert.Equal(t, 20.0, get(librato.MeasurementsQuery{SummaryFunction: "max"})[key][0].Value)
		assert.Equal(t, 2.0, get(librato.MeasurementsQuery{SummaryFunction: "count"})[key][0].Value)
		db := get(librato.MeasurementsQuery{SummaryFunction: "count"})["host=db1,region=eu-west,role=db"]
		assert.Equal(t, 4.0, db[1].Value, "count adds up the summaries' counts")
		assert.Equal(t, 3.0, get(librato.MeasurementsQuery{SummaryFunction: "max"})["host=db1,region=eu-west,role=db"][1].Value)
		assert.Equal(t, []librato.Point{{Time: base + 60, Value: 25}}, get(librato.MeasurementsQuery{SummaryFunction: "derivative"})[key])
	})
	t.Run("time range", func(t *testing.T) {
		got := get(librato.MeasurementsQuery{StartTime: at(base + 60), EndTime: at(base + 3600)})
		assert.Equal(t, []librato.Point{{Time: base + 60, Value: 40}}, got["host=web1,region=us-east"])
		got = get(librato.MeasurementsQuery{StartTime: at(base), EndTime: at(base + 59)})
		assert.Equal(t, []librato.Point{{Time: base, Value: 15}}, got["host=web1,region=us-east"])
		got = get(librato.MeasurementsQuery{EndTime: at(base + 30), Duration: 30 * time.Second})
		assert.Equal(t, []librato.Point{{Time: base, Value: 15}}, got["host=web1,region=us-east"])
		got = get(librato.MeasurementsQuery{Duration: 3 * time.Hour, EndTime: at(base)})
		assert.Contains(t, got, "host=old")
	})
	t.Run("tag filters", func(t *testing.T) {
		names := func(q librato.MeasurementsQuery) []string {
			got := get(q)
			var out []string
			for k := range got {
				out = append(out, k)
			}
			return sortedStrings(out)
		}
		assert.Equal(t, []string{"host=web1,region=us-east", "host=web2,region=us-west"}, names(librato.MeasurementsQuery{Tags: map[string][]string{"region": {"us-*"}}}))
		assert.Equal(t, []string{"host=db1,region=eu-west,role=db", "host=web1,region=us-east"}, names(librato.MeasurementsQuery{Tags: map[string][]string{"region": {"us-east", "eu-*"}}}), "repeated name: OR")
		assert.Equal(t, []string{"host=web1,region=us-east"}, names(librato.MeasurementsQuery{Tags: map[string][]string{"region": {"us-*"}, "host": {"*1"}}}), "different names: AND")
		assert.Equal(t, []string{"host=db1,region=eu-west,role=db", "host=web2,region=us-west"}, names(librato.MeasurementsQuery{Tags: map[string][]string{"region": {"!us-east"}}}), "value negation needs the tag")
		assert.Equal(t, []string{"host=web1,region=us-east", "host=web2,region=us-west"}, names(librato.MeasurementsQuery{Tags: map[string][]string{"!role": {"*"}}}), "name negation: streams without the tag")
		assert.Equal(t, []string{"host=db1,region=eu-west,role=db"}, names(librato.MeasurementsQuery{Tags: map[string][]string{"role": {"*"}}}), "name=* needs the tag")
		assert.Equal(t, []string{"host=web2,region=us-west"}, names(librato.MeasurementsQuery{Tags: map[string][]string{"HOST": {"WEB2"}}}), "filters ignore case")
		assert.Equal(t, []string{"host=web1,region=us-east"}, names(librato.MeasurementsQuery{TagsSearch: "region=us-* and host=*1"}))
		assert.Equal(t, []string{"host=db1,region=eu-west,role=db", "host=web2,region=us-west"}, names(librato.MeasurementsQuery{TagsSearch: "(role=db or host=web2) and not region=us-east"}))
		assert.Equal(t, []string{"host=web2,region=us-west"}, names(librato.MeasurementsQuery{TagsSearch: `region!=eu-* and host="web2"`}))
	})
	t.Run("group by", func(t *testing.T) {
		page, err := c.Measurements.List(ctx, "req", window(librato.MeasurementsQuery{GroupBy: []string{"region"}, GroupByFunction: "sum", Tags: map[string][]string{"region": {"us-*"}}}))
		require.NoError(t, err)
		require.Len(t, page.Series, 2)
		assert.Equal(t, map[string]string{"region": "us-east"}, page.Series[0].Tags, "series ordered by tag pairs, only the group tags")
		assert.Equal(t, map[string]string{"region": "us-west"}, page.Series[1].Tags)

		page, err = c.Measurements.List(ctx, "req", window(librato.MeasurementsQuery{GroupBy: []string{"*"}, GroupByFunction: "sum"}))
		require.NoError(t, err)
		require.Len(t, page.Series, 1)
		assert.Nil(t, page.Series[0].Tags)
		assert.Equal(t, librato.Point{Time: base, Value: 15 + 5 + 100}, page.Series[0].Measurements[0])
		assert.Equal(t, librato.Point{Time: base + 60, Value: 40 + 7}, page.Series[0].Measurements[1])

		got := get(librato.MeasurementsQuery{GroupBy: []string{"role"}, GroupByFunction: "max"})
		assert.Equal(t, []string{"role=db"}, keysOf(got), "group_by keeps only streams with the tags")
		got = get(librato.MeasurementsQuery{GroupBy: []string{"*"}, GroupByFunction: "mean", Tags: map[string][]string{"region": {"us-*"}}})
		assert.Equal(t, 10.0, got[""][0].Value)
	})
	t.Run("validation", func(t *testing.T) {
		w := newWire(t, srv, librato.RoleViewOnly)
		q := fmt.Sprintf("start_time=%d", base)
		w.do("GET", "/v1/measurements/req?"+q, nil).requireParam(t, "resolution")
		w.do("GET", "/v1/measurements/req?"+q+"&resolution=604801", nil).requireParam(t, "resolution")
		w.do("GET", "/v1/measurements/req?resolution=60", nil).requireParam(t, "start_time")
		w.do("GET", "/v1/measurements/req?"+q+"&end_time=1800000000&duration=60&resolution=60", nil).requireParam(t, "duration")
		w.do("GET", "/v1/measurements/req?"+q+"&resolution=60&group_by=host", nil).requireParam(t, "group_by_function")
		w.do("GET", "/v1/measurements/req?"+q+"&resolution=60&group_by=host&group_by_function=sum&summary_function=all", nil).requireParam(t, "summary_function")
		w.do("GET", "/v1/measurements/req?"+q+"&resolution=60&summary_function=median", nil).requireParam(t, "summary_function")
		w.do("GET", "/v1/measurements/req?"+q+"&resolution=60&tags%5Bhost%5D=a&tags_search=host%3Da", nil).requireParam(t, "tags_search")
		w.do("GET", "/v1/measurements/req?"+q+"&resolution=60&tags_search=host", nil).requireParam(t, "tags_search")
		w.do("GET", "/v1/measurements/missing?"+q+"&resolution=60", nil).requireStatus(t, 404)
		r := w.do("GET", "/v1/measurements/req?"+q+"&resolution=60&summary_function=all", nil).requireStatus(t, 200).obj(t)
		pt := r["series"].([]any)[0].(map[string]any)["measurements"].([]any)[0].(map[string]any)
		assert.Contains(t, pt, "count")
		assert.Contains(t, pt, "value")
	})
}

func keysOf(m map[string][]librato.Point) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return sortedStrings(out)
}

func sortedStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func TestMeasurementsSeriesPagination(t *testing.T) {
	srv := newServer(t, mock.WithSeriesPageSize(2))
	c := sdk(t, srv, librato.RoleFullAccess)
	ctx := context.Background()
	var ms []librato.Measurement
	for i := 0; i < 5; i++ {
		ms = append(ms, librato.Measurement{Name: "paged", Value: float64(i), Time: base, Tags: map[string]string{"host": fmt.Sprintf("h%d", i)}})
	}
	_, err := c.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: ms})
	require.NoError(t, err)
	q := &librato.MeasurementsQuery{StartTime: at(base), Resolution: time.Minute, Tags: map[string][]string{"host": {"h*"}}}

	page, err := c.Measurements.List(ctx, "paged", q)
	require.NoError(t, err)
	require.Len(t, page.Series, 2)
	next := page.Next()
	require.NotEmpty(t, next)
	u, err := url.Parse(next)
	require.NoError(t, err)
	assert.Equal(t, srv.URL(), u.Scheme+"://"+u.Host, "the next link is absolute, on the server's own host")
	assert.Equal(t, "h*", u.Query().Get("tags[host]"), "the next link keeps the query")

	var hosts []string
	for s, err := range c.Measurements.All(ctx, "paged", q) {
		require.NoError(t, err)
		hosts = append(hosts, s.Tags["host"])
	}
	assert.Equal(t, []string{"h0", "h1", "h2", "h3", "h4"}, hosts)
}

func TestMeasurementsValidation(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleRecordOnly)
	post := func(body string) resp {
		return w.raw("POST", "/v1/measurements", "application/json", []byte(body))
	}
	tags51 := make([]string, 51)
	for i := range tags51 {
		tags51[i] = fmt.Sprintf(`"t%d":"v"`, i)
	}
	for _, c := range []struct{ body, field string }{
		{`{}`, "measurements"},
		{`{"measurements":[]}`, "measurements"},
		{`{"measurements":[{"value":1}]}`, "measurements[0].name"},
		{`{"measurements":[{"name":"bad name","value":1}]}`, "measurements[0].name"},
		{`{"measurements":[{"name":"` + strings.Repeat("a", 256) + `","value":1}]}`, "measurements[0].name"},
		{`{"measurements":[{"name":"a"}]}`, "measurements[0].value"},
		{`{"measurements":[{"name":"a","value":"x"}]}`, "measurements[0].value"},
		{`{"measurements":[{"name":"a","value":2e126}]}`, "measurements[0].value"},
		{`{"measurements":[{"name":"a","value":-1e300}]}`, "measurements[0].value"},
		{`{"measurements":[{"name":"a","value":1e400}]}`, "measurements[0].value"},
		{`{"measurements":[{"name":"a","count":3}]}`, "measurements[0].sum"},
		{`{"measurements":[{"name":"a","count":3,"sum":1,"value":1}]}`, "measurements[0].value"},
		{`{"measurements":[{"name":"a","value":1,"tags":{"bad tag!":"x"}}]}`, "measurements[0].tags"},
		{`{"measurements":[{"name":"a","value":1,"tags":{"host":"bad|value"}}]}`, "measurements[0].tags"},
		{`{"measurements":[{"name":"a","value":1,"tags":{"host":""}}]}`, "measurements[0].tags"},
		{`{"measurements":[{"name":"a","value":1,"tags":{"host":5}}]}`, "measurements[0].tags"},
		{`{"tags":{` + strings.Join(tags51, ",") + `},"measurements":[{"name":"a","value":1}]}`, "tags"},
		{`{"measurements":[{"name":"a","value":1,"time":-5}]}`, "measurements[0].time"},
		{`{"measurements":[{"name":"a","value":1,"attributes":{"color":"green"}}]}`, "measurements[0].attributes.color"},
		{`{"measurements":[{"name":"ok","value":1},{"name":"b!","value":1}]}`, "measurements[1].name"},
	} {
		post(c.body).requireParam(t, c.field)
	}
	assert.Equal(t, 0, srv.RecordedCount(), "an invalid request stores nothing")

	// Tiny magnitudes are stored as 0; 1e126 itself is allowed.
	post(fmt.Sprintf(`{"measurements":[{"name":"tiny","value":1e-140,"time":%d},{"name":"big","value":1e126}]}`, base)).requireStatus(t, 202)
	assert.Equal(t, 0.0, srv.Recorded()[0].Value)
	// A measurement without any tags is accepted.
	assert.Nil(t, srv.Recorded()[0].Tags)
}

func TestMeasurementsCompose(t *testing.T) {
	srv := newServer(t)
	c := sdk(t, srv, librato.RoleFullAccess)
	seedStreams(t, c)
	ctx := context.Background()

	out, err := c.Measurements.Compose(ctx, &librato.CompositeQuery{Compose: `s("req", {"region":"us-*"})`, StartTime: at(base), EndTime: at(base + 3600), Resolution: time.Minute})
	require.NoError(t, err)
	require.Len(t, out, 2)
	assert.Equal(t, map[string]string{"host": "web1", "region": "us-east"}, out[0].Tags)
	assert.Equal(t, []librato.Point{{Time: base, Value: 15}, {Time: base + 60, Value: 40}}, out[0].Measurements)
	require.NotNil(t, out[0].Metric)
	assert.Equal(t, "req", out[0].Metric.Name)
	assert.Equal(t, 60, out[0].Period)

	out, err = c.Measurements.Compose(ctx, &librato.CompositeQuery{Compose: `s("req", "*", {function: "sum"})`, StartTime: at(base), Resolution: time.Minute})
	require.NoError(t, err)
	assert.Len(t, out, 3)

	_, err = c.Measurements.Compose(ctx, &librato.CompositeQuery{Compose: `percentile(s("req", "*"))`, StartTime: at(base), Resolution: time.Minute})
	var apiErr *librato.APIError
	require.True(t, errors.As(err, &apiErr), "%v", err)
	assert.Equal(t, 400, apiErr.StatusCode)
	assert.Contains(t, apiErr.Params, "compose")

	// A persisted composite metric answers through GET /v1/measurements/:name.
	err = c.Metrics.Update(ctx, "req.east", &librato.MetricUpdate{Type: librato.Ptr("composite"), Composite: librato.Ptr(`s("req", {region: "us-east"}, {function: "max"})`)})
	require.NoError(t, err)
	page, err := c.Measurements.List(ctx, "req.east", &librato.MeasurementsQuery{StartTime: at(base), EndTime: at(base + 3600), Resolution: time.Minute})
	require.NoError(t, err)
	require.Len(t, page.Series, 1)
	assert.Equal(t, []librato.Point{{Time: base, Value: 20}, {Time: base + 60, Value: 40}}, page.Series[0].Measurements)
	_, err = c.Measurements.List(ctx, "req.east", &librato.MeasurementsQuery{StartTime: at(base), Resolution: time.Minute, Tags: map[string][]string{"host": {"*"}}})
	require.ErrorIs(t, err, librato.ErrBadRequest)
}

func TestMetricsViaSDK(t *testing.T) {
	srv := newServer(t, mock.WithJobSteps(3))
	c := sdk(t, srv, librato.RoleFullAccess)
	ctx := context.Background()
	require.NoError(t, c.Metrics.Update(ctx, "sdk.metric", &librato.MetricUpdate{Type: librato.Ptr("gauge"), Period: librato.Ptr(10)}), "201: created")
	require.NoError(t, c.Metrics.Update(ctx, "sdk.metric", &librato.MetricUpdate{Description: librato.Ptr("d")}), "204: updated")
	m, err := c.Metrics.Get(ctx, "sdk.metric")
	require.NoError(t, err)
	assert.Equal(t, librato.MetricTypeGauge, m.Type, "created by the first Update")
	require.NotNil(t, m.Description)
	assert.Equal(t, "d", *m.Description, "changed by the second")

	job, err := c.Metrics.UpdateBatch(ctx, &librato.MetricsBatchUpdate{MetricNames: librato.MetricNames{Pattern: "sdk.*"}, Period: librato.Ptr(20)})
	require.NoError(t, err)
	require.NotNil(t, job)
	assert.Equal(t, librato.JobQueued, job.State)
	done, err := c.Jobs.Wait(ctx, job.ID)
	require.NoError(t, err)
	assert.Equal(t, librato.JobComplete, done.State)
	m, err = c.Metrics.Get(ctx, "sdk.metric")
	require.NoError(t, err)
	assert.Equal(t, 20, *m.Period)

	var names []string
	for m, err := range c.Metrics.All(ctx, &librato.ListOptions{Length: 1}) {
		require.NoError(t, err)
		names = append(names, m.Name)
	}
	assert.Equal(t, []string{"sdk.metric"}, names)

	job, err = c.Metrics.DeleteBatch(ctx, &librato.MetricsBatchDelete{MetricNames: librato.MetricNames{Names: []string{"sdk.metric"}}})
	require.NoError(t, err)
	_, err = c.Jobs.Wait(ctx, job.ID)
	require.NoError(t, err)
	_, err = c.Metrics.Get(ctx, "sdk.metric")
	require.ErrorIs(t, err, librato.ErrNotFound)
}

// queryPoints reads GET /v1/measurements/:name through the wire and
// returns the points of each series keyed by its tags ("k=v,...").
func queryPoints(t *testing.T, w *wire, name, query string) map[string][]map[string]any {
	t.Helper()
	r := w.do("GET", "/v1/measurements/"+name+"?"+query, nil).requireStatus(t, 200).obj(t)
	out := map[string][]map[string]any{}
	for _, s := range r["series"].([]any) {
		sm := s.(map[string]any)
		var parts []string
		if tags, ok := sm["tags"].(map[string]any); ok {
			keys := make([]string, 0, len(tags))
			for k := range tags {
				keys = append(keys, k)
			}
			for _, k := range sortedStrings(keys) {
				parts = append(parts, k+"="+tags[k].(string))
			}
		}
		var pts []map[string]any
		for _, p := range sm["measurements"].([]any) {
			pts = append(pts, p.(map[string]any))
		}
		out[strings.Join(parts, ",")] = pts
	}
	return out
}

// TestAggregationRollupOfSummaries is composite.md §8 example 14: two
// complex measurements rolled up into one bucket merge field by field,
// and stddev is the unweighted mean of the submitted stddevs (0.75; a
// count-weighted mean would give 1.125).
func TestAggregationRollupOfSummaries(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	w.do("POST", "/v1/measurements", map[string]any{"tags": map[string]string{"host": "a"}, "measurements": []any{
		map[string]any{"name": "ex14", "time": base, "count": 3, "sum": 12, "min": 2, "max": 6, "last": 5, "stddev": 1.5},
		map[string]any{"name": "ex14", "time": base + 30, "count": 1, "sum": 10, "min": 10, "max": 10, "last": 10, "stddev": 0},
	}}).requireStatus(t, 202)
	q := fmt.Sprintf("start_time=%d&end_time=%d&resolution=60", base, base+60)

	pts := queryPoints(t, w, "ex14", q+"&summary_function=all")["host=a"]
	require.Len(t, pts, 1)
	assert.Equal(t, map[string]any{"time": float64(base), "value": 5.5, "count": 4.0, "sum": 22.0, "min": 2.0, "max": 10.0, "last": 10.0, "stddev": 0.75}, pts[0])
	for fn, want := range map[string]float64{"mean": 5.5, "sum": 22, "count": 4, "min": 2, "max": 10, "stddev": 0.75} {
		pts := queryPoints(t, w, "ex14", q+"&summary_function="+fn)["host=a"]
		require.Len(t, pts, 1, fn)
		assert.Equal(t, want, pts[0]["value"], fn)
	}
	// In separate buckets each keeps its own fields.
	pts = queryPoints(t, w, "ex14", fmt.Sprintf("start_time=%d&end_time=%d&resolution=30&summary_function=all", base, base+60))["host=a"]
	require.Len(t, pts, 2)
	assert.Equal(t, 1.5, pts[0]["stddev"])
	assert.Equal(t, 5.0, pts[0]["last"])
	assert.Equal(t, 4.0, pts[0]["value"])
}

// TestAggregationPlainSamples is composite.md §8 example 16: the samples
// 2, 10, 5 summarised by each function, by summary_function and by the
// metric's summarize_function. A plain sample is a summary of one with
// stddev 0, so their bucket's stddev (the mean of the stddevs) is 0.
func TestAggregationPlainSamples(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	w.do("POST", "/v1/measurements", map[string]any{"measurements": []any{
		map[string]any{"name": "ex16", "time": base, "value": 2},
		map[string]any{"name": "ex16", "time": base + 10, "value": 10},
		map[string]any{"name": "ex16", "time": base + 20, "value": 5},
	}}).requireStatus(t, 202)
	q := fmt.Sprintf("start_time=%d&end_time=%d&resolution=60", base, base+60)
	for fn, want := range map[string]float64{"mean": 17.0 / 3, "sum": 17, "count": 3, "min": 2, "max": 10, "stddev": 0} {
		pts := queryPoints(t, w, "ex16", q+"&summary_function="+fn)[""]
		require.Len(t, pts, 1, fn)
		assert.Equal(t, want, pts[0]["value"], fn)
	}
	assert.InDelta(t, 5.67, queryPoints(t, w, "ex16", q)[""][0]["value"], 0.005, "the default is the mean")
	all := queryPoints(t, w, "ex16", q+"&summary_function=all")[""][0]
	assert.Equal(t, 5.0, all["last"], "last is the latest sample's")
	for sf, want := range map[string]float64{"average": 17.0 / 3, "sum": 17, "count": 3, "min": 2, "max": 10} {
		w.do("PUT", "/v1/metrics/ex16", map[string]any{"attributes": map[string]any{"summarize_function": sf}}).requireStatus(t, 204)
		pts := queryPoints(t, w, "ex16", q)[""]
		require.Len(t, pts, 1, sf)
		assert.Equal(t, want, pts[0]["value"], "summarize_function %s", sf)
	}
}

// TestAggregationOutOfOrderAndLargeWindows checks samples sent out of
// time order are bucketed by time, that last follows time rather than
// arrival, and that Recorded keeps the order of acceptance.
func TestAggregationOutOfOrderAndLargeWindows(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	for _, v := range []int64{3, 1, 2, 5, 4} {
		w.do("POST", "/v1/measurements", map[string]any{"measurements": []any{
			map[string]any{"name": "ooo", "time": base + v*60, "value": v},
		}}).requireStatus(t, 202)
	}
	pts := queryPoints(t, w, "ooo", fmt.Sprintf("start_time=%d&end_time=%d&resolution=60", base+120, base+240))[""]
	require.Len(t, pts, 3)
	for i, p := range pts {
		assert.Equal(t, float64(base+int64(i+2)*60), p["time"])
		assert.Equal(t, float64(i+2), p["value"])
	}
	all := queryPoints(t, w, "ooo", fmt.Sprintf("start_time=%d&end_time=%d&resolution=3600&summary_function=all", base, base+3600))[""]
	require.Len(t, all, 1)
	assert.Equal(t, 5.0, all[0]["last"], "last is the latest in time, not the last to arrive")
	var got []float64
	for _, m := range srv.Recorded() {
		got = append(got, m.Value)
	}
	assert.Equal(t, []float64{3, 1, 2, 5, 4}, got)
}
