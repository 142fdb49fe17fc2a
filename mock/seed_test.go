package mock_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

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
	_, err = mock.New(mock.WithSeed(&mock.Seed{Services: []map[string]any{{"title": "Ops \xff", "type": "mail", "settings": map[string]any{"addresses": "a@b"}}}}))
	require.Error(t, err, "a Go seed is checked for UTF-8 as a body would be")
	assert.Contains(t, err.Error(), "services[0]: title")

	// Apply works on any account, from Go values too.
	srv := newServer(t)
	acct := srv.Account("seeded@example.com")
	require.NoError(t, acct.Apply(&mock.Seed{Metrics: []map[string]any{{"name": "go.metric", "type": "gauge", "period": 10}}}))
	c, err := acct.Client(librato.RoleViewOnly)
	require.NoError(t, err)
	_, err = c.Metrics.Get(context.Background(), "go.metric")
	require.NoError(t, err)
}
