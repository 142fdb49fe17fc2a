package mock_test

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"testing"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// legacyRead reads GET /v1/metrics/:name?query and returns the body and
// its measurements by source.
func legacyRead(t *testing.T, w *wire, name, query string) (map[string]any, map[string][]map[string]any) {
	t.Helper()
	body := w.do("GET", "/v1/metrics/"+name+"?"+query, nil).requireStatus(t, 200).obj(t)
	out := map[string][]map[string]any{}
	ms, ok := body["measurements"].(map[string]any)
	require.True(t, ok, "no measurements in %v", body)
	for src, recs := range ms {
		for _, r := range recs.([]any) {
			out[src] = append(out[src], r.(map[string]any))
		}
	}
	return body, out
}

// The submission examples of the legacy reference (librato/api-docs,
// branch legacy, source/includes/_metrics.md, "Create a Metric" and
// "Measurement Formats"), transcribed as fixtures.
const (
	legacyCreateJSON = `{
	  "measure_time": 1481637660,
	  "source": "my.app",
	  "gauges": [
	    {"name": "my.metric", "value": 42},
	    {"name": "my.other.metric", "value": 43},
	    {"name": "cpu", "value": 88.4, "source": "my.machine", "measure_time": 1481637540}
	  ]
	}`
	legacyCreateForm = "measure_time=1481637660&source=my.app" +
		"&gauges[0][name]=my.metric&gauges[0][value]=42" +
		"&gauges[1][name]=my.other.metric&gauges[1][value]=43" +
		"&gauges[2][name]=cpu&gauges[2][value]=88.4&gauges[2][source]=my.machine&gauges[2][measure_time]=1481637540"
	legacyHashedByName   = `{"gauges": {"login-delay": {"value": 3.5, "source": "foo.bar.com"}}}`
	legacyHashedExplicit = `{"gauges": {
	    "0": {"name": "login-delay", "value": 3.5, "source": "foo1.bar.com"},
	    "1": {"name": "login-delay", "value": 2.6, "source": "foo2.bar.com"}}}`
	legacyArray = `{"gauges": [
	    {"name": "login-delay", "value": 3.5, "source": "foo1.bar.com"},
	    {"name": "login-delay", "value": 2.6, "source": "foo2.bar.com"}]}`
)

