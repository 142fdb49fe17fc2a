package mock_test

import (
	"fmt"
	"testing"

	librato "github.com/librato-sdk/librato-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A condition's source, the legacy source pattern, is answered as sent
// ("*prod*" in master _alerts.md, "List all Alerts") and null when not
// sent; a PUT replaces it with the conditions.
func TestAlertConditionSource(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	cond := func(src any) map[string]any {
		c := map[string]any{"type": "above", "metric_name": "AWS.EC2.CPUUtilization", "threshold": 90}
		if src != nil {
			c["source"] = src
		}
		return c
	}
	source := func(id string) any {
		t.Helper()
		conds := w.do("GET", "/v1/alerts/"+id, nil).requireStatus(t, 200).obj(t)["conditions"].([]any)
		require.Len(t, conds, 1)
		c := conds[0].(map[string]any)
		require.Contains(t, c, "source")
		return c["source"]
	}
	created := w.do("POST", "/v1/alerts", map[string]any{"name": "CPU.utilization", "conditions": []any{cond("*prod*")}}).requireStatus(t, 201).obj(t)
	assert.Equal(t, "*prod*", created["conditions"].([]any)[0].(map[string]any)["source"])
	id := fmt.Sprint(num(t, created["id"]))
	assert.Equal(t, "*prod*", source(id))
	list := w.do("GET", "/v1/alerts", nil).requireStatus(t, 200).obj(t)["alerts"].([]any)
	require.Len(t, list, 1)
	assert.Equal(t, "*prod*", list[0].(map[string]any)["conditions"].([]any)[0].(map[string]any)["source"])

	w.do("PUT", "/v1/alerts/"+id, map[string]any{"conditions": []any{cond(nil)}}).requireStatus(t, 204)
	assert.Nil(t, source(id))
	w.form("PUT", "/v1/alerts/"+id, "conditions[0][type]=absent&conditions[0][metric_name]=service.alive&conditions[0][source]=*&conditions[0][duration]=900").requireStatus(t, 204)
	assert.Equal(t, "*", source(id))
	other := w.do("POST", "/v1/alerts", map[string]any{"name": "other", "conditions": []any{map[string]any{
		"type": "above", "metric_name": "cpu", "threshold": 1, "source": nil}}}).requireStatus(t, 201).obj(t)
	assert.Nil(t, source(fmt.Sprint(num(t, other["id"]))), "source sent as null")
}
