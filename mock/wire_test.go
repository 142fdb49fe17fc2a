package mock_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests use only net/http and encoding/json, as a client written
// from the API's documentation would.

func TestWireAuthentication(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)

	t.Run("no credentials", func(t *testing.T) {
		r := w.as("", "").do("GET", "/v1/metrics", nil).requireStatus(t, 401)
		_, request, _ := r.errs(t)
		assert.NotEmpty(t, request)
		assert.Contains(t, r.Header.Get("WWW-Authenticate"), "Basic")
		assert.NotEmpty(t, r.Header.Get("X-Librato-RateLimit-Std"))
	})
	t.Run("unknown token", func(t *testing.T) {
		w.as(w.email, strings.Repeat("0", 64)).do("GET", "/v1/metrics", nil).requireStatus(t, 401)
	})
	t.Run("unknown email", func(t *testing.T) {
		w.as("nobody@example.com", w.token).do("GET", "/v1/metrics", nil).requireStatus(t, 401)
	})
	t.Run("token of another account", func(t *testing.T) {
		other := srv.Account("other@example.com")
		oe, ot := other.Credentials(librato.RoleFullAccess)
		w.as(w.email, ot).do("GET", "/v1/metrics", nil).requireStatus(t, 401)
		// With its own email it works, and sees none of this account's data.
		w.do("PUT", "/v1/metrics/only.here", map[string]any{"type": "gauge"}).requireStatus(t, 201)
		r := w.as(oe, ot).do("GET", "/v1/metrics", nil).requireStatus(t, 200)
		assert.Equal(t, float64(0), r.obj(t)["query"].(map[string]any)["total"])
		w.as(oe, ot).do("GET", "/v1/metrics/only.here", nil).requireStatus(t, 404)
	})
	t.Run("email is case-insensitive", func(t *testing.T) {
		w.as(strings.ToUpper(w.email), w.token).do("GET", "/v1/metrics", nil).requireStatus(t, 200)
	})
}

func TestWireRateLimitHeaders(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	re := regexp.MustCompile(`^limit=(\d+),remaining=(\d+),reset=(\d+)$`)
	var last int
	for i := 0; i < 3; i++ {
		r := w.do("GET", "/v1/metrics", nil).requireStatus(t, 200)
		m := re.FindStringSubmatch(r.Header.Get("X-Librato-RateLimit-Std"))
		require.NotNil(t, m, "header %q", r.Header.Get("X-Librato-RateLimit-Std"))
		require.Regexp(t, re, r.Header.Get("X-Librato-RateLimit-Agg"))
		rem, _ := strconv.Atoi(m[2])
		reset, _ := strconv.ParseInt(m[3], 10, 64)
		assert.Greater(t, reset, time.Now().Unix())
		if i > 0 {
			assert.Equal(t, last-1, rem, "each request uses one")
		}
		last = rem
	}
	// Error answers carry them too.
	r := w.do("GET", "/v1/metrics/missing", nil).requireStatus(t, 404)
	assert.Regexp(t, re, r.Header.Get("X-Librato-RateLimit-Std"))

	t.Run("enforced", func(t *testing.T) {
		srv := newServer(t, mock.WithRateLimits(5, 2))
		w := newWire(t, srv, librato.RoleFullAccess)
		w.do("GET", "/v1/metrics", nil).requireStatus(t, 200)
		w.do("GET", "/v1/metrics", nil).requireStatus(t, 200)
		r := w.do("GET", "/v1/metrics", nil).requireStatus(t, 429)
		assert.NotEmpty(t, r.Header.Get("Retry-After"))
		assert.Contains(t, r.Header.Get("X-Librato-RateLimit-Std"), "remaining=0")
		// The measurement budget is separate, and legacy submissions draw on
		// it too.
		w.do("POST", "/v1/measurements", map[string]any{"measurements": []any{map[string]any{"name": "a", "value": 1}}}).requireStatus(t, 202)
		r = w.do("POST", "/v1/metrics", map[string]any{"gauges": []any{map[string]any{"name": "a", "value": 2}}}).requireStatus(t, 200)
		assert.Contains(t, r.Header.Get("X-Librato-RateLimit-Agg"), "remaining=3")
		assert.Contains(t, r.Header.Get("X-Librato-RateLimit-Std"), "remaining=0")
	})
}

