package mock_test

import (
	"context"
	"testing"

	librato "github.com/librato-sdk/librato-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An attribute sent as null is stored and answered as null, as the
// reference's metric answers show "display_max": null (master and legacy
// _metrics.md, "Retrieve a Metric"), on create, on update and through a
// batch update; a value sent later replaces it. The SDK reads the null as
// a nil pointer.
func TestMetricAttributeNullIsKept(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	attrs := func(name string) map[string]any {
		t.Helper()
		a, ok := w.do("GET", "/v1/metrics/"+name, nil).requireStatus(t, 200).obj(t)["attributes"].(map[string]any)
		require.True(t, ok)
		return a
	}
	w.do("PUT", "/v1/metrics/cpu_temp", map[string]any{"type": "gauge",
		"attributes": map[string]any{"display_max": nil, "display_min": 0}}).requireStatus(t, 201)
	a := attrs("cpu_temp")
	assert.Contains(t, a, "display_max")
	assert.Nil(t, a["display_max"])
	assert.Equal(t, 0.0, a["display_min"])

	w.do("PUT", "/v1/metrics/cpu_temp", map[string]any{"attributes": map[string]any{"display_min": nil}}).requireStatus(t, 204)
	a = attrs("cpu_temp")
	assert.Contains(t, a, "display_min", "null on update is kept as null")
	assert.Nil(t, a["display_min"])
	assert.Contains(t, a, "display_max", "attributes left out stay")

	w.form("PUT", "/v1/metrics/cpu_temp", "attributes[display_max]=150").requireStatus(t, 204)
	assert.Equal(t, 150.0, attrs("cpu_temp")["display_max"])
	w.form("PUT", "/v1/metrics/cpu_temp", "attributes[display_max]=").requireStatus(t, 204)
	a = attrs("cpu_temp")
	assert.Contains(t, a, "display_max", "a blank display_max is null")
	assert.Nil(t, a["display_max"])

	email, token := srv.Credentials(librato.RoleFullAccess)
	c, err := librato.NewClient(email, token, librato.WithBaseURL(srv.URL()), librato.WithoutRetries())
	require.NoError(t, err)
	m, err := c.Metrics.Get(context.Background(), "cpu_temp")
	require.NoError(t, err)
	require.NotNil(t, m.Attributes)
	assert.Nil(t, m.Attributes.DisplayMax)
	assert.Nil(t, m.Attributes.DisplayMin)
	assert.NotEmpty(t, m.Attributes.CreatedByUA)
}

// A persisted composite is answered as the reference's creation example
// shows it (master _metrics.md, "Create a Metric", composite): no
// attributes member, and no created_by_ua stamped; attributes given to it
// are answered.
func TestCompositeMetricAttributes(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	body := w.do("PUT", "/v1/metrics/used", map[string]any{"type": "composite", "composite": `s("cpu", "*")`}).requireStatus(t, 201).obj(t)
	assert.NotContains(t, body, "attributes")
	assert.NotContains(t, w.do("GET", "/v1/metrics/used", nil).requireStatus(t, 200).obj(t), "attributes")
	list := w.do("GET", "/v1/metrics?name=used", nil).requireStatus(t, 200).obj(t)["metrics"].([]any)
	require.Len(t, list, 1)
	assert.NotContains(t, list[0], "attributes")

	w.do("PUT", "/v1/metrics/used", map[string]any{"attributes": map[string]any{"display_units_short": "%"}}).requireStatus(t, 204)
	assert.Equal(t, map[string]any{"display_units_short": "%"}, w.do("GET", "/v1/metrics/used", nil).requireStatus(t, 200).obj(t)["attributes"])

	gauge := w.do("PUT", "/v1/metrics/plain", map[string]any{"type": "gauge"}).requireStatus(t, 201).obj(t)
	assert.Contains(t, gauge["attributes"], "created_by_ua", "other metrics keep created_by_ua")
}
