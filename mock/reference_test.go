package mock_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
	"github.com/stretchr/testify/require"
)

// TestReferenceExamples replays every request example of the official
// reference (testdata/reference at the module root, transcribed from
// github.com/librato/api-docs, branches master and legacy) against the
// mock, after creating the objects it names, and checks the documented
// status, Location and the shape of the answer: the same keys and JSON
// types at every level, lists of the same length. Ids, times, names and
// other values may differ. Where an example is itself wrong the fixture
// says why and the test uses its corrected copy (fix, mock_response), or
// names the keys the mock may answer beyond it (mock_extra).
func TestReferenceExamples(t *testing.T) {
	cases := loadRefCases(t)
	for _, rc := range cases {
		t.Run(strings.TrimSuffix(rc.file, ".json")+"/"+rc.ID, func(t *testing.T) {
			if rc.NoMock != "" {
				return // the fixture says why; the SDK side still checks this example
			}
			setup, ok := refSetups[rc.branch+":"+rc.ID]
			if !ok {
				setup, ok = refSetups[rc.ID]
			}
			require.True(t, ok, "no mock setup is written for this example")
			env := newRefEnv(t, setup.opts...)
			if setup.run != nil {
				setup.run(env)
			}

			if rc.Refused {
				res := env.replay(rc, rc.Method, rc.Path, rc.Query, rc.ContentType, rc.Body, false)
				res.requireParam(t, "start_time")
			}

			res := env.replay(rc, rc.method(), rc.path(), rc.query(), rc.contentType(), rc.body(), true)
			if st := rc.status(); len(st) > 0 {
				require.Contains(t, []int(st), res.Status, "status; body: %s", res.Body)
			} else {
				require.True(t, res.Status >= 200 && res.Status < 300, "status %d; body: %s", res.Status, res.Body)
			}
			env.checkLocation(rc, res)

			want := rc.mockResponse(t, cases)
			if want == nil {
				return
			}
			var got any
			require.NoError(t, json.Unmarshal(res.Body, &got), "body: %s", res.Body)
			sc := shapeCheck{subset: rc.Shape == "subset", extra: rc.MockExtra, used: map[string]bool{}}
			diffs := sc.diff(want, got, "$")
			require.Empty(t, diffs, "the answer's shape differs from the reference's\nbody: %s", res.Body)
			require.Empty(t, sc.unused(), "mock_extra allows keys the answer does not hold\nbody: %s", res.Body)
		})
	}
}

// --- fixtures ---------------------------------------------------------------

type refCase struct {
	ID           string          `json:"id"`
	ResponseOnly bool            `json:"response_only"`
	Auth         *refAuth        `json:"auth"`
	Method       string          `json:"method"`
	Path         string          `json:"path"`
	Query        string          `json:"query"`
	ContentType  string          `json:"content_type"`
	Body         json.RawMessage `json:"body"`
	Status       refStatus       `json:"status"`
	Location     string          `json:"location"`
	Response     json.RawMessage `json:"response"`
	Refused      bool            `json:"expect_refused"`
	Fix          *refFix         `json:"fix"`
	MockResponse json.RawMessage `json:"mock_response"`
	MockExtra    []string        `json:"mock_extra"`
	Shape        string          `json:"shape"`
	NoMock       string          `json:"no_mock"`

	branch, file string
}

type refAuth struct {
	User  string `json:"user"`
	Token string `json:"token"`
}

type refFix struct {
	Method      string          `json:"method"`
	Path        string          `json:"path"`
	Query       *string         `json:"query"`
	ContentType string          `json:"content_type"`
	Body        json.RawMessage `json:"body"`
	Status      refStatus       `json:"status"`
	Location    string          `json:"location"`
	Response    json.RawMessage `json:"response"`
}

type refStatus []int