func TestWireMetrics(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)

	r := w.do("PUT", "/v1/metrics/cpu.load", map[string]any{
		"type": "gauge", "display_name": "CPU", "period": 60,
		"attributes": map[string]any{"display_min": 0, "color": "#52D74C", "summarize_function": "max"},
	}).requireStatus(t, 201)
	assert.Equal(t, "/v1/metrics/cpu.load", r.Header.Get("Location"))
	m := r.obj(t)
	assert.Equal(t, "cpu.load", m["name"])
	assert.Equal(t, "gauge", m["type"])
	assert.Equal(t, float64(60), m["period"])
	assert.Contains(t, m, "source_lag")
	assert.Equal(t, "#52D74C", m["attributes"].(map[string]any)["color"])

	w.do("PUT", "/v1/metrics/cpu.load", map[string]any{"description": "load", "attributes": map[string]any{"display_units_short": "%"}}).requireStatus(t, 204)
	m = w.do("GET", "/v1/metrics/cpu.load", nil).requireStatus(t, 200).obj(t)
	assert.Equal(t, "load", m["description"])
	assert.Equal(t, "CPU", m["display_name"])
	attrs := m["attributes"].(map[string]any)
	assert.Equal(t, "%", attrs["display_units_short"])
	assert.Equal(t, float64(0), attrs["display_min"], "attributes are merged on update")

	// Names are case-insensitive, and escaped segments are unescaped.
	w.do("GET", "/v1/metrics/CPU.LOAD", nil).requireStatus(t, 200)
	w.do("GET", "/v1/metrics/cpu%2Eload", nil).requireStatus(t, 200)

	t.Run("validation", func(t *testing.T) {
		w.do("PUT", "/v1/metrics/bad%20name", map[string]any{"type": "gauge"}).requireParam(t, "name")
		w.do("PUT", "/v1/metrics/new.one", map[string]any{"period": 60}).requireParam(t, "type")
		w.do("PUT", "/v1/metrics/new.one", map[string]any{"type": "counter"}).requireParam(t, "type")
		w.do("PUT", "/v1/metrics/new.one", map[string]any{"type": "composite"}).requireParam(t, "composite")
		w.do("PUT", "/v1/metrics/new.one", map[string]any{"type": "gauge", "attributes": map[string]any{"color": "red"}}).requireParam(t, "attributes.color")
		w.do("PUT", "/v1/metrics/new.one", map[string]any{"type": "gauge", "period": "soon"}).requireParam(t, "period")
		w.do("GET", "/v1/metrics/new.one", nil).requireStatus(t, 404)
	})

	t.Run("list", func(t *testing.T) {
		for _, n := range []string{"app.requests", "db.requests", "app.errors"} {
			w.do("PUT", "/v1/metrics/"+n, map[string]any{"type": "gauge"}).requireStatus(t, 201)
		}
		r := w.do("GET", "/v1/metrics?name=request&length=1", nil).requireStatus(t, 200).obj(t)
		q := r["query"].(map[string]any)
		assert.Equal(t, map[string]any{"found": float64(2), "length": float64(1), "offset": float64(0), "total": float64(4)}, q)
		ms := r["metrics"].([]any)
		require.Len(t, ms, 1)
		assert.Equal(t, "app.requests", ms[0].(map[string]any)["name"])
		r = w.do("GET", "/v1/metrics?name=request&length=1&offset=1", nil).requireStatus(t, 200).obj(t)
		assert.Equal(t, "db.requests", r["metrics"].([]any)[0].(map[string]any)["name"])
		r = w.do("GET", "/v1/metrics?sort=desc", nil).requireStatus(t, 200).obj(t)
		assert.Equal(t, "db.requests", r["metrics"].([]any)[0].(map[string]any)["name"])
		r = w.do("GET", "/v1/metrics?name=nothing", nil).requireStatus(t, 200).obj(t)
		assert.Empty(t, r["metrics"], "a search that finds nothing is still 200")
	})

	t.Run("delete", func(t *testing.T) {
		w.do("DELETE", "/v1/metrics/cpu.load", nil).requireStatus(t, 204)
		r := w.do("GET", "/v1/metrics/cpu.load", nil).requireStatus(t, 404)
		_, request, _ := r.errs(t)
		assert.NotEmpty(t, request)
		w.do("DELETE", "/v1/metrics/cpu.load", nil).requireStatus(t, 404)
	})

	t.Run("escaped names land on the right object", func(t *testing.T) {
		// a/b and .. are not valid metric names, but the router must see
		// them as one segment: the metric is missing, not the endpoint.
		for _, p := range []string{"/v1/metrics/a%2Fb", "/v1/metrics/%2E%2E", "/v1/metrics/%2E%2E%2Fapi_tokens"} {
			r := w.do("GET", p, nil).requireStatus(t, 404)
			_, request, _ := r.errs(t)
			assert.Contains(t, request[0], "metric", p)
		}
		// ".." is a valid metric name: it is a metric, not a way up.
		w.do("PUT", "/v1/metrics/%2E%2E", map[string]any{"type": "gauge"}).requireStatus(t, 201)
		assert.Equal(t, "..", w.do("GET", "/v1/metrics/%2E%2E", nil).requireStatus(t, 200).obj(t)["name"])
		w.do("PUT", "/v1/metrics/a%2Fb", map[string]any{"type": "gauge"}).requireParam(t, "name")
	})
}

