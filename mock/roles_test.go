package mock_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtures are objects of every family in one account, so each matrix row
// can be called on something that exists.
type fixtures struct {
	space, chart, event, service, spare, alert, token, job, snapshot, source string
}

func makeFixtures(t *testing.T, w *wire) fixtures {
	t.Helper()
	var fx fixtures
	w.do("PUT", "/v1/metrics/fx.metric", map[string]any{"type": "gauge"}).requireStatus(t, 201)
	w.do("PUT", "/v1/metrics/fx.other", map[string]any{"type": "gauge"}).requireStatus(t, 201)
	w.do("POST", "/v1/measurements", map[string]any{"measurements": []any{map[string]any{"name": "fx.metric", "value": 1, "time": base}}}).requireStatus(t, 202)
	fx.space = idOf(t, w.do("POST", "/v1/spaces", map[string]any{"name": "fx"}).requireStatus(t, 201).Header.Get("Location"))
	fx.chart = fmt.Sprint(num(t, w.do("POST", "/v1/spaces/"+fx.space+"/charts", map[string]any{"name": "fx", "streams": []any{map[string]any{"metric": "fx.metric"}}}).requireStatus(t, 201).obj(t)["id"]))
	fx.event = idOf(t, w.do("POST", "/v1/annotations/fx-stream", map[string]any{"title": "fx", "links": []any{map[string]any{"rel": "fx", "href": "https://x"}}}).requireStatus(t, 201).Header.Get("Location"))
	fx.service = w.do("POST", "/v1/services", map[string]any{"title": "fx", "type": "mail", "settings": map[string]any{"addresses": "a@b"}}).requireStatus(t, 201).obj(t)["id"].(string)
	fx.spare = w.do("POST", "/v1/services", map[string]any{"title": "spare", "type": "mail", "settings": map[string]any{"addresses": "a@b"}}).requireStatus(t, 201).obj(t)["id"].(string)
	svc, _ := strconv.Atoi(fx.service)
	fx.alert = fmt.Sprint(num(t, w.do("POST", "/v1/alerts", map[string]any{"name": "fx.alert", "services": []int{svc}, "conditions": []any{map[string]any{"type": "above", "metric_name": "fx.metric", "threshold": 1}}}).requireStatus(t, 201).obj(t)["id"]))
	fx.token = idOf(t, w.do("POST", "/v1/api_tokens", map[string]any{"name": "fx", "role": "viewer"}).requireStatus(t, 201).Header.Get("Location"))
	fx.job = idOf(t, w.do("PUT", "/v1/metrics", map[string]any{"names": []string{"fx.other"}, "period": 60}).requireStatus(t, 202).Header.Get("Location"))
	chartID, _ := strconv.Atoi(fx.chart)
	fx.snapshot = idOf(t, w.do("POST", "/v1/snapshots", map[string]any{"subject": map[string]any{"chart": map[string]any{"id": chartID, "type": "line"}}}).requireStatus(t, 202).Header.Get("Location"))
	fx.source = "fx-source"
	w.do("PUT", "/v1/sources/"+fx.source, map[string]any{"display_name": "FX"}).requireStatus(t, 201)
	return fx
}

// rowCall is a valid call of one matrix row and its success status.
type rowCall struct {
	path   string
	body   any
	status int
}