func TestLegacySubmitFormats(t *testing.T) {
	want := []librato.Measurement{
		{Name: "my.metric", Value: 42, Tags: map[string]string{"source": "my.app"}, Time: 1481637660},
		{Name: "my.other.metric", Value: 43, Tags: map[string]string{"source": "my.app"}, Time: 1481637660},
		{Name: "cpu", Value: 88.4, Tags: map[string]string{"source": "my.machine"}, Time: 1481637540},
	}
	t.Run("JSON array", func(t *testing.T) {
		srv := newServer(t)
		r := newWire(t, srv, librato.RoleRecordOnly).raw("POST", "/v1/metrics", "application/json", []byte(legacyCreateJSON)).requireStatus(t, 200)
		assert.Empty(t, r.Body, "success has no body")
		assert.Equal(t, want, srv.Recorded())
	})
	t.Run("form", func(t *testing.T) {
		srv := newServer(t)
		newWire(t, srv, librato.RoleRecordOnly).form("POST", "/v1/metrics", legacyCreateForm).requireStatus(t, 200)
		assert.Equal(t, want, srv.Recorded())
	})
	t.Run("form is the default content type", func(t *testing.T) {
		srv := newServer(t)
		newWire(t, srv, librato.RoleRecordOnly).raw("POST", "/v1/metrics", "", []byte(legacyCreateForm)).requireStatus(t, 200)
		assert.Equal(t, want, srv.Recorded())
	})
	twoSources := []librato.Measurement{
		{Name: "login-delay", Value: 3.5, Tags: map[string]string{"source": "foo1.bar.com"}, Time: base},
		{Name: "login-delay", Value: 2.6, Tags: map[string]string{"source": "foo2.bar.com"}, Time: base},
	}
	for name, body := range map[string]string{"hashed with explicit names": legacyHashedExplicit, "array": legacyArray} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t)
			w := newWire(t, srv, librato.RoleRecordOnly)
			// A top-level measure_time keeps the test's clock out.
			w.raw("POST", "/v1/metrics", "application/json", []byte(strings.Replace(body, "{", fmt.Sprintf(`{"measure_time":%d,`, base), 1))).requireStatus(t, 200)
			assert.Equal(t, twoSources, srv.Recorded())
		})
	}
	t.Run("hashed by name, JSON and form", func(t *testing.T) {
		srv := newServer(t)
		w := newWire(t, srv, librato.RoleRecordOnly)
		w.raw("POST", "/v1/metrics", "application/json", []byte(legacyHashedByName)).requireStatus(t, 200)
		w.form("POST", "/v1/metrics", "gauges[login-delay][value]=3.5&gauges[login-delay][source]=foo.bar.com").requireStatus(t, 200)
		rec := srv.Recorded()
		require.Len(t, rec, 2)
		for _, m := range rec {
			assert.Equal(t, "login-delay", m.Name)
			assert.Equal(t, 3.5, m.Value)
			assert.Equal(t, map[string]string{"source": "foo.bar.com"}, m.Tags)
			assert.NotZero(t, m.Time, "no measure_time: the time of receipt")
		}
	})
	t.Run("summaries, counters, properties, period", func(t *testing.T) {
		srv := newServer(t)
		w := newWire(t, srv, librato.RoleFullAccess)
		w.form("POST", "/v1/metrics", fmt.Sprintf("measure_time=%d&period=30"+
			"&gauges[0][name]=lat&gauges[0][count]=3&gauges[0][sum]=12&gauges[0][min]=2&gauges[0][max]=6&gauges[0][sum_squares]=56"+
			"&gauges[0][display_name]=Latency&gauges[0][attributes][display_units_short]=ms"+
			"&counters[0][name]=conn_servers&counters[0][value]=5&counters[0][source]=prod-us-west", base)).requireStatus(t, 200)
		rec := srv.Recorded()
		require.Len(t, rec, 2)
		assert.Equal(t, librato.Measurement{Name: "lat", Value: 4, Count: 3, Sum: librato.Ptr(12.0), Min: librato.Ptr(2.0), Max: librato.Ptr(6.0),
			Time: base, Period: 30, DisplayName: "Latency", Attributes: &librato.MetricAttributes{DisplayUnitsShort: "ms"}}, rec[0])
		assert.Equal(t, librato.Measurement{Name: "conn_servers", Value: 5, Time: base, Period: 30, Tags: map[string]string{"source": "prod-us-west"}}, rec[1])
		m := w.do("GET", "/v1/metrics/lat", nil).requireStatus(t, 200).obj(t)
		assert.Equal(t, "gauge", m["type"])
		assert.Equal(t, 30.0, m["period"])
		assert.Equal(t, "Latency", m["display_name"])
		assert.Equal(t, "ms", m["attributes"].(map[string]any)["display_units_short"])
		m = w.do("GET", "/v1/metrics/conn_servers", nil).requireStatus(t, 200).obj(t)
		assert.Equal(t, "counter", m["type"])
		assert.NotContains(t, m, "measurements", "without time parameters: metadata only")
		list := w.do("GET", "/v1/metrics?name=conn", nil).requireStatus(t, 200).obj(t)["metrics"].([]any)
		require.Len(t, list, 1)
		assert.Equal(t, "counter", list[0].(map[string]any)["type"])
	})
}

