package librato

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// captured is one request as the fake API saw it.
type captured struct {
	method, path, query, body string
	auth                      string
}

// capture answers every request with status and body, recording it.
func capture(mt *httpmock.MockTransport, status int, body string, header ...string) *[]captured {
	var got []captured
	mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
		var b []byte
		if req.Body != nil {
			b, _ = readRequestBody(req)
		}
		got = append(got, captured{req.Method, req.URL.EscapedPath(), req.URL.RawQuery, string(b), req.Header.Get("Authorization")})
		r := httpmock.NewStringResponse(status, body)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		return r, nil
	})
	return &got
}

func TestMeasurementsCreateRequest(t *testing.T) {
	c, mt := newMockClient(t)
	got := capture(mt, 202, `{"measurements":{"summary":{"total":3,"accepted":2,"failed":1,"filtered":0}},"unknown":true}`)
	batch := &MeasurementBatch{
		Tags:   map[string]string{"region": "us-west", "name": "web-prod-3"},
		Time:   1421530163,
		Period: 60,
		Measurements: []Measurement{
			{Name: "cpu", Value: 4.5},
			{Name: "memory", Value: 34.5, Tags: map[string]string{"az": "e", "db": "db-prod-1"}},
			{
				Name: "cpu.summary", Time: 1421530100, Period: 30, Count: 3,
				Sum: Ptr(35.0), Min: Ptr(4.5), Max: Ptr(6.7), Last: Ptr(2.5), StdDev: Ptr(1.34),
				Attributes:  &MetricAttributes{Aggregate: Ptr(false), DisplayMin: Ptr(0.0)},
				DisplayName: "CPU", Description: "per host",
				Tags: map[string]string{"region": "us-east-1"},
			},
		},
	}
	sum, err := c.Measurements.Create(context.Background(), batch)
	require.NoError(t, err)
	assert.Equal(t, &MeasurementsSummary{Total: 3, Accepted: 2, Failed: 1}, sum)
	require.Len(t, *got, 1)
	r := (*got)[0]
	assert.Equal(t, "POST", r.method)
	assert.Equal(t, "/prefix/v1/measurements", r.path)
	assert.Empty(t, r.query)
	assert.JSONEq(t, `{
		"tags": {"region": "us-west", "name": "web-prod-3"},
		"time": 1421530163, "period": 60,
		"measurements": [
			{"name": "cpu", "value": 4.5},
			{"name": "memory", "value": 34.5, "tags": {"az": "e", "db": "db-prod-1"}},
			{"name": "cpu.summary", "time": 1421530100, "period": 30, "count": 3, "sum": 35, "min": 4.5, "max": 6.7,
			 "last": 2.5, "stddev": 1.34, "attributes": {"aggregate": false, "display_min": 0},
			 "display_name": "CPU", "description": "per host", "tags": {"region": "us-east-1"}}
		]}`, r.body)
	assert.True(t, strings.HasPrefix(r.auth, "Basic "))
}

func TestMeasurementsCreateAcceptsAnyTwoXX(t *testing.T) {
	for _, status := range []int{200, 201, 202, 204} {
		c, mt := newMockClient(t)
		capture(mt, status, "")
		sum, err := c.Measurements.Create(context.Background(), &MeasurementBatch{Measurements: []Measurement{{Name: "x", Value: 1}}})
		require.NoError(t, err, status)
		assert.Equal(t, &MeasurementsSummary{}, sum)
	}
}