func (s *refStatus) UnmarshalJSON(data []byte) error {
	var one int
	if json.Unmarshal(data, &one) == nil {
		*s = refStatus{one}
		return nil
	}
	var many []int
	if err := json.Unmarshal(data, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

func loadRefCases(t *testing.T) []*refCase {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "reference", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	var out []*refCase
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		var f struct {
			Branch string    `json:"branch"`
			Cases  []refCase `json:"cases"`
		}
		require.NoError(t, json.Unmarshal(data, &f), p)
		for i := range f.Cases {
			c := &f.Cases[i]
			c.branch, c.file = f.Branch, filepath.Base(p)
			out = append(out, c)
		}
	}
	return out
}

func (c *refCase) method() string {
	if c.Fix != nil && c.Fix.Method != "" {
		return c.Fix.Method
	}
	return c.Method
}

func (c *refCase) path() string {
	if c.Fix != nil && c.Fix.Path != "" {
		return c.Fix.Path
	}
	return c.Path
}

func (c *refCase) query() string {
	if c.Fix != nil && c.Fix.Query != nil {
		return *c.Fix.Query
	}
	return c.Query
}

func (c *refCase) contentType() string {
	if c.Fix != nil && c.Fix.ContentType != "" {
		return c.Fix.ContentType
	}
	return c.ContentType
}

func (c *refCase) body() json.RawMessage {
	if c.Fix != nil && c.Fix.Body != nil {
		return c.Fix.Body
	}
	return c.Body
}

func (c *refCase) status() refStatus {
	if c.Fix != nil && len(c.Fix.Status) > 0 {
		return c.Fix.Status
	}
	return c.Status
}

func (c *refCase) location() string {
	if c.Fix != nil && c.Fix.Location != "" {
		return c.Fix.Location
	}
	return c.Location
}

// mockResponse is the answer the mock's is compared with: mock_response
// (a value, or "file#id" naming another case's answer), else the answer.
func (c *refCase) mockResponse(t *testing.T, all []*refCase) any {
	t.Helper()
	raw := c.MockResponse
	if len(raw) > 0 && raw[0] == '"' {
		var ref string
		require.NoError(t, json.Unmarshal(raw, &ref))
		file, id, ok := strings.Cut(ref, "#")
		require.True(t, ok, "mock_response %q", ref)
		raw = nil
		for _, o := range all {
			if o.file == file && o.ID == id {
				raw = o.Response
				if o.Fix != nil && o.Fix.Response != nil {
					raw = o.Fix.Response
				}
			}
		}
		require.NotNil(t, raw, "mock_response %q names no case with an answer", ref)
	}
	if len(raw) == 0 {
		raw = c.Response
		if c.Fix != nil && c.Fix.Response != nil {
			raw = c.Fix.Response
		}
	}
	if len(raw) == 0 {
		return nil
	}
	var v any
	require.NoError(t, json.Unmarshal(raw, &v))
	return v
}

// shapeCheck compares an answer's shape with the reference's. subset
// lets the answer hold more keys and items; extra lists the only keys it
// may hold beyond the reference otherwise, each as a path whose list
// indexes are written [] ("$.conditions[].detect_reset").
type shapeCheck struct {
	subset bool
	extra  []string
	used   map[string]bool // the extra paths the answer held
}

var listIndex = regexp.MustCompile(`\[\d+\]`)

// allowed reports whether the key at path may be answered though the
// reference does not show it.
func (sc shapeCheck) allowed(path string) bool {
	p := listIndex.ReplaceAllString(path, "[]")
	if !slices.Contains(sc.extra, p) {
		return false
	}
	if sc.used != nil {
		sc.used[p] = true
	}
	return true
}

// unused lists the extra paths the answer never held: an allowance the
// mock no longer needs, to be removed from the fixture.
func (sc shapeCheck) unused() []string {
	var out []string
	for _, p := range sc.extra {
		if !sc.used[p] {
			out = append(out, p)
		}
	}
	return out
}

// diff lists where got's shape differs from want's: an object must have
// the same keys (all of want's, and no others unless subset or allowed),
// values the same JSON type, lists the same length (at least as long if
// subset) item by item.
func (sc shapeCheck) diff(want, got any, path string) []string {
	subset := sc.subset
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %s", path, jsonType(got))}
		}
		var out []string
		for _, k := range sortedKeys(w) {
			gv, present := g[k]
			if !present {
				out = append(out, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			out = append(out, sc.diff(w[k], gv, path+"."+k)...)
		}
		if !subset {
			for _, k := range sortedKeys(g) {
				if _, documented := w[k]; !documented && !sc.allowed(path+"."+k) {
					out = append(out, fmt.Sprintf("%s.%s: not in the reference (%s)", path, k, jsonType(g[k])))
				}
			}
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want a list, got %s", path, jsonType(got))}
		}
		if len(g) < len(w) || (!subset && len(g) != len(w)) {
			return []string{fmt.Sprintf("%s: want %d items, got %d", path, len(w), len(g))}
		}
		// Items are matched in any order: order is data, not shape (the
		// reference's lists are not always in the order it documents).
		var out []string
		used := make([]bool, len(g))
	items:
		for i := range w {
			for j := range g {
				if !used[j] && len(sc.diff(w[i], g[j], fmt.Sprintf("%s[%d]", path, j))) == 0 {
					used[j] = true
					continue items
				}
			}
			out = append(out, sc.diff(w[i], g[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	if jsonType(want) != jsonType(got) {
		return []string{fmt.Sprintf("%s: want %s, got %s", path, jsonType(want), jsonType(got))}
	}
	return nil
}

// TestShapeCheckExtra: mock_extra exempts exactly the keys it names, at
// any list index, and reports an allowance the answer does not use.
func TestShapeCheckExtra(t *testing.T) {
	want := map[string]any{"a": []any{map[string]any{"x": 1.0}}}
	got := map[string]any{"a": []any{map[string]any{"x": 2.0, "y": true}}, "b": nil}
	sc := shapeCheck{used: map[string]bool{}}
	require.Equal(t, []string{"$.a[0].y: not in the reference (boolean)", "$.b: not in the reference (null)"}, sc.diff(want, got, "$"))
	sc = shapeCheck{extra: []string{"$.a[].y", "$.b"}, used: map[string]bool{}}
	require.Empty(t, sc.diff(want, got, "$"))
	require.Empty(t, sc.unused())
	sc = shapeCheck{extra: []string{"$.a[].y", "$.b", "$.a[].z"}, used: map[string]bool{}}
	require.Empty(t, sc.diff(want, got, "$"))
	require.Equal(t, []string{"$.a[].z"}, sc.unused())
	sc = shapeCheck{extra: []string{"$.y"}, used: map[string]bool{}}
	require.Len(t, sc.diff(want, got, "$"), 2, "an allowance at another path exempts nothing")
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "list"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// --- environment --------------------------------------------------------------

// refEnv is one fresh server with an admin client, and the ids of the
// objects a setup made, keyed by the ids the example uses.
type refEnv struct {
	t   *testing.T
	srv *mock.Server
	w   *wire
	ids map[string]string
}

func newRefEnv(t *testing.T, opts ...mock.Option) *refEnv {
	srv := newServer(t, opts...)
	return &refEnv{t: t, srv: srv, w: newWire(t, srv, librato.RoleFullAccess), ids: map[string]string{}}
}

// mk sends a setup request (JSON) and requires a 2xx; it returns the
// answer's object, if any, and its Location.
func (e *refEnv) mk(method, path string, body any) (map[string]any, string) {
	e.t.Helper()
	res := e.w.do(method, path, body)
	require.True(e.t, res.Status >= 200 && res.Status < 300, "setup %s %s: %d %s", method, path, res.Status, res.Body)
	if len(res.Body) == 0 {
		return nil, res.Header.Get("Location")
	}
	var m map[string]any
	if json.Unmarshal(res.Body, &m) != nil {
		return nil, res.Header.Get("Location")
	}
	return m, res.Header.Get("Location")
}

// as records that the example's id doc is the object with id got.
func (e *refEnv) as(doc string, got any) string {
	e.t.Helper()
	var s string
	switch v := got.(type) {
	case string:
		s = v
	case float64:
		s = strconv.FormatInt(int64(v), 10)
	case int64:
		s = strconv.FormatInt(v, 10)
	default:
		e.t.Fatalf("setup: id %v of %s", got, doc)
	}
	require.NotEmpty(e.t, s, "setup: no id for %s", doc)
	if doc != "" {
		e.ids[doc] = s
	}
	return s
}

func (e *refEnv) space(doc, name string) string {
	m, _ := e.mk("POST", "/v1/spaces", map[string]any{"name": name})
	return e.as(doc, m["id"])
}

func (e *refEnv) chart(doc, space string, body map[string]any) string {
	m, _ := e.mk("POST", "/v1/spaces/"+space+"/charts", body)
	return e.as(doc, m["id"])
}

func (e *refEnv) service(doc string, body map[string]any) string {
	m, _ := e.mk("POST", "/v1/services", body)
	return e.as(doc, m["id"])
}

func (e *refEnv) alert(doc string, body map[string]any) map[string]any {
	m, _ := e.mk("POST", "/v1/alerts", body)
	e.as(doc, m["id"])
	return m
}

func (e *refEnv) event(doc, stream string, body map[string]any) string {
	m, _ := e.mk("POST", "/v1/annotations/"+stream, body)
	return e.as(doc, m["id"])
}

func (e *refEnv) metric(name string, body map[string]any) {
	e.mk("PUT", "/v1/metrics/"+url.PathEscape(name), body)
}

func (e *refEnv) measure(body map[string]any) { e.mk("POST", "/v1/measurements", body) }

func (e *refEnv) token(doc, name string, role librato.Role) string {
	m, _ := e.mk("POST", "/v1/api_tokens", map[string]any{"name": name, "role": role})
	href, _ := m["href"].(string)
	return e.as(doc, href[strings.LastIndexByte(href, '/')+1:])
}

// legacySubmit posts measurements to the legacy route.
func (e *refEnv) legacySubmit(body map[string]any) { e.mk("POST", "/v1/metrics", body) }

// sub replaces a documented id by the one the setup made.
func (e *refEnv) sub(s string) string {
	if v, ok := e.ids[s]; ok {
		return v
	}
	return s
}

func (e *refEnv) subPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = e.sub(s)
	}
	return strings.Join(segs, "/")
}

// subJSON replaces leaves equal to a documented id.
func (e *refEnv) subJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e2 := range x {
			x[k] = e.subJSON(e2)
		}
		return x
	case []any:
		for i := range x {
			x[i] = e.subJSON(x[i])
		}
		return x
	case float64:
		if s, ok := e.ids[strconv.FormatFloat(x, 'f', -1, 64)]; ok {
			n, _ := strconv.ParseFloat(s, 64)
			return n
		}
	case string:
		return e.sub(x)
	}
	return v
}

var formValue = regexp.MustCompile(`=([^&]*)`)

// replay sends the example's request with the setup's ids.
func (e *refEnv) replay(rc *refCase, method, path, query, contentType string, body json.RawMessage, withAuth bool) resp {
	e.t.Helper()
	w := e.w
	if rc.Auth != nil {
		w = w.as(rc.Auth.User, rc.Auth.Token)
	}
	if rc.ID == "errors.request" {
		w = w.as("", "")
	}
	target := e.subPath(path)
	if query != "" {
		q, err := url.ParseQuery(query)
		require.NoError(e.t, err)
		target += "?" + q.Encode()
	}
	if len(body) == 0 || string(body) == "null" {
		return w.raw(method, target, "", nil)
	}
	var v any
	require.NoError(e.t, json.Unmarshal(body, &v))
	if s, ok := v.(string); ok {
		s = formValue.ReplaceAllStringFunc(s, func(m string) string { return "=" + e.sub(m[1:]) })
		return w.raw(method, target, contentType, []byte(s))
	}
	data, err := json.Marshal(e.subJSON(v))
	require.NoError(e.t, err)
	return w.raw(method, target, contentType, data)
}

var digits = regexp.MustCompile(`^\d+$`)

// checkLocation compares the Location with the documented one: the same
// path with the setup's ids; ":id", or an id the setup did not make (that
// of the object the request creates), stands for any id, and a
// job-checking URI for /v1/jobs/:id on a 202.
func (e *refEnv) checkLocation(rc *refCase, res resp) {
	e.t.Helper()
	want := rc.location()
	got := res.Header.Get("Location")
	switch {
	case want == "":
		return
	case strings.HasPrefix(want, "<"):
		if res.Status == http.StatusAccepted {
			require.Regexp(e.t, `^/v1/jobs/\d+$`, got, "Location of a 202")
		}
		return
	}
	ws, gs := strings.Split(want, "/"), strings.Split(got, "/")
	require.Len(e.t, gs, len(ws), "Location %q, documented %q", got, want)
	for i, w := range ws {
		_, mapped := e.ids[w]
		if w == ":id" || (digits.MatchString(w) && !mapped) { // the id of the object this request made
			require.Regexp(e.t, digits, gs[i], "Location %q, documented %q", got, want)
			continue
		}
		require.Equal(e.t, e.sub(w), gs[i], "Location %q, documented %q", got, want)
	}
}

// --- setups -------------------------------------------------------------------

type refSetup struct {
	opts []mock.Option
	run  func(e *refEnv)
}

var refSetups = map[string]refSetup{}

func setup(id string, run func(e *refEnv), opts ...mock.Option) {
	if _, dup := refSetups[id]; dup {
		panic("duplicate setup " + id)
	}
	refSetups[id] = refSetup{opts: opts, run: run}
}

func nothing(*refEnv) {}

func line(metric string, tags ...map[string]any) map[string]any {
	s := map[string]any{"metric": metric}
	if len(tags) > 0 {
		l := make([]any, len(tags))
		for i, t := range tags {
			l[i] = t
		}
		s["tags"] = l
	}
	return s
}

func tag(name string, values ...string) map[string]any {
	return map[string]any{"name": name, "values": values}
}

// recent is a minute boundary an hour ago: measurements there fall in
// every documented query window (duration 86400, or a start in the past).
func recent() int64 { return time.Now().Add(-time.Hour).Unix() / 60 * 60 }

func init() {
	// --- spaces
	for _, id := range []string{"spaces.create", "spaces.create_json"} {
		setup(id, nothing)
	}
	setup("spaces.get", func(e *refEnv) {
		s := e.space("129", "CPUs")
		for i := 0; i < 4; i++ {
			e.chart("", s, map[string]any{"name": fmt.Sprintf("chart %d", i), "streams": []any{line("cpu")}})
		}
	})
	for _, id := range []string{"spaces.update", "spaces.update_json", "spaces.delete"} {
		setup(id, func(e *refEnv) { e.space("129", "CPUs") })
	}
	setup("spaces.list", func(e *refEnv) { e.space("", "staging_ops") })
	setup("spaces.list_name", func(e *refEnv) { e.space("", "staging_ops"); e.space("", "production") })

	// --- charts
	for _, id := range []string{"charts.create_line", "charts.create_bignumber", "charts.create_sources"} {
		setup(id, func(e *refEnv) { e.space("123", "Ops") })
	}
	setup("master:charts.get", func(e *refEnv) {
		s := e.space("123", "Ops")
		e.chart("3700969", s, map[string]any{"name": "CPU Usage", "type": "line",
			"streams": []any{line("librato.cpu.percent.idle", tag("region", "us-east-1"))}})
	})
	refSetups["master:charts.update_name"] = refSetups["master:charts.get"]
	setup("master:charts.update_composite", func(e *refEnv) {
		s := e.space("123", "Ops")
		e.chart("1234567", s, map[string]any{"name": "CPU Usage", "type": "line",
			"streams": []any{line("librato.cpu.percent.idle", tag("environment", "*"))}})
	})
	setup("charts.delete", func(e *refEnv) {
		s := e.space("129", "Ops")
		e.chart("123", s, map[string]any{"name": "CPU Usage", "streams": []any{line("cpu")}})
	})
	setup("master:charts.list", func(e *refEnv) {
		s := e.space("129", "Ops")
		e.chart("", s, map[string]any{"name": "CPU Usage", "type": "line", "streams": []any{
			line("librato.cpu.percent.idle", tag("environment", "*")),
			line("librato.cpu.percent.user", tag("environment", "prod"))}})
	})
	legacyStream := func(metric string, extra ...string) map[string]any {
		s := map[string]any{"metric": metric, "source": "*"}
		for i := 0; i+1 < len(extra); i += 2 {
			s[extra[i]] = extra[i+1]
		}
		return s
	}
	setup("legacy:charts.get", func(e *refEnv) {
		s := e.space("123", "Ops")
		e.chart("6637", s, map[string]any{"name": "CPU Usage", "type": "line", "streams": []any{
			legacyStream("collectd.cpu.0.cpu.user", "group_function", "average", "summary_function", "average")}})
	})
	refSetups["legacy:charts.update_composite"] = refSetups["legacy:charts.get"]
	setup("legacy:charts.update_name", func(e *refEnv) {
		s := e.space("123", "Ops")
		e.chart("1", s, map[string]any{"name": "CPU Usage", "type": "line", "streams": []any{
			legacyStream("temperature", "group_function", "average")}})
	})
	setup("legacy:charts.list", func(e *refEnv) {
		s := e.space("129", "Ops")
		e.chart("", s, map[string]any{"name": "CPU Usage", "type": "line", "streams": []any{
			legacyStream("collectd.cpu.0.cpu.user", "group_function", "average", "summary_function", "average")}})
		e.chart("", s, map[string]any{"name": "Free Memory", "type": "line", "streams": []any{
			legacyStream("collectd.memory.memory.free", "group_function", "average", "summary_function", "average")}})
	})

	// --- annotations
	for _, id := range []string{"annotations.create", "annotations.create_time", "annotations.create_links"} {
		setup(id, nothing)
	}
	links := []any{
		map[string]any{"label": "Github commit", "rel": "github", "href": "http://github.com/org/app/commit/01beaf"},
		map[string]any{"label": "Jenkins CI build job", "rel": "jenkins", "href": "http://ci.acme.com/job/api/34"},
	}
	setup("annotations.get_stream", func(e *refEnv) {
		e.event("", "api-deploys", map[string]any{"title": "Deployed v91", "start_time": 1234567890, "links": links})
		e.event("", "api-deploys", map[string]any{"title": "My Annotation", "start_time": 1234567890, "source": "foo3.bar.com"})
		e.event("", "api-deploys", map[string]any{"title": "Chef run finished", "description": "Chef migrated up to SHA 44a87f9",
			"start_time": 1234567908, "end_time": 1234567958, "source": "foo3.bar.com"})
		e.mk("PUT", "/v1/annotations/api-deploys", map[string]any{"display_name": "Deploys to API"})
	})
	setup("annotations.get_stream_sources", func(e *refEnv) {
		e.event("", "blog-posts", map[string]any{"title": "Post", "start_time": 1234550000, "source": "db1.acme"})
		e.event("", "blog-posts", map[string]any{"title": "Other", "start_time": 1234550000, "source": "web1.acme"})
	})
	setup("annotations.get_event", func(e *refEnv) {
		e.event("189", "api-deploys", map[string]any{"title": "Deployed v91", "start_time": 1234567890, "links": links})
	})
	setup("annotations.add_link", func(e *refEnv) { e.event("198", "app-deploys", map[string]any{"title": "Deployed v57"}) })
	setup("annotations.update_stream", func(e *refEnv) { e.event("", "api-deploys", map[string]any{"title": "Deployed v91"}) })
	setup("annotations.update_event", func(e *refEnv) { e.event("143", "app-deploys", map[string]any{"title": "Deployed v57"}) })
	refSetups["annotations.delete_stream"] = refSetups["annotations.update_stream"]
	setup("annotations.delete_event", func(e *refEnv) { e.event("123", "app-deploys", map[string]any{"title": "Deployed v57"}) })
	setup("annotations.delete_link", func(e *refEnv) {
		e.event("189", "app-deploys", map[string]any{"title": "Deployed v57", "links": links[:1]})
	})
	setup("annotations.list", func(e *refEnv) {
		e.event("", "api-deploys", map[string]any{"title": "Deployed v91"})
		e.event("", "app-deploys", map[string]any{"title": "Deployed v57"})
		e.mk("PUT", "/v1/annotations/api-deploys", map[string]any{"display_name": "Deploys to API"})
		e.mk("PUT", "/v1/annotations/app-deploys", map[string]any{"display_name": "Deploys to UX app"})
	})
	refSetups["annotations.list_name"] = refSetups["annotations.list"]

	// --- services
	campfire := map[string]any{"title": "Notify Ops Room", "type": "campfire",
		"settings": map[string]any{"room": "Ops", "token": "1234567890ABCDEF", "subdomain": "acme"}}
	mail := map[string]any{"title": "Email ops team", "type": "mail",
		"settings": map[string]any{"addresses": "george@example.com,fred@example.com"}}
	setup("services.create", nothing)
	setup("services.get", func(e *refEnv) { e.service("156", mail) })
	setup("services.update", func(e *refEnv) { e.service("145", campfire) })
	refSetups["services.delete"] = refSetups["services.update"]
	setup("services.list", func(e *refEnv) { e.service("145", campfire); e.service("156", mail) })

	// --- jobs: a batch metric update starts one
	startJob := func(names ...string) func(e *refEnv) {
		return func(e *refEnv) {
			e.metric("cpu", map[string]any{"type": "gauge"})
			_, loc := e.mk("PUT", "/v1/metrics", map[string]any{"names": names, "period": 60})
			e.as("123456", loc[strings.LastIndexByte(loc, '/')+1:])
		}
	}
	setup("jobs.get_working", startJob("cpu"), mock.WithJobSteps(2))
	setup("jobs.get_complete", startJob("cpu"), mock.WithJobSteps(1))
	setup("jobs.get_failed", startJob("cpu", "not a metric name!"), mock.WithJobSteps(1))

	// --- API tokens
	for _, id := range []string{"api_tokens.create", "api_tokens.create_json"} {
		setup(id, nothing)
	}
	twoTokens := func(e *refEnv) {
		e.token("", "Token for collectors", librato.RoleRecordOnly)
		id := e.token("", "Token that has been disabled", librato.RoleViewOnly)
		e.mk("PUT", "/v1/api_tokens/"+id, map[string]any{"active": false})
	}
	setup("api_tokens.search", twoTokens)
	setup("api_tokens.list", twoTokens)
	setup("api_tokens.get", func(e *refEnv) { e.token("28", "My New Token", librato.RoleFullAccess) })
	refSetups["api_tokens.update"] = refSetups["api_tokens.get"]
	refSetups["api_tokens.delete"] = refSetups["api_tokens.get"]

	// --- authentication and errors
	docAccount := []mock.Option{mock.WithEmail("example@librato.com"),
		mock.WithSeed(&mock.Seed{Tokens: []mock.SeedToken{{Name: "docs", Role: librato.RoleFullAccess, Token: "75AFDB82"}}})}
	setup("authentication.basic", nothing, docAccount...)
	setup("authentication.url", nothing, docAccount...)
	setup("errors.request", nothing)

	// --- pagination: metrics with the example's attributes
	paged := func(prefix string, n int) func(e *refEnv) {
		return func(e *refEnv) {
			for i := 0; i < n; i++ {
				e.metric(fmt.Sprintf("%s%02d", prefix, i), map[string]any{"type": "gauge", "period": 300, "attributes": map[string]any{
					"summarize_function": "average", "display_units_long": "Request Latency (mS)", "display_units_short": "mS",
					"display_min": 0, "display_stacked": false, "gap_detection": false, "aggregate": true}})
			}
		}
	}
	setup("pagination.offset_length", paged("api", 11))
	setup("pagination.name_limit", paged("api", 21))

	// --- snapshots
	snapChart := func(e *refEnv) string {
		s := e.space("", "Ops")
		return e.chart("1", s, map[string]any{"name": "CPU", "type": "stacked", "streams": []any{line("cpu")}})
	}
	setup("snapshots.create", func(e *refEnv) { snapChart(e) })
	setup("snapshots.get", func(e *refEnv) {
		chartID, _ := strconv.ParseInt(snapChart(e), 10, 64)
		delete(e.ids, "1")
		_, loc := e.mk("POST", "/v1/snapshots", map[string]any{"subject": map[string]any{"chart": map[string]any{
			"id": chartID, "type": "stacked", "sources": []any{"*"}}}})
		id := e.as("1", loc[strings.LastIndexByte(loc, '/')+1:])
		for i := 0; i < 10; i++ { // each read advances the rendering job
			m, _ := e.mk("GET", "/v1/snapshots/"+id, nil)
			if m["image_href"] != nil {
				return
			}
		}
		e.t.Fatal("setup: the snapshot was never rendered")
	})

	// --- measurements
	for _, id := range []string{"introduction.submit", "measurements.create", "measurements.create_top_tags",
		"measurements.create_embedded_tags", "measurements.create_summary"} {
		setup(id, nothing)
	}
	setup("introduction.query", func(e *refEnv) {
		e.measure(map[string]any{"measurements": []any{map[string]any{"name": "my.custom.metric", "value": 65,
			"time": time.Now().Add(-time.Minute).Unix(), "tags": map[string]any{"region": "us-east-1", "az": "a"}}}})
	})
	disk := func(e *refEnv) {
		t0 := recent()
		ms := []any{}
		for _, p := range []struct {
			region string
			dt     int64
		}{{"us-east", 0}, {"us-east", 1140}, {"us-east", 1200}, {"us-west", 0}} {
			ms = append(ms, map[string]any{"name": "AWS.EC2.DiskWriteBytes", "value": 753, "time": t0 + p.dt,
				"tags": map[string]any{"name": "prod", "region": p.region}})
		}
		e.measure(map[string]any{"measurements": ms})
	}
	setup("measurements.get_tags", disk)
	setup("measurements.get_group_by", disk)
	setup("measurements.get_tags_search", func(e *refEnv) {
		e.measure(map[string]any{"measurements": []any{map[string]any{"name": "memory", "value": 6.9, "time": recent(),
			"tags": map[string]any{"name": "prod", "region": "us-east", "db": "db-prod-1"}}}})
	})
	foo := func(hosts ...string) func(e *refEnv) {
		return func(e *refEnv) {
			ms := []any{}
			for _, h := range hosts {
				ms = append(ms, map[string]any{"name": "foo", "value": 1, "time": recent(), "tags": map[string]any{"host": h}})
			}
			e.measure(map[string]any{"measurements": ms})
		}
	}
	setup("measurements.page_next", foo("a", "b"), mock.WithSeriesPageSize(1))
	setup("measurements.page_last", foo("a"))
	setup("measurements.compose", func(e *refEnv) {
		t0 := recent()
		ms := []any{}
		for i, v := range []float64{100, 530, 1268, 1379} {
			ms = append(ms, map[string]any{"name": "librato.disk.disk_ops.read", "value": v, "time": t0 + int64(i)*60,
				"tags": map[string]any{"disk": "disk0", "host": "ip-192-168-15-18.ec2.internal"}})
		}
		e.measure(map[string]any{"measurements": ms})
		e.metric("librato.disk.disk_ops.read", map[string]any{"period": 60, "attributes": map[string]any{
			"display_units_long": "Operations", "display_min": 0, "display_units_short": "ops"}})
	})

	// --- metrics
	for _, id := range []string{"metrics.create", "metrics.create_composite", "metrics.create_form"} {
		setup(id, nothing)
	}
	cpuTemp := map[string]any{"type": "gauge", "display_name": "cpu_temp", "description": "Current CPU temperature in Fahrenheit",
		"period": 60, "attributes": map[string]any{"display_max": nil, "display_min": 0, "display_stacked": true,
			"display_units_long": "Fahrenheit", "display_units_short": "°F"}}
	appRequests := map[string]any{"type": "gauge", "display_name": "app_requests",
		"description": "HTTP requests serviced by the app per-minute",
		"period":      60, "attributes": map[string]any{"display_max": nil, "display_min": 0, "display_stacked": true,
			"display_units_long": "Requests", "display_units_short": "reqs"}}
	setup("metrics.get", func(e *refEnv) { e.metric("cpu_temp", cpuTemp) })
	gauges := func(names ...string) func(e *refEnv) {
		return func(e *refEnv) {
			for _, n := range names {
				e.metric(n, map[string]any{"type": "gauge"})
			}
		}
	}
	setup("metrics.update_batch_names", gauges("cpu", "servers", "reqs"))
	setup("metrics.update_batch_pattern", gauges("api.time", "db.time"))
	setup("metrics.update", gauges("temp"))
	setup("metrics.delete_batch_names", gauges("cpu", "servers", "reqs"))
	setup("metrics.delete_batch_pattern", gauges("cpu0.90", "cpu1.90"))
	setup("metrics.delete", gauges("app_requests"))
	twoMetrics := func(e *refEnv) { e.metric("app_requests", appRequests); e.metric("cpu_temp", cpuTemp) }
	setup("metrics.list", twoMetrics)
	setup("metrics.list_name", twoMetrics)
	setup("metric_attributes.display_max", gauges("temperature"))
	setup("metric_attributes.aggregate", gauges("speed"))

	// --- legacy (source-based) metrics
	for _, id := range []string{"introduction.legacy_submit_json", "introduction.legacy_submit_form", "metrics.legacy_create_json",
		"metrics.legacy_create_form", "metrics.legacy_hashed", "metrics.legacy_hashed_names", "metrics.legacy_array"} {
		setup(id, nothing)
	}
	setup("introduction.legacy_query", func(e *refEnv) {
		e.legacySubmit(map[string]any{"gauges": []any{map[string]any{"name": "cpu", "value": 75, "source": "my.machine"}}})
	})
	legacyCPUTemp := func(sources ...string) func(e *refEnv) {
		return func(e *refEnv) {
			e.metric("cpu_temp", cpuTemp)
			t0 := recent()
			g := []any{}
			for _, src := range sources {
				for i, v := range []float64{84.5, 86.7, 84.6, 89.7} {
					g = append(g, map[string]any{"name": "cpu_temp", "value": v, "source": src, "measure_time": t0 + int64(i)*60})
				}
			}
			e.legacySubmit(map[string]any{"gauges": g})
		}
	}
	setup("metrics.legacy_get_count", legacyCPUTemp("server1.acme.com"))
	setup("metrics.legacy_get_source", legacyCPUTemp("server1.acme.com", "server2.acme.com"))
	setup("metrics.legacy_get_sources", legacyCPUTemp("server1.acme.com", "server2.acme.com"))
	// The documented answer has one series of two points, 5831 and 5748,
	// of a counter collectd created with period 60 and the attributes
	// shown: three raw counter values, which derive turns into exactly
	// those two differences.
	setup("metrics.legacy_compose", func(e *refEnv) {
		attrs := map[string]any{"aggregate": false, "display_max": nil, "display_min": nil, "display_stacked": true,
			"display_units_long": "Units", "gap_detection": true}
		c := []any{}
		for i, v := range []float64{100, 5931, 11679} {
			c = append(c, map[string]any{"name": "collectd.cpu.0.cpu.idle", "value": v, "source": "boatman-stg_45",
				"measure_time": recent() + int64(i)*60, "period": 60, "attributes": attrs})
		}
		e.legacySubmit(map[string]any{"counters": c})
	})
	// More points than one page holds, so the answer is cut with
	// query.next_time.
	setup("metrics.legacy_page", func(e *refEnv) {
		g := []any{}
		for i := 0; i < 200; i++ {
			g = append(g, map[string]any{"name": "librato.cpu.percent.idle", "value": i, "source": "a", "measure_time": recent() - int64(i)*60})
		}
		e.legacySubmit(map[string]any{"gauges": g})
	}, mock.WithLegacyPageSize(100))

	// --- legacy sources
	setup("sources.update", func(e *refEnv) {
		e.legacySubmit(map[string]any{"gauges": []any{map[string]any{"name": "cpu", "value": 1, "source": "i-d32d61af"}}})
	})
	setup("sources.create", nothing)
	setup("sources.get", func(e *refEnv) { e.mk("PUT", "/v1/sources/foo.bar.com", map[string]any{"display_name": "FooBar"}) })
	fourSources := func(e *refEnv) {
		for _, s := range []string{"prod.example.com", "stg1.example.com", "stg2.example.com", "foo.bar.com"} {
			e.mk("PUT", "/v1/sources/"+s, map[string]any{"display_name": s})
		}
	}
	setup("sources.list", fourSources)
	// name=example matches three names and, through its display name, a
	// fourth source; prod.example.com has no display name (null).
	setup("sources.list_name", func(e *refEnv) {
		e.legacySubmit(map[string]any{"gauges": []any{map[string]any{"name": "cpu", "value": 1, "source": "prod.example.com"}}})
		for s, dn := range map[string]string{"stg1.example.com": "Staging 1", "stg2.example.com": "Staging 2", "foo.bar.com": "Example Source"} {
			e.mk("PUT", "/v1/sources/"+s, map[string]any{"display_name": dn})
		}
		e.mk("PUT", "/v1/sources/other.host", map[string]any{"display_name": "Unrelated"})
	})

	// --- alerts
	slack := map[string]any{"title": "librato-services", "type": "slack",
		"settings": map[string]any{"url": "https://hooks.slack.com/services/XYZABC/a1b2c3/asdf"}}
	setup("alerts.create", func(e *refEnv) { e.service("849", slack) })
	responseTime := func(e *refEnv) {
		svc := e.service("", slack)
		n, _ := strconv.ParseInt(svc, 10, 64)
		e.alert("123", map[string]any{"name": "production.web.frontend.response_time", "description": "Web Response Time",
			"conditions": []any{map[string]any{"type": "above", "metric_name": "web.nginx.response_time", "threshold": 200,
				"summary_function": "average", "tags": []any{map[string]any{"name": "environment", "grouped": false,
					"values": []any{"production"}}}}},
			"services": []any{n}, "attributes": map[string]any{"runbook_url": "http://myco.com/runbooks/response_time"},
			"active": true, "md": true})
	}
	setup("alerts.get", responseTime)
	setup("alerts.list_name", responseTime)
	simple := func(name string) map[string]any {
		return map[string]any{"name": name, "conditions": []any{map[string]any{"type": "above", "metric_name": "cpu", "threshold": 90}}}
	}
	setup("alerts.status_triggered", func(e *refEnv) {
		id, _ := strconv.ParseInt(e.as("120", e.alert("120", simple("cpu.high"))["id"]), 10, 64) // as: the id as a string
		require.True(e.t, e.srv.FireAlert(id))
	})
	setup("alerts.status_ok", func(e *refEnv) { e.alert("121", simple("cpu.high")) })
	refSetups["alerts.clear"] = refSetups["alerts.status_triggered"]
	setup("master:alerts.update_disable", func(e *refEnv) {
		m := e.alert("123", map[string]any{"name": "my.alert.name", "description": "High CPU Load",
			"conditions": []any{map[string]any{"type": "above", "metric_name": "my.alert.name", "threshold": 90,
				"summary_function": "average", "tags": []any{map[string]any{"name": "my.environment", "grouped": false,
					"values": []any{"production"}}}}}})
		e.as("19375969", m["conditions"].([]any)[0].(map[string]any)["id"])
	})
	for _, id := range []string{"master:alerts.update_enable", "master:alerts.update_description", "master:alerts.update_runbook"} {
		refSetups[id] = refSetups["master:alerts.update_disable"]
	}
	setup("legacy:alerts.update_disable", func(e *refEnv) {
		e.alert("123", map[string]any{"name": "my.alert.name", "description": "Process went down",
			"conditions": []any{map[string]any{"type": "absent", "metric_name": "service.alive", "duration": 900}}})
	})
	for _, id := range []string{"legacy:alerts.update_enable", "legacy:alerts.update_description", "legacy:alerts.update_runbook"} {
		refSetups[id] = refSetups["legacy:alerts.update_disable"]
	}
	setup("alerts.add_service", func(e *refEnv) {
		e.alert("45", simple("my.alert.name"))
		e.service("290", slack)
	})
	setup("alerts.remove_service", func(e *refEnv) {
		svc := e.service("209", slack)
		n, _ := strconv.ParseInt(svc, 10, 64)
		a := simple("my.alert.name")
		a["services"] = []any{n}
		e.alert("123", a)
	})
	setup("alerts.delete", func(e *refEnv) { e.alert("123", simple("my.alert.name")) })
	setup("alerts.list", func(e *refEnv) {
		svc := e.service("", map[string]any{"title": "Ops Team", "type": "mail",
			"settings": map[string]any{"addresses": "foo@domain.com,bar@domain.com"}})
		n, _ := strconv.ParseInt(svc, 10, 64)
		e.alert("1400310", map[string]any{"name": "CPU.utilization", "conditions": []any{map[string]any{"type": "above",
			"metric_name": "AWS.EC2.CPUUtilization", "source": "*prod*", "threshold": 90, "duration": 300, "summary_function": "max"}},
			"services": []any{n}, "attributes": map[string]any{}, "md": false})
	})
	setup("alerts.status_all", func(e *refEnv) {
		for i, doc := range []string{"106", "129", "127"} { // 127 is the cleared one
			id, _ := strconv.ParseInt(e.as(doc, e.alert(doc, simple("alert."+doc))["id"]), 10, 64)
			require.True(e.t, e.srv.FireAlert(id))
			if i == 2 {
				e.mk("POST", fmt.Sprintf("/v1/alerts/%d/clear", id), nil)
			}
		}
	})
}
