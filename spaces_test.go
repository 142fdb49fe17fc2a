package librato

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// famCall is one request a famResponder saw, with its body read.
type famCall struct {
	Method string
	Path   string // escaped path, base path included
	Query  map[string][]string
	Body   string
	Header http.Header
}

// famCalls collects what a responder saw; safe for the retry goroutines.
type famCalls struct {
	mu    sync.Mutex
	calls []famCall
}

func (c *famCalls) all() []famCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]famCall(nil), c.calls...)
}

// one returns the single call seen, failing the test if there were more or
// none.
func (c *famCalls) one(t *testing.T) famCall {
	t.Helper()
	all := c.all()
	require.Len(t, all, 1, "calls seen")
	return all[0]
}

// famRespond registers a responder for method and path (under testBase)
// that records each request and answers status with body (JSON), plus a
// Location header when location is not empty.
func famRespond(t *testing.T, mt *httpmock.MockTransport, method, path string, status int, body, location string) *famCalls {
	t.Helper()
	rec := &famCalls{}
	mt.RegisterResponder(method, testBase+path, func(req *http.Request) (*http.Response, error) {
		var b []byte
		if req.Body != nil {
			var err error
			b, err = readRequestBody(req)
			if err != nil {
				return nil, err
			}
		}
		rec.mu.Lock()
		rec.calls = append(rec.calls, famCall{Method: req.Method, Path: req.URL.EscapedPath(), Query: req.URL.Query(), Body: string(b), Header: req.Header.Clone()})
		rec.mu.Unlock()
		resp := httpmock.NewStringResponse(status, body)
		resp.Header.Set("Content-Type", "application/json")
		if location != "" {
			resp.Header.Set("Location", location)
		}
		return resp, nil
	})
	return rec
}

// famAssertRequest checks method, escaped path and Basic auth of a call.
func famAssertRequest(t *testing.T, c famCall, method, path string) {
	t.Helper()
	assert.Equal(t, method, c.Method)
	assert.Equal(t, "/prefix"+path, c.Path)
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(testEmail+":"+testToken))
	assert.Equal(t, want, c.Header.Get("Authorization"))
}

// famRequireInvalid checks err is a *ValidationError about field and that
// nothing was sent.
func famRequireInvalid(t *testing.T, mt *httpmock.MockTransport, err error, field string) {
	t.Helper()
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	if field != "" {
		assert.Equal(t, field, ve.Field, ve.Error())
	}
	assert.Zero(t, mt.GetTotalCallCount(), "a rejected call must send nothing")
}

// --- spaces ---

func TestSpacesList(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "GET", "/v1/spaces", 200, `{
	  "query": {"found": 1, "length": 10, "offset": 5, "total": 15},
	  "spaces": [{"id": 4, "name": "staging_ops", "owner": "x"}],
	  "extra": true
	}`, "")
	page, err := c.Spaces.List(context.Background(), &ListOptions{Name: "ops", Offset: 5, Length: 10, OrderBy: "name", Sort: "desc"})
	require.NoError(t, err)
	call := rec.one(t)
	famAssertRequest(t, call, "GET", "/v1/spaces")
	assert.Equal(t, map[string][]string{"name": {"ops"}, "offset": {"5"}, "length": {"10"}, "orderby": {"name"}, "sort": {"desc"}}, call.Query)
	assert.Empty(t, call.Body)
	assert.Equal(t, Query{Found: 1, Length: 10, Offset: 5, Total: 15}, page.Query)
	assert.Equal(t, []Space{{ID: 4, Name: "staging_ops"}}, page.Spaces)
}

func TestSpacesListNilOptions(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "GET", "/v1/spaces", 200, `{"query":{"found":0,"length":100,"offset":0,"total":0},"spaces":[]}`, "")
	page, err := c.Spaces.List(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, rec.one(t).Query)
	assert.Empty(t, page.Spaces)
}

func TestSpacesListInvalidOptions(t *testing.T) {
	c, mt := newMockClient(t)
	_, err := c.Spaces.List(context.Background(), &ListOptions{Length: 101})
	famRequireInvalid(t, mt, err, "length")
}