func TestMeasurementValidation(t *testing.T) {
	long := strings.Repeat("a", 256)
	manyTags := map[string]string{}
	for i := 0; i < 51; i++ {
		manyTags["t"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
	}
	require.Len(t, manyTags, 51)
	cases := []struct {
		name  string
		batch MeasurementBatch
		field string
		index int
	}{
		{"no measurements", MeasurementBatch{}, "measurements", -1},
		{"empty name", MeasurementBatch{Measurements: []Measurement{{Value: 1}}}, "name", 0},
		{"bad name chars", MeasurementBatch{Measurements: []Measurement{{Name: "ok", Value: 1}, {Name: "cpu load", Value: 1}}}, "name", 1},
		{"slash in name", MeasurementBatch{Measurements: []Measurement{{Name: "a/b", Value: 1}}}, "name", 0},
		{"name too long", MeasurementBatch{Measurements: []Measurement{{Name: long, Value: 1}}}, "name", 0},
		{"bad tag name", MeasurementBatch{Measurements: []Measurement{{Name: "m", Value: 1, Tags: map[string]string{"a b": "v"}}}}, "tags", 0},
		{"tag name too long", MeasurementBatch{Measurements: []Measurement{{Name: "m", Value: 1, Tags: map[string]string{strings.Repeat("k", 65): "v"}}}}, "tags", 0},
		{"bad tag value", MeasurementBatch{Measurements: []Measurement{{Name: "m", Value: 1, Tags: map[string]string{"k": "a\"b"}}}}, "tags", 0},
		{"empty tag value", MeasurementBatch{Measurements: []Measurement{{Name: "m", Value: 1, Tags: map[string]string{"k": ""}}}}, "tags", 0},
		{"non-ascii tag value", MeasurementBatch{Measurements: []Measurement{{Name: "m", Value: 1, Tags: map[string]string{"k": "é"}}}}, "tags", 0},
		{"51 tags", MeasurementBatch{Measurements: []Measurement{{Name: "m", Value: 1, Tags: manyTags}}}, "tags", 0},
		{"bad top-level tag", MeasurementBatch{Tags: map[string]string{"k": "<v>"}, Measurements: []Measurement{{Name: "m", Value: 1}}}, "tags", -1},
		{"NaN", MeasurementBatch{Measurements: []Measurement{{Name: "m", Value: math.NaN()}}}, "value", 0},
		{"+Inf", MeasurementBatch{Measurements: []Measurement{{Name: "m", Value: math.Inf(1)}}}, "value", 0},
		{"too large", MeasurementBatch{Measurements: []Measurement{{Name: "m", Value: -1.1e126}}}, "value", 0},
		{"count without sum", MeasurementBatch{Measurements: []Measurement{{Name: "m", Count: 3}}}, "sum", 0},
		{"sum without count", MeasurementBatch{Measurements: []Measurement{{Name: "m", Sum: Ptr(3.0)}}}, "count", 0},
		{"negative count", MeasurementBatch{Measurements: []Measurement{{Name: "m", Count: -1, Sum: Ptr(1.0)}}}, "count", 0},
		{"huge max", MeasurementBatch{Measurements: []Measurement{{Name: "m", Count: 1, Sum: Ptr(1.0), Max: Ptr(1e127)}}}, "max", 0},
		{"NaN stddev", MeasurementBatch{Measurements: []Measurement{{Name: "m", Count: 1, Sum: Ptr(1.0), StdDev: Ptr(math.NaN())}}}, "stddev", 0},
		{"negative time", MeasurementBatch{Measurements: []Measurement{{Name: "m", Time: -5}}}, "time", 0},
		{"bad color", MeasurementBatch{Measurements: []Measurement{{Name: "m", Attributes: &MetricAttributes{Color: "red"}}}}, "attributes.color", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			_, err := c.Measurements.Create(context.Background(), &tc.batch)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field, ve.Error())
			assert.Equal(t, tc.index, ve.Index)
			assert.Zero(t, mt.GetTotalCallCount(), "nothing is sent")
		})
	}
	ok := []Measurement{
		{Name: "A.b:c-d_e", Value: 1e126, Tags: map[string]string{"host-1.x:y_z": `a-b.c:d_e?f\g/h i`}},
		{Name: "m", Value: 1e-300}, // tiny values are the server's to round to 0
		{Name: "m", Count: 1, Sum: Ptr(0.0)},
		{Name: strings.Repeat("n", 255), Value: 0, Tags: map[string]string{strings.Repeat("k", 64): strings.Repeat("v", 255)}},
	}
	for _, m := range ok {
		assert.NoError(t, m.Validate(), m.Name)
	}
}

