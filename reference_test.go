package librato

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

// The official reference's examples (github.com/librato/api-docs, branches
// master and legacy, source/includes/*.md) are transcribed in
// testdata/reference, one file per branch and family. For every request
// example TestReferenceRequests checks that the typed method sends it, and
// for every response example that the typed result keeps every documented
// field. mock/reference_test.go replays the same examples against the mock.

// refCase is one example as the fixtures hold it.
type refCase struct {
	ID           string          `json:"id"`
	Source       string          `json:"source"`
	ResponseOnly bool            `json:"response_only"`
	Auth         *refAuth        `json:"auth"`
	Method       string          `json:"method"`
	Path         string          `json:"path"`
	Query        string          `json:"query"`
	ContentType  string          `json:"content_type"`
	Body         json.RawMessage `json:"body"`
	BodyText     string          `json:"body_text"`
	Status       refStatus       `json:"status"`
	Location     string          `json:"location"`
	Response     json.RawMessage `json:"response"`
	ResponseText string          `json:"response_text"`
	Note         string          `json:"note"`
	Wrong        string          `json:"wrong"`
	Refused      bool            `json:"expect_refused"`
	Fix          *refFix         `json:"fix"`
	SDKIgnore    []string        `json:"sdk_ignore"`
	MockResponse json.RawMessage `json:"mock_response"`
	MockExtra    []string        `json:"mock_extra"`
	Shape        string          `json:"shape"`
	NoMock       string          `json:"no_mock"`
	NoSDK        string          `json:"no_sdk"`

	branch string
	file   string
}

type refAuth struct {
	User  string `json:"user"`
	Token string `json:"token"`
	InURL bool   `json:"in_url"`
}

// refFix is the corrected copy of what an example gets wrong; the tests use
// its fields instead of the documented ones.
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

// refStatus is a documented status, or the several a route may answer
// ("204 No Content OR 202 Accepted").
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

// refFile is one fixture file.
type refFile struct {
	Reference string    `json:"reference"`
	Branch    string    `json:"branch"`
	Commit    string    `json:"commit"`
	File      string    `json:"file"`
	Cases     []refCase `json:"cases"`
}

// loadReference reads every fixture; each case knows its branch and file.
func loadReference(t *testing.T) []*refCase {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "reference", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "no fixtures in testdata/reference")
	var out []*refCase
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		var f refFile
		require.NoError(t, json.Unmarshal(data, &f), p)
		require.Contains(t, []string{"master", "legacy"}, f.Branch, p)
		for i := range f.Cases {
			c := &f.Cases[i]
			c.branch, c.file = f.Branch, filepath.Base(p)
			out = append(out, c)
		}
	}
	return out
}

// The effective request and answer: the documented one, or its correction.

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

func (c *refCase) response() json.RawMessage {
	if c.Fix != nil && c.Fix.Response != nil {
		return c.Fix.Response
	}
	return c.Response
}

// bodyJSON is the request body as the JSON the SDK would send: a form body
// becomes the object of the same keys (Rails bracket nesting, values as
// strings), a JSON body stays itself. nil when there is no body.
func (c *refCase) bodyJSON(t *testing.T) any {
	t.Helper()
	raw := c.body()
	if len(raw) == 0 || string(raw) == "null" {
		require.Empty(t, c.BodyText, "the body is not JSON and has no corrected copy")
		return nil
	}
	var v any
	require.NoError(t, json.Unmarshal(raw, &v))
	if s, ok := v.(string); ok && strings.HasPrefix(c.contentType(), "application/x-www-form-urlencoded") {
		form, err := formToJSON(s)
		require.NoError(t, err, "form body %q", s)
		return form
	}
	return v
}

// formToJSON reads a form body the way Rails does: a[b]=1 nests, a[]=1
// appends, a[0][b]=1 indexes, and a key repeated without brackets is a list.
func formToJSON(body string) (map[string]any, error) {
	vals, err := url.ParseQuery(body)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		base, segs, ok := strings.Cut(k, "[")
		vs := vals[k]
		if !ok {
			if len(vs) > 1 {
				out[base] = stringsToAny(vs)
			} else {
				out[base] = vs[0]
			}
			continue
		}
		if !strings.HasSuffix(segs, "]") {
			return nil, fmt.Errorf("form key %q: unbalanced brackets", k)
		}
		parts := strings.Split(strings.TrimSuffix(segs, "]"), "][")
		cur := out
		name := base
		for _, p := range parts {
			if p == "" { // name[]: a list of every value
				cur[name] = stringsToAny(vs)
				name = ""
				break
			}
			next, _ := cur[name].(map[string]any)
			if next == nil {
				next = map[string]any{}
				cur[name] = next
			}
			cur, name = next, p
		}
		if name != "" {
			cur[name] = vs[len(vs)-1]
		}
	}
	return out, nil
}