func TestSpacesAll(t *testing.T) {
	c, mt := newMockClient(t)
	var offsets []string
	mt.RegisterResponder("GET", testBase+"/v1/spaces", func(req *http.Request) (*http.Response, error) {
		q := req.URL.Query()
		assert.Equal(t, "db", q.Get("name"))
		assert.Equal(t, "2", q.Get("length"))
		offsets = append(offsets, q.Get("offset"))
		if q.Get("offset") == "" {
			return httpmock.NewStringResponse(200, `{"query":{"found":3,"length":2,"offset":0,"total":9},"spaces":[{"id":1,"name":"db1"},{"id":2,"name":"db2"}]}`), nil
		}
		return httpmock.NewStringResponse(200, `{"query":{"found":3,"length":2,"offset":2,"total":9},"spaces":[{"id":3,"name":"db3"}]}`), nil
	})
	var names []string
	for sp, err := range c.Spaces.All(context.Background(), &ListOptions{Name: "db", Length: 2}) {
		require.NoError(t, err)
		names = append(names, sp.Name)
	}
	assert.Equal(t, []string{"db1", "db2", "db3"}, names)
	assert.Equal(t, []string{"", "2"}, offsets)
}

func TestSpacesAllStopsOnError(t *testing.T) {
	c, mt := newMockClient(t, WithoutRetries())
	famRespond(t, mt, "GET", "/v1/spaces", 404, `{"errors":{"request":["nope"]}}`, "")
	n := 0
	for _, err := range c.Spaces.All(context.Background(), nil) {
		n++
		require.ErrorIs(t, err, ErrNotFound)
	}
	assert.Equal(t, 1, n)
}

func TestSpacesGet(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "GET", "/v1/spaces/129", 200, `{"name":"Production","id":129,"charts":[{"id":915},{"id":1321}],"created_at":1}`, "")
	sp, err := c.Spaces.Get(context.Background(), 129)
	require.NoError(t, err)
	famAssertRequest(t, rec.one(t), "GET", "/v1/spaces/129")
	assert.Equal(t, &Space{ID: 129, Name: "Production", Charts: []ChartRef{{ID: 915}, {ID: 1321}}}, sp)
}

func TestSpacesGetNotFound(t *testing.T) {
	c, mt := newMockClient(t)
	famRespond(t, mt, "GET", "/v1/spaces/7", 404, `{"errors":{"request":["space not found"]}}`, "")
	_, err := c.Spaces.Get(context.Background(), 7)
	require.ErrorIs(t, err, ErrNotFound)
}

func TestSpacesCreate(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "POST", "/v1/spaces", 201, `{"id":129,"name":"My Space","unknown":[1]}`, "/v1/spaces/129")
	// A space read from the API can be passed back: only the name is sent.
	sp, err := c.Spaces.Create(context.Background(), &Space{ID: 5, Name: "My Space", Charts: []ChartRef{{ID: 1}}})
	require.NoError(t, err)
	call := rec.one(t)
	famAssertRequest(t, call, "POST", "/v1/spaces")
	assert.JSONEq(t, `{"name":"My Space"}`, call.Body)
	assert.Equal(t, "application/json", call.Header.Get("Content-Type"))
	assert.Equal(t, &Space{ID: 129, Name: "My Space"}, sp)
}

func TestSpacesCreateIDFromLocation(t *testing.T) {
	c, mt := newMockClient(t)
	famRespond(t, mt, "POST", "/v1/spaces", 201, ``, "https://api.test/prefix/v1/spaces/130")
	sp, err := c.Spaces.Create(context.Background(), &Space{Name: "Ops"})
	require.NoError(t, err)
	assert.Equal(t, &Space{ID: 130, Name: "Ops"}, sp)
}

func TestSpacesCreateDuplicate(t *testing.T) {
	c, mt := newMockClient(t)
	famRespond(t, mt, "POST", "/v1/spaces", 422, `{"errors":{"params":{"name":["is not unique"]}}}`, "")
	_, err := c.Spaces.Create(context.Background(), &Space{Name: "Ops"})
	require.ErrorIs(t, err, ErrAlreadyExists)
}