func TestMeasurementsGetRequest(t *testing.T) {
	c, mt := newMockClient(t)
	got := capture(mt, 200, `{
		"series":[{"tags":{"name":"prod","region":"us-east"},"measurements":[{"time":1476218700,"value":753.0},{"time":1476219840,"value":25.0}]},
		          {"tags":{"name":"prod","region":"us-west"},"measurements":[{"time":1476218700,"value":496.0}]}],
		"resolution":60,"name":"AWS.EC2.DiskWriteBytes","extra":{"x":1}}`)
	page, err := c.Measurements.List(context.Background(), "AWS.EC2.DiskWriteBytes", &MeasurementsQuery{
		StartTime:       time.Unix(1476218000, 0),
		EndTime:         time.Unix(1476220000, 0),
		Resolution:      time.Minute,
		Tags:            map[string][]string{"region": {"us-*", "!us-east"}, "!host": {"*"}},
		GroupBy:         []string{"region", "az"},
		GroupByFunction: "sum",
		SummaryFunction: "max",
	})
	require.NoError(t, err)
	require.Len(t, *got, 1)
	r := (*got)[0]
	assert.Equal(t, "GET", r.method)
	assert.Equal(t, "/prefix/v1/measurements/AWS.EC2.DiskWriteBytes", r.path)
	q, err := url.ParseQuery(r.query)
	require.NoError(t, err)
	assert.Equal(t, url.Values{
		"start_time":        {"1476218000"},
		"end_time":          {"1476220000"},
		"resolution":        {"60"},
		"tags[region]":      {"us-*", "!us-east"},
		"tags[!host]":       {"*"},
		"group_by":          {"region,az"},
		"group_by_function": {"sum"},
		"summary_function":  {"max"},
	}, q)
	assert.Contains(t, r.query, "tags%5Bregion%5D=", "brackets are percent-encoded")
	assert.Equal(t, "AWS.EC2.DiskWriteBytes", page.Name)
	assert.Equal(t, 60, page.Resolution)
	require.Len(t, page.Series, 2)
	assert.Equal(t, map[string]string{"name": "prod", "region": "us-east"}, page.Series[0].Tags)
	assert.Equal(t, []Point{{Time: 1476218700, Value: 753}, {Time: 1476219840, Value: 25}}, page.Series[0].Measurements)
	assert.Equal(t, "", page.Next())

	got2 := capture(mt, 200, `{"series":[],"links":[]}`)
	_, err = c.Measurements.List(context.Background(), "m", &MeasurementsQuery{Duration: 24 * time.Hour, Resolution: time.Hour, TagsSearch: "region=us-east* and db=*prod*"})
	require.NoError(t, err)
	q, _ = url.ParseQuery((*got2)[0].query)
	assert.Equal(t, url.Values{"duration": {"86400"}, "resolution": {"3600"}, "tags_search": {"region=us-east* and db=*prod*"}}, q)
}

func TestMeasurementsQueryValidation(t *testing.T) {
	start := time.Unix(1700000000, 0)
	cases := map[string]*MeasurementsQuery{
		"nil":                      nil,
		"no resolution":            {StartTime: start},
		"fractional resolution":    {StartTime: start, Resolution: 1500 * time.Millisecond},
		"resolution over a week":   {StartTime: start, Resolution: 8 * 24 * time.Hour},
		"no start or duration":     {Resolution: time.Minute},
		"all three time params":    {StartTime: start, EndTime: start.Add(time.Hour), Duration: time.Hour, Resolution: time.Minute},
		"end before start":         {StartTime: start, EndTime: start.Add(-time.Hour), Resolution: time.Minute},
		"tags and tags_search":     {StartTime: start, Resolution: time.Minute, Tags: map[string][]string{"a": {"b"}}, TagsSearch: "a=b"},
		"group_by without func":    {StartTime: start, Resolution: time.Minute, GroupBy: []string{"region"}},
		"all with group_by":        {StartTime: start, Resolution: time.Minute, GroupBy: []string{"region"}, GroupByFunction: "sum", SummaryFunction: "all"},
		"bad group_by_function":    {StartTime: start, Resolution: time.Minute, GroupBy: []string{"r"}, GroupByFunction: "average"},
		"bad summary_function":     {StartTime: start, Resolution: time.Minute, SummaryFunction: "median"},
		"tag filter with no value": {StartTime: start, Resolution: time.Minute, Tags: map[string][]string{"a": nil}},
	}
	for name, q := range cases {
		c, mt := newMockClient(t)
		_, err := c.Measurements.List(context.Background(), "m", q)
		var ve *ValidationError
		assert.ErrorAs(t, err, &ve, name)
		assert.Zero(t, mt.GetTotalCallCount(), name)
	}
}