func TestWireBatchJobs(t *testing.T) {
	srv := newServer(t) // two reads per job
	w := newWire(t, srv, librato.RoleFullAccess)
	for _, n := range []string{"a.time", "b.time", "c.count"} {
		w.do("PUT", "/v1/metrics/"+n, map[string]any{"type": "gauge"}).requireStatus(t, 201)
	}

	r := w.do("PUT", "/v1/metrics", map[string]any{"names": "*.time", "period": 30, "display_units_short": "ms"}).requireStatus(t, 202)
	loc := r.Header.Get("Location")
	require.Regexp(t, `^/v1/jobs/\d+$`, loc)
	job := r.obj(t)
	assert.Equal(t, "queued", job["state"])
	assert.Equal(t, idOf(t, loc), fmt.Sprint(num(t, job["id"])))

	// Not applied until the job completes.
	m := w.do("GET", "/v1/metrics/a.time", nil).obj(t)
	assert.Nil(t, m["period"])
	assert.Equal(t, "working", w.do("GET", loc, nil).requireStatus(t, 200).obj(t)["state"])
	job = w.do("GET", loc, nil).requireStatus(t, 200).obj(t)
	assert.Equal(t, "complete", job["state"])
	assert.Equal(t, float64(100), job["progress"])
	assert.Equal(t, "complete", w.do("GET", loc, nil).obj(t)["state"], "final states stay")
	for _, n := range []string{"a.time", "b.time"} {
		m := w.do("GET", "/v1/metrics/"+n, nil).obj(t)
		assert.Equal(t, float64(30), m["period"])
		assert.Equal(t, "ms", m["attributes"].(map[string]any)["display_units_short"])
	}
	assert.Nil(t, w.do("GET", "/v1/metrics/c.count", nil).obj(t)["period"])

	t.Run("delete by list", func(t *testing.T) {
		r := w.do("DELETE", "/v1/metrics", map[string]any{"names": []string{"a.time", "c.count", "not.there"}}).requireStatus(t, 202)
		loc := r.Header.Get("Location")
		w.do("GET", loc, nil)
		assert.Equal(t, "complete", w.do("GET", loc, nil).obj(t)["state"])
		w.do("GET", "/v1/metrics/a.time", nil).requireStatus(t, 404)
		w.do("GET", "/v1/metrics/c.count", nil).requireStatus(t, 404)
		w.do("GET", "/v1/metrics/b.time", nil).requireStatus(t, 200)
	})
	t.Run("invalid name fails the job", func(t *testing.T) {
		r := w.do("DELETE", "/v1/metrics", map[string]any{"names": []string{"b.time", "bad name"}}).requireStatus(t, 202)
		loc := r.Header.Get("Location")
		w.do("GET", loc, nil)
		job := w.do("GET", loc, nil).obj(t)
		assert.Equal(t, "failed", job["state"])
		assert.Equal(t, map[string]any{"name": []any{"is invalid"}}, job["errors"])
		w.do("GET", "/v1/metrics/b.time", nil).requireStatus(t, 200)
	})
	t.Run("missing names", func(t *testing.T) {
		w.do("PUT", "/v1/metrics", map[string]any{"period": 10}).requireParam(t, "names")
		w.do("DELETE", "/v1/metrics", map[string]any{"names": []string{}}).requireParam(t, "names")
		w.do("DELETE", "/v1/metrics", nil).requireParam(t, "names")
	})
	t.Run("other account cannot read the job", func(t *testing.T) {
		oe, ot := srv.Account("o@example.com").Credentials(librato.RoleFullAccess)
		w.as(oe, ot).do("GET", loc, nil).requireStatus(t, 404)
	})
	t.Run("zero steps completes at once", func(t *testing.T) {
		srv := newServer(t, mock.WithJobSteps(0))
		w := newWire(t, srv, librato.RoleFullAccess)
		w.do("PUT", "/v1/metrics/x", map[string]any{"type": "gauge"}).requireStatus(t, 201)
		r := w.do("DELETE", "/v1/metrics", map[string]any{"names": "x*"}).requireStatus(t, 202)
		assert.Equal(t, "complete", r.obj(t)["state"])
		w.do("GET", "/v1/metrics/x", nil).requireStatus(t, 404)
	})
}

func TestWireSpacesAndCharts(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)

	r := w.do("POST", "/v1/spaces", map[string]any{"name": "Ops"}).requireStatus(t, 201)
	sid := idOf(t, r.Header.Get("Location"))
	assert.Equal(t, "/v1/spaces/"+sid, r.Header.Get("Location"))
	assert.Equal(t, map[string]any{"id": float64(num(t, r.obj(t)["id"])), "name": "Ops"}, r.obj(t))

	w.do("POST", "/v1/spaces", map[string]any{"name": "Ops"}).requireStatus(t, 422)
	w.do("POST", "/v1/spaces", map[string]any{}).requireParam(t, "name")
	w.do("POST", "/v1/spaces", map[string]any{"name": "staging_ops"}).requireStatus(t, 201)
	w.do("POST", "/v1/spaces", map[string]any{"name": "Web"}).requireStatus(t, 201)

	l := w.do("GET", "/v1/spaces?name=ops", nil).requireStatus(t, 200).obj(t)
	assert.Equal(t, float64(2), l["query"].(map[string]any)["found"])
	assert.Equal(t, float64(3), l["query"].(map[string]any)["total"])
	assert.Len(t, l["spaces"], 2)

	// charts
	chart := map[string]any{
		"name": "CPU", "type": "line",
		"streams": []any{
			map[string]any{"metric": "cpu", "tags": []any{map[string]any{"name": "host", "values": []string{"web*"}, "grouped": true}}, "group_function": "sum", "color": "#aabbcc"},
			map[string]any{"composite": `s("cpu", "*")`},
		},
	}
	r = w.do("POST", "/v1/spaces/"+sid+"/charts", chart).requireStatus(t, 201)
	assert.Equal(t, "/v1/spaces/"+sid, r.Header.Get("Location"), "chart create's Location is the space, as documented")
	ch := r.obj(t)
	cid := fmt.Sprint(num(t, ch["id"]))
	assert.Equal(t, "line", ch["type"])
	assert.Nil(t, ch["thresholds"])
	streams := ch["streams"].([]any)
	require.Len(t, streams, 2)
	assert.Equal(t, "gauge", streams[0].(map[string]any)["type"])
	assert.Equal(t, "composite", streams[1].(map[string]any)["type"])
	assert.NotZero(t, streams[0].(map[string]any)["id"])

	sp := w.do("GET", "/v1/spaces/"+sid, nil).requireStatus(t, 200).obj(t)
	assert.Equal(t, []any{map[string]any{"id": ch["id"]}}, sp["charts"])

	list := w.do("GET", "/v1/spaces/"+sid+"/charts", nil).requireStatus(t, 200).list(t)
	require.Len(t, list, 1, "the chart list is a bare array")

	w.do("GET", "/v1/spaces/"+sid+"/charts/"+cid, nil).requireStatus(t, 200)
	r = w.do("PUT", "/v1/spaces/"+sid+"/charts/"+cid, map[string]any{"name": "CPU 2", "streams": []any{map[string]any{"metric": "mem"}}}).requireStatus(t, 200)
	up := r.obj(t)
	assert.Equal(t, "CPU 2", up["name"])
	require.Len(t, up["streams"], 1, "streams are replaced")
	assert.Equal(t, "mem", up["streams"].([]any)[0].(map[string]any)["metric"])

	t.Run("chart validation", func(t *testing.T) {
		base := "/v1/spaces/" + sid + "/charts"
		w.do("POST", base, map[string]any{"type": "line"}).requireParam(t, "name")
		w.do("POST", base, map[string]any{"name": "x", "type": "pie"}).requireParam(t, "type")
		w.do("POST", base, map[string]any{"name": "x", "type": "bignumber", "streams": []any{map[string]any{"metric": "cpu"}}}).requireParam(t, "thresholds")
		w.do("POST", base, map[string]any{"name": "x", "type": "bignumber", "thresholds": []any{map[string]any{"operator": ">=", "value": 1, "type": "red"}}}).requireParam(t, "thresholds[0].operator")
		w.do("POST", base, map[string]any{"name": "x", "streams": []any{map[string]any{"metric": "cpu", "composite": "s(\"a\",\"*\")"}}}).requireParam(t, "streams[0].composite")
		w.do("POST", base, map[string]any{"name": "x", "streams": []any{map[string]any{"metric": "cpu", "transform_function": "x^2"}}}).requireParam(t, "streams[0].transform_function")
		w.do("POST", base, map[string]any{"name": "x", "streams": []any{map[string]any{"metric": "cpu", "group_function": "median"}}}).requireParam(t, "streams[0].group_function")
		w.do("PUT", base+"/"+cid, map[string]any{"type": "bignumber"}).requireParam(t, "thresholds")
		r := w.do("POST", base, map[string]any{"name": "big", "type": "bignumber", "thresholds": []any{map[string]any{"operator": ">", "value": 90, "type": "red"}}, "streams": []any{map[string]any{"metric": "cpu", "transform_function": "x*8/p"}}}).requireStatus(t, 201)
		assert.Len(t, r.obj(t)["thresholds"], 1)
	})

	t.Run("chart of another space is not found", func(t *testing.T) {
		other := idOf(t, w.do("POST", "/v1/spaces", map[string]any{"name": "Other"}).requireStatus(t, 201).Header.Get("Location"))
		w.do("GET", "/v1/spaces/"+other+"/charts/"+cid, nil).requireStatus(t, 404)
	})

	w.do("PUT", "/v1/spaces/"+sid, map[string]any{"name": "Web"}).requireStatus(t, 422)
	w.do("PUT", "/v1/spaces/"+sid, map[string]any{"name": "Operations"}).requireStatus(t, 204)
	assert.Equal(t, "Operations", w.do("GET", "/v1/spaces/"+sid, nil).obj(t)["name"])
	w.do("DELETE", "/v1/spaces/"+sid+"/charts/"+cid, nil).requireStatus(t, 204)
	w.do("GET", "/v1/spaces/"+sid+"/charts/"+cid, nil).requireStatus(t, 404)
	w.do("DELETE", "/v1/spaces/"+sid, nil).requireStatus(t, 204)
	w.do("GET", "/v1/spaces/"+sid, nil).requireStatus(t, 404)
	w.do("GET", "/v1/spaces/"+sid+"/charts", nil).requireStatus(t, 404)
	w.do("GET", "/v1/spaces/abc", nil).requireStatus(t, 404)
}