func TestSpacesUpdate(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "PUT", "/v1/spaces/129", 204, ``, "")
	err := c.Spaces.Update(context.Background(), 129, &SpaceUpdate{Name: Ptr("Renamed")})
	require.NoError(t, err)
	call := rec.one(t)
	famAssertRequest(t, call, "PUT", "/v1/spaces/129")
	assert.JSONEq(t, `{"name":"Renamed"}`, call.Body)
}

func TestSpacesDelete(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "DELETE", "/v1/spaces/129", 204, ``, "")
	require.NoError(t, c.Spaces.Delete(context.Background(), 129))
	call := rec.one(t)
	famAssertRequest(t, call, "DELETE", "/v1/spaces/129")
	assert.Empty(t, call.Body)
}

func TestSpacesValidation(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		field string
		call  func(c *Client) error
	}{
		{"create nil", "name", func(c *Client) error { _, err := c.Spaces.Create(ctx, nil); return err }},
		{"create no name", "name", func(c *Client) error { _, err := c.Spaces.Create(ctx, &Space{}); return err }},
		{"create blank name", "name", func(c *Client) error { _, err := c.Spaces.Create(ctx, &Space{Name: "  "}); return err }},
		{"update no name", "name", func(c *Client) error { return c.Spaces.Update(ctx, 1, &SpaceUpdate{}) }},
		{"update nil", "name", func(c *Client) error { return c.Spaces.Update(ctx, 1, nil) }},
		{"update blank name", "name", func(c *Client) error { return c.Spaces.Update(ctx, 1, &SpaceUpdate{Name: Ptr(" ")}) }},
		{"update id 0", "id", func(c *Client) error { return c.Spaces.Update(ctx, 0, &SpaceUpdate{Name: Ptr("x")}) }},
		{"get id 0", "id", func(c *Client) error { _, err := c.Spaces.Get(ctx, 0); return err }},
		{"delete negative id", "id", func(c *Client) error { return c.Spaces.Delete(ctx, -4) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			famRequireInvalid(t, mt, tc.call(c), tc.field)
		})
	}
}

func TestSpacesGuardViewOnly(t *testing.T) {
	c, mt := newMockClient(t, WithRole(RoleViewOnly))
	famRespond(t, mt, "GET", "/v1/spaces/1", 200, `{"id":1,"name":"a"}`, "")
	_, err := c.Spaces.Get(context.Background(), 1)
	require.NoError(t, err)
	_, err = c.Spaces.Create(context.Background(), &Space{Name: "a"})
	var fe *ErrForbiddenForRole
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "/v1/spaces", fe.Endpoint)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

// --- charts ---

const chartBodyExample = `{
  "id": 1234567,
  "name": "CPU Usage",
  "type": "line",
  "streams": [
    {
      "id": 27035309,
      "metric": "cpu.percent.idle",
      "type": "gauge",
      "tags": [{"name": "environment", "values": ["prod"], "dynamic": true}],
      "group_function": "average",
      "summary_function": "average",
      "color": "#ff00AA",
      "units_short": "%",
      "units_long": "percent",
      "min": 0,
      "max": 100,
      "transform_function": "x/p",
      "period": 60,
      "split_axis": true,
      "position": 0
    },
    {
      "id": 27035310,
      "composite": "s(\"cpu.percent.user\", {\"environment\": \"prod\"})",
      "type": "composite",
      "downsample_function": "max"
    }
  ],
  "thresholds": null,
  "label": "percent",
  "related_space": 99,
  "min": 0,
  "max": 100.5,
  "unknown_field": {"a": 1}
}`