func TestMeasurementsAllFollowsNextLinks(t *testing.T) {
	c, mt := newMockClient(t)
	var queries []string
	mt.RegisterResponder("GET", testBase+"/v1/measurements/cpu", func(req *http.Request) (*http.Response, error) {
		queries = append(queries, req.URL.RawQuery)
		if req.URL.Query().Get("page") == "" {
			return httpmock.NewStringResponse(200, `{"name":"cpu","resolution":60,"series":[{"tags":{"h":"a"},"measurements":[]}],
				"links":[{"rel":"prev","href":"https://evil.example/x"},{"rel":"next","href":"`+testBase+`/v1/measurements/cpu?page=opaque%3D%3D&resolution=60"}]}`), nil
		}
		return httpmock.NewStringResponse(200, `{"name":"cpu","resolution":60,"series":[{"tags":{"h":"b"},"measurements":[]}]}`), nil
	})
	var hosts []string
	for s, err := range c.Measurements.All(context.Background(), "cpu", &MeasurementsQuery{Duration: time.Hour, Resolution: time.Minute}) {
		require.NoError(t, err)
		hosts = append(hosts, s.Tags["h"])
	}
	assert.Equal(t, []string{"a", "b"}, hosts)
	require.Len(t, queries, 2)
	assert.Equal(t, "page=opaque%3D%3D&resolution=60", queries[1], "the next href is requested exactly as given")
}

func TestMeasurementsAllRefusesForeignNextLink(t *testing.T) {
	c, mt := newMockClient(t)
	mt.RegisterResponder("GET", testBase+"/v1/measurements/cpu", httpmock.NewStringResponder(200,
		`{"series":[{"measurements":[]}],"links":[{"rel":"next","href":"https://evil.example/v1/measurements/cpu?page=2"}]}`))
	var errs []error
	n := 0
	for _, err := range c.Measurements.All(context.Background(), "cpu", &MeasurementsQuery{Duration: time.Hour, Resolution: time.Minute}) {
		n++
		if err != nil {
			errs = append(errs, err)
		}
	}
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "evil.example")
	assert.Equal(t, 1, mt.GetTotalCallCount(), "credentials never go to another host")
}

func TestMeasurementsCompose(t *testing.T) {
	c, mt := newMockClient(t)
	got := capture(mt, 200, `[{"tags":{"host":"x"},"measurements":[{"time":1,"value":2}],"metric":{"name":"m","type":"gauge","attributes":{},"period":60},"period":60}]`)
	series, err := c.Measurements.Compose(context.Background(), &CompositeQuery{
		Compose: `derive(s("m", {"host":"x"}), {detect_reset: "true"})`, StartTime: time.Unix(100, 0), EndTime: time.Unix(200, 0), Resolution: time.Minute,
	})
	require.NoError(t, err)
	require.Len(t, series, 1)
	assert.Equal(t, "m", series[0].Metric.Name)
	assert.Equal(t, 60, series[0].Period)
	r := (*got)[0]
	assert.Equal(t, "/prefix/v1/measurements", r.path)
	q, _ := url.ParseQuery(r.query)
	assert.Equal(t, url.Values{"compose": {`derive(s("m", {"host":"x"}), {detect_reset: "true"})`}, "start_time": {"100"}, "end_time": {"200"}, "resolution": {"60"}}, q)

	for _, bad := range []*CompositeQuery{nil, {StartTime: time.Unix(1, 0), Resolution: time.Minute}, {Compose: "s()", Resolution: time.Minute}, {Compose: "s()", StartTime: time.Unix(1, 0)}, {Compose: "s()", StartTime: time.Unix(10, 0), EndTime: time.Unix(5, 0), Resolution: time.Minute}} {
		_, err := c.Measurements.Compose(context.Background(), bad)
		var ve *ValidationError
		assert.ErrorAs(t, err, &ve)
	}
	assert.Len(t, *got, 1)
}

