package mock_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lcSeed stores, from base on, a minute apart: cpu (a gauge with period
// 60 and metadata) for sources web1 and web2, mem for web1, and disk
// without any tag (a legacy measurement without a source).
func lcSeed(t *testing.T, w *wire) {
	t.Helper()
	w.do("PUT", "/v1/metrics/cpu", map[string]any{"type": "gauge", "period": 60, "display_name": "CPU", "description": "busy time",
		"attributes": map[string]any{"display_units_short": "%"}}).requireStatus(t, http.StatusCreated)
	var ms []map[string]any
	add := func(name string, tags map[string]any, vals ...float64) {
		for i, v := range vals {
			m := map[string]any{"name": name, "value": v, "time": base + int64(i)*60}
			if tags != nil {
				m["tags"] = tags
			}
			ms = append(ms, m)
		}
	}
	add("cpu", map[string]any{"source": "web1"}, 10, 14, 20)
	add("cpu", map[string]any{"source": "web2"}, 1, 2, 4)
	add("mem", map[string]any{"source": "web1"}, 100, 110)
	add("disk", nil, 5, 7)
	srcSubmit(t, w, ms...)
}

// lcQuery runs a legacy composite over [base, base+180] at resolution 60.
func lcQuery(t *testing.T, w *wire, expr string) resp {
	t.Helper()
	q := url.Values{"compose": {expr}, "start_time": {fmt.Sprint(base)}, "end_time": {fmt.Sprint(base + 180)}, "resolution": {"60"}}
	return w.do("GET", "/v1/metrics?"+q.Encode(), nil)
}

// lcAnswer is the legacy answer, decoded.
type lcAnswer struct {
	Compose      string `json:"compose"`
	Resolution   int64  `json:"resolution"`
	Measurements []struct {
		Metric struct {
			Name        string         `json:"name"`
			Type        string         `json:"type"`
			Period      *int64         `json:"period"`
			Description *string        `json:"description"`
			DisplayName *string        `json:"display_name"`
			Attributes  map[string]any `json:"attributes"`
		} `json:"metric"`
		Period int64 `json:"period"`
		Query  struct {
			Metric string `json:"metric"`
			Source string `json:"source"`
		} `json:"query"`
		Series []struct {
			MeasureTime int64   `json:"measure_time"`
			Value       float64 `json:"value"`
		} `json:"series"`
		Source struct {
			Name        string  `json:"name"`
			DisplayName *string `json:"display_name"`
		} `json:"source"`
	} `json:"measurements"`
}

func lcDecode(t *testing.T, r resp) lcAnswer {
	t.Helper()
	r.requireStatus(t, http.StatusOK)
	var a lcAnswer
	require.NoError(t, json.Unmarshal(r.Body, &a), "body: %s", r.Body)
	return a
}

// lcSummary renders each series as "query.metric|query.source source:
// t=v ..." with times relative to base.
func lcSummary(a lcAnswer) []string {
	var out []string
	for _, m := range a.Measurements {
		var pts []string
		for _, p := range m.Series {
			pts = append(pts, fmt.Sprintf("%d=%g", p.MeasureTime-base, p.Value))
		}
		out = append(out, fmt.Sprintf("%s|%s %s/%s: %s", m.Query.Metric, m.Query.Source, m.Metric.Name, m.Source.Name, strings.Join(pts, " ")))
	}
	return out
}

func TestLegacyComposeSeries(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	lcSeed(t, w)
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`s("cpu", "web1")`, []string{"cpu|web1 cpu/web1: 0=10 60=14 120=20"}},
		{`series("cpu", "web*")`, []string{"cpu|web* cpu/web1: 0=10 60=14 120=20", "cpu|web* cpu/web2: 0=1 60=2 120=4"}},
		{`derive(s("cpu", "web*"))`, []string{"cpu|web* cpu/web1: 60=4 120=6", "cpu|web* cpu/web2: 60=1 120=2"}},
		// a merge across sources is the source "all"
		{`sum(s("cpu", "*"))`, []string{"cpu|* cpu/all: 0=11 60=16 120=24"}},
		// a merge of one source keeps it
		{`max(s("c*", "web2"))`, []string{"c*|web2 cpu/web2: 0=1 60=2 120=4"}},
		// each series names the series() call that loaded it
		{`[s("cpu", "web2"), s("mem", "web*")]`, []string{"cpu|web2 cpu/web2: 0=1 60=2 120=4", "mem|web* mem/web1: 0=100 60=110"}},
		{`s("cpu", {"source": "web1"})`, []string{"cpu|web1 cpu/web1: 0=10 60=14 120=20"}},
		// no source at all is "unassigned"
		{`s("disk", "*")`, []string{"disk|* disk/unassigned: 0=5 60=7"}},
		{`scale(s("mem", "web1"), {factor: "2"})`, []string{"mem|web1 mem/web1: 0=200 60=220"}},
		{`s("nothing", "*")`, nil},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			a := lcDecode(t, lcQuery(t, w, tc.expr))
			assert.Equal(t, tc.expr, a.Compose)
			assert.Equal(t, int64(60), a.Resolution)
			assert.Equal(t, tc.want, lcSummary(a))
		})
	}
}