func chartExample() Chart {
	return Chart{
		ID:   1234567,
		Name: "CPU Usage",
		Type: ChartTypeLine,
		Streams: []ChartStream{
			{
				ID: 27035309, Metric: "cpu.percent.idle", Type: "gauge",
				Tags:          []StreamTag{{Name: "environment", Values: []string{"prod"}, Dynamic: true}},
				GroupFunction: "average", SummaryFunction: "average", Color: "#ff00AA",
				UnitsShort: "%", UnitsLong: "percent", Min: Ptr(0.0), Max: Ptr(100.0),
				TransformFunction: "x/p", Period: 60, SplitAxis: Ptr(true),
			},
			{ID: 27035310, Composite: `s("cpu.percent.user", {"environment": "prod"})`, Type: "composite", DownsampleFunction: "max"},
		},
		Label:        "percent",
		RelatedSpace: 99,
		Min:          Ptr(0.0),
		Max:          Ptr(100.5),
	}
}

func TestChartsList(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "GET", "/v1/spaces/129/charts", 200, `[`+chartBodyExample+`,
	  {"id": 2, "name": "Big", "type": "bignumber", "streams": [], "thresholds": [{"operator": ">", "value": 90, "type": "red"}]}]`, "")
	charts, err := c.Charts.List(context.Background(), 129)
	require.NoError(t, err)
	call := rec.one(t)
	famAssertRequest(t, call, "GET", "/v1/spaces/129/charts")
	assert.Empty(t, call.Query, "charts are not paginated")
	require.Len(t, charts, 2)
	assert.Equal(t, chartExample(), charts[0])
	assert.Equal(t, Chart{ID: 2, Name: "Big", Type: ChartTypeBigNumber, Streams: []ChartStream{},
		Thresholds: []ChartThreshold{{Operator: ThresholdAbove, Value: 90, Type: ThresholdRed}}}, charts[1])
}

func TestChartsGet(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "GET", "/v1/spaces/129/charts/1234567", 200, chartBodyExample, "")
	ch, err := c.Charts.Get(context.Background(), 129, 1234567)
	require.NoError(t, err)
	famAssertRequest(t, rec.one(t), "GET", "/v1/spaces/129/charts/1234567")
	want := chartExample()
	assert.Equal(t, &want, ch)
}

func TestChartsCreate(t *testing.T) {
	c, mt := newMockClient(t)
	// The API's Location for a new chart names the space; the id must come
	// from the body.
	rec := famRespond(t, mt, "POST", "/v1/spaces/129/charts", 201, chartBodyExample, "/v1/spaces/129")
	in := &Chart{
		Name: "CPU Usage",
		Type: ChartTypeLine,
		Streams: []ChartStream{
			{Metric: "cpu.percent.idle", Tags: []StreamTag{{Name: "environment", Dynamic: true}}, SplitAxis: Ptr(false)},
			{Metric: "cpu.percent.user", Tags: []StreamTag{{Name: "environment", Values: []string{"prod"}, Grouped: true}}, Min: Ptr(0.0)},
		},
	}
	ch, err := c.Charts.Create(context.Background(), 129, in)
	require.NoError(t, err)
	call := rec.one(t)
	famAssertRequest(t, call, "POST", "/v1/spaces/129/charts")
	assert.JSONEq(t, `{
	  "name": "CPU Usage",
	  "type": "line",
	  "streams": [
	    {"metric": "cpu.percent.idle", "tags": [{"name": "environment", "dynamic": true}], "split_axis": false},
	    {"metric": "cpu.percent.user", "tags": [{"name": "environment", "values": ["prod"], "grouped": true}], "min": 0}
	  ]
	}`, call.Body)
	assert.EqualValues(t, 1234567, ch.ID)
	assert.EqualValues(t, 27035309, ch.Streams[0].ID)
}

// TestChartsCreateSendsNoID: a chart read from the API can be created
// again (in another space); its id is the server's and is not sent.
func TestChartsCreateSendsNoID(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "POST", "/v1/spaces/5/charts", 201, chartBodyExample, "/v1/spaces/5")
	in := chartExample()
	_, err := c.Charts.Create(context.Background(), 5, &in)
	require.NoError(t, err)
	var sent map[string]any
	require.NoError(t, json.Unmarshal([]byte(rec.one(t).Body), &sent))
	assert.NotContains(t, sent, "id")
	assert.Equal(t, "CPU Usage", sent["name"])
	assert.Len(t, sent["streams"], 2)
}