func stringsToAny(vs []string) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// canon puts a JSON value in a form where equivalent encodings compare
// equal: numbers, booleans and numeric strings become canonical strings
// (form values are strings), and an object keyed 0..n-1 becomes a list (a
// form's indexed keys, or the legacy API's hashed measurements).
func canon(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if list, ok := indexedList(x); ok {
			return canon(list)
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = canon(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = canon(e)
		}
		return out
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return strconv.FormatFloat(f, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil && strings.TrimSpace(x) == x {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return x
	}
	return v
}

func indexedList(m map[string]any) ([]any, bool) {
	if len(m) == 0 {
		return nil, false
	}
	out := make([]any, len(m))
	for k, v := range m {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(m) || strconv.Itoa(i) != k {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

// legacyHashed rewrites the legacy API's measurements hashed by name
// ({"gauges": {"login-delay": {...}}}), and a form's indexed ones
// (gauges[0][name]=...), as the array format it documents as equivalent,
// which is the one the SDK sends: each measurement named by its key unless
// it names itself, in key order with numeric keys by number and first.
func legacyHashed(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[k] = e
		group, ok := e.(map[string]any)
		if (k != "gauges" && k != "counters") || !ok {
			continue
		}
		if list, ok := indexedList(group); ok {
			out[k] = list
			continue
		}
		names := make([]string, 0, len(group))
		for name := range group {
			names = append(names, name)
		}
		sort.Slice(names, func(i, j int) bool {
			a, errA := strconv.ParseUint(names[i], 10, 64)
			b, errB := strconv.ParseUint(names[j], 10, 64)
			switch {
			case errA == nil && errB == nil:
				return a < b
			case errA == nil || errB == nil:
				return errA == nil
			}
			return names[i] < names[j]
		})
		list := make([]any, 0, len(group))
		for _, name := range names {
			item, _ := group[name].(map[string]any)
			named := map[string]any{"name": name}
			for ik, iv := range item {
				named[ik] = iv
			}
			list = append(list, named)
		}
		out[k] = list
	}
	return out
}

// lostFields lists where got, the typed result encoded again, lost or
// changed a field of doc, the documented answer. A null, empty list or
// empty object in doc carries no data and may be absent from got.
func lostFields(doc, got any, path string) []string {
	switch d := doc.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: documented an object, got %s", path, brief(got))}
		}
		var out []string
		keys := make([]string, 0, len(d))
		for k := range d {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, present := g[k]
			if !present {
				if !emptyJSON(d[k]) {
					out = append(out, fmt.Sprintf("%s.%s: lost (documented %s)", path, k, brief(d[k])))
				}
				continue
			}
			out = append(out, lostFields(d[k], gv, path+"."+k)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok {
			if len(d) == 0 && got == nil {
				return nil
			}
			return []string{fmt.Sprintf("%s: documented a list, got %s", path, brief(got))}
		}
		if len(g) != len(d) {
			return []string{fmt.Sprintf("%s: documented %d items, got %d", path, len(d), len(g))}
		}
		var out []string
		for i := range d {
			out = append(out, lostFields(d[i], g[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	case nil:
		return nil
	}
	if !reflect.DeepEqual(canon(doc), canon(got)) {
		return []string{fmt.Sprintf("%s: documented %s, got %s", path, brief(doc), brief(got))}
	}
	return nil
}

func emptyJSON(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func brief(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 120 {
		return string(b[:120]) + "..."
	}
	return string(b)
}

// dropKeys removes top-level keys of a JSON object.
func dropKeys(v any, keys []string) any {
	m, ok := v.(map[string]any)
	if !ok || len(keys) == 0 {
		return v
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		if !slices.Contains(keys, k) {
			out[k] = e
		}
	}
	return out
}

// asJSON encodes v and decodes it as plain JSON values.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(data, &out))
	return out
}

// tokenJSON is a token as the API writes it, secret included: json.Marshal
// leaves the secret out on purpose, and Token reads it.
func tokenJSON(t *testing.T, tok APIToken) map[string]any {
	m := asJSON(t, tok).(map[string]any)
	if s := tok.Token(); s != "" {
		m["token"] = s
	}
	return m
}

func tokensJSON(t *testing.T, l *APITokenPage) map[string]any {
	toks := make([]any, len(l.APITokens))
	for i, tok := range l.APITokens {
		toks[i] = tokenJSON(t, tok)
	}
	return map[string]any{"query": asJSON(t, l.Query), "api_tokens": toks}
}

// refCall makes the typed call of one example; the value it returns is
// encoded again and compared with the documented answer.
type refCall func(ctx context.Context, t *testing.T, c *Client, rc *refCase) (any, error)

// refCalls maps a case id ("branch:id" first, then "id") to its call.
var refCalls = map[string]refCall{}

func unix(s int64) time.Time { return time.Unix(s, 0).UTC() }

func one[T any](v *T, err error) (any, error) {
	if err != nil || v == nil {
		return nil, err
	}
	return v, nil
}

func none(err error) (any, error) { return nil, err }

// kept is the result of a call that returns only an error (Update, rule
// 5) while its example documents an answer: the answer is decoded into v,
// the type that reads the resource back, and checked for lost fields as a
// result would be.
type kept struct{ v any }

func keptAs(v any, err error) (any, error) { return kept{v}, err }

func init() {
	r := func(id string, f refCall) {
		if _, dup := refCalls[id]; dup {
			panic("duplicate reference call " + id)
		}
		refCalls[id] = f
	}

	// --- spaces
	r("master:spaces.create", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Spaces.Create(ctx, &Space{Name: "CPUs"}))
	})
	r("legacy:spaces.create", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Spaces.Create(ctx, &Space{Name: "CPUs", Tags: Ptr(false)}))
	})
	r("spaces.create_json", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Spaces.Create(ctx, &Space{Name: "CPUs"}))
	})
	r("spaces.get", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Spaces.Get(ctx, 129))
	})
	r("spaces.update", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return none(c.Spaces.Update(ctx, 129, &SpaceUpdate{Name: Ptr("MEMORY")}))
	})
	refCalls["spaces.update_json"] = refCalls["spaces.update"]
	r("spaces.delete", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return none(c.Spaces.Delete(ctx, 129))
	})
	r("spaces.list", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Spaces.List(ctx, nil))
	})
	r("spaces.list_name", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Spaces.List(ctx, &ListOptions{Name: "ops"}))
	})

	// --- charts
	r("charts.create_line", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Charts.Create(ctx, 123, &Chart{Type: ChartTypeLine, Name: "CPU Usage", Streams: []ChartStream{
			{Metric: "librato.cpu.percent.idle", Tags: []StreamTag{{Name: "environment", Values: []string{"*"}}}},
			{Metric: "librato.cpu.percent.user", Tags: []StreamTag{{Name: "environment", Dynamic: true}}},
		}}))
	})
	r("charts.create_bignumber", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Charts.Create(ctx, 123, &Chart{Type: ChartTypeBigNumber, Name: "CPU Usage",
			Streams:    []ChartStream{{Metric: "librato.cpu.percent.user", Tags: []StreamTag{{Name: "environment", Values: []string{"prod"}}}}},
			Thresholds: []ChartThreshold{{Operator: ThresholdAbove, Value: 90, Type: ThresholdRed}},
		}))
	})
	r("master:charts.get", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Charts.Get(ctx, 123, 3700969))
	})
	r("legacy:charts.get", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Charts.Get(ctx, 123, 6637))
	})
	r("master:charts.update_name", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return keptAs(&Chart{}, c.Charts.Update(ctx, 123, 3700969, &ChartUpdate{Type: Ptr(ChartTypeLine), Name: Ptr("Temperature")}))
	})
	r("legacy:charts.update_name", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return keptAs(&Chart{}, c.Charts.Update(ctx, 123, 1, &ChartUpdate{Name: Ptr("Temperature")}))
	})
	r("master:charts.update_composite", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return keptAs(&Chart{}, c.Charts.Update(ctx, 123, 1234567, &ChartUpdate{Type: Ptr(ChartTypeLine), Streams: []ChartStream{{
			Composite: `divide([sum(s("librato.cpu.percent.idle",{"environment":"*"})),sum(s("librato.cpu.percent.user",{"environment":"*"}))])`,
		}}}))
	})
	r("legacy:charts.update_composite", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return keptAs(&Chart{}, c.Charts.Update(ctx, 123, 6637, &ChartUpdate{Type: Ptr(ChartTypeLine), Streams: []ChartStream{{
			Composite: `divide([sum(s("memory_total","prod.web*")),sum(s("memory_used","prod.web*"))])`,
		}}}))
	})
	r("charts.delete", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return none(c.Charts.Delete(ctx, 129, 123))
	})
	r("charts.list", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return c.Charts.List(ctx, 129)
	})
	r("charts.create_sources", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Charts.Create(ctx, 123, &Chart{Type: ChartTypeLine, Name: "Server Temperature", Streams: []ChartStream{
			{Metric: "server_temp", Source: "app1"},
			{Metric: "environmental_temp", Source: "*", GroupFunction: "breakout", SummaryFunction: "average"},
			{Metric: "server_temp", Source: "%", GroupFunction: "average"},
		}}))
	})

	// --- annotations
	r("annotations.create", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Annotations.CreateEvent(ctx, "app-deploys", &AnnotationEvent{
			Title: "Deployed v56", Source: "foo3.bar.com", Description: "v56 - Fixed typo in page titles"}))
	})
	r("annotations.create_time", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Annotations.CreateEvent(ctx, "api-deploys", &AnnotationEvent{
			Title: "My Annotation", Description: "Joe deployed v29 to metrics", StartTime: 1234567890}))
	})
	r("annotations.create_links", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Annotations.CreateEvent(ctx, "api-deploys", &AnnotationEvent{
			Title: "My Annotation", Description: "Joe deployed v29 to metrics", StartTime: 1234567890,
			Links: []Link{{Label: "Metrics Gem", Href: "https://github.com/librato/librato-metrics", Rel: "github"}}}))
	})
	r("annotations.get_stream", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Annotations.Get(ctx, "api-deploys", &AnnotationSearch{StartTime: unix(1234500000)}))
	})
	r("annotations.get_stream_sources", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Annotations.Get(ctx, "blog-posts", &AnnotationSearch{
			StartTime: unix(1234500000), EndTime: unix(1234600000), Sources: []string{"db1.acme", "db2.acme"}}))
	})
	r("annotations.get_event", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Annotations.GetEvent(ctx, "api-deploys", 189))
	})
	r("annotations.add_link", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Annotations.AddLink(ctx, "app-deploys", 198, &Link{
			Rel: "github", Label: "Github Commit", Href: "https://github.com/acme/app/commits/01beaf"}))
	})
	r("annotations.update_stream", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return none(c.Annotations.Update(ctx, "api-deploys", &AnnotationStreamUpdate{DisplayName: Ptr("Deploys to API")}))
	})
	r("annotations.update_event", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return none(c.Annotations.UpdateEvent(ctx, "app-deploys", 143, &AnnotationEventUpdate{
			Description: Ptr("Deployed git SHA 601060a68ff2e")}))
	})
	r("annotations.delete_stream", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return none(c.Annotations.Delete(ctx, "api-deploys"))
	})
	r("annotations.delete_event", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return none(c.Annotations.DeleteEvent(ctx, "app-deploys", 123))
	})
	r("annotations.delete_link", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return none(c.Annotations.DeleteLink(ctx, "app-deploys", 189, "github"))
	})
	r("annotations.list", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Annotations.List(ctx, nil))
	})
	r("annotations.list_name", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Annotations.List(ctx, &ListOptions{Name: "api"}))
	})

	// --- services
	r("services.create", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Services.Create(ctx, &Service{Title: "Notify Ops Room", Type: "campfire",
			Settings: map[string]any{"token": "1234567890ABCDEF", "room": "Ops", "subdomain": "acme"}}))
	})
	r("services.get", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Services.Get(ctx, 156))
	})
	r("services.update", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return none(c.Services.Update(ctx, 145, &ServiceUpdate{Title: Ptr("Notify Ops Chatroom")}))
	})
	r("services.delete", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return none(c.Services.Delete(ctx, 145))
	})
	r("services.list", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Services.List(ctx, nil))
	})

	// --- jobs
	for _, id := range []string{"jobs.get_working", "jobs.get_complete", "jobs.get_queued", "jobs.get_failed"} {
		r(id, func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
			return one(c.Jobs.Get(ctx, 123456))
		})
	}

	// --- API tokens
	r("api_tokens.create", func(ctx context.Context, t *testing.T, c *Client, rc *refCase) (any, error) {
		tok, err := c.APITokens.Create(ctx, &APIToken{Name: Ptr("My New Token"), Role: RoleFullAccess})
		if err != nil {
			return nil, err
		}
		return tokenJSON(t, *tok), nil
	})
	refCalls["api_tokens.create_json"] = refCalls["api_tokens.create"]
	r("api_tokens.search", func(ctx context.Context, t *testing.T, c *Client, rc *refCase) (any, error) {
		l, err := c.APITokens.List(ctx, &ListOptions{Name: "*token*"})
		if err != nil {
			return nil, err
		}
		return tokensJSON(t, l), nil
	})
	r("api_tokens.get", func(ctx context.Context, t *testing.T, c *Client, rc *refCase) (any, error) {
		tok, err := c.APITokens.Get(ctx, 28)
		if err != nil {
			return nil, err
		}
		return tokenJSON(t, *tok), nil
	})
	r("api_tokens.update", func(ctx context.Context, t *testing.T, c *Client, rc *refCase) (any, error) {
		return keptAs(&APIToken{}, c.APITokens.Update(ctx, 28, &APITokenUpdate{Name: Ptr("New Token Name"), Active: Ptr(false), Role: Ptr(RoleFullAccess)}))
	})
	r("api_tokens.delete", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return none(c.APITokens.Delete(ctx, 28))
	})
	r("api_tokens.list", func(ctx context.Context, t *testing.T, c *Client, rc *refCase) (any, error) {
		l, err := c.APITokens.List(ctx, nil)
		if err != nil {
			return nil, err
		}
		return tokensJSON(t, l), nil
	})

	// --- authentication, errors, pagination
	r("authentication.basic", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Metrics.List(ctx, nil))
	})
	refCalls["authentication.url"] = refCalls["authentication.basic"]
	r("errors.request", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		_, err := c.Metrics.List(ctx, nil)
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			return nil, fmt.Errorf("want an *APIError, got %v", err)
		}
		// The error document as the SDK decoded it.
		errs := map[string]any{}
		if apiErr.Params != nil {
			errs["params"] = apiErr.Params
		}
		if apiErr.Request != nil {
			errs["request"] = apiErr.Request
		}
		if apiErr.System != nil {
			errs["system"] = apiErr.System
		}
		return map[string]any{"errors": errs}, nil
	})
	r("pagination.offset_length", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Metrics.List(ctx, &ListOptions{Offset: 10, Length: 10}))
	})
	r("pagination.name_limit", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Metrics.List(ctx, &ListOptions{Name: "api", Offset: 20, Length: 10}))
	})

	// --- snapshots
	r("master:snapshots.create", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Snapshots.Create(ctx, &Snapshot{Subject: SnapshotSubject{Chart: SnapshotChart{
			ID: 1, Type: ChartTypeStacked, Tags: []SnapshotTag{{Name: "environment", Values: []string{"prod*"}}}}}}))
	})
	r("legacy:snapshots.create", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Snapshots.Create(ctx, &Snapshot{Subject: SnapshotSubject{Chart: SnapshotChart{
			ID: 1, Type: ChartTypeStacked, Source: "*"}}}))
	})
	r("snapshots.get", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Snapshots.Get(ctx, 1))
	})

	// --- measurements
	quickStart := func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Measurements.Create(ctx, &MeasurementBatch{
			Tags:         map[string]string{"region": "us-east-1", "az": "a"},
			Measurements: []Measurement{{Name: "my.custom.metric", Value: 65}},
		}))
	}
	r("introduction.submit", quickStart)
	r("measurements.create", quickStart)
	r("introduction.query", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Measurements.List(ctx, "my.custom.metric", &MeasurementsQuery{Duration: 300 * time.Second, Resolution: time.Minute}))
	})
	r("measurements.create_top_tags", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Measurements.Create(ctx, &MeasurementBatch{
			Tags:         map[string]string{"region": "us-west", "name": "web-prod-3"},
			Measurements: []Measurement{{Name: "cpu", Value: 4.5}, {Name: "memory", Value: 10.5}},
		}))
	})
	r("measurements.create_embedded_tags", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Measurements.Create(ctx, &MeasurementBatch{
			Tags: map[string]string{"region": "us-west", "name": "web-prod-3"},
			Measurements: []Measurement{
				{Name: "cpu", Value: 4.5, Tags: map[string]string{"name": "web-prod-1"}},
				{Name: "memory", Value: 34.5, Tags: map[string]string{"az": "e", "db": "db-prod-1"}},
			},
		}))
	})
	r("measurements.create_summary", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Measurements.Create(ctx, &MeasurementBatch{Measurements: []Measurement{{
			Name: "cpu", Time: 1421530163, Period: 60, Attributes: &MetricAttributes{Aggregate: Ptr(false)},
			Sum: Ptr(35.0), Count: 3, Min: Ptr(4.5), Max: Ptr(6.7), Last: Ptr(2.5), StdDev: Ptr(1.34),
			Tags: map[string]string{"region": "us-east-1", "az": "b", "role": "kafka", "environment": "prod", "instance": "3"},
		}}}))
	})
	r("measurements.get_tags", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Measurements.List(ctx, "AWS.EC2.DiskWriteBytes", &MeasurementsQuery{
			Resolution: time.Minute, Duration: 86400 * time.Second,
			Tags: map[string][]string{"region": {"us-*"}, "name": {"prod"}}}))
	})
	r("measurements.get_group_by", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Measurements.List(ctx, "AWS.EC2.DiskWriteBytes", &MeasurementsQuery{
			Resolution: time.Minute, Duration: 86400 * time.Second,
			Tags:    map[string][]string{"region": {"us-*"}, "name": {"prod"}},
			GroupBy: []string{"region"}, GroupByFunction: "sum"}))
	})
	r("measurements.get_tags_search", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Measurements.List(ctx, "memory", &MeasurementsQuery{
			Resolution: time.Minute, Duration: 86400 * time.Second, TagsSearch: "region=us-east* and db=*prod*"}))
	})
	page := func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Measurements.List(ctx, "foo", &MeasurementsQuery{StartTime: unix(1234), Resolution: 3 * time.Second}))
	}
	r("measurements.page_next", page)
	r("measurements.page_last", page)
	r("measurements.compose", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return c.Measurements.Compose(ctx, &CompositeQuery{
			Compose:    `derive(s("librato.disk.disk_ops.read", {"host":"ip-192-168-15-18.ec2.internal"}), {detect_reset: "true"})`,
			StartTime:  unix(1484678910),
			Resolution: time.Minute,
		})
	})

	// --- metrics
	r("metrics.create", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return keptAs(&Metric{}, c.Metrics.Update(ctx, "librato.cpu.percent.used", &MetricUpdate{Type: Ptr(MetricTypeGauge),
			Period: Ptr(60), Attributes: &MetricAttributes{SummarizeFunction: "sum", Color: "#FFFFFF"}}))
	})
	r("metrics.create_composite", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return keptAs(&Metric{}, c.Metrics.Update(ctx, "librato.cpu.percent.used", &MetricUpdate{Type: Ptr(MetricTypeComposite),
			Composite: Ptr(`s("librato.cpu.percent.user", {"environment" : "prod", "service": "api"})`)}))
	})
	r("metrics.get", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Metrics.Get(ctx, "cpu_temp"))
	})
	r("metrics.update_batch_names", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Metrics.UpdateBatch(ctx, &MetricsBatchUpdate{MetricNames: MetricNames{Names: []string{"cpu", "servers", "reqs"}},
			Period: Ptr(60), Attributes: &MetricAttributes{DisplayMin: Ptr(0.0)}}))
	})
	r("metrics.update_batch_pattern", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Metrics.UpdateBatch(ctx, &MetricsBatchUpdate{MetricNames: MetricNames{Pattern: "*.time"},
			Attributes: &MetricAttributes{DisplayUnitsShort: "ms"}}))
	})
	r("metrics.update", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return keptAs(&Metric{}, c.Metrics.Update(ctx, "temp", &MetricUpdate{DisplayName: Ptr("Temperature in Celsius"),
			Attributes: &MetricAttributes{DisplayMin: Ptr(0.0)}}))
	})
	r("metrics.create_form", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return keptAs(&Metric{}, c.Metrics.Update(ctx, "queue_len", &MetricUpdate{Type: Ptr(MetricTypeGauge),
			Description: Ptr("Length of app queue"), DisplayName: Ptr("num. elements")}))
	})
	r("metrics.delete_batch_names", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Metrics.DeleteBatch(ctx, &MetricsBatchDelete{MetricNames{Names: []string{"cpu", "servers", "reqs"}}}))
	})
	r("metrics.delete_batch_pattern", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Metrics.DeleteBatch(ctx, &MetricsBatchDelete{MetricNames{Pattern: "cpu*.90"}}))
	})
	r("metrics.delete", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return none(c.Metrics.Delete(ctx, "app_requests"))
	})
	r("metrics.list", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Metrics.List(ctx, nil))
	})
	r("metrics.list_name", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Metrics.List(ctx, &ListOptions{Name: "request"}))
	})
	r("metric_attributes.display_max", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return keptAs(&Metric{}, c.Metrics.Update(ctx, "temperature", &MetricUpdate{Attributes: &MetricAttributes{DisplayMax: Ptr(150.0)}}))
	})
	r("metric_attributes.aggregate", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return keptAs(&Metric{}, c.Metrics.Update(ctx, "speed", &MetricUpdate{Attributes: &MetricAttributes{Aggregate: Ptr(true)}}))
	})

	// --- legacy (source-based) metrics: Legacy.Create, Legacy.List and
	// Legacy.Compose, called by name so that the request body or query of
	// the example fills their arguments (see callByName).
	for _, id := range []string{"introduction.legacy_submit_json", "introduction.legacy_submit_form", "metrics.legacy_create_json",
		"metrics.legacy_create_form", "metrics.legacy_hashed", "metrics.legacy_hashed_names", "metrics.legacy_array"} {
		r(id, func(ctx context.Context, t *testing.T, c *Client, rc *refCase) (any, error) {
			return callByName(ctx, c.Legacy, "Create", jsonArg{rc.bodyJSON(t)})
		})
	}
	legacyGet := func(name string) refCall {
		return func(ctx context.Context, t *testing.T, c *Client, rc *refCase) (any, error) {
			return callByName(ctx, c.Legacy, "List", name, queryArg{refQuery(t, rc)})
		}
	}
	r("introduction.legacy_query", legacyGet("cpu"))
	r("metrics.legacy_get_count", legacyGet("cpu_temp"))
	r("metrics.legacy_get_source", legacyGet("cpu_temp"))
	r("metrics.legacy_get_sources", legacyGet("cpu_temp"))
	r("metrics.legacy_page", legacyGet("librato.cpu.percent.idle"))
	r("metrics.legacy_compose", func(ctx context.Context, t *testing.T, c *Client, rc *refCase) (any, error) {
		return callByName(ctx, c.Legacy, "Compose", queryArg{refQuery(t, rc)})
	})

	// --- legacy sources, called by name on Client.Sources.
	r("sources.update", func(ctx context.Context, t *testing.T, c *Client, rc *refCase) (any, error) {
		_, err := callField(ctx, c, "Sources", "Update", "i-d32d61af", jsonArg{rc.bodyJSON(t)})
		return keptAs(&Source{}, err)
	})
	r("sources.create", func(ctx context.Context, t *testing.T, c *Client, rc *refCase) (any, error) {
		_, err := callField(ctx, c, "Sources", "Update", "foo.bar.com", jsonArg{rc.bodyJSON(t)})
		return keptAs(&Source{}, err)
	})
	r("sources.get", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return callField(ctx, c, "Sources", "Get", "foo.bar.com")
	})
	r("sources.list", func(ctx context.Context, t *testing.T, c *Client, rc *refCase) (any, error) {
		return callField(ctx, c, "Sources", "List", queryArg{refQuery(t, rc)})
	})
	refCalls["sources.list_name"] = refCalls["sources.list"]

	// --- alerts
	runbook := map[string]any{"runbook_url": "http://myco.com/runbooks/response_time"}
	r("master:alerts.create", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Alerts.Create(ctx, &Alert{
			Name: "production.web.frontend.response_time", Description: Ptr("Web Response Time"),
			Conditions: []AlertCondition{{Type: AlertConditionAbove, MetricName: "web.nginx.response_time", Threshold: Ptr(200.0),
				SummaryFunction: "max", Tags: []AlertConditionTag{{Name: "tag_name", Values: []string{"tag_value"}}}}},
			Services: AlertServiceIDs(849), Attributes: runbook, Active: Ptr(true), MD: Ptr(true),
		}))
	})
	r("legacy:alerts.create", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Alerts.Create(ctx, &Alert{
			Name: "production.web.frontend.response_time", Version: 2,
			Conditions: []AlertCondition{{Type: AlertConditionAbove, Threshold: Ptr(200.0), MetricName: "web.nginx.response_time"}},
			Services:   AlertServiceIDs(849), Attributes: runbook,
		}))
	})
	r("alerts.get", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Alerts.Get(ctx, 123))
	})
	r("alerts.list_name", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Alerts.List(ctx, &AlertListOptions{ListOptions: ListOptions{Name: "production"}}))
	})
	r("alerts.status_triggered", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Alerts.Status(ctx, 120))
	})
	r("alerts.status_ok", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Alerts.Status(ctx, 121))
	})
	masterUpdate := func(description string, active bool, attrs map[string]any) refCall {
		return func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
			return none(c.Alerts.Update(ctx, 123, &AlertUpdate{
				Name: Ptr("my.alert.name"), Description: Ptr(description),
				Conditions: []AlertCondition{{ID: 19375969, Type: AlertConditionAbove, MetricName: "my.alert.name", Threshold: Ptr(90.0),
					SummaryFunction: "average", Tags: []AlertConditionTag{{Name: "my.environment", Values: []string{"production"}}}}},
				Attributes: attrs, Active: Ptr(active),
			}))
		}
	}
	r("master:alerts.update_disable", masterUpdate("High CPU Load", false, nil))
	r("master:alerts.update_enable", masterUpdate("High CPU Load", true, nil))
	r("master:alerts.update_description", masterUpdate("A new description", true, nil))
	r("master:alerts.update_runbook", masterUpdate("A new description", true, runbook))
	legacyUpdate := func(description string, active bool, attrs map[string]any) refCall {
		return func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
			return none(c.Alerts.Update(ctx, 123, &AlertUpdate{
				Name: Ptr("my.alert.name"), Description: Ptr(description),
				Conditions: []AlertCondition{{Type: AlertConditionAbsent, MetricName: "service.alive", Source: Ptr("*"), Duration: 900}},
				Attributes: attrs, Active: Ptr(active),
			}))
		}
	}
	r("legacy:alerts.update_disable", legacyUpdate("Process went down", false, nil))
	r("legacy:alerts.update_enable", legacyUpdate("Process went down", true, nil))
	r("legacy:alerts.update_description", legacyUpdate("A new description", true, nil))
	r("legacy:alerts.update_runbook", legacyUpdate("A process went down.", true, map[string]any{"runbook_url": "http://google.com"}))
	r("alerts.add_service", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return none(c.Alerts.AddService(ctx, 45, 290))
	})
	r("alerts.remove_service", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return none(c.Alerts.RemoveService(ctx, 123, 209))
	})
	r("alerts.clear", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return none(c.Alerts.Clear(ctx, 120))
	})
	r("alerts.delete", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return none(c.Alerts.Delete(ctx, 123))
	})
	r("alerts.list", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Alerts.List(ctx, nil))
	})
	r("alerts.status_all", func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Alerts.StatusAll(ctx))
	})
}

