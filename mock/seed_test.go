package mock_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const seedJSON = `{
  "tokens": [{"name": "ci", "role": "viewer", "token": "ci-viewer-secret"}],
  "metrics": [{"name": "cpu", "type": "gauge", "period": 60, "attributes": {"display_units_short": "%"}}],
  "measurements": [
    {"name": "cpu", "value": 10, "time": -120, "tags": {"host": "web1"}},
    {"name": "cpu", "value": 30, "time": -60, "tags": {"host": "web1"}},
    {"name": "mem", "value": 5, "tags": {"host": "web1"}}
  ],
  "services": [{"title": "Ops mail", "type": "mail", "settings": {"addresses": "ops@example.com"}}],
  "spaces": [{"name": "Ops", "charts": [{"name": "CPU", "streams": [{"metric": "cpu", "group_function": "average"}]}]}],
  "alerts": [{"name": "cpu.high", "firing": true, "services": ["Ops mail"],
              "conditions": [{"type": "above", "metric_name": "cpu", "threshold": 90}]}],
  "annotations": [{"name": "deploys", "display_name": "Deploys", "events": [{"title": "v1", "start_time": -300}]}]
}`

func TestSeed(t *testing.T) {
	seed, err := mock.LoadSeed(strings.NewReader(seedJSON))
	require.NoError(t, err)
	srv := newServer(t, mock.WithSeed(seed))
	w := newWire(t, srv, librato.RoleFullAccess)

	// The seeded token works, with its role.
	v := w.as(srv.Email(), "ci-viewer-secret")
	v.do("GET", "/v1/spaces", nil).requireStatus(t, 200)
	v.do("POST", "/v1/spaces", map[string]any{"name": "x"}).requireStatus(t, 403)

	m := w.do("GET", "/v1/metrics/cpu", nil).requireStatus(t, 200).obj(t)
	assert.Equal(t, float64(60), m["period"])
	// Relative times: queryable with a duration counted back from now.
	r := w.do("GET", "/v1/measurements/cpu?duration=600&resolution=600", nil).requireStatus(t, 200).obj(t)
	require.Len(t, r["series"], 1)
	assert.Equal(t, 3, srv.RecordedCount())

	sp := w.do("GET", "/v1/spaces?name=Ops", nil).obj(t)["spaces"].([]any)
	require.Len(t, sp, 1)
	id := sp[0].(map[string]any)["id"]
	charts := w.do("GET", fmt.Sprintf("/v1/spaces/%d/charts", num(t, id)), nil).requireStatus(t, 200).list(t)
	require.Len(t, charts, 1)

	al := w.do("GET", "/v1/alerts?name=cpu.high", nil).obj(t)["alerts"].([]any)
	require.Len(t, al, 1)
	svcs := al[0].(map[string]any)["services"].([]any)
	require.Len(t, svcs, 1, "services named by title")
	assert.Equal(t, "Ops mail", svcs[0].(map[string]any)["title"])
	assert.Len(t, w.do("GET", "/v1/alerts/status", nil).obj(t)["firing"], 1)

	s := w.do("GET", "/v1/annotations/deploys?count=5", nil).requireStatus(t, 200).obj(t)
	assert.Equal(t, "Deploys", s["display_name"])
	assert.Len(t, s["events"].([]any)[0].(map[string]any)["unassigned"], 1)
}

func TestSeedErrors(t *testing.T) {
	_, err := mock.LoadSeed(strings.NewReader(`{"metricz": []}`))
	require.Error(t, err, "a misspelt section is an error")
	_, err = mock.LoadSeed(strings.NewReader(`{"tokens":[{"name":"t","role":"root"}]}`))
	require.Error(t, err, "an unknown role")
	_, err = mock.LoadSeedFile("testdata/does-not-exist.json")
	require.Error(t, err)

	for _, c := range []struct{ seed, want string }{
		{`{"metrics":[{"name":"bad name","type":"gauge"}]}`, "metrics[0]: name"},
		{`{"measurements":[{"name":"a"}]}`, "measurements: measurements[0].value"},
		{`{"spaces":[{"name":"S","charts":[{"type":"line"}]}]}`, "spaces[0].charts[0]: name"},
		{`{"alerts":[{"name":"a","services":["nope"],"conditions":[{"type":"above","metric_name":"m","threshold":1}]}]}`, "alerts[0]: services[0]"},
		{`{"tokens":[{"name":"","role":"viewer"}]}`, "tokens[0]"},
		{`{"tokens":[{"name":"a","role":"viewer","token":"same"},{"name":"b","role":"viewer","token":"same"}]}`, "tokens[1]"},
		{`{"annotations":[{"name":"x","events":[]}]}`, "annotations[0]"},
	} {
		seed, err := mock.LoadSeed(strings.NewReader(c.seed))
		require.NoError(t, err, c.seed)
		_, err = mock.New(mock.WithSeed(seed))
		require.Error(t, err, c.seed)
		assert.Contains(t, err.Error(), c.want)
	}

	// Apply works on any account, from Go values too.
	srv := newServer(t)
	acct := srv.Account("seeded@example.com")
	require.NoError(t, acct.Apply(&mock.Seed{Metrics: []map[string]any{{"name": "go.metric", "type": "gauge", "period": 10}}}))
	c, err := acct.Client(librato.RoleViewOnly)
	require.NoError(t, err)
	_, err = c.Metrics.Get(context.Background(), "go.metric")
	require.NoError(t, err)
}