func TestChartsCreateBigNumber(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "POST", "/v1/spaces/1/charts", 201, `{"id":5,"name":"Load","type":"bignumber","streams":[{"id":9,"metric":"load","type":"gauge"}],"thresholds":[{"operator":"<","value":0.5,"type":"yellow"}]}`, "/v1/spaces/1")
	in := &Chart{Name: "Load", Type: ChartTypeBigNumber, Streams: []ChartStream{{Metric: "load"}},
		Thresholds: []ChartThreshold{{Operator: ThresholdBelow, Value: 0.5, Type: ThresholdYellow}}}
	ch, err := c.Charts.Create(context.Background(), 1, in)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"Load","type":"bignumber","streams":[{"metric":"load"}],"thresholds":[{"operator":"<","value":0.5,"type":"yellow"}]}`, rec.one(t).Body)
	assert.Equal(t, in.Thresholds, ch.Thresholds)
}

func TestChartsUpdateSendsOnlySetFields(t *testing.T) {
	resp := `{"id":7,"name":"Renamed","type":"line","streams":[{"id":1,"metric":"a","type":"gauge"}],"thresholds":null}`
	cases := []struct {
		name string
		in   *ChartUpdate
		want string
	}{
		{"name only", &ChartUpdate{Name: Ptr("Renamed")}, `{"name":"Renamed"}`},
		{"axis", &ChartUpdate{Min: Ptr(0.0), Max: Ptr(10.0), Label: Ptr("ms")}, `{"min":0,"max":10,"label":"ms"}`},
		{"clear label", &ChartUpdate{Label: Ptr("")}, `{"label":""}`},
		{"replace streams", &ChartUpdate{Streams: []ChartStream{{ID: 1, Metric: "a"}, {Composite: `s("b","*")`}}},
			`{"streams":[{"id":1,"metric":"a"},{"composite":"s(\"b\",\"*\")"}]}`},
		{"clear streams", &ChartUpdate{Streams: []ChartStream{}}, `{"streams":[]}`},
		{"type and thresholds", &ChartUpdate{Type: Ptr(ChartTypeBigNumber), Thresholds: []ChartThreshold{{Operator: "=", Value: 0, Type: "red"}}},
			`{"type":"bignumber","thresholds":[{"operator":"=","value":0,"type":"red"}]}`},
		{"related space", &ChartUpdate{RelatedSpace: Ptr(int64(12))}, `{"related_space":12}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			rec := famRespond(t, mt, "PUT", "/v1/spaces/3/charts/7", 200, resp, "")
			require.NoError(t, c.Charts.Update(context.Background(), 3, 7, tc.in))
			call := rec.one(t)
			famAssertRequest(t, call, "PUT", "/v1/spaces/3/charts/7")
			assert.JSONEq(t, tc.want, call.Body)
		})
	}
}

func TestChartsUpdateRoundTrip(t *testing.T) {
	// The fields of a chart read from the API, sent back unchanged, encode
	// to what they were decoded from (unknown ones aside, and the id, which
	// is the path's).
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "PUT", "/v1/spaces/3/charts/1234567", 200, chartBodyExample, "")
	in := chartExample()
	require.NoError(t, c.Charts.Update(context.Background(), 3, 1234567, &ChartUpdate{
		Name: &in.Name, Type: &in.Type, Streams: in.Streams, Min: in.Min, Max: in.Max,
		Label: &in.Label, RelatedSpace: &in.RelatedSpace, Thresholds: in.Thresholds,
	}))
	assert.JSONEq(t, `{
	  "name": "CPU Usage", "type": "line", "label": "percent", "related_space": 99, "min": 0, "max": 100.5,
	  "streams": [
	    {"id": 27035309, "metric": "cpu.percent.idle", "type": "gauge",
	     "tags": [{"name": "environment", "values": ["prod"], "dynamic": true}],
	     "group_function": "average", "summary_function": "average", "color": "#ff00AA",
	     "units_short": "%", "units_long": "percent", "min": 0, "max": 100,
	     "transform_function": "x/p", "period": 60, "split_axis": true},
	    {"id": 27035310, "composite": "s(\"cpu.percent.user\", {\"environment\": \"prod\"})", "type": "composite", "downsample_function": "max"}
	  ]
	}`, rec.one(t).Body)
}