// TestMetricsBatchUpdateAttributesAtTopLevel sends the reference's two
// batch update examples (librato/api-docs, source/includes/_metrics.md:
// names[]=cpu&names[]=servers&names[]=reqs&period=60&display_min=0, and
// names=*.time&display_units_short=ms) as JSON, every attribute beside the
// properties, as the examples have them.
func TestMetricsBatchUpdateAttributesAtTopLevel(t *testing.T) {
	c, mt := newMockClient(t)
	got := capture(mt, 204, ``)
	_, err := c.Metrics.UpdateBatch(context.Background(), &MetricsBatchUpdate{
		MetricNames: MetricNames{Names: []string{"cpu", "servers", "reqs"}},
		Period:      Ptr(60),
		DisplayName: Ptr("CPU"),
		Description: Ptr("all of them"),
		Attributes:  &MetricAttributes{DisplayMin: Ptr(0.0), DisplayStacked: Ptr(false), Color: "#52D74C"},
	})
	require.NoError(t, err)
	var body map[string]any
	require.NoError(t, json.Unmarshal([]byte((*got)[0].body), &body))
	assert.Equal(t, map[string]any{
		"names": []any{"cpu", "servers", "reqs"}, "period": float64(60), "display_name": "CPU", "description": "all of them",
		"display_min": float64(0), "display_stacked": false, "color": "#52D74C",
	}, body)
	assert.NotContains(t, body, "attributes")

	got = capture(mt, 204, ``)
	_, err = c.Metrics.UpdateBatch(context.Background(), &MetricsBatchUpdate{MetricNames: MetricNames{Pattern: "*.time"}, Attributes: &MetricAttributes{DisplayUnitsShort: "ms"}})
	require.NoError(t, err)
	assert.Equal(t, `{"names":"*.time","display_units_short":"ms"}`, (*got)[0].body)
}