func TestLegacyComposeMetricPeriodAndSource(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	lcSeed(t, w)
	w.form("PUT", "/v1/sources/web1", "display_name=Web+One").requireStatus(t, http.StatusNoContent)

	a := lcDecode(t, lcQuery(t, w, `[s("cpu", "web1"), s("mem", "web1")]`))
	require.Len(t, a.Measurements, 2)
	cpu, mem := a.Measurements[0], a.Measurements[1]
	assert.Equal(t, "cpu", cpu.Metric.Name)
	assert.Equal(t, "gauge", cpu.Metric.Type)
	require.NotNil(t, cpu.Metric.Period)
	assert.Equal(t, int64(60), *cpu.Metric.Period)
	require.NotNil(t, cpu.Metric.DisplayName)
	assert.Equal(t, "CPU", *cpu.Metric.DisplayName)
	require.NotNil(t, cpu.Metric.Description)
	assert.Equal(t, "busy time", *cpu.Metric.Description)
	assert.Equal(t, "%", cpu.Metric.Attributes["display_units_short"])
	assert.Equal(t, int64(60), cpu.Period)
	assert.Equal(t, "web1", cpu.Source.Name)
	require.NotNil(t, cpu.Source.DisplayName, "the display name PUT /v1/sources gave it")
	assert.Equal(t, "Web One", *cpu.Source.DisplayName)

	assert.Nil(t, mem.Metric.Period, "mem was created by its measurements, without a period")
	assert.Nil(t, mem.Metric.DisplayName)
	assert.NotNil(t, mem.Metric.Attributes)

	// at resolution 120 the period follows the resolution
	q := url.Values{"compose": {`s("cpu", "web2")`}, "start_time": {fmt.Sprint(base)}, "end_time": {fmt.Sprint(base + 180)}, "resolution": {"120"}}
	a = lcDecode(t, w.do("GET", "/v1/metrics?"+q.Encode(), nil))
	assert.Equal(t, int64(120), a.Resolution)
	require.Len(t, a.Measurements, 1)
	assert.Equal(t, int64(120), a.Measurements[0].Period)
	assert.Nil(t, a.Measurements[0].Source.DisplayName)
	assert.Equal(t, []string{"cpu|web2 cpu/web2: 0=1.5 120=4"}, lcSummary(a), "buckets at 120 s average their points")
}