func TestChartsDelete(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "DELETE", "/v1/spaces/3/charts/7", 204, ``, "")
	require.NoError(t, c.Charts.Delete(context.Background(), 3, 7))
	famAssertRequest(t, rec.one(t), "DELETE", "/v1/spaces/3/charts/7")
}

func TestChartsValidation(t *testing.T) {
	ctx := context.Background()
	okStream := []ChartStream{{Metric: "cpu"}}
	create := func(ch *Chart) func(c *Client) error {
		return func(c *Client) error { _, err := c.Charts.Create(ctx, 1, ch); return err }
	}
	update := func(u *ChartUpdate) func(c *Client) error {
		return func(c *Client) error { return c.Charts.Update(ctx, 1, 2, u) }
	}
	stream := func(s ChartStream) func(c *Client) error {
		return create(&Chart{Name: "c", Streams: []ChartStream{{Metric: "ok"}, s}})
	}
	cases := []struct {
		name  string
		field string
		call  func(c *Client) error
	}{
		{"create nil", "name", create(nil)},
		{"create no name", "name", create(&Chart{Streams: okStream})},
		{"create blank name", "name", create(&Chart{Name: " ", Streams: okStream})},
		{"bad type", "type", create(&Chart{Name: "c", Type: "pie"})},
		{"bignumber without thresholds", "thresholds", create(&Chart{Name: "c", Type: ChartTypeBigNumber, Streams: okStream})},
		{"threshold operator", "thresholds[0].operator", create(&Chart{Name: "c", Type: ChartTypeBigNumber, Thresholds: []ChartThreshold{{Operator: ">=", Type: "red"}}})},
		{"threshold type", "thresholds[0].type", create(&Chart{Name: "c", Type: ChartTypeBigNumber, Thresholds: []ChartThreshold{{Operator: ">", Type: "green"}}})},
		{"min above max", "min", create(&Chart{Name: "c", Min: Ptr(5.0), Max: Ptr(1.0)})},
		{"stream without metric or composite", "streams[1].metric", stream(ChartStream{Color: "#000000"})},
		{"composite with metric", "streams[1].composite", stream(ChartStream{Composite: `s("a","*")`, Metric: "a"})},
		{"composite with tags", "streams[1].composite", stream(ChartStream{Composite: `s("a","*")`, Tags: []StreamTag{{Name: "h"}}})},
		{"composite with group_function", "streams[1].composite", stream(ChartStream{Composite: `s("a","*")`, GroupFunction: "sum"})},
		{"bad metric name", "streams[1].metric", stream(ChartStream{Metric: "cpu load"})},
		{"bad tag name", "streams[1].tags[0].name", stream(ChartStream{Metric: "a", Tags: []StreamTag{{Name: ""}}})},
		{"group_function", "streams[1].group_function", stream(ChartStream{Metric: "a", GroupFunction: "mean"})},
		{"summary_function", "streams[1].summary_function", stream(ChartStream{Metric: "a", SummaryFunction: "derivative"})},
		{"downsample_function", "streams[1].downsample_function", stream(ChartStream{Composite: "x", DownsampleFunction: "breakout"})},
		{"color", "streams[1].color", stream(ChartStream{Metric: "a", Color: "red"})},
		{"short color", "streams[1].color", stream(ChartStream{Metric: "a", Color: "#fff"})},
		{"transform", "streams[1].transform_function", stream(ChartStream{Metric: "a", TransformFunction: "x^2"})},
		{"transform letters", "streams[1].transform_function", stream(ChartStream{Metric: "a", TransformFunction: "abs(x)"})},
		{"stream NaN max", "streams[1].max", stream(ChartStream{Metric: "a", Max: Ptr(famNaN())})},
		{"negative period", "streams[1].period", stream(ChartStream{Metric: "a", Period: -1})},
		{"update sets nothing", "chart", update(&ChartUpdate{})},
		{"update nil", "chart", update(nil)},
		{"update blank name", "name", update(&ChartUpdate{Name: Ptr(" ")})},
		{"update bad type", "type", update(&ChartUpdate{Type: Ptr("area")})},
		{"update empty type", "type", update(&ChartUpdate{Type: Ptr("")})},
		{"update min above max", "min", update(&ChartUpdate{Min: Ptr(5.0), Max: Ptr(1.0)})},
		{"update related space 0", "related_space", update(&ChartUpdate{RelatedSpace: Ptr(int64(0))})},
		{"update bad threshold", "thresholds[0].operator", update(&ChartUpdate{Thresholds: []ChartThreshold{{Operator: ">=", Type: "red"}}})},
		{"update bad stream", "streams[0].color", update(&ChartUpdate{Streams: []ChartStream{{Metric: "a", Color: "#12345G"}}})},
		{"space id 0", "id", func(c *Client) error { _, err := c.Charts.List(ctx, 0); return err }},
		{"chart id 0", "chart_id", func(c *Client) error { _, err := c.Charts.Get(ctx, 1, 0); return err }},
		{"delete chart id 0", "chart_id", func(c *Client) error { return c.Charts.Delete(ctx, 1, 0) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			famRequireInvalid(t, mt, tc.call(c), tc.field)
		})
	}
}