func TestWireAnnotations(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	now := time.Now().Unix()

	r := w.do("POST", "/v1/annotations/api-deploys", map[string]any{
		"title": "Deployed v42", "source": "ci", "start_time": now - 100,
		"links": []any{map[string]any{"rel": "github", "href": "https://github.com/x", "label": "diff"}},
	}).requireStatus(t, 201)
	loc := r.Header.Get("Location")
	eid := idOf(t, loc)
	assert.Equal(t, "/v1/annotations/api-deploys/"+eid, loc)
	ev := r.obj(t)
	assert.Equal(t, "Deployed v42", ev["title"])
	assert.Nil(t, ev["end_time"])
	assert.Nil(t, ev["description"])

	w.do("POST", "/v1/annotations/api-deploys", map[string]any{"title": "hotfix", "start_time": now - 50}).requireStatus(t, 201)
	w.do("POST", "/v1/annotations/api-deploys", map[string]any{"source": "x"}).requireParam(t, "title")
	w.do("POST", "/v1/annotations/bad%20name", map[string]any{"title": "x"}).requireParam(t, "name")
	w.do("POST", "/v1/annotations/api-deploys", map[string]any{"title": "x", "links": []any{map[string]any{"rel": "a"}}}).requireParam(t, "links[0].href")

	l := w.do("GET", "/v1/annotations?name=api", nil).requireStatus(t, 200).obj(t)
	assert.Equal(t, []any{map[string]any{"name": "api-deploys", "display_name": "api-deploys"}}, l["annotations"])
	assert.Equal(t, float64(1), l["query"].(map[string]any)["found"])

	w.do("GET", "/v1/annotations/api-deploys", nil).requireParam(t, "start_time")
	s := w.do("GET", "/v1/annotations/api-deploys?count=10", nil).requireStatus(t, 200).obj(t)
	events := s["events"].([]any)
	require.Len(t, events, 1, "events is one object keyed by source")
	bySource := events[0].(map[string]any)
	assert.Len(t, bySource["ci"], 1)
	assert.Len(t, bySource["unassigned"], 1)
	s = w.do("GET", "/v1/annotations/api-deploys?count=1", nil).obj(t)
	assert.NotContains(t, s["events"].([]any)[0], "ci", "count keeps the last N")
	s = w.do("GET", fmt.Sprintf("/v1/annotations/api-deploys?start_time=%d&sources%%5B%%5D=c*", now-200), nil).obj(t)
	assert.Equal(t, []string{"ci"}, keys(s["events"].([]any)[0].(map[string]any)))
	w.do("GET", "/v1/annotations/missing?count=1", nil).requireStatus(t, 404)

	w.do("GET", loc, nil).requireStatus(t, 200)
	w.do("PUT", loc, map[string]any{"description": "more", "end_time": now}).requireStatus(t, 204)
	ev = w.do("GET", loc, nil).obj(t)
	assert.Equal(t, "more", ev["description"])
	assert.Equal(t, float64(now), ev["end_time"])
	assert.Equal(t, "Deployed v42", ev["title"])

	r = w.do("POST", loc+"/links", map[string]any{"rel": "runbook", "href": "https://wiki/x"}).requireStatus(t, 201)
	assert.Equal(t, loc+"/links/runbook", r.Header.Get("Location"))
	assert.Equal(t, map[string]any{"rel": "runbook", "href": "https://wiki/x"}, r.obj(t))
	w.do("POST", loc+"/links", map[string]any{"rel": "runbook", "href": "https://wiki/y"}).requireStatus(t, 422)
	w.do("POST", loc+"/links", map[string]any{"rel": "x"}).requireParam(t, "href")
	w.do("DELETE", loc+"/links/runbook", nil).requireStatus(t, 204)
	w.do("DELETE", loc+"/links/runbook", nil).requireStatus(t, 404)
	assert.Len(t, w.do("GET", loc, nil).obj(t)["links"], 1)

	w.do("PUT", "/v1/annotations/api-deploys", map[string]any{"display_name": "API deploys"}).requireStatus(t, 204)
	assert.Equal(t, "API deploys", w.do("GET", "/v1/annotations/api-deploys?count=1", nil).obj(t)["display_name"])
	w.do("DELETE", loc, nil).requireStatus(t, 204)
	w.do("GET", loc, nil).requireStatus(t, 404)
	w.do("DELETE", "/v1/annotations/api-deploys", nil).requireStatus(t, 204)
	w.do("GET", "/v1/annotations/api-deploys?count=1", nil).requireStatus(t, 404)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestWireServicesAndAlerts(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)

	r := w.do("POST", "/v1/services", map[string]any{"title": "Ops mail", "type": "mail", "settings": map[string]any{"addresses": "ops@example.com"}}).requireStatus(t, 201)
	svc := r.obj(t)
	sid, ok := svc["id"].(string)
	require.True(t, ok, "services carry string ids, as documented: %s", r.Body)
	assert.Equal(t, "/v1/services/"+sid, r.Header.Get("Location"))
	w.do("POST", "/v1/services", map[string]any{"title": "x", "settings": map[string]any{}}).requireParam(t, "type")
	r2 := w.do("POST", "/v1/services", map[string]any{"title": "Chat", "type": "slack", "settings": map[string]any{"url": "https://hooks/x"}}).requireStatus(t, 201)
	sid2 := r2.obj(t)["id"].(string)
	sl := w.do("GET", "/v1/services?orderby=title", nil).requireStatus(t, 200).obj(t)
	assert.Equal(t, "Chat", sl["services"].([]any)[0].(map[string]any)["title"])
	w.do("GET", "/v1/services?orderby=type", nil).requireParam(t, "orderby")

	sidN, _ := strconv.Atoi(sid)
	alert := map[string]any{
		"name":       "production.web.response_time",
		"conditions": []any{map[string]any{"type": "above", "metric_name": "web.time", "threshold": 2.5, "duration": 300, "tags": []any{map[string]any{"name": "env", "grouped": false, "values": []string{"prod-*"}}}}},
		"services":   []any{sidN},
		"attributes": map[string]any{"runbook_url": "https://wiki/rt"},
	}
	r = w.do("POST", "/v1/alerts", alert).requireStatus(t, 201)
	al := r.obj(t)
	aid := fmt.Sprint(num(t, al["id"]))
	assert.Equal(t, "/v1/alerts/"+aid, r.Header.Get("Location"))
	assert.Equal(t, float64(2), al["version"])
	assert.Equal(t, float64(600), al["rearm_seconds"])
	assert.Equal(t, true, al["active"])
	svcs := al["services"].([]any)
	require.Len(t, svcs, 1)
	assert.Equal(t, float64(sidN), svcs[0].(map[string]any)["id"], "inside alerts, service ids are numbers")
	conds := al["conditions"].([]any)
	require.Len(t, conds, 1)
	assert.Equal(t, "average", conds[0].(map[string]any)["summary_function"])
	assert.NotZero(t, conds[0].(map[string]any)["id"])

	t.Run("validation", func(t *testing.T) {
		w.do("POST", "/v1/alerts", alert).requireStatus(t, 422)
		w.do("POST", "/v1/alerts", map[string]any{"name": "x"}).requireParam(t, "conditions")
		w.do("POST", "/v1/alerts", map[string]any{"name": "bad name!", "conditions": alert["conditions"]}).requireParam(t, "name")
		w.do("POST", "/v1/alerts", map[string]any{"name": "a", "conditions": []any{map[string]any{"type": "absent", "metric_name": "m"}}}).requireParam(t, "conditions[0].duration")
		w.do("POST", "/v1/alerts", map[string]any{"name": "a", "conditions": []any{map[string]any{"type": "below", "metric_name": "m"}}}).requireParam(t, "conditions[0].threshold")
		w.do("POST", "/v1/alerts", map[string]any{"name": "a", "conditions": []any{map[string]any{"type": "above", "metric_name": "m", "threshold": 1, "duration": 30}}}).requireParam(t, "conditions[0].duration")
		w.do("POST", "/v1/alerts", map[string]any{"name": "a", "rearm_seconds": 90, "conditions": alert["conditions"]}).requireParam(t, "rearm_seconds")
		w.do("POST", "/v1/alerts", map[string]any{"name": "a", "services": []any{999999}, "conditions": alert["conditions"]}).requireParam(t, "services[0]")
		w.do("POST", "/v1/alerts", map[string]any{"name": "a", "version": "3", "conditions": alert["conditions"]}).requireParam(t, "version")
	})

	l := w.do("GET", "/v1/alerts?name=WEB", nil).requireStatus(t, 200).obj(t)
	assert.Equal(t, float64(1), l["query"].(map[string]any)["found"])
	assert.Empty(t, w.do("GET", "/v1/alerts?version=1", nil).obj(t)["alerts"])

	st := w.do("GET", "/v1/alerts/status", nil).requireStatus(t, 200).obj(t)
	assert.Equal(t, map[string]any{"firing": []any{}, "cleared": []any{}}, st)
	assert.Equal(t, "ok", w.do("GET", "/v1/alerts/"+aid+"/status", nil).requireStatus(t, 200).obj(t)["status"])
	id, _ := strconv.ParseInt(aid, 10, 64)
	require.True(t, srv.FireAlert(id))
	assert.Equal(t, "triggered", w.do("GET", "/v1/alerts/"+aid+"/status", nil).obj(t)["status"])
	assert.Len(t, w.do("GET", "/v1/alerts/status", nil).obj(t)["firing"], 1)
	w.do("POST", "/v1/alerts/"+aid+"/clear", nil).requireStatus(t, 204)
	st = w.do("GET", "/v1/alerts/status", nil).obj(t)
	assert.Empty(t, st["firing"])
	assert.Len(t, st["cleared"], 1)

	r = w.do("POST", "/v1/alerts/"+aid+"/services", map[string]any{"service": sid2}).requireStatus(t, 201)
	assert.Equal(t, "/v1/alerts/"+aid+"/services/"+sid2, r.Header.Get("Location"))
	w.do("POST", "/v1/alerts/"+aid+"/services", map[string]any{"service": sid2}).requireStatus(t, 422)
	w.do("POST", "/v1/alerts/"+aid+"/services", map[string]any{}).requireParam(t, "service")
	assert.Len(t, w.do("GET", "/v1/alerts/"+aid, nil).obj(t)["services"], 2)
	w.do("DELETE", "/v1/alerts/"+aid+"/services/"+sid2, nil).requireStatus(t, 204)
	w.do("DELETE", "/v1/alerts/"+aid+"/services/"+sid2, nil).requireStatus(t, 404)

	// Deleting a service detaches it from every alert.
	w.do("DELETE", "/v1/services/"+sid, nil).requireStatus(t, 204)
	w.do("GET", "/v1/services/"+sid, nil).requireStatus(t, 404)
	assert.Empty(t, w.do("GET", "/v1/alerts/"+aid, nil).obj(t)["services"])

	w.do("PUT", "/v1/services/"+sid2, map[string]any{"title": "Chat ops"}).requireStatus(t, 204)
	assert.Equal(t, "Chat ops", w.do("GET", "/v1/services/"+sid2, nil).obj(t)["title"])

	// PUT replaces conditions; leaving them out removes them all.
	w.do("PUT", "/v1/alerts/"+aid, map[string]any{"description": "slow", "conditions": []any{map[string]any{"type": "absent", "metric_name": "web.time", "duration": 600}}}).requireStatus(t, 204)
	al = w.do("GET", "/v1/alerts/"+aid, nil).obj(t)
	assert.Equal(t, "slow", al["description"])
	assert.Equal(t, "absent", al["conditions"].([]any)[0].(map[string]any)["type"])
	w.do("PUT", "/v1/alerts/"+aid, map[string]any{"active": false}).requireStatus(t, 204)
	al = w.do("GET", "/v1/alerts/"+aid, nil).obj(t)
	assert.Empty(t, al["conditions"])
	assert.Equal(t, false, al["active"])

	w.do("DELETE", "/v1/alerts/"+aid, nil).requireStatus(t, 204)
	w.do("GET", "/v1/alerts/"+aid, nil).requireStatus(t, 404)
	w.do("GET", "/v1/alerts/"+aid+"/status", nil).requireStatus(t, 404)
}