// refCallFor finds the call of c: branch-specific first.
func refCallFor(c *refCase) refCall {
	if f := refCalls[c.branch+":"+c.ID]; f != nil {
		return f
	}
	return refCalls[c.ID]
}

// refRefused maps the cases whose documented request the SDK must refuse
// (expect_refused) to the call that makes that request.
var refRefused = map[string]refCall{
	"annotations.get_stream": func(ctx context.Context, _ *testing.T, c *Client, _ *refCase) (any, error) {
		return one(c.Annotations.Get(ctx, "api-deploys", nil))
	},
}

// refQuery is the example's query string, parsed.
func refQuery(t *testing.T, rc *refCase) url.Values {
	q, err := url.ParseQuery(rc.query())
	require.NoError(t, err)
	return q
}

// jsonArg fills a parameter by decoding a JSON value into it.
type jsonArg struct{ v any }

// queryArg fills a parameter struct from query parameters: each key is
// matched to a field by its json tag, or by the key in CamelCase
// (start_time: StartTime); epoch seconds fill time.Time, seconds fill
// time.Duration, and "name[]" keys fill slices.
type queryArg struct{ q url.Values }

// errNoMethod says the SDK lacks a method an example needs.
type errNoMethod struct{ what string }

func (e errNoMethod) Error() string { return "the SDK has no " + e.what }