func TestLegacySubmitValidation(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleRecordOnly)
	w.do("POST", "/v1/measurements", map[string]any{"measurements": []any{map[string]any{"name": "tagged", "value": 1}}}).requireStatus(t, 202)
	w.form("POST", "/v1/metrics", "counters[0][name]=hits&counters[0][value]=1").requireStatus(t, 200)
	before := srv.RecordedCount()
	for _, c := range []struct{ body, field string }{
		{`{}`, "gauges"},
		{`{"gauges":[]}`, "gauges"},
		{`{"gauges":5}`, "gauges"},
		{`{"gauges":[{"value":1}]}`, "gauges[0].name"},
		{`{"gauges":[{"name":"bad name","value":1}]}`, "gauges[0].name"},
		{`{"gauges":[{"name":"a"}]}`, "gauges[0].value"},
		{`{"gauges":[{"name":"a","value":"x"}]}`, "gauges[0].value"},
		{`{"gauges":[{"name":"a","value":2e126}]}`, "gauges[0].value"},
		{`{"gauges":{"login-delay":{"value":"slow"}}}`, "gauges[login-delay].value"},
		{`{"gauges":{"login-delay":5}}`, "gauges[login-delay]"},
		{`{"gauges":[{"name":"a","value":1,"source":"all"}]}`, "gauges[0].source"},
		{`{"source":"bad source","gauges":[{"name":"a","value":1}]}`, "source"},
		{`{"gauges":[{"name":"a","value":1,"measure_time":-1}]}`, "gauges[0].measure_time"},
		{`{"measure_time":"soon","gauges":[{"name":"a","value":1}]}`, "measure_time"},
		{`{"gauges":[{"name":"a","count":3}]}`, "gauges[0].sum"},
		{`{"gauges":[{"name":"a","count":0,"sum":1}]}`, "gauges[0].count"},
		{`{"gauges":[{"name":"a","count":2,"sum":4,"value":2}]}`, "gauges[0].value"},
		{`{"gauges":[{"name":"a","value":2,"min":1}]}`, "gauges[0].min"},
		{`{"gauges":[{"name":"a","count":2,"sum":4,"min":3,"max":1}]}`, "gauges[0].min"},
		{`{"gauges":[{"name":"a","count":2,"sum":4,"min":2.5}]}`, "gauges[0].min"},
		{`{"gauges":[{"name":"a","count":2,"sum":4,"max":1.5}]}`, "gauges[0].max"},
		{`{"gauges":[{"name":"a","count":3,"sum":12,"sum_squares":47}]}`, "gauges[0].sum_squares"},
		{`{"counters":[{"name":"c","value":1,"count":2}]}`, "counters[0].count"},
		{`{"counters":[{"name":"c","value":1,"type":"gauge"}]}`, "counters[0].type"},
		{`{"gauges":[{"name":"hits","value":1}]}`, "type"}, // type conflicts: TestTypeConflicts
		{`{"counters":[{"name":"TAGGED","value":1}]}`, "type"},
		{`{"gauges":[{"name":"new.one","value":1}],"counters":[{"name":"new.one","value":1}]}`, "type"},
		{`{"gauges":[{"name":"a","value":1,"attributes":{"color":"green"}}]}`, "gauges[0].attributes.color"},
		{`{"gauges":[{"name":"ok","value":1},{"name":"b!","value":1}]}`, "gauges[1].name"},
	} {
		w.raw("POST", "/v1/metrics", "application/json", []byte(c.body)).requireParam(t, c.field)
	}
	w.form("POST", "/v1/metrics", "gauges[0][name]=a&gauges[0][value]=x").requireParam(t, "gauges[0].value")
	assert.Equal(t, before, srv.RecordedCount(), "an invalid request stores nothing")
	// Consistent summaries pass, rounding included: three samples of 0.1.
	w.raw("POST", "/v1/metrics", "application/json", []byte(`{"gauges":[{"name":"a","count":3,"sum":0.30000000000000004,"min":0.1,"max":0.1,"sum_squares":0.030000000000000006}]}`)).requireStatus(t, 200)
	w.raw("POST", "/v1/metrics", "text/plain", []byte(legacyArray)).requireStatus(t, 415)
	w.raw("POST", "/v1/metrics", "application/json", []byte(`{"gauges":`)).requireStatus(t, 400)
}

// A View Only token is refused before the body is read: a malformed body
// still gets 403 with the API's error body.
func TestLegacySubmitViewOnlyForbidden(t *testing.T) {
	srv := newServer(t)
	viewer := newWire(t, srv, librato.RoleViewOnly)
	r := viewer.raw("POST", "/v1/metrics", "application/json", []byte(`{not json`)).requireStatus(t, 403)
	_, request, _ := r.errs(t)
	require.Len(t, request, 1)
	assert.Contains(t, request[0], "POST /v1/metrics")
	viewer.form("POST", "/v1/metrics", legacyCreateForm).requireStatus(t, 403)
	assert.Zero(t, srv.RecordedCount())
	newWire(t, srv, librato.RoleRecordOnly).form("POST", "/v1/metrics", legacyCreateForm).requireStatus(t, 200)
	newWire(t, srv, librato.RoleFullAccess).form("POST", "/v1/metrics", legacyCreateForm).requireStatus(t, 200)
}