func famNaN() float64 {
	var zero float64
	return zero / zero
}

func TestChartsValidStreamsPass(t *testing.T) {
	c, mt := newMockClient(t)
	famRespond(t, mt, "POST", "/v1/spaces/1/charts", 201, `{"id":1}`, "")
	_, err := c.Charts.Create(context.Background(), 1, &Chart{Name: "ok", Type: ChartTypeStacked, Streams: []ChartStream{
		{Metric: "a.b:c-d_e", Tags: []StreamTag{{Name: "region", Values: []string{"us-west-*-app"}}}, GroupFunction: "breakout",
			SummaryFunction: "count", Color: "#A0b1C2", TransformFunction: "(x-32)*5/9", Period: 60},
		{Composite: `sum(s("a","*"))`, DownsampleFunction: "sum", SummaryFunction: "max"},
	}})
	require.NoError(t, err)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestValidTransform(t *testing.T) {
	for s, want := range map[string]bool{
		"x":          true,
		"x/p":        true,
		"(x-32)*5/9": true,
		"x * 2.5":    true,
		"1,000+x":    true,
		"":           false,
		"x^2":        false,
		"abs(x)":     false,
		"x;p":        false,
		"x\n":        false,
		"x%2":        false,
		"X":          false,
	} {
		assert.Equal(t, want, validTransform(s), "%q", s)
	}
}

func TestChartMarshalOmitsUnset(t *testing.T) {
	for _, tc := range []struct {
		in   Chart
		want string
	}{
		{Chart{}, `{}`},
		{Chart{Thresholds: []ChartThreshold{}}, `{"thresholds":[]}`},
		{Chart{Streams: []ChartStream{{Metric: "m", Min: Ptr(0.0), SplitAxis: Ptr(false)}}}, `{"streams":[{"metric":"m","min":0,"split_axis":false}]}`},
	} {
		b, err := json.Marshal(tc.in)
		require.NoError(t, err)
		assert.JSONEq(t, tc.want, string(b))
	}
}

func TestChartsGuardViewOnly(t *testing.T) {
	c, mt := newMockClient(t, WithRole(RoleViewOnly))
	famRespond(t, mt, "GET", "/v1/spaces/1/charts", 200, `[]`, "")
	_, err := c.Charts.List(context.Background(), 1)
	require.NoError(t, err)
	err = c.Charts.Update(context.Background(), 1, 2, &ChartUpdate{Name: Ptr("x")})
	require.True(t, errors.Is(err, ErrForbidden))
	var fe *ErrForbiddenForRole
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "/v1/spaces/:id/charts/:chart_id", fe.Endpoint)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}