// callField calls method of the service held in field of c.
func callField(ctx context.Context, c *Client, field, method string, args ...any) (any, error) {
	f := reflect.ValueOf(c).Elem().FieldByName(field)
	if !f.IsValid() {
		return nil, errNoMethod{"Client." + field + " family"}
	}
	return callByName(ctx, f.Interface(), method, args...)
}

// callByName calls svc.name(ctx, args...), converting each argument to
// the parameter's type, and returns its result: the first result that is
// not an error, and the error.
func callByName(ctx context.Context, svc any, name string, args ...any) (any, error) {
	m := reflect.ValueOf(svc).MethodByName(name)
	if !m.IsValid() {
		return nil, errNoMethod{fmt.Sprintf("%T.%s", svc, name)}
	}
	mt := m.Type()
	if mt.NumIn() != len(args)+1 {
		return nil, fmt.Errorf("%T.%s takes %d arguments, the example gives ctx and %d", svc, name, mt.NumIn(), len(args))
	}
	in := []reflect.Value{reflect.ValueOf(ctx)}
	for i, a := range args {
		v, err := argValue(mt.In(i+1), a)
		if err != nil {
			return nil, fmt.Errorf("%T.%s argument %d: %w", svc, name, i+1, err)
		}
		in = append(in, v)
	}
	outs := m.Call(in)
	var val any
	var err error
	for _, o := range outs {
		if o.Type() == reflect.TypeOf((*error)(nil)).Elem() {
			if !o.IsNil() {
				err = o.Interface().(error)
			}
			continue
		}
		if (o.Kind() == reflect.Pointer || o.Kind() == reflect.Slice || o.Kind() == reflect.Map) && o.IsNil() {
			continue
		}
		val = o.Interface()
	}
	return val, err
}