func TestWireAPITokens(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)

	r := w.do("POST", "/v1/api_tokens", map[string]any{"name": "my token", "role": "viewer", "token": "ignored"}).requireStatus(t, 201)
	tok := r.obj(t)
	loc := r.Header.Get("Location")
	require.Regexp(t, `^/v1/api_tokens/\d+$`, loc)
	assert.Regexp(t, `^[0-9a-f]{64}$`, tok["token"])
	assert.Equal(t, srv.URL()+loc, tok["href"], "href is absolute and ends in the id")
	assert.Equal(t, "viewer", tok["role"])
	assert.Equal(t, true, tok["active"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`, tok["created_at"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`, tok["updated_at"])
	assert.NotContains(t, tok, "id", "tokens have no id field")

	w.do("POST", "/v1/api_tokens", map[string]any{"role": "viewer"}).requireParam(t, "name")
	w.do("POST", "/v1/api_tokens", map[string]any{"name": "x", "role": "root"}).requireParam(t, "role")
	w.do("POST", "/v1/api_tokens", map[string]any{"name": "x"}).requireParam(t, "role")

	l := w.do("GET", "/v1/api_tokens?name=*token*", nil).requireStatus(t, 200).obj(t)
	require.Len(t, l["api_tokens"], 1)
	assert.Equal(t, float64(2), l["query"].(map[string]any)["total"], "the token the test authenticates with counts")
	assert.Len(t, w.do("GET", "/v1/api_tokens?name=my*", nil).obj(t)["api_tokens"], 1)
	assert.Len(t, w.do("GET", "/v1/api_tokens?name=token", nil).obj(t)["api_tokens"], 0, "without '*' the name must match whole")

	// The new token authenticates, with its role.
	v := w.as(w.email, tok["token"].(string))
	v.do("GET", "/v1/spaces", nil).requireStatus(t, 200)
	v.do("POST", "/v1/spaces", map[string]any{"name": "x"}).requireStatus(t, 403)

	// Promoting it takes effect at once.
	r = w.do("PUT", loc, map[string]any{"role": "admin", "name": "renamed"}).requireStatus(t, 200)
	up := r.obj(t)
	assert.Equal(t, "admin", up["role"])
	assert.Equal(t, "renamed", up["name"])
	assert.NotEqual(t, tok["updated_at"], up["updated_at"])
	v.do("POST", "/v1/spaces", map[string]any{"name": "x"}).requireStatus(t, 201)

	// Deactivated: 401; active again: works; deleted: 401.
	assert.Equal(t, false, w.do("PUT", loc, map[string]any{"active": false}).requireStatus(t, 200).obj(t)["active"])
	v.do("GET", "/v1/spaces", nil).requireStatus(t, 401)
	w.do("PUT", loc, map[string]any{"active": true}).requireStatus(t, 200)
	v.do("GET", "/v1/spaces", nil).requireStatus(t, 200)
	w.do("DELETE", loc, nil).requireStatus(t, 204)
	v.do("GET", "/v1/spaces", nil).requireStatus(t, 401)
	w.do("GET", loc, nil).requireStatus(t, 404)
}