// typedSeed is seedJSON written with the SDK's types.
func typedSeed() *mock.TypedSeed {
	return &mock.TypedSeed{
		Tokens:  []mock.SeedToken{{Name: "ci", Role: librato.RoleViewOnly, Token: "ci-viewer-secret"}},
		Metrics: []librato.Metric{{Name: "cpu", Type: "gauge", Period: librato.Ptr(60), Attributes: &librato.MetricAttributes{DisplayUnitsShort: "%"}}},
		Measurements: []librato.Measurement{
			{Name: "cpu", Value: 10, Time: -120, Tags: map[string]string{"host": "web1"}},
			{Name: "cpu", Value: 30, Time: -60, Tags: map[string]string{"host": "web1"}},
			{Name: "mem", Value: 5, Tags: map[string]string{"host": "web1"}},
		},
		Services: []librato.Service{{Title: "Ops mail", Type: "mail", Settings: map[string]any{"addresses": "ops@example.com"}}},
		Spaces: []mock.SeedSpace{{Space: librato.Space{Name: "Ops"}, Charts: []librato.Chart{
			{Name: "CPU", Streams: []librato.ChartStream{{Metric: "cpu", GroupFunction: "average"}}},
		}}},
		Alerts: []mock.SeedAlert{{Firing: true, Alert: librato.Alert{
			Name:       "cpu.high",
			Services:   []librato.Service{{Title: "Ops mail"}},
			Conditions: []librato.AlertCondition{{Type: "above", MetricName: "cpu", Threshold: librato.Ptr(90.0)}},
		}}},
		Annotations: []mock.SeedAnnotation{{
			Stream: librato.AnnotationStream{Name: "deploys", DisplayName: "Deploys"},
			Events: []librato.AnnotationEvent{{Title: "v1", StartTime: time.Now().Add(-5 * time.Minute).Unix()}},
		}},
	}
}

func TestTypedSeed(t *testing.T) {
	seed, err := mock.LoadSeed(strings.NewReader(seedJSON))
	require.NoError(t, err)
	fromJSON := newServer(t, mock.WithSeed(seed))
	fromGo := newServer(t, mock.WithTypedSeed(typedSeed()))

	// Both seeds give the same state, read through the API.
	read := func(srv *mock.Server) map[string]any {
		w := newWire(t, srv, librato.RoleFullAccess)
		out := map[string]any{}
		strip := func(v any) any { // ids and times differ between servers
			b, _ := json.Marshal(v)
			s := regexp.MustCompile(`"(id|created_at|updated_at|triggered_at|start_time|href)":("[^"]*"|\d+)`).ReplaceAllString(string(b), `"$1":0`)
			var x any
			require.NoError(t, json.Unmarshal([]byte(s), &x))
			return x
		}
		out["metric"] = strip(w.do("GET", "/v1/metrics/cpu", nil).requireStatus(t, 200).obj(t))
		out["series"] = strip(w.do("GET", "/v1/measurements/cpu?duration=600&resolution=600", nil).requireStatus(t, 200).obj(t)["series"])
		out["services"] = strip(w.do("GET", "/v1/services", nil).requireStatus(t, 200).obj(t)["services"])
		sp := w.do("GET", "/v1/spaces", nil).requireStatus(t, 200).obj(t)["spaces"].([]any)
		require.Len(t, sp, 1)
		out["spaces"] = strip(sp)
		out["charts"] = strip(w.do("GET", fmt.Sprintf("/v1/spaces/%d/charts", num(t, sp[0].(map[string]any)["id"])), nil).requireStatus(t, 200).list(t))
		out["alerts"] = strip(w.do("GET", "/v1/alerts", nil).requireStatus(t, 200).obj(t)["alerts"])
		out["firing"] = len(w.do("GET", "/v1/alerts/status", nil).obj(t)["firing"].([]any))
		out["annotations"] = strip(w.do("GET", "/v1/annotations/deploys?count=5", nil).requireStatus(t, 200).obj(t))
		out["recorded"] = srv.RecordedCount()
		w.as(srv.Email(), "ci-viewer-secret").do("GET", "/v1/spaces", nil).requireStatus(t, 200)
		return out
	}
	assert.Equal(t, read(fromJSON), read(fromGo))

	// The same validation as the API's.
	bad := typedSeed()
	bad.Metrics[0].Name = "bad name"
	_, err = mock.New(mock.WithTypedSeed(bad))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "metrics[0]: name")
	bad = typedSeed()
	bad.Spaces[0].Charts[0].Name = ""
	_, err = mock.New(mock.WithTypedSeed(bad))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "spaces[0].charts[0]: name")
	bad = typedSeed()
	bad.Alerts[0].Alert.Services = []librato.Service{{Title: "nope"}}
	_, err = mock.New(mock.WithTypedSeed(bad))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "alerts[0]: services[0]")

	// What the JSON encoding cannot carry is refused, not altered.
	for name, mutate := range map[string]func(*mock.TypedSeed){
		"invalid UTF-8":          func(s *mock.TypedSeed) { s.Services[0].Title = "Ops \xff" },
		"chart refs":             func(s *mock.TypedSeed) { s.Spaces[0].Space.Charts = []librato.ChartRef{{ID: 1}} },
		"nameless alert service": func(s *mock.TypedSeed) { s.Alerts[0].Alert.Services = []librato.Service{{}} },
		"bad tag key":            func(s *mock.TypedSeed) { s.Measurements[0].Tags = map[string]string{"\xfe": "x"} },
	} {
		s := typedSeed()
		mutate(s)
		_, err := s.Seed()
		require.Error(t, err, name)
	}
	// Apply takes a converted typed seed on any account.
	s, err := typedSeed().Seed()
	require.NoError(t, err)
	acct := fromJSON.Account("typed@example.com")
	require.NoError(t, acct.Apply(s))
	assert.Equal(t, 3, acct.RecordedCount())
}