func argValue(pt reflect.Type, a any) (reflect.Value, error) {
	switch x := a.(type) {
	case jsonArg:
		data, err := json.Marshal(x.v)
		if err != nil {
			return reflect.Value{}, err
		}
		p := reflect.New(pt)
		if err := json.Unmarshal(data, p.Interface()); err != nil {
			return reflect.Value{}, fmt.Errorf("decoding the example's body into %s: %w", pt, err)
		}
		return p.Elem(), nil
	case queryArg:
		st := pt
		if st.Kind() == reflect.Pointer {
			st = st.Elem()
		}
		if st.Kind() != reflect.Struct {
			return reflect.Value{}, fmt.Errorf("%s is not a struct to fill from a query", pt)
		}
		p := reflect.New(st)
		for key, vals := range x.q {
			if err := setQueryField(p.Elem(), strings.TrimSuffix(key, "[]"), vals); err != nil {
				return reflect.Value{}, err
			}
		}
		if pt.Kind() == reflect.Pointer {
			return p, nil
		}
		return p.Elem(), nil
	}
	v := reflect.ValueOf(a)
	if !v.Type().ConvertibleTo(pt) {
		return reflect.Value{}, fmt.Errorf("%T does not convert to %s", a, pt)
	}
	return v.Convert(pt), nil
}