// seedLegacy records cpu for sources a and b and one unassigned point.
func seedLegacy(t *testing.T, w *wire) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"gauges":[`)
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&b, `{"name":"cpu","source":"a","value":%d,"measure_time":%d},`, 10+i, base+int64(i)*60)
		fmt.Fprintf(&b, `{"name":"cpu","source":"B","value":%d,"measure_time":%d},`, 20+i, base+int64(i)*60+30)
	}
	fmt.Fprintf(&b, `{"name":"cpu","value":99,"measure_time":%d}]}`, base)
	w.raw("POST", "/v1/metrics", "application/json", []byte(b.String())).requireStatus(t, 200)
}

func values(recs []map[string]any) []float64 {
	var out []float64
	for _, r := range recs {
		out = append(out, r["value"].(float64))
	}
	return out
}

func times(recs []map[string]any) []int64 {
	var out []int64
	for _, r := range recs {
		out = append(out, int64(r["measure_time"].(float64)))
	}
	return out
}

// TestLegacyReadRecordShape: a record of one plain sample is
// {measure_time, value, count}, as every point of the legacy reference's
// read examples is (_metrics.md, "Retrieve a Metric"); a record that merges
// samples, or holds a complex gauge even of count 1, adds sum, min, max and
// sum_squares, and so do the "all" series and group_by records built from
// them.
func TestLegacyReadRecordShape(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	w.raw("POST", "/v1/metrics", "application/json", []byte(fmt.Sprintf(`{"gauges":[
		{"name":"g","source":"plain","value":4,"measure_time":%[1]d},
		{"name":"g","source":"plain","value":6,"measure_time":%[2]d},
		{"name":"g","source":"plain","value":8,"measure_time":%[3]d},
		{"name":"g","source":"cx","count":1,"sum":5,"min":5,"max":5,"sum_squares":25,"measure_time":%[1]d},
		{"name":"g","source":"cx","count":2,"sum":6,"min":2,"max":4,"measure_time":%[3]d},
		{"name":"g","source":"cx","value":9,"measure_time":%[4]d}]}`,
		base, base+60, base+61, base+120))).requireStatus(t, 200)
	win := fmt.Sprintf("start_time=%d&end_time=%d", base, base+3600)
	plain := func(t0 int64, v float64) map[string]any {
		return map[string]any{"measure_time": float64(t0), "value": v, "count": 1.0}
	}

	_, ms := legacyRead(t, w, "g", win)
	assert.Equal(t, []map[string]any{plain(base, 4), plain(base+60, 6), plain(base+61, 8)}, ms["plain"])
	assert.Equal(t, []map[string]any{
		{"measure_time": float64(base), "value": 5.0, "count": 1.0, "sum": 5.0, "min": 5.0, "max": 5.0, "sum_squares": 25.0},
		{"measure_time": float64(base + 61), "value": 3.0, "count": 2.0, "sum": 6.0, "min": 2.0, "max": 4.0},
		plain(base+120, 9),
	}, ms["cx"], "complex gauges keep their summary, count 1 included; sum_squares only where known")

	_, ms = legacyRead(t, w, "g", win+"&resolution=60&sources[]=plain")
	assert.Equal(t, plain(base, 4), ms["plain"][0])
	assert.Equal(t, map[string]any{"measure_time": float64(base + 60), "value": 7.0, "count": 2.0, "sum": 14.0, "min": 6.0, "max": 8.0,
		"sum_squares": 100.0}, ms["plain"][1], "two samples in one bucket: a summary")

	_, ms = legacyRead(t, w, "g", "count=1&source=cx")
	assert.Equal(t, []map[string]any{plain(base+120, 9)}, ms["cx"], "count keeps the last record, a plain one")
	_, ms = legacyRead(t, w, "g", fmt.Sprintf("count=1&source=cx&start_time=%d", base))
	assert.Equal(t, []string{"sum", "min", "max", "sum_squares"}, presentOf(ms["cx"][0], "sum", "min", "max", "sum_squares"),
		"count from start_time keeps the first record, complex of count 1")
	_, ms = legacyRead(t, w, "g", fmt.Sprintf("start_time=%d&end_time=%d&source=cx&summarize_time=true", base, base+30))
	assert.Equal(t, []string{"sum", "min", "max", "sum_squares"}, presentOf(ms["cx"][0], "sum", "min", "max", "sum_squares"),
		"summarize_time over one complex sample")

	q := url.Values{"sources[]": {"plain"}, "start_time": {fmt.Sprint(base)}, "end_time": {fmt.Sprint(base + 30)}, "summarize_sources": {"true"}}
	_, ms = legacyRead(t, w, "g", q.Encode())
	assert.Equal(t, map[string]any{"measure_time": float64(base), "value": 4.0, "count": 1.0, "summarized": 1.0}, ms["all"][0])
	q.Set("group_by", "max")
	_, ms = legacyRead(t, w, "g", q.Encode())
	assert.Equal(t, map[string]any{"measure_time": float64(base), "value": 4.0, "count": 1.0, "summarized": 1.0}, ms["all"][0])
	q["sources[]"] = []string{"plain", "cx"}
	_, ms = legacyRead(t, w, "g", q.Encode())
	assert.Equal(t, []string{"sum", "min", "max", "sum_squares"}, presentOf(ms["all"][0], "sum", "min", "max", "sum_squares"))
	q["sources[]"] = []string{"cx"}
	q.Del("group_by")
	_, ms = legacyRead(t, w, "g", q.Encode())
	assert.Equal(t, []string{"sum", "min", "max", "sum_squares"}, presentOf(ms["all"][0], "sum", "min", "max", "sum_squares"),
		"the all series of one complex sample")
}

// presentOf lists which of keys rec holds, in the order given.
func presentOf(rec map[string]any, keys ...string) []string {
	var out []string
	for _, k := range keys {
		if _, ok := rec[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

func TestLegacyRead(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleViewOnly)
	seedLegacy(t, newWire(t, srv, librato.RoleRecordOnly))
	win := fmt.Sprintf("start_time=%d&end_time=%d", base, base+3600)

	t.Run("by source, unassigned, metric fields", func(t *testing.T) {
		body, ms := legacyRead(t, w, "cpu", win)
		assert.Equal(t, "cpu", body["name"])
		assert.Equal(t, "gauge", body["type"])
		assert.Equal(t, 1.0, body["resolution"], "no resolution: points as stored")
		assert.NotContains(t, body, "query")
		assert.Equal(t, []float64{10, 11, 12, 13, 14}, values(ms["a"]))
		assert.Equal(t, []float64{20, 21, 22, 23, 24}, values(ms["b"]), "sources are case-insensitive, stored lower-cased")
		assert.Equal(t, []float64{99}, values(ms["unassigned"]))
		assert.Equal(t, map[string]any{"measure_time": float64(base), "value": 10.0, "count": 1.0}, ms["a"][0],
			"a plain sample reads as the reference's points do: measure_time, value, count")
	})
	t.Run("time window", func(t *testing.T) {
		_, ms := legacyRead(t, w, "cpu", fmt.Sprintf("start_time=%d&end_time=%d", base+60, base+150))
		assert.Equal(t, []float64{11, 12}, values(ms["a"]))
		assert.Equal(t, []float64{21, 22}, values(ms["b"]), "end_time is inclusive")
		assert.NotContains(t, ms, "unassigned")
	})
	t.Run("count per source", func(t *testing.T) {
		_, ms := legacyRead(t, w, "cpu", "count=2")
		assert.Equal(t, []float64{13, 14}, values(ms["a"]), "count alone: the last N")
		assert.Equal(t, []float64{23, 24}, values(ms["b"]))
		assert.Equal(t, []float64{99}, values(ms["unassigned"]))
		_, ms = legacyRead(t, w, "cpu", fmt.Sprintf("count=2&start_time=%d", base+60))
		assert.Equal(t, []float64{11, 12}, values(ms["a"]), "with start_time: the first N")
		_, ms = legacyRead(t, w, "cpu", fmt.Sprintf("count=2&end_time=%d", base+150))
		assert.Equal(t, []float64{11, 12}, values(ms["a"]), "with end_time: the last N before it")
		assert.Equal(t, []float64{21, 22}, values(ms["b"]))
	})
	t.Run("resolution averages", func(t *testing.T) {
		body, ms := legacyRead(t, w, "cpu", win+"&resolution=120")
		assert.Equal(t, 120.0, body["resolution"])
		require.Zero(t, base%120)
		assert.Equal(t, []int64{base, base + 120, base + 240}, times(ms["a"]))
		assert.Equal(t, []float64{10.5, 12.5, 14}, values(ms["a"]))
		assert.Equal(t, 2.0, ms["a"][1]["count"])
	})
	t.Run("source pattern and sources[]", func(t *testing.T) {
		_, ms := legacyRead(t, w, "cpu", win+"&source=A*")
		assert.Equal(t, []string{"a"}, keysOfRecords(ms))
		_, ms = legacyRead(t, w, "cpu", win+"&"+url.Values{"sources[]": {"b", "unassigned"}}.Encode())
		assert.Equal(t, []string{"b", "unassigned"}, keysOfRecords(ms))
	})
	t.Run("summarize_time", func(t *testing.T) {
		_, ms := legacyRead(t, w, "cpu", fmt.Sprintf("start_time=%d&end_time=%d&summarize_time=true", base+60, base+3600))
		require.Len(t, ms["a"], 1)
		assert.Equal(t, map[string]any{"measure_time": float64(base + 60), "value": 12.5, "count": 4.0, "sum": 50.0, "min": 11.0, "max": 14.0,
			"sum_squares": 11*11 + 12*12 + 13*13 + 14*14.0, "rollups": 4.0}, ms["a"][0])
	})
	t.Run("summarize_sources and breakout_sources", func(t *testing.T) {
		q := url.Values{"sources[]": {"a", "b"}, "resolution": {"60"}, "summarize_sources": {"true"}, "start_time": {fmt.Sprint(base)}, "end_time": {fmt.Sprint(base + 3600)}}
		_, ms := legacyRead(t, w, "cpu", q.Encode())
		assert.Equal(t, []string{"a", "all", "b"}, keysOfRecords(ms))
		require.Len(t, ms["all"], 5)
		first := base - base%60
		assert.Equal(t, map[string]any{"measure_time": float64(first), "value": 15.0, "count": 2.0, "sum": 30.0, "min": 10.0, "max": 20.0,
			"sum_squares": 500.0, "summarized": 2.0}, ms["all"][0])
		q.Set("breakout_sources", "false")
		_, ms = legacyRead(t, w, "cpu", q.Encode())
		assert.Equal(t, []string{"all"}, keysOfRecords(ms))
		q.Set("summarize_time", "true")
		_, ms = legacyRead(t, w, "cpu", q.Encode())
		require.Len(t, ms["all"], 1, "summarized across sources and time: one record")
		assert.Equal(t, 10.0, ms["all"][0]["count"])
		assert.Equal(t, 17.0, ms["all"][0]["value"])
	})
	t.Run("validation", func(t *testing.T) {
		w.do("GET", "/v1/metrics/cpu?resolution=60", nil).requireParam(t, "start_time")
		w.do("GET", "/v1/metrics/cpu?end_time=5", nil).requireParam(t, "start_time")
		w.do("GET", fmt.Sprintf("/v1/metrics/cpu?count=3&start_time=%d&end_time=%d", base, base+60), nil).requireParam(t, "count")
		w.do("GET", "/v1/metrics/cpu?count=0", nil).requireParam(t, "count")
		w.do("GET", "/v1/metrics/cpu?start_time=x", nil).requireParam(t, "start_time")
		w.do("GET", fmt.Sprintf("/v1/metrics/cpu?start_time=%d&resolution=0", base), nil).requireParam(t, "resolution")
		w.do("GET", fmt.Sprintf("/v1/metrics/cpu?start_time=%d&end_time=%d", base, base-1), nil).requireParam(t, "end_time")
		w.do("GET", fmt.Sprintf("/v1/metrics/cpu?start_time=%d&group_by=median", base), nil).requireParam(t, "group_by")
		w.do("GET", fmt.Sprintf("/v1/metrics/cpu?start_time=%d&summarize_time=maybe", base), nil).requireParam(t, "summarize_time")
		w.do("GET", "/v1/metrics/nope?count=1", nil).requireStatus(t, 404)
	})
}

func keysOfRecords(m map[string][]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return sortedStrings(out)
}

// TestLegacyPaging pages a read with query.next_time until nothing is
// left, and checks count never pages.
func TestLegacyPaging(t *testing.T) {
	srv := newServer(t, mock.WithLegacyPageSize(3))
	w := newWire(t, srv, librato.RoleFullAccess)
	seedLegacy(t, w)
	start := base
	var got []float64
	pages := 0
	for {
		body, ms := legacyRead(t, w, "cpu", fmt.Sprintf("start_time=%d&end_time=%d&sources[]=a&sources[]=b", start, base+3600))
		pages++
		n := 0
		for _, src := range keysOfRecords(ms) {
			got = append(got, values(ms[src])...)
			n += len(ms[src])
		}
		assert.LessOrEqual(t, n, 3)
		q, ok := body["query"].(map[string]any)
		if !ok {
			break
		}
		next := int64(q["next_time"].(float64))
		require.Greater(t, next, start)
		start = next
		require.Less(t, pages, 20)
	}
	assert.ElementsMatch(t, []float64{10, 11, 12, 13, 14, 20, 21, 22, 23, 24}, got, "every point exactly once over the pages")
	assert.Greater(t, pages, 3)
	body, ms := legacyRead(t, w, "cpu", "count=5")
	assert.NotContains(t, body, "query", "a request with count never pages")
	assert.Len(t, ms["a"], 5)
	_, err := mock.New(mock.WithLegacyPageSize(0))
	assert.Error(t, err)
}

// TestLegacySumSquares is composite.md §8 example 15: a gauge summary
// with sum_squares has the population stddev sqrt(56/3 - 4²) = 1.633 in a
// tagged read, and adding the sample 10 merges to count 4, sum 22,
// sum_squares 156, whose stddev is sqrt(156/4 - 5.5²) = 2.958.
func TestLegacySumSquares(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	w.raw("POST", "/v1/metrics", "application/json", []byte(fmt.Sprintf(
		`{"gauges":[{"name":"ex15","count":3,"sum":12,"min":2,"max":6,"sum_squares":56,"measure_time":%d}]}`, base))).requireStatus(t, 200)
	pts := queryPoints(t, w, "ex15", fmt.Sprintf("start_time=%d&end_time=%d&resolution=60&summary_function=stddev", base, base+60))[""]
	require.Len(t, pts, 1)
	assert.InDelta(t, 1.633, pts[0]["value"], 0.0005)
	assert.InDelta(t, math.Sqrt(56.0/3-16), pts[0]["value"], 1e-12)

	w.form("POST", "/v1/metrics", fmt.Sprintf("gauges[0][name]=ex15&gauges[0][value]=10&measure_time=%d", base+30)).requireStatus(t, 200)
	_, ms := legacyRead(t, w, "ex15", fmt.Sprintf("start_time=%d&end_time=%d&summarize_time=1", base, base+60))
	rec := ms["unassigned"][0]
	assert.Equal(t, 4.0, rec["count"])
	assert.Equal(t, 22.0, rec["sum"])
	assert.Equal(t, 156.0, rec["sum_squares"])
	assert.Equal(t, 5.5, rec["value"])
	sigma := math.Sqrt(rec["sum_squares"].(float64)/rec["count"].(float64) - 5.5*5.5)
	assert.InDelta(t, 2.958, sigma, 0.0005)
}

// TestLegacyGroupBy is composite.md §8 example 17: group_by=max applies
// max to each statistic across the sources, count is the total and
// summarized the number of sources; the per-source series are hidden
// unless breakout_sources=true.
func TestLegacyGroupBy(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	w.raw("POST", "/v1/metrics", "application/json", []byte(fmt.Sprintf(`{"measure_time":%d,"gauges":[
		{"name":"ex17","source":"A","count":2,"sum":10,"min":4,"max":6},
		{"name":"ex17","source":"B","count":3,"sum":9,"min":1,"max":5}]}`, base))).requireStatus(t, 200)
	q := url.Values{"sources[]": {"a", "b"}, "group_by": {"max"}, "start_time": {fmt.Sprint(base)}, "end_time": {fmt.Sprint(base + 60)}}
	_, ms := legacyRead(t, w, "ex17", q.Encode())
	assert.Equal(t, []string{"all"}, keysOfRecords(ms))
	require.Len(t, ms["all"], 1)
	all := ms["all"][0]
	assert.Equal(t, 4.0, all["min"], "max of the mins")
	assert.Equal(t, 6.0, all["max"])
	assert.Equal(t, 10.0, all["sum"], "max of the sums")
	assert.Equal(t, 5.0, all["value"], "max of the means 5 and 3")
	assert.Equal(t, 5.0, all["count"], "count is the total of samples")
	assert.Equal(t, 2.0, all["summarized"])
	for fn, want := range map[string]map[string]float64{
		"min":   {"min": 1, "max": 5, "sum": 9, "value": 3},
		"sum":   {"min": 5, "max": 11, "sum": 19, "value": 8},
		"mean":  {"min": 2.5, "max": 5.5, "sum": 9.5, "value": 4},
		"count": {"min": 2, "max": 2, "sum": 2, "value": 2},
	} {
		q.Set("group_by", fn)
		_, ms := legacyRead(t, w, "ex17", q.Encode())
		for k, v := range want {
			assert.Equal(t, v, ms["all"][0][k], "group_by=%s %s", fn, k)
		}
		assert.Equal(t, 5.0, ms["all"][0]["count"], fn)
	}
	q.Set("breakout_sources", "true")
	_, ms = legacyRead(t, w, "ex17", q.Encode())
	assert.Equal(t, []string{"a", "all", "b"}, keysOfRecords(ms))
	w.form("POST", "/v1/metrics", "counters[0][name]=c&counters[0][value]=1").requireStatus(t, 200)
	w.do("GET", fmt.Sprintf("/v1/metrics/c?start_time=%d&group_by=sum", base), nil).requireParam(t, "group_by")
}

// TestLegacyCounters: counters store raw values and read as deltas; a
// drop is a reset, whose delta is the new value; the first value has no
// delta, and a window's first delta uses the value before the window.
func TestLegacyCounters(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	var parts []string
	for i, v := range []int{100, 150, 210, 20, 50} {
		parts = append(parts, fmt.Sprintf("counters[%d][name]=hits&counters[%d][value]=%d&counters[%d][measure_time]=%d&counters[%d][source]=web", i, i, v, i, base+int64(i)*60, i))
	}
	w.form("POST", "/v1/metrics", strings.Join(parts, "&")).requireStatus(t, 200)
	_, ms := legacyRead(t, w, "hits", fmt.Sprintf("start_time=%d&end_time=%d", base, base+3600))
	assert.Equal(t, []float64{100, 150, 210, 20, 50}, values(ms["web"]), "a plain read answers the values sent")
	assert.Equal(t, []int64{base, base + 60, base + 120, base + 180, base + 240}, times(ms["web"]))
	_, ms = legacyRead(t, w, "hits", fmt.Sprintf("start_time=%d&end_time=%d&summarize_time=true", base, base+3600))
	assert.Equal(t, 160.0, ms["web"][0]["sum"], "summaries describe the deltas: 50, 60, 20 (a reset), 30")
	assert.Equal(t, 4.0, ms["web"][0]["count"])
	_, ms = legacyRead(t, w, "hits", fmt.Sprintf("start_time=%d&end_time=%d&summarize_time=true", base+120, base+3600))
	assert.Equal(t, 110.0, ms["web"][0]["sum"], "the delta at the window's start uses the value before it: 60, 20, 30")
	// Tagged reads see the same values through the source tag, and
	// summary_function=derivative their changes.
	pts := queryPoints(t, w, "hits", fmt.Sprintf("start_time=%d&end_time=%d&resolution=60&tags%%5Bsource%%5D=web", base, base+3600))["source=web"]
	require.Len(t, pts, 5)
	assert.Equal(t, 100.0, pts[0]["value"])
	// Composite derive() with detect_reset gives the deltas the legacy
	// summaries describe.
	q := url.Values{"compose": {`derive(s("hits", {"source":"web"}), {detect_reset: "true"})`},
		"start_time": {fmt.Sprint(base)}, "end_time": {fmt.Sprint(base + 3600)}, "resolution": {"60"}}
	out := w.do("GET", "/v1/measurements?"+q.Encode(), nil).requireStatus(t, 200).list(t)
	require.Len(t, out, 1)
	var deltas []float64
	for _, p := range out[0].(map[string]any)["measurements"].([]any) {
		deltas = append(deltas, p.(map[string]any)["value"].(float64))
	}
	assert.Equal(t, []float64{50, 60, 20, 30}, deltas)
}

// TestLegacyAndTaggedShareTheStore: legacy data reads through the tag
// "source", tagged data through the legacy read (a source tag is that
// source, anything else unassigned).
func TestLegacyAndTaggedShareTheStore(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	seedLegacy(t, w)
	pts := queryPoints(t, w, "cpu", fmt.Sprintf("start_time=%d&end_time=%d&resolution=60", base, base+3600))
	assert.Equal(t, []string{"", "source=a", "source=b"}, keysOfPoints(pts))
	assert.Equal(t, 10.0, pts["source=a"][0]["value"])
	assert.Equal(t, 99.0, pts[""][0]["value"], "no source: no tags")

	w.do("POST", "/v1/measurements", map[string]any{"measurements": []any{
		map[string]any{"name": "mixed", "value": 1, "time": base, "tags": map[string]string{"source": "web", "region": "eu"}},
		map[string]any{"name": "mixed", "value": 3, "time": base, "tags": map[string]string{"source": "web", "region": "us"}},
		map[string]any{"name": "mixed", "value": 5, "time": base, "tags": map[string]string{"host": "x"}},
		map[string]any{"name": "mixed", "value": 7, "time": base},
	}}).requireStatus(t, 202)
	_, ms := legacyRead(t, w, "mixed", fmt.Sprintf("start_time=%d", base))
	assert.Equal(t, []string{"unassigned", "web"}, keysOfRecords(ms))
	assert.Equal(t, []float64{2}, values(ms["web"]), "streams of one source merge")
	assert.Equal(t, 2.0, ms["web"][0]["count"])
	assert.Equal(t, []float64{6}, values(ms["unassigned"]))
	w.form("POST", "/v1/metrics", fmt.Sprintf("gauges[0][name]=mixed&gauges[0][value]=9&gauges[0][source]=web&measure_time=%d", base+60)).requireStatus(t, 200)
	pts = queryPoints(t, w, "mixed", fmt.Sprintf("start_time=%d&end_time=%d&resolution=60&group_by=source&group_by_function=sum", base, base+3600))
	assert.Equal(t, []any{float64(base - base%60), float64(base - base%60 + 60)}, []any{pts["source=web"][0]["time"], pts["source=web"][1]["time"]})
}

func keysOfPoints(m map[string][]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return sortedStrings(out)
}