func TestWireSnapshots(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	sid := idOf(t, w.do("POST", "/v1/spaces", map[string]any{"name": "S"}).requireStatus(t, 201).Header.Get("Location"))
	ch := w.do("POST", "/v1/spaces/"+sid+"/charts", map[string]any{"name": "c", "streams": []any{map[string]any{"metric": "cpu"}}}).requireStatus(t, 201).obj(t)

	w.do("POST", "/v1/snapshots", map[string]any{}).requireParam(t, "subject")
	w.do("POST", "/v1/snapshots", map[string]any{"subject": map[string]any{"chart": map[string]any{"id": 999999, "type": "line"}}}).requireParam(t, "subject.chart.id")

	r := w.do("POST", "/v1/snapshots", map[string]any{"subject": map[string]any{"chart": map[string]any{"id": ch["id"], "type": "line", "tags": []any{map[string]any{"name": "host", "values": []string{"*"}}}}}}).requireStatus(t, 202)
	loc := r.Header.Get("Location")
	require.Regexp(t, `^/v1/snapshots/\d+$`, loc)
	sn := r.obj(t)
	assert.Nil(t, sn["image_href"])
	assert.Equal(t, float64(3600), sn["duration"])
	assert.Equal(t, srv.URL()+loc, sn["href"])
	assert.Regexp(t, `/v1/jobs/\d+$`, sn["job_href"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, sn["end_time"])

	w.do("GET", loc, nil).requireStatus(t, 200)
	sn = w.do("GET", loc, nil).requireStatus(t, 200).obj(t)
	img, ok := sn["image_href"].(string)
	require.True(t, ok, "rendered after the job completes: %v", sn)
	ir, err := http.Get(img)
	require.NoError(t, err)
	defer ir.Body.Close()
	assert.Equal(t, 200, ir.StatusCode)
	assert.Equal(t, "image/png", ir.Header.Get("Content-Type"))
	w.do("GET", "/v1/snapshots/424242", nil).requireStatus(t, 404)
}

func TestWireRequestErrors(t *testing.T) {
	srv := newServer(t, mock.WithMaxBodyBytes(1024))
	w := newWire(t, srv, librato.RoleFullAccess)
	mbody := []byte(`{"measurements":[{"name":"a","value":1}]}`)

	t.Run("415", func(t *testing.T) {
		for _, ct := range []string{"", "application/x-www-form-urlencoded", "text/plain"} {
			r := w.raw("POST", "/v1/measurements", ct, mbody).requireStatus(t, 415)
			_, request, _ := r.errs(t)
			assert.NotEmpty(t, request)
		}
		w.raw("POST", "/v1/measurements", "application/json; charset=utf-8", mbody).requireStatus(t, 202)
		w.raw("POST", "/v1/spaces", "text/plain", []byte("name=x")).requireStatus(t, 415)
		w.raw("POST", "/v1/spaces", "application/xml", []byte("<x/>")).requireStatus(t, 415)
	})
	t.Run("400 malformed", func(t *testing.T) {
		r := w.raw("POST", "/v1/spaces", "application/json", []byte(`{"name":`)).requireStatus(t, 400)
		_, request, _ := r.errs(t)
		assert.NotEmpty(t, request)
		w.raw("POST", "/v1/spaces", "application/json", []byte(`["x"]`)).requireStatus(t, 400)
		w.raw("POST", "/v1/measurements", "application/json", []byte(`{"measurements":[]} {}`)).requireStatus(t, 400)
	})
	t.Run("413", func(t *testing.T) {
		big := fmt.Sprintf(`{"name":"%s"}`, strings.Repeat("x", 2000))
		r := w.raw("POST", "/v1/spaces", "application/json", []byte(big)).requireStatus(t, 413)
		_, request, _ := r.errs(t)
		assert.NotEmpty(t, request)

		// The default limit is 3 MiB; the SDK reads the answer as ErrTooLarge.
		def := newServer(t)
		huge := `{"measurements":[{"name":"` + strings.Repeat("x", 3<<20) + `","value":1}]}`
		newWire(t, def, librato.RoleFullAccess).raw("POST", "/v1/measurements", "application/json", []byte(huge)).requireStatus(t, 413)
		c := sdk(t, def, librato.RoleFullAccess, librato.WithoutRetries())
		err := c.Do(context.Background(), "POST", "/v1/spaces", map[string]string{"name": strings.Repeat("y", 3<<20)}, nil)
		require.ErrorIs(t, err, librato.ErrTooLarge)
	})
	t.Run("404 unknown endpoint or method", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{"GET", "/v1/nothing"}, {"GET", "/v2/metrics"}, {"PATCH", "/v1/metrics/cpu"},
			{"POST", "/v1/metrics/cpu/x"}, {"GET", "/v1/metrics/"}, {"GET", "/v1//metrics"},
			{"GET", "/"}, {"HEAD", "/v1/metrics"}, {"GET", "/v1/spaces/1/charts/2/x"},
		} {
			r := w.do(c.method, c.path, nil).requireStatus(t, 404)
			if c.method != "HEAD" {
				r.errs(t)
			}
		}
	})
	t.Run("pagination params", func(t *testing.T) {
		for _, c := range []struct{ query, field string }{
			{"length=0", "length"}, {"length=101", "length"}, {"length=x", "length"},
			{"offset=-1", "offset"}, {"sort=up", "sort"}, {"orderby=id", "orderby"},
		} {
			for _, list := range []string{"/v1/metrics", "/v1/spaces", "/v1/alerts", "/v1/services", "/v1/annotations", "/v1/api_tokens"} {
				w.do("GET", list+"?"+c.query, nil).requireParam(t, c.field)
			}
		}
		r := w.do("GET", "/v1/spaces?length=100&offset=5", nil).requireStatus(t, 200).obj(t)
		assert.Equal(t, map[string]any{"found": float64(0), "length": float64(100), "offset": float64(5), "total": float64(0)}, r["query"])
	})
	t.Run("403 names the role", func(t *testing.T) {
		v := newWire(t, srv, librato.RoleViewOnly)
		r := v.do("POST", "/v1/spaces", map[string]any{"name": "x"}).requireStatus(t, 403)
		_, request, _ := r.errs(t)
		require.Len(t, request, 1)
		assert.Contains(t, request[0], "View Only")
		assert.Contains(t, request[0], "POST /v1/spaces")
		assert.NotContains(t, strings.ToLower(request[0]), "rate limit", "a role refusal must not read as rate limiting")
	})
}