func setQueryField(s reflect.Value, key string, vals []string) error {
	camel := ""
	for _, part := range strings.Split(key, "_") {
		if part != "" {
			camel += strings.ToUpper(part[:1]) + part[1:]
		}
	}
	var f reflect.Value
	for i := 0; i < s.NumField(); i++ {
		sf := s.Type().Field(i)
		tag, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if tag == key || strings.EqualFold(sf.Name, camel) {
			f = s.Field(i)
			break
		}
	}
	if !f.IsValid() {
		return fmt.Errorf("no field of %s for the query parameter %q", s.Type(), key)
	}
	if f.Kind() == reflect.Pointer {
		f.Set(reflect.New(f.Type().Elem()))
		f = f.Elem()
	}
	v := vals[len(vals)-1]
	switch {
	case f.Type() == reflect.TypeOf(time.Time{}):
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return err
		}
		f.Set(reflect.ValueOf(time.Unix(n, 0).UTC()))
	case f.Type() == reflect.TypeOf(time.Duration(0)):
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return err
		}
		f.SetInt(n * int64(time.Second))
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		f.Set(reflect.ValueOf(vals).Convert(f.Type()))
	case f.Kind() == reflect.String:
		f.SetString(v)
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		f.SetBool(b)
	case f.CanInt():
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return err
		}
		f.SetInt(n)
	default:
		return fmt.Errorf("cannot fill %s from the query parameter %q", f.Type(), key)
	}
	return nil
}

