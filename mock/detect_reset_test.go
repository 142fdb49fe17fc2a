package mock_test

import (
	"fmt"
	"testing"

	librato "github.com/librato-sdk/librato-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An alert condition without detect_reset stores the reference's default,
// true; an explicit false is kept, on create and on update.
func TestAlertDetectResetDefault(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	cond := func(extra map[string]any) []any {
		c := map[string]any{"type": "above", "metric_name": "cpu", "threshold": 90, "summary_function": "derivative"}
		for k, v := range extra {
			c[k] = v
		}
		return []any{c}
	}
	detect := func(id string) any {
		t.Helper()
		a := w.do("GET", "/v1/alerts/"+id, nil).requireStatus(t, 200).obj(t)
		conds := a["conditions"].([]any)
		require.Len(t, conds, 1)
		return conds[0].(map[string]any)["detect_reset"]
	}
	id := fmt.Sprint(num(t, w.do("POST", "/v1/alerts", map[string]any{"name": "a1", "conditions": cond(nil)}).requireStatus(t, 201).obj(t)["id"]))
	assert.Equal(t, true, detect(id))
	w.do("PUT", "/v1/alerts/"+id, map[string]any{"conditions": cond(map[string]any{"detect_reset": false})}).requireStatus(t, 204)
	assert.Equal(t, false, detect(id))
	w.do("PUT", "/v1/alerts/"+id, map[string]any{"conditions": cond(nil)}).requireStatus(t, 204)
	assert.Equal(t, true, detect(id))
	id2 := fmt.Sprint(num(t, w.form("POST", "/v1/alerts", "name=a2&conditions[0][type]=below&conditions[0][metric_name]=cpu&conditions[0][threshold]=1&conditions[0][detect_reset]=false").requireStatus(t, 201).obj(t)["id"]))
	assert.Equal(t, false, detect(id2))
}