// TestPointsKeepEveryField reads a summary_function=all answer, whose point
// shape the reference leaves undocumented: every summary the server sends
// is kept, a plain point re-encodes as exactly {"time","value"}, and a
// composite series keeps the same fields.
func TestPointsKeepEveryField(t *testing.T) {
	c, mt := newMockClient(t)
	capture(mt, 200, `{"name":"cpu","resolution":60,"series":[{"tags":{"host":"a"},"measurements":[
		{"time":60,"value":2.5,"count":4,"sum":10,"min":0,"max":4.5,"last":3,"stddev":1.25},
		{"time":120,"value":7}]}]}`)
	page, err := c.Measurements.List(context.Background(), "cpu", &MeasurementsQuery{StartTime: time.Unix(1, 0), Resolution: time.Minute, SummaryFunction: "all"})
	require.NoError(t, err)
	pts := page.Series[0].Measurements
	require.Len(t, pts, 2)
	assert.Equal(t, Point{Time: 60, Value: 2.5, Count: ptr[int64](4), Sum: Ptr(10.0), Min: Ptr(0.0), Max: Ptr(4.5), Last: Ptr(3.0), StdDev: Ptr(1.25)}, pts[0])
	assert.Equal(t, Point{Time: 120, Value: 7}, pts[1], "a plain point has no summary")
	raw, err := json.Marshal(pts[1])
	require.NoError(t, err)
	assert.Equal(t, `{"time":120,"value":7}`, string(raw))
	raw, err = json.Marshal(pts[0])
	require.NoError(t, err)
	assert.JSONEq(t, `{"time":60,"value":2.5,"count":4,"sum":10,"min":0,"max":4.5,"last":3,"stddev":1.25}`, string(raw), "min 0 is kept, not dropped as empty")

	capture(mt, 200, `[{"tags":{"host":"a"},"measurements":[{"time":60,"value":1,"count":2,"sum":2,"min":0.5,"max":1.5,"last":1.5,"stddev":0.5}],"period":60}]`)
	series, err := c.Measurements.Compose(context.Background(), &CompositeQuery{Compose: `s("cpu","*")`, StartTime: time.Unix(1, 0), Resolution: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, []Point{{Time: 60, Value: 1, Count: ptr[int64](2), Sum: Ptr(2.0), Min: Ptr(0.5), Max: Ptr(1.5), Last: Ptr(1.5), StdDev: Ptr(0.5)}}, series[0].Measurements)
}

func ptr[T any](v T) *T { return &v }

const metricBody = `{"name":"cpu_temp","display_name":"cpu_temp","description":"Current CPU temperature in Fahrenheit",
	"period":60,"type":"gauge","source_lag":null,"new_field":[1,2],
	"attributes":{"created_by_ua":"librato-metrics/0.7.4","display_max":null,"display_min":0,"display_stacked":true,
	"display_units_long":"Fahrenheit","display_units_short":"°F","gap_detection":true,"color":"#52D74C","summarize_function":"average","aggregate":false}}`

func TestMetricsGetDecodes(t *testing.T) {
	c, mt := newMockClient(t)
	got := capture(mt, 200, metricBody)
	m, err := c.Metrics.Get(context.Background(), "cpu_temp")
	require.NoError(t, err)
	assert.Equal(t, "/prefix/v1/metrics/cpu_temp", (*got)[0].path)
	assert.Equal(t, "cpu_temp", m.Name)
	assert.Equal(t, "gauge", m.Type)
	assert.Equal(t, "Current CPU temperature in Fahrenheit", *m.Description)
	assert.Equal(t, 60, *m.Period)
	assert.Nil(t, m.SourceLag)
	require.NotNil(t, m.Attributes)
	assert.Nil(t, m.Attributes.DisplayMax)
	assert.Equal(t, 0.0, *m.Attributes.DisplayMin)
	assert.True(t, *m.Attributes.DisplayStacked)
	assert.Equal(t, "°F", m.Attributes.DisplayUnitsShort)
	assert.Equal(t, "librato-metrics/0.7.4", m.Attributes.CreatedByUA)
	assert.False(t, *m.Attributes.Aggregate)
}

func TestMetricsListRequest(t *testing.T) {
	c, mt := newMockClient(t)
	got := capture(mt, 200, `{"query":{"found":1,"length":1,"offset":0,"total":2},"metrics":[`+metricBody+`]}`)
	list, err := c.Metrics.List(context.Background(), &ListOptions{Name: "request", Offset: 5, Length: 10, OrderBy: "name", Sort: "desc"})
	require.NoError(t, err)
	assert.Equal(t, Query{Found: 1, Length: 1, Offset: 0, Total: 2}, list.Query)
	require.Len(t, list.Metrics, 1)
	r := (*got)[0]
	assert.Equal(t, "GET", r.method)
	assert.Equal(t, "/prefix/v1/metrics", r.path)
	q, _ := url.ParseQuery(r.query)
	assert.Equal(t, url.Values{"name": {"request"}, "offset": {"5"}, "length": {"10"}, "orderby": {"name"}, "sort": {"desc"}}, q)

	_, err = c.Metrics.List(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, (*got)[1].query)
}

func TestMetricsUpdate(t *testing.T) {
	c, mt := newMockClient(t)
	got := capture(mt, 201, `{"name":"cpu","type":"gauge","period":60}`, "Location", "/v1/metrics/cpu")
	err := c.Metrics.Update(context.Background(), "cpu", &MetricUpdate{Type: Ptr("gauge"), Period: Ptr(60), Attributes: &MetricAttributes{DisplayMin: Ptr(0.0), DisplayStacked: Ptr(false)}})
	require.NoError(t, err, "201: created")
	r := (*got)[0]
	assert.Equal(t, "PUT", r.method)
	assert.Equal(t, "/prefix/v1/metrics/cpu", r.path)
	assert.JSONEq(t, `{"type":"gauge","period":60,"attributes":{"display_min":0,"display_stacked":false}}`, r.body)

	got = capture(mt, 204, ``)
	err = c.Metrics.Update(context.Background(), "cpu", &MetricUpdate{Description: Ptr("")})
	require.NoError(t, err, "204: updated, no body")
	assert.JSONEq(t, `{"description":""}`, (*got)[0].body, "only what was set is sent; an empty string clears")

	got = capture(mt, 201, `{"name":"cpu.comp","type":"composite","composite":"s(\"cpu\", \"*\")"}`)
	err = c.Metrics.Update(context.Background(), "cpu.comp", &MetricUpdate{Type: Ptr(MetricTypeComposite), Composite: Ptr(`s("cpu", "*")`), DisplayName: Ptr("CPU composite")})
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"composite","composite":"s(\"cpu\", \"*\")","display_name":"CPU composite"}`, (*got)[0].body)

	for _, bad := range []*MetricUpdate{{Type: Ptr("counter2")}, {Type: Ptr(MetricTypeComposite)}, {Composite: Ptr("s()")}, {Period: Ptr(0)}, {Attributes: &MetricAttributes{SummarizeFunction: "median"}}, {Attributes: &MetricAttributes{DisplayMax: Ptr(math.Inf(1))}}} {
		err := c.Metrics.Update(context.Background(), "cpu", bad)
		var ve *ValidationError
		assert.ErrorAs(t, err, &ve)
	}
	assert.Len(t, *got, 1)
}

func TestMetricsDelete(t *testing.T) {
	c, mt := newMockClient(t)
	got := capture(mt, 204, ``)
	require.NoError(t, c.Metrics.Delete(context.Background(), "cpu"))
	assert.Equal(t, captured{"DELETE", "/prefix/v1/metrics/cpu", "", "", (*got)[0].auth}, (*got)[0])
}

func TestMetricsBatch(t *testing.T) {
	ctx := context.Background()
	c, mt := newMockClient(t)
	got := capture(mt, 204, ``)
	job, err := c.Metrics.UpdateBatch(ctx, &MetricsBatchUpdate{MetricNames: MetricNames{Names: []string{"cpu", "mem"}}, Period: Ptr(60), Attributes: &MetricAttributes{DisplayUnitsShort: "%"}})
	require.NoError(t, err)
	assert.Equal(t, &Job{State: JobComplete}, job, "204: applied at once")
	r := (*got)[0]
	assert.Equal(t, "PUT", r.method)
	assert.Equal(t, "/prefix/v1/metrics", r.path)
	// The reference's batch examples send attributes at the top level
	// (names[]=...&display_min=0&display_units_short=...), not nested.
	assert.JSONEq(t, `{"names":["cpu","mem"],"period":60,"display_units_short":"%"}`, r.body)

	got = capture(mt, 202, ``, "Location", "https://metrics-api.librato.com/v1/jobs/123456789")
	job, err = c.Metrics.UpdateBatch(ctx, &MetricsBatchUpdate{MetricNames: MetricNames{Pattern: "*.time"}, DisplayName: Ptr("t")})
	require.NoError(t, err)
	require.NotNil(t, job)
	assert.Equal(t, int64(123456789), job.ID)
	assert.Equal(t, JobQueued, job.State)
	assert.JSONEq(t, `{"names":"*.time","display_name":"t"}`, (*got)[0].body)

	got = capture(mt, 202, `{"id":77,"state":"working","progress":12.5}`, "Location", "/v1/jobs/77")
	job, err = c.Metrics.DeleteBatch(ctx, &MetricsBatchDelete{MetricNames{Pattern: "cpu*.90"}})
	require.NoError(t, err)
	assert.Equal(t, &Job{ID: 77, State: JobWorking, Progress: Ptr(12.5)}, job)
	r = (*got)[0]
	assert.Equal(t, "DELETE", r.method)
	assert.Equal(t, "/prefix/v1/metrics", r.path)
	assert.JSONEq(t, `{"names":"cpu*.90"}`, r.body)

	got = capture(mt, 204, ``)
	job, err = c.Metrics.DeleteBatch(ctx, &MetricsBatchDelete{MetricNames{Names: []string{"a", "b"}}})
	require.NoError(t, err)
	assert.Equal(t, &Job{State: JobComplete}, job, "204: done at once")
	assert.JSONEq(t, `{"names":["a","b"]}`, (*got)[0].body)

	for _, bad := range []MetricNames{{}, {Names: []string{"a"}, Pattern: "b*"}, {Pattern: "plain"}, {Names: []string{"bad name"}}} {
		_, err := c.Metrics.DeleteBatch(ctx, &MetricsBatchDelete{bad})
		var ve *ValidationError
		assert.ErrorAs(t, err, &ve, "%+v", bad)
		_, err = c.Metrics.UpdateBatch(ctx, &MetricsBatchUpdate{MetricNames: bad})
		assert.ErrorAs(t, err, &ve, "%+v", bad)
	}
	_, err = c.Metrics.DeleteBatch(ctx, nil)
	assert.Error(t, err)
	assert.Len(t, *got, 1)
}

func TestMeasurementMarshalJSON(t *testing.T) {
	b, err := json.Marshal(Measurement{Name: "m", Count: 2, Sum: Ptr(3.0), Value: 99})
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"m","count":2,"sum":3}`, string(b), "a summary sends no value")
	b, err = json.Marshal(&MeasurementBatch{Measurements: []Measurement{{Name: "m", Value: 0}}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"measurements":[{"name":"m","value":0}]}`, string(b), "a zero value is still sent")
}