func TestWireFormEncoding(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)

	r := w.form("PUT", "/v1/metrics/form.metric", "type=gauge&period=60&display_name=Form&attributes%5Bdisplay_min%5D=0&attributes%5Bcolor%5D=%23AABBCC&attributes%5Bdisplay_stacked%5D=true").requireStatus(t, 201)
	m := r.obj(t)
	assert.Equal(t, float64(60), m["period"])
	attrs := m["attributes"].(map[string]any)
	assert.Equal(t, float64(0), attrs["display_min"], "form numbers become numbers")
	assert.Equal(t, true, attrs["display_stacked"])
	assert.Equal(t, "#AABBCC", attrs["color"])

	w.form("PUT", "/v1/metrics/other.metric", "type=gauge").requireStatus(t, 201)
	r = w.form("PUT", "/v1/metrics", "names%5B%5D=form.metric&names%5B%5D=other.metric&display_units_short=ms&period=30").requireStatus(t, 202)
	loc := r.Header.Get("Location")
	w.do("GET", loc, nil)
	w.do("GET", loc, nil)
	m = w.do("GET", "/v1/metrics/other.metric", nil).obj(t)
	assert.Equal(t, float64(30), m["period"])
	assert.Equal(t, "ms", m["attributes"].(map[string]any)["display_units_short"])

	r = w.form("POST", "/v1/spaces", "name=Form+space").requireStatus(t, 201)
	assert.Equal(t, "Form space", r.obj(t)["name"])
	// No Content-Type on a write: form, the API's default.
	w.raw("POST", "/v1/spaces", "", []byte("name=Default")).requireStatus(t, 201)

	r = w.form("POST", "/v1/annotations/deploys", "title=Deploy&links%5B0%5D%5Brel%5D=github&links%5B0%5D%5Bhref%5D=https%3A%2F%2Fgithub.com&links%5B1%5D%5Brel%5D=ci&links%5B1%5D%5Bhref%5D=https%3A%2F%2Fci&links%5B1%5D%5Blabel%5D=CI").requireStatus(t, 201)
	links := r.obj(t)["links"].([]any)
	require.Len(t, links, 2)
	assert.Equal(t, map[string]any{"rel": "ci", "href": "https://ci", "label": "CI"}, links[1])

	r = w.form("POST", "/v1/services", "title=Campfire&type=campfire&settings%5Broom%5D=Ops&settings%5Btoken%5D=abc&settings%5Bsubdomain%5D=acme").requireStatus(t, 201)
	svc := r.obj(t)
	assert.Equal(t, map[string]any{"room": "Ops", "token": "abc", "subdomain": "acme"}, svc["settings"])

	r = w.form("POST", "/v1/alerts", "name=form.alert&rearm_seconds=120&services%5B%5D="+svc["id"].(string)+
		"&conditions%5B0%5D%5Btype%5D=above&conditions%5B0%5D%5Bmetric_name%5D=cpu&conditions%5B0%5D%5Bthreshold%5D=90&conditions%5B0%5D%5Bduration%5D=120"+
		"&conditions%5B0%5D%5Btags%5D%5B0%5D%5Bname%5D=host&conditions%5B0%5D%5Btags%5D%5B0%5D%5Bvalues%5D%5B%5D=web1&conditions%5B0%5D%5Btags%5D%5B0%5D%5Bgrouped%5D=true").requireStatus(t, 201)
	al := r.obj(t)
	assert.Equal(t, float64(120), al["rearm_seconds"])
	cond := al["conditions"].([]any)[0].(map[string]any)
	assert.Equal(t, float64(90), cond["threshold"])
	assert.Equal(t, []any{map[string]any{"name": "host", "grouped": true, "values": []any{"web1"}}}, cond["tags"])
	assert.Len(t, al["services"], 1)

	r = w.form("POST", "/v1/api_tokens", "name=form&role=recorder&active=false").requireStatus(t, 201)
	assert.Equal(t, false, r.obj(t)["active"])

	w.form("POST", "/v1/spaces", "name=a&name%5Bx%5D=b").requireStatus(t, 400)
	w.form("PUT", "/v1/metrics/form.metric", "period=often").requireParam(t, "period")
}