func TestLegacyComposeParameters(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	lcSeed(t, w)
	get := func(q string) resp { return w.do("GET", "/v1/metrics?"+q, nil) }
	expr := url.QueryEscape(`s("cpu","web1")`)

	get("compose="+expr+"&resolution=60").requireParam(t, "start_time")
	get(fmt.Sprintf("compose=%s&start_time=%d", expr, base)).requireParam(t, "resolution")
	get(fmt.Sprintf("compose=%s&start_time=%d&resolution=0", expr, base)).requireParam(t, "resolution")
	get(fmt.Sprintf("compose=%s&start_time=x&resolution=60", expr)).requireParam(t, "start_time")
	get(fmt.Sprintf("compose=%s&start_time=%d&end_time=%d&resolution=60", expr, base, base-1)).requireParam(t, "end_time")
	get(fmt.Sprintf("compose=&start_time=%d&resolution=60", base)).requireParam(t, "compose")
	r := get(fmt.Sprintf("compose=%s&start_time=%d&resolution=60", url.QueryEscape(`s("cpu"`), base))
	r.requireParam(t, "compose")
	params, _, _ := r.errs(t)
	assert.Contains(t, params["compose"][0], "column", "the error says where")
	get(fmt.Sprintf("compose=%s&start_time=%d&resolution=60", url.QueryEscape(`count(s("cpu","*"))`), base)).requireParam(t, "compose")
	get(fmt.Sprintf("compose=%s&start_time=%d&resolution=60", url.QueryEscape(`divide([s("cpu","*"), s("mem","*"), s("disk","*")])`), base)).requireParam(t, "compose")

	// end_time defaults to now; count is ignored; nothing is paginated
	all := lcSummary(lcDecode(t, get(fmt.Sprintf("compose=%s&start_time=%d&resolution=60", expr, base))))
	assert.Equal(t, []string{"cpu|web1 cpu/web1: 0=10 60=14 120=20"}, all)
	assert.Equal(t, all, lcSummary(lcDecode(t, get(fmt.Sprintf("compose=%s&start_time=%d&resolution=60&count=1&length=1&offset=5", expr, base)))))

	// without compose the route still lists metrics
	body := get("name=cp").requireStatus(t, http.StatusOK).obj(t)
	assert.Contains(t, body, "metrics")
	assert.NotContains(t, body, "compose")
}

// TestLegacyComposeRoles: the read is GET /v1/metrics, a row every role
// may call.
func TestLegacyComposeRoles(t *testing.T) {
	srv := newServer(t)
	lcSeed(t, newWire(t, srv, librato.RoleFullAccess))
	for _, role := range librato.Roles() {
		require.True(t, librato.Permitted(role, "GET", "/v1/metrics"))
		a := lcDecode(t, lcQuery(t, newWire(t, srv, role), `s("cpu","web1")`))
		assert.Len(t, a.Measurements, 1, role)
	}
}

// lcDocumented is the answer of the "Composite Metric Queries" example,
// transcribed from librato/api-docs, branch legacy,
// source/includes/_metrics.md.
const lcDocumented = `{
  "compose": "derive(s(\"collectd.cpu.*.idle\",\"boatman*19\"))",
  "measurements": [{
    "metric": {
      "attributes": {"aggregate": false, "created_by_ua": "Collectd-Librato.py/0.0.8 (Linux; x86_64) Python-Urllib2/2.7",
        "display_max": null, "display_min": null, "display_stacked": true, "display_units_long": "Units", "gap_detection": true},
      "description": null, "display_name": null, "name": "collectd.cpu.0.cpu.idle", "period": 60, "type": "counter"
    },
    "period": 60,
    "query": {"metric": "collectd.cpu.*.idle", "source": "boatman*19"},
    "series": [{"measure_time": 1395802200, "value": 5831.0}, {"measure_time": 1395802620, "value": 5748.0}],
    "source": {"display_name": null, "name": "boatman-stg_19"}
  }],
  "resolution": 60
}`