func rowCalls(fx fixtures) map[string]rowCall {
	m := map[string]any{"measurements": []any{map[string]any{"name": "fx.metric", "value": 2}}}
	cond := []any{map[string]any{"type": "below", "metric_name": "fx.metric", "threshold": 0}}
	svc, _ := strconv.Atoi(fx.spare)
	chart, _ := strconv.Atoi(fx.chart)
	ev := "/v1/annotations/fx-stream/" + fx.event
	return map[string]rowCall{
		"POST /v1/measurements":                       {"/v1/measurements", m, 202},
		"GET /v1/measurements":                        {fmt.Sprintf(`/v1/measurements?compose=s(%%22fx.metric%%22,%%22*%%22)&start_time=%d&resolution=60`, base), nil, 200},
		"GET /v1/measurements/:name":                  {fmt.Sprintf("/v1/measurements/fx.metric?start_time=%d&resolution=60", base), nil, 200},
		"GET /v1/metrics":                             {"/v1/metrics", nil, 200},
		"POST /v1/metrics":                            {"/v1/metrics", map[string]any{"gauges": []any{map[string]any{"name": "fx.metric", "value": 3}}}, 200},
		"PUT /v1/metrics":                             {"/v1/metrics", map[string]any{"names": []string{"fx.metric"}, "period": 30}, 202},
		"DELETE /v1/metrics":                          {"/v1/metrics", map[string]any{"names": "fx.*"}, 202},
		"GET /v1/metrics/:name":                       {"/v1/metrics/fx.metric", nil, 200},
		"PUT /v1/metrics/:name":                       {"/v1/metrics/fx.metric", map[string]any{"description": "d"}, 204},
		"DELETE /v1/metrics/:name":                    {"/v1/metrics/fx.metric", nil, 204},
		"GET /v1/spaces":                              {"/v1/spaces", nil, 200},
		"POST /v1/spaces":                             {"/v1/spaces", map[string]any{"name": "new"}, 201},
		"GET /v1/spaces/:id":                          {"/v1/spaces/" + fx.space, nil, 200},
		"PUT /v1/spaces/:id":                          {"/v1/spaces/" + fx.space, map[string]any{"name": "renamed"}, 204},
		"DELETE /v1/spaces/:id":                       {"/v1/spaces/" + fx.space, nil, 204},
		"GET /v1/spaces/:id/charts":                   {"/v1/spaces/" + fx.space + "/charts", nil, 200},
		"POST /v1/spaces/:id/charts":                  {"/v1/spaces/" + fx.space + "/charts", map[string]any{"name": "c2"}, 201},
		"GET /v1/spaces/:id/charts/:chart_id":         {"/v1/spaces/" + fx.space + "/charts/" + fx.chart, nil, 200},
		"PUT /v1/spaces/:id/charts/:chart_id":         {"/v1/spaces/" + fx.space + "/charts/" + fx.chart, map[string]any{"name": "c3"}, 200},
		"DELETE /v1/spaces/:id/charts/:chart_id":      {"/v1/spaces/" + fx.space + "/charts/" + fx.chart, nil, 204},
		"GET /v1/annotations":                         {"/v1/annotations", nil, 200},
		"POST /v1/annotations/:name":                  {"/v1/annotations/fx-stream", map[string]any{"title": "t"}, 201},
		"GET /v1/annotations/:name":                   {"/v1/annotations/fx-stream?count=5", nil, 200},
		"PUT /v1/annotations/:name":                   {"/v1/annotations/fx-stream", map[string]any{"display_name": "FX"}, 204},
		"DELETE /v1/annotations/:name":                {"/v1/annotations/fx-stream", nil, 204},
		"GET /v1/annotations/:name/:id":               {ev, nil, 200},
		"PUT /v1/annotations/:name/:id":               {ev, map[string]any{"title": "t2"}, 204},
		"DELETE /v1/annotations/:name/:id":            {ev, nil, 204},
		"POST /v1/annotations/:name/:id/links":        {ev + "/links", map[string]any{"rel": "new", "href": "https://y"}, 201},
		"DELETE /v1/annotations/:name/:id/links/:rel": {ev + "/links/fx", nil, 204},
		"GET /v1/alerts":                              {"/v1/alerts", nil, 200},
		"POST /v1/alerts":                             {"/v1/alerts", map[string]any{"name": "fx.new", "conditions": cond}, 201},
		"GET /v1/alerts/status":                       {"/v1/alerts/status", nil, 200},
		"GET /v1/alerts/:id":                          {"/v1/alerts/" + fx.alert, nil, 200},
		"PUT /v1/alerts/:id":                          {"/v1/alerts/" + fx.alert, map[string]any{"conditions": cond}, 204},
		"DELETE /v1/alerts/:id":                       {"/v1/alerts/" + fx.alert, nil, 204},
		"GET /v1/alerts/:id/status":                   {"/v1/alerts/" + fx.alert + "/status", nil, 200},
		"POST /v1/alerts/:id/clear":                   {"/v1/alerts/" + fx.alert + "/clear", nil, 204},
		"POST /v1/alerts/:id/services":                {"/v1/alerts/" + fx.alert + "/services", map[string]any{"service": svc}, 201},
		"DELETE /v1/alerts/:id/services/:service_id":  {"/v1/alerts/" + fx.alert + "/services/" + fx.service, nil, 204},
		"GET /v1/api_tokens":                          {"/v1/api_tokens", nil, 200},
		"POST /v1/api_tokens":                         {"/v1/api_tokens", map[string]any{"name": "n", "role": "recorder"}, 201},
		"GET /v1/api_tokens/:id":                      {"/v1/api_tokens/" + fx.token, nil, 200},
		"PUT /v1/api_tokens/:id":                      {"/v1/api_tokens/" + fx.token, map[string]any{"active": false}, 200},
		"DELETE /v1/api_tokens/:id":                   {"/v1/api_tokens/" + fx.token, nil, 204},
		"GET /v1/jobs/:id":                            {"/v1/jobs/" + fx.job, nil, 200},
		"POST /v1/snapshots":                          {"/v1/snapshots", map[string]any{"subject": map[string]any{"chart": map[string]any{"id": chart, "type": "line"}}}, 202},
		"GET /v1/snapshots/:id":                       {"/v1/snapshots/" + fx.snapshot, nil, 200},
		"GET /v1/services":                            {"/v1/services", nil, 200},
		"POST /v1/services":                           {"/v1/services", map[string]any{"title": "s", "type": "slack", "settings": map[string]any{"url": "https://h"}}, 201},
		"GET /v1/services/:id":                        {"/v1/services/" + fx.service, nil, 200},
		"PUT /v1/services/:id":                        {"/v1/services/" + fx.service, map[string]any{"title": "s2"}, 204},
		"DELETE /v1/services/:id":                     {"/v1/services/" + fx.service, nil, 204},
		"GET /v1/sources":                             {"/v1/sources", nil, 200},
		"GET /v1/sources/:name":                       {"/v1/sources/" + fx.source, nil, 200},
		"PUT /v1/sources/:name":                       {"/v1/sources/" + fx.source, map[string]any{"display_name": "FX 2"}, 204},
	}
}