// sentRequest is what the SDK put on the wire.
type sentRequest struct {
	method, path, contentType, auth string
	query                           url.Values
	body                            []byte
}

// TestReferenceRequests checks every example of the reference through the
// SDK: the typed call sends the documented request (method, path, query,
// credentials when the example shows them, and a JSON body equal to the
// documented JSON or form body), and the documented answer decodes into
// the typed result with no field lost: encoded again, the result holds
// every documented key with an equal value. Numbers, booleans and numeric
// strings compare by their text (form values are strings, ids are sent
// both ways); a documented null, [] or {} carries no data and may be left
// out, as the models' omitempty fields do. Calls whose arguments the
// example's body or query fills (Legacy.Create, List and Compose, the
// Sources family) are made by name and fail with errNoMethod if they are
// missing. A call that returns only an error (Update) has its documented
// answer decoded into the type that reads the resource back.
func TestReferenceRequests(t *testing.T) {
	cases := loadReference(t)
	base, err := url.Parse(testBase)
	require.NoError(t, err)
	for _, rc := range cases {
		t.Run(strings.TrimSuffix(rc.file, ".json")+"/"+rc.ID, func(t *testing.T) {
			if rc.NoSDK != "" {
				return // the reason is in the fixture, and TestReferenceFixturesAreComplete requires one
			}
			call := refCallFor(rc)
			require.NotNil(t, call, "no SDK call is written for this example")
			ctx := context.Background()

			email, token := testEmail, testToken
			if rc.Auth != nil {
				email, token = rc.Auth.User, rc.Auth.Token
			}
			c, mt := newRefClient(t, email, token)

			var sent []sentRequest
			status := http.StatusOK
			if st := rc.status(); len(st) > 0 {
				status = st[0]
			}
			respBody := rc.response()
			mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
				var body []byte
				if req.Body != nil {
					body, _ = readRequestBody(req)
				}
				sent = append(sent, sentRequest{method: req.Method, path: strings.TrimPrefix(req.URL.Path, base.Path),
					contentType: req.Header.Get("Content-Type"), auth: req.Header.Get("Authorization"),
					query: req.URL.Query(), body: body})
				var resp *http.Response
				if len(respBody) > 0 && status != http.StatusNoContent {
					resp = httpmock.NewBytesResponse(status, respBody)
					resp.Header.Set("Content-Type", "application/json")
				} else {
					resp = httpmock.NewBytesResponse(status, nil)
				}
				if loc := rc.location(); loc != "" && !strings.HasPrefix(loc, "<") {
					resp.Header.Set("Location", loc)
				}
				return resp, nil
			})

			if rc.Refused {
				refused := refRefused[rc.ID]
				require.NotNil(t, refused, "no refused call is written for this example")
				_, err := refused(ctx, t, c, rc)
				var ve *ValidationError
				require.ErrorAs(t, err, &ve, "the documented request must be refused before sending")
				require.Empty(t, sent, "a refused request was sent")
			}

			got, err := call(ctx, t, c, rc)
			require.NoError(t, err)
			require.Len(t, sent, 1, "the call must send exactly one request")
			s := sent[0]

			require.Equal(t, rc.method(), s.method, "method")
			require.Equal(t, rc.path(), s.path, "path")
			wantQ, err := url.ParseQuery(rc.query())
			require.NoError(t, err)
			if len(wantQ) == 0 {
				wantQ = url.Values{}
			}
			require.Equal(t, wantQ, s.query, "query")
			if rc.Auth != nil {
				want := "Basic " + base64.StdEncoding.EncodeToString([]byte(rc.Auth.User+":"+rc.Auth.Token))
				require.Equal(t, want, s.auth, "Authorization")
			}

			want := rc.bodyJSON(t)
			if want == nil {
				require.Empty(t, s.body, "the example sends no body")
			} else {
				require.Equal(t, "application/json", s.contentType, "the SDK sends JSON")
				var gotBody any
				require.NoError(t, json.Unmarshal(s.body, &gotBody), "body %s", s.body)
				if rc.branch == "legacy" {
					want = legacyHashed(want)
				}
				wantC := canon(dropKeys(want, rc.SDKIgnore))
				gotC := canon(gotBody)
				require.Equal(t, wantC, gotC, "body: documented %s\nsent %s", brief(want), s.body)
			}

			if len(respBody) == 0 {
				return
			}
			var doc any
			require.NoError(t, json.Unmarshal(respBody, &doc))
			if k, ok := got.(kept); ok {
				require.NoError(t, decodeJSON(respBody, k.v), "the documented answer does not decode into %T", k.v)
				got = k.v
				if tok, ok := k.v.(*APIToken); ok {
					got = tokenJSON(t, *tok)
				}
			}
			require.NotNil(t, got, "the call returned nothing for a documented answer")
			lost := lostFields(doc, asJSON(t, got), "$")
			require.Empty(t, lost, "fields of the documented answer lost by the typed result")
		})
	}
}