// lcShape describes a JSON value's members and kinds: objects by sorted
// key, arrays by their first element; null stands for any kind (the
// example shows null where the mock may hold a value). Attributes differ
// per metric and are compared as objects only.
func lcShape(v any, path string) []string {
	switch x := v.(type) {
	case map[string]any:
		if strings.HasSuffix(path, ".attributes") {
			return []string{path + ":object"}
		}
		ks := make([]string, 0, len(x))
		for k := range x {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		out := []string{path + ":object"}
		for _, k := range ks {
			out = append(out, lcShape(x[k], path+"."+k)...)
		}
		return out
	case []any:
		if len(x) == 0 {
			return []string{path + ":array"}
		}
		return append([]string{path + ":array"}, lcShape(x[0], path+"[]")...)
	case nil:
		return []string{path + ":any"}
	case string:
		return []string{path + ":string"}
	case float64:
		return []string{path + ":number"}
	case bool:
		return []string{path + ":bool"}
	}
	return []string{path + ":?"}
}

// TestLegacyComposeDocumentedExample runs the documented request (with the
// corrections the example needs: the query percent-encoded, the start
// time and resolution it leaves out, the source pattern it asked for) on
// data shaped like the example's, and checks the answer has the
// documented shape and the exact derived values.
func TestLegacyComposeDocumentedExample(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	// the example's metric reports every 60 s; the mock's PUT makes gauges
	// (the type is not part of the shape)
	w.do("PUT", "/v1/metrics/collectd.cpu.0.cpu.idle", map[string]any{"type": "gauge", "period": 60,
		"attributes": map[string]any{"display_stacked": true, "display_units_long": "Units", "gap_detection": true}}).requireStatus(t, http.StatusCreated)
	srcSubmit(t, w,
		map[string]any{"name": "collectd.cpu.0.cpu.idle", "value": 5831, "time": 1432931040, "tags": map[string]any{"source": "boatman-stg_45"}},
		map[string]any{"name": "collectd.cpu.0.cpu.idle", "value": 11579, "time": 1432931100, "tags": map[string]any{"source": "boatman-stg_45"}},
		map[string]any{"name": "collectd.cpu.0.cpu.idle", "value": 11600, "time": 1432931160, "tags": map[string]any{"source": "boatman-stg_19"}},
	)
	r := w.do("GET", "/v1/metrics?compose=derive%28s%28%22collectd.cpu.%2A.idle%22%2C%22boatman%2A45%22%29%29&start_time=1432931007&resolution=60", nil)
	r.requireStatus(t, http.StatusOK)

	var doc, got any
	require.NoError(t, json.Unmarshal([]byte(lcDocumented), &doc))
	require.NoError(t, json.Unmarshal(r.Body, &got))
	want := lcShape(doc, "")
	have := lcShape(got, "")
	for i, line := range want {
		kind := line[strings.LastIndexByte(line, ':'):]
		if kind == ":any" {
			// a documented null: the member must be there, of any kind
			prefix := line[:len(line)-len(kind)] + ":"
			found := false
			for _, h := range have {
				found = found || strings.HasPrefix(h, prefix)
			}
			assert.True(t, found, "missing %s", line)
			want[i] = ""
		}
	}
	for _, line := range want {
		if line != "" {
			assert.Contains(t, have, line)
		}
	}

	a := lcDecode(t, r)
	assert.Equal(t, `derive(s("collectd.cpu.*.idle","boatman*45"))`, a.Compose)
	assert.Equal(t, int64(60), a.Resolution)
	assert.Equal(t, []string{fmt.Sprintf("collectd.cpu.*.idle|boatman*45 collectd.cpu.0.cpu.idle/boatman-stg_45: %d=5748", 1432931100-base)}, lcSummary(a))
}

func TestLegacyComposeThroughTheSDK(t *testing.T) {
	srv := newServer(t)
	lcSeed(t, newWire(t, srv, librato.RoleFullAccess))
	c := sdk(t, srv, librato.RoleViewOnly, librato.WithStrictGuard())
	got, err := c.Legacy.Compose(context.Background(), &librato.LegacyCompositeQuery{
		Compose: `derive(s("cpu", "web2"))`, StartTime: at(base), EndTime: at(base + 180), Resolution: time.Minute,
	})
	require.NoError(t, err)
	require.Len(t, got.Measurements, 1)
	m := got.Measurements[0]
	assert.Equal(t, `derive(s("cpu", "web2"))`, got.Compose)
	assert.Equal(t, 60, got.Resolution)
	require.NotNil(t, m.Metric)
	assert.Equal(t, "cpu", m.Metric.Name)
	assert.Equal(t, librato.Ptr(60), m.Metric.Period)
	assert.Equal(t, librato.Ptr("CPU"), m.Metric.DisplayName)
	assert.Equal(t, 60, m.Period)
	assert.Equal(t, librato.LegacyCompositeSeriesQuery{Metric: "cpu", Source: "web2"}, m.Query)
	assert.Equal(t, []librato.LegacyCompositePoint{{MeasureTime: base + 60, Value: 1}, {MeasureTime: base + 120, Value: 2}}, m.Series)
	assert.Equal(t, librato.Source{Name: "web2"}, m.Source)

	_, err = c.Legacy.Compose(context.Background(), &librato.LegacyCompositeQuery{Compose: `s("cpu"`, StartTime: at(base), Resolution: time.Minute})
	var ae *librato.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
	assert.Contains(t, ae.Params, "compose")
}