// TestRoleEnforcementMatrix calls every matrix row with every role, on
// fixtures that exist, and expects exactly what the matrix says: the
// row's success status when the role is allowed (inferred roles of
// unlisted rows included), 403 otherwise.
func TestRoleEnforcementMatrix(t *testing.T) {
	srv := newServer(t)
	perms := librato.Permissions()
	require.Len(t, perms, 56)
	covered := map[string]bool{}
	n := 0
	for _, p := range perms {
		key := p.Method + " " + p.Endpoint
		covered[key] = true
		for _, role := range librato.Roles() {
			t.Run(fmt.Sprintf("%s/%s", key, role), func(t *testing.T) {
				n++
				acct := srv.Account(fmt.Sprintf("case%d@example.com", n))
				admin := inProcess(t, srv, acct, librato.RoleFullAccess)
				fx := makeFixtures(t, admin)
				rc, ok := rowCalls(fx)[key]
				require.True(t, ok, "no call for matrix row %s", key)
				w := inProcess(t, srv, acct, role)
				r := w.do(p.Method, rc.path, rc.body)
				if slices.Contains(p.Roles, role) {
					r.requireStatus(t, rc.status)
					assert.Equal(t, librato.Permitted(role, p.Method, rc.path), true)
				} else {
					r.requireStatus(t, http.StatusForbidden)
					_, request, _ := r.errs(t)
					assert.Contains(t, request[0], role.Label())
					assert.False(t, librato.Permitted(role, p.Method, rc.path))
				}
			})
		}
	}
	for key := range rowCalls(fixtures{}) {
		assert.True(t, covered[key], "call for %s, which is not a matrix row", key)
	}
}

// inProcess is a wire client of acct that goes through srv.Transport.
func inProcess(t *testing.T, srv *mock.Server, acct *mock.Account, role librato.Role) *wire {
	email, token := acct.Credentials(role)
	return &wire{t: t, base: "http://mock.invalid", email: email, token: token, hc: &http.Client{Transport: srv.Transport(), Timeout: 5 * time.Second}}
}