// newRefClient is newMockClient with the credentials of the example.
func newRefClient(t *testing.T, email, token string, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	all := append([]Option{
		WithBaseURL(testBase),
		WithHTTPClient(&http.Client{Transport: mt}),
		WithoutRetries(),
	}, opts...)
	c, err := NewClient(email, token, all...)
	require.NoError(t, err)
	return c, mt
}

// TestReferenceFixturesAreComplete keeps the fixtures honest: every case
// names its source, every case has a call, every correction says why, and
// every example that is not JSON has a corrected copy.
func TestReferenceFixturesAreComplete(t *testing.T) {
	cases := loadReference(t)
	seen := map[string]bool{}
	var requests, responses int
	for _, rc := range cases {
		key := rc.file + "#" + rc.ID
		require.False(t, seen[key], "duplicate case %s", key)
		seen[key] = true
		require.NotEmpty(t, rc.Source, key)
		require.NotEmpty(t, rc.Method, key)
		require.True(t, strings.HasPrefix(rc.Path, "/v1/"), "%s: path %q", key, rc.Path)
		if rc.Fix != nil || rc.SDKIgnore != nil || rc.MockResponse != nil || rc.Refused || rc.Shape != "" {
			require.NotEmpty(t, rc.Wrong+rc.Note, "%s: a correction or a left-out direction needs a reason", key)
		}
		if rc.MockExtra != nil {
			require.NotEmpty(t, rc.Wrong, "%s: keys allowed beyond the documented answer need the reason the answer is wrong", key)
			require.Empty(t, rc.Shape, "%s: a subset check allows every extra key already", key)
			for _, p := range rc.MockExtra {
				require.Regexp(t, `^\$(\.[a-z_]+(\[\])*)+$`, p, "%s: mock_extra paths look like $.conditions[].detect_reset", key)
			}
		}
		if rc.BodyText != "" {
			require.True(t, rc.Fix != nil && rc.Fix.Body != nil, "%s: the body is not JSON and has no corrected copy", key)
		}
		if rc.ResponseText != "" {
			require.True(t, rc.Fix != nil && rc.Fix.Response != nil, "%s: the answer is not JSON and has no corrected copy", key)
		}
		require.NotNil(t, refCallFor(rc), "%s: no SDK call", key)
		if !rc.ResponseOnly {
			requests++
		}
		if rc.Response != nil || rc.ResponseText != "" {
			responses++
		}
	}
	t.Logf("%d cases: %d request examples, %d response examples", len(cases), requests, responses)
	// The transcription's size, so a fixture file lost or truncated fails.
	require.GreaterOrEqual(t, requests, 176)
	require.GreaterOrEqual(t, responses, 95)
}
