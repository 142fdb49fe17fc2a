package librato

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// aaSeen is one request the alerts or annotations tests received.
type aaSeen struct {
	Method string
	Path   string // escaped, test base included
	Query  url.Values
	Body   []byte
	Auth   string
	CType  string
}

// aaReply answers one route and records what it received; extra headers
// come in pairs ("Location", "/v1/alerts/1").
func aaReply(t *testing.T, mt *httpmock.MockTransport, method, path string, status int, body string, headers ...string) *[]aaSeen {
	t.Helper()
	var seen []aaSeen
	mt.RegisterResponder(method, testBase+path, aaResponder(&seen, status, body, headers...))
	return &seen
}

func aaResponder(seen *[]aaSeen, status int, body string, headers ...string) httpmock.Responder {
	return func(req *http.Request) (*http.Response, error) {
		var b []byte
		if req.Body != nil {
			b, _ = readRequestBody(req)
		}
		*seen = append(*seen, aaSeen{
			Method: req.Method,
			Path:   req.URL.EscapedPath(),
			Query:  req.URL.Query(),
			Body:   b,
			Auth:   req.Header.Get("Authorization"),
			CType:  req.Header.Get("Content-Type"),
		})
		resp := httpmock.NewStringResponse(status, body)
		for i := 0; i+1 < len(headers); i += 2 {
			resp.Header.Set(headers[i], headers[i+1])
		}
		if body != "" {
			resp.Header.Set("Content-Type", "application/json")
		}
		return resp, nil
	}
}

// aaOne asserts exactly one request came, with the client's credentials,
// and returns it.
func aaOne(t *testing.T, seen *[]aaSeen, method, path string) aaSeen {
	t.Helper()
	require.Len(t, *seen, 1, "requests received")
	r := (*seen)[0]
	assert.Equal(t, method, r.Method)
	assert.Equal(t, "/prefix"+path, r.Path)
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(testEmail+":"+testToken))
	assert.Equal(t, want, r.Auth)
	if len(r.Body) > 0 {
		assert.Equal(t, "application/json", r.CType)
	}
	return r
}

// aaNoCalls makes every unmatched request count, so a zero call count
// proves nothing was sent.
func aaNoCalls(mt *httpmock.MockTransport) {
	mt.RegisterNoResponder(httpmock.NewStringResponder(599, `{"errors":{"request":["unexpected request"]}}`))
}

func aaValidation(t *testing.T, err error, field string) {
	t.Helper()
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, field, ve.Field, "field of %v", err)
	assert.Equal(t, -1, ve.Index)
}

// Shaped like the reference's "Retrieve an Alert" example, plus a field
// the SDK does not know.
const alertGetBody = `{
  "id": 123,
  "name": "production.web.frontend.response_time",
  "description":"Web Response Time",
  "conditions":[
      {
         "id":19375969,
         "type":"above",
         "metric_name":"web.nginx.response_time",
         "source":null,
         "threshold":200.0,
         "summary_function":"average",
         "tags":[{"name":"environment","grouped":false,"values":["production"]}]
      }
   ],
  "services":[
      {
         "id":17584,
         "type":"slack",
         "settings":{"url":"https://hooks.slack.com/services/XYZABC/a1b2c3/asdf"},
         "title":"librato-services"
      }
   ],
  "attributes": {"runbook_url": "http://myco.com/runbooks/response_time"},
  "active":true,
  "created_at":1484588756,
  "updated_at":1484588756,
  "version":2,
  "rearm_seconds":600,
  "rearm_per_signal":false,
  "md":true,
  "future_field": {"x": 1}
}`

func TestAlertsGetDecodesReferenceExample(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "GET", "/v1/alerts/123", 200, alertGetBody)

	a, err := c.Alerts.Get(context.Background(), 123)
	require.NoError(t, err)
	r := aaOne(t, seen, "GET", "/v1/alerts/123")
	assert.Empty(t, r.Body)
	assert.Empty(t, r.Query)

	assert.Equal(t, int64(123), a.ID)
	assert.Equal(t, "production.web.frontend.response_time", a.Name)
	assert.Equal(t, 2, a.Version)
	require.NotNil(t, a.Description)
	assert.Equal(t, "Web Response Time", *a.Description)
	require.Len(t, a.Conditions, 1)
	cond := a.Conditions[0]
	assert.Equal(t, int64(19375969), cond.ID)
	assert.Equal(t, AlertConditionAbove, cond.Type)
	assert.Equal(t, "web.nginx.response_time", cond.MetricName)
	assert.Nil(t, cond.Source)
	require.NotNil(t, cond.Threshold)
	assert.Equal(t, 200.0, *cond.Threshold)
	assert.Equal(t, "average", cond.SummaryFunction)
	assert.Equal(t, []AlertConditionTag{{Name: "environment", Grouped: false, Values: []string{"production"}}}, cond.Tags)
	require.Len(t, a.Services, 1)
	assert.Equal(t, Service{
		ID: 17584, Type: "slack", Title: "librato-services",
		Settings: map[string]any{"url": "https://hooks.slack.com/services/XYZABC/a1b2c3/asdf"},
	}, a.Services[0])
	assert.Equal(t, []int64{17584}, a.ServiceIDs())
	assert.Equal(t, "http://myco.com/runbooks/response_time", a.RunbookURL())
	assert.Equal(t, Ptr(true), a.Active)
	assert.Equal(t, Ptr(600), a.RearmSeconds)
	assert.Equal(t, Ptr(false), a.RearmPerSignal)
	assert.Equal(t, Ptr(true), a.MD)
	assert.Equal(t, int64(1484588756), a.CreatedAt)
	assert.Equal(t, int64(1484588756), a.UpdatedAt)
	assert.NoError(t, a.Validate(), "an alert read from the API passes validation")
}

func TestAlertsGetNotFound(t *testing.T) {
	c, mt := newMockClient(t)
	aaReply(t, mt, "GET", "/v1/alerts/9", 404, `{"errors":{"request":["Not Found"]}}`)
	_, err := c.Alerts.Get(context.Background(), 9)
	require.ErrorIs(t, err, ErrNotFound)
}

func TestAlertsList(t *testing.T) {
	c, mt := newMockClient(t)
	// The reference's list example: legacy source string, null description,
	// empty attributes.
	seen := aaReply(t, mt, "GET", "/v1/alerts", 200, `{
  "query": {"offset": 0, "length": 2, "found": 2, "total": 7},
  "alerts": [
    {
      "id": 1400310, "name": "CPU.utilization", "description": null,
      "conditions": [{"id": 1016, "type": "above", "metric_name": "AWS.EC2.CPUUtilization",
          "source": "*prod*", "threshold": 90, "duration": 300, "summary_function": "max"}],
      "services": [{"id": 1153, "type": "mail", "settings": {"addresses": "foo@domain.com,bar@domain.com"}, "title": "Ops Team"}],
      "attributes": {}, "active": true, "created_at": 1394745670, "updated_at": 1394745670,
      "version": 2, "rearm_seconds": 600, "rearm_per_signal": false, "md": false
    },
    {"id": 1400311, "name": "second", "conditions": [], "services": [], "version": "2"}
  ]
}`)
	list, err := c.Alerts.List(context.Background(), &AlertListOptions{ListOptions: ListOptions{Name: "CPU", Offset: 0, Length: 2, OrderBy: "updated_at", Sort: "desc"}, Version: 2})
	require.NoError(t, err)
	r := aaOne(t, seen, "GET", "/v1/alerts")
	assert.Equal(t, url.Values{"length": {"2"}, "orderby": {"updated_at"}, "sort": {"desc"}, "version": {"2"}, "name": {"CPU"}}, r.Query)

	assert.Equal(t, Query{Found: 2, Length: 2, Offset: 0, Total: 7}, list.Query)
	require.Len(t, list.Alerts, 2)
	a := list.Alerts[0]
	assert.Nil(t, a.Description)
	assert.Equal(t, map[string]any{}, a.Attributes)
	assert.Equal(t, "", a.RunbookURL())
	require.NotNil(t, a.Conditions[0].Source)
	assert.Equal(t, "*prod*", *a.Conditions[0].Source)
	assert.Equal(t, 300, a.Conditions[0].Duration)
	assert.Equal(t, "Ops Team", a.Services[0].Title)
	assert.Equal(t, 2, list.Alerts[1].Version, "a version sent as a string decodes")
}

func TestAlertsListNilOptionsSendsNoQuery(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "GET", "/v1/alerts", 200, `{"query":{"found":0,"length":0,"offset":0,"total":0},"alerts":[]}`)
	list, err := c.Alerts.List(context.Background(), nil)
	require.NoError(t, err)
	r := aaOne(t, seen, "GET", "/v1/alerts")
	assert.Empty(t, r.Query)
	assert.Empty(t, list.Alerts)
}

func TestAlertsAllPagesThroughTwoPages(t *testing.T) {
	c, mt := newMockClient(t)
	var offsets, names []string
	mt.RegisterResponder("GET", testBase+"/v1/alerts", func(req *http.Request) (*http.Response, error) {
		q := req.URL.Query()
		offsets = append(offsets, q.Get("offset"))
		names = append(names, q.Get("name"))
		if q.Get("offset") == "" {
			return httpmock.NewStringResponse(200, `{"query":{"found":3,"length":2,"offset":0,"total":9},
				"alerts":[{"id":1,"name":"a.one"},{"id":2,"name":"a.two"}]}`), nil
		}
		return httpmock.NewStringResponse(200, `{"query":{"found":3,"length":2,"offset":2,"total":9},
			"alerts":[{"id":3,"name":"a.three"}]}`), nil
	})
	var ids []int64
	for a, err := range c.Alerts.All(context.Background(), &AlertListOptions{ListOptions: ListOptions{Name: "a.", Length: 2}}) {
		require.NoError(t, err)
		ids = append(ids, a.ID)
	}
	assert.Equal(t, []int64{1, 2, 3}, ids)
	assert.Equal(t, []string{"", "2"}, offsets)
	assert.Equal(t, []string{"a.", "a."}, names, "the filter is kept on every page")
	assert.Equal(t, 2, mt.GetTotalCallCount())
}

func TestAlertsAllYieldsErrorOnce(t *testing.T) {
	c, mt := newMockClient(t, WithoutRetries())
	aaReply(t, mt, "GET", "/v1/alerts", 401, `{"errors":{"request":["Authorization Required"]}}`)
	n := 0
	for _, err := range c.Alerts.All(context.Background(), nil) {
		n++
		require.ErrorIs(t, err, ErrUnauthorized)
	}
	assert.Equal(t, 1, n)
}

func TestAlertsCreateSendsServicesAsIDs(t *testing.T) {
	c, mt := newMockClient(t)
	// The reference's create response.
	seen := aaReply(t, mt, "POST", "/v1/alerts", 201, `{
   "id":1234567, "name":"production.web.frontend.response_time", "description":"Web Response Time",
   "conditions":[{"id":19376030, "type":"above", "metric_name":"web.nginx.response_time", "source":null,
       "threshold":200.0, "summary_function":"max",
       "tags":[{"name":"tag_name", "grouped":false, "values":["tag_value"]}]}],
   "services":[{"id":17584, "type":"slack", "settings":{"url":"https://hooks.slack.com/services/ABCDEFG/A1B2C3/asdfg1234"}, "title":"librato-services"}],
   "attributes":{"runbook_url":"http://myco.com/runbooks/response_time"},
   "active":true, "created_at":1484594787, "updated_at":1484594787, "version":2,
   "rearm_seconds":600, "rearm_per_signal":false, "md":true}`, "Location", "/v1/alerts/1234567")

	a := &Alert{
		Name:        "production.web.frontend.response_time",
		Description: Ptr("Web Response Time"),
		Conditions: []AlertCondition{{
			Type:            AlertConditionAbove,
			MetricName:      "web.nginx.response_time",
			Threshold:       Ptr(200.0),
			SummaryFunction: "max",
			Tags:            []AlertConditionTag{{Name: "tag_name", Values: []string{"tag_value"}}},
		}},
		Services: AlertServiceIDs(849, 850),
		Active:   Ptr(true),
		MD:       Ptr(true),
	}
	a.SetRunbookURL("http://myco.com/runbooks/response_time")

	got, err := c.Alerts.Create(context.Background(), a)
	require.NoError(t, err)
	r := aaOne(t, seen, "POST", "/v1/alerts")
	assert.JSONEq(t, `{
   "name":"production.web.frontend.response_time",
   "description":"Web Response Time",
   "conditions":[{"type":"above", "metric_name":"web.nginx.response_time", "threshold":200,
      "summary_function":"max", "tags":[{"name":"tag_name", "grouped":false, "values":["tag_value"]}]}],
   "services":[849, 850],
   "attributes":{"runbook_url":"http://myco.com/runbooks/response_time"},
   "active":true,
   "md":true}`, string(r.Body))

	assert.Equal(t, int64(1234567), got.ID)
	assert.Equal(t, int64(19376030), got.Conditions[0].ID)
	assert.Equal(t, "slack", got.Services[0].Type)
	assert.Equal(t, int64(1484594787), got.CreatedAt)
}

func TestAlertsCreateReadsIDFromLocationWithoutBody(t *testing.T) {
	c, mt := newMockClient(t)
	aaReply(t, mt, "POST", "/v1/alerts", 201, "", "Location", "/v1/alerts/77")
	got, err := c.Alerts.Create(context.Background(), &Alert{
		Name:       "disk.gone",
		Conditions: []AlertCondition{{Type: AlertConditionAbsent, MetricName: "disk.used", Duration: 600}},
	})
	require.NoError(t, err)
	assert.Equal(t, int64(77), got.ID)
}

func TestAlertsCreateIsNotRetried(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "POST", "/v1/alerts", 503, `{"errors":{"system":["maintenance"]}}`)
	_, err := c.Alerts.Create(context.Background(), &Alert{
		Name:       "cpu.high",
		Conditions: []AlertCondition{{Type: AlertConditionAbove, MetricName: "cpu", Threshold: Ptr(0.0)}},
	})
	require.ErrorIs(t, err, ErrUnavailable)
	assert.Len(t, *seen, 1)
}

func TestAlertsUpdateSendsWholeAlertFromGet(t *testing.T) {
	c, mt := newMockClient(t)
	var a Alert
	require.NoError(t, json.Unmarshal([]byte(alertGetBody), &a))
	a.Active = Ptr(false)
	a.Conditions[0].Threshold = Ptr(0.0) // 0 is a threshold, not "unset"
	seen := aaReply(t, mt, "PUT", "/v1/alerts/123", 204, "")

	require.NoError(t, c.Alerts.Update(context.Background(), 123, &AlertUpdate{
		Name: &a.Name, Version: &a.Version, Conditions: a.Conditions, Services: a.ServiceIDs(),
		Attributes: a.Attributes, Description: a.Description, Active: a.Active, RearmSeconds: a.RearmSeconds,
		RearmPerSignal: a.RearmPerSignal, MD: a.MD,
	}))
	r := aaOne(t, seen, "PUT", "/v1/alerts/123")
	// id, created_at and updated_at are the server's; services go as ids;
	// condition ids go back so the server keeps them.
	assert.JSONEq(t, `{
  "name": "production.web.frontend.response_time",
  "description":"Web Response Time",
  "conditions":[{"id":19375969, "type":"above", "metric_name":"web.nginx.response_time",
      "threshold":0, "summary_function":"average",
      "tags":[{"name":"environment","grouped":false,"values":["production"]}]}],
  "services":[17584],
  "attributes": {"runbook_url": "http://myco.com/runbooks/response_time"},
  "active":false,
  "version":2,
  "rearm_seconds":600,
  "rearm_per_signal":false,
  "md":true}`, string(r.Body))
}

func TestAlertsUpdateSendsEmptyAttributesAndServicesButNotNil(t *testing.T) {
	cond := []AlertCondition{{Type: AlertConditionBelow, MetricName: "free.mem", Threshold: Ptr(5.0), Duration: 60}}
	for _, tc := range []struct {
		name   string
		update AlertUpdate
		want   string
	}{
		{"nil not sent", AlertUpdate{Name: Ptr("mem.low"), Conditions: cond},
			`{"name":"mem.low","conditions":[{"type":"below","metric_name":"free.mem","threshold":5,"duration":60}]}`},
		{"empty sent to clear", AlertUpdate{Name: Ptr("mem.low"), Conditions: cond, Attributes: map[string]any{}, Services: []int64{}},
			`{"name":"mem.low","conditions":[{"type":"below","metric_name":"free.mem","threshold":5,"duration":60}],"attributes":{},"services":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			seen := aaReply(t, mt, "PUT", "/v1/alerts/5", 204, "")
			require.NoError(t, c.Alerts.Update(context.Background(), 5, &tc.update))
			assert.JSONEq(t, tc.want, string(aaOne(t, seen, "PUT", "/v1/alerts/5").Body))
		})
	}
}

func TestAlertsUpdateRefusesAlertWithoutConditions(t *testing.T) {
	c, mt := newMockClient(t)
	aaNoCalls(mt)
	err := c.Alerts.Update(context.Background(), 123, &AlertUpdate{Name: Ptr("cpu.high"), Active: Ptr(false)})
	aaValidation(t, err, "conditions")
	assert.Contains(t, err.Error(), "delete them all")
	assert.Equal(t, 0, mt.GetTotalCallCount())
}

// TestAlertUpdateValidation: the rules of Validate hold for the fields an
// update sets, and conditions are required whatever else it sets.
func TestAlertUpdateValidation(t *testing.T) {
	cond := []AlertCondition{{Type: AlertConditionAbove, MetricName: "cpu", Threshold: Ptr(90.0)}}
	for _, tc := range []struct {
		name   string
		update *AlertUpdate
		field  string
	}{
		{"empty conditions", &AlertUpdate{Conditions: []AlertCondition{}, Description: Ptr("d")}, "conditions"},
		{"bad condition", &AlertUpdate{Conditions: []AlertCondition{{Type: "over", MetricName: "cpu"}}}, "conditions[0].type"},
		{"blank name", &AlertUpdate{Name: Ptr(""), Conditions: cond}, "name"},
		{"version 0", &AlertUpdate{Version: Ptr(0), Conditions: cond}, "version"},
		{"service id 0", &AlertUpdate{Services: []int64{4, 0}, Conditions: cond}, "services[1]"},
		{"rearm", &AlertUpdate{RearmSeconds: Ptr(61), Conditions: cond}, "rearm_seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			aaNoCalls(mt)
			aaValidation(t, c.Alerts.Update(context.Background(), 1, tc.update), tc.field)
			assert.Equal(t, 0, mt.GetTotalCallCount())
		})
	}
}

func TestAlertsDelete(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "DELETE", "/v1/alerts/123", 204, "")
	require.NoError(t, c.Alerts.Delete(context.Background(), 123))
	assert.Empty(t, aaOne(t, seen, "DELETE", "/v1/alerts/123").Body)
}

func TestAlertsStatus(t *testing.T) {
	for _, tc := range []struct {
		body      string
		id        int64
		triggered bool
	}{
		{`{"alert":{"id":120},"status":"triggered"}`, 120, true},
		{`{"alert":{"id":121},"status":"ok"}`, 121, false},
	} {
		c, mt := newMockClient(t)
		path := "/v1/alerts/" + idParam(tc.id) + "/status"
		seen := aaReply(t, mt, "GET", path, 200, tc.body)
		st, err := c.Alerts.Status(context.Background(), tc.id)
		require.NoError(t, err)
		aaOne(t, seen, "GET", path)
		assert.Equal(t, tc.id, st.Alert.ID)
		assert.Equal(t, tc.triggered, st.Triggered())
	}
}

func TestAlertsStatusAll(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "GET", "/v1/alerts/status", 200, `{
    "cleared": [{"cleared_at": 1454108320, "id": 127}],
    "firing": [{"id": 106, "triggered_at": 1413328283}, {"id": 129, "triggered_at": 1444934147}]}`)
	st, err := c.Alerts.StatusAll(context.Background())
	require.NoError(t, err)
	aaOne(t, seen, "GET", "/v1/alerts/status")
	assert.Equal(t, []FiringAlert{{ID: 106, TriggeredAt: 1413328283}, {ID: 129, TriggeredAt: 1444934147}}, st.Firing)
	assert.Equal(t, []ClearedAlert{{ID: 127, ClearedAt: 1454108320}}, st.Cleared)
}

func TestAlertsClear(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "POST", "/v1/alerts/120/clear", 204, "")
	require.NoError(t, c.Alerts.Clear(context.Background(), 120))
	assert.Empty(t, aaOne(t, seen, "POST", "/v1/alerts/120/clear").Body)
}

func TestAlertsAddService(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "POST", "/v1/alerts/45/services", 201, "", "Location", "/v1/alerts/45/services/290")
	require.NoError(t, c.Alerts.AddService(context.Background(), 45, 290))
	assert.JSONEq(t, `{"service":290}`, string(aaOne(t, seen, "POST", "/v1/alerts/45/services").Body))
}

func TestAlertsRemoveService(t *testing.T) {
	c, mt := newMockClient(t)
	seen := aaReply(t, mt, "DELETE", "/v1/alerts/123/services/209", 204, "")
	require.NoError(t, c.Alerts.RemoveService(context.Background(), 123, 209))
	assert.Empty(t, aaOne(t, seen, "DELETE", "/v1/alerts/123/services/209").Body)
}

func TestAlertsRefuseMissingIDsWithoutCalling(t *testing.T) {
	c, mt := newMockClient(t)
	aaNoCalls(mt)
	ctx := context.Background()
	_, err := c.Alerts.Get(ctx, 0)
	aaValidation(t, err, "id")
	aaValidation(t, c.Alerts.Delete(ctx, -3), "id")
	_, err = c.Alerts.Status(ctx, 0)
	aaValidation(t, err, "id")
	aaValidation(t, c.Alerts.Clear(ctx, 0), "id")
	aaValidation(t, c.Alerts.AddService(ctx, 0, 5), "id")
	aaValidation(t, c.Alerts.AddService(ctx, 5, 0), "service")
	aaValidation(t, c.Alerts.RemoveService(ctx, 5, 0), "service_id")
	aaValidation(t, c.Alerts.RemoveService(ctx, 0, 5), "id")
	assert.Equal(t, 0, mt.GetTotalCallCount())
}

func validAlert() *Alert {
	return &Alert{
		Name: "production.web.frontend.response_time",
		Conditions: []AlertCondition{
			{Type: AlertConditionAbove, MetricName: "web.nginx.response_time", Threshold: Ptr(200.0), Duration: 300, SummaryFunction: "max"},
			{Type: AlertConditionAbsent, MetricName: "web.nginx.requests", Duration: 3600},
		},
		Services:     AlertServiceIDs(849),
		RearmSeconds: Ptr(1200),
		Version:      2,
	}
}

func TestAlertValidation(t *testing.T) {
	require.NoError(t, validAlert().Validate())
	for _, tc := range []struct {
		name  string
		edit  func(a *Alert)
		field string
	}{
		{"no name", func(a *Alert) { a.Name = "" }, "name"},
		{"blank name", func(a *Alert) { a.Name = "  " }, "name"},
		{"name too long", func(a *Alert) { a.Name = strings.Repeat("a", 256) }, "name"},
		{"name with space", func(a *Alert) { a.Name = "cpu high" }, "name"},
		{"name with slash", func(a *Alert) { a.Name = "cpu/high" }, "name"},
		{"version 3", func(a *Alert) { a.Version = 3 }, "version"},
		{"no conditions", func(a *Alert) { a.Conditions = nil }, "conditions"},
		{"empty conditions", func(a *Alert) { a.Conditions = []AlertCondition{} }, "conditions"},
		{"bad type", func(a *Alert) { a.Conditions[0].Type = "over" }, "conditions[0].type"},
		{"no type", func(a *Alert) { a.Conditions[1].Type = "" }, "conditions[1].type"},
		{"no metric", func(a *Alert) { a.Conditions[0].MetricName = "" }, "conditions[0].metric_name"},
		{"bad metric", func(a *Alert) { a.Conditions[0].MetricName = "web nginx" }, "conditions[0].metric_name"},
		{"above without threshold", func(a *Alert) { a.Conditions[0].Threshold = nil }, "conditions[0].threshold"},
		{"below without threshold", func(a *Alert) { a.Conditions[0].Type = "below"; a.Conditions[0].Threshold = nil }, "conditions[0].threshold"},
		{"threshold too large", func(a *Alert) { a.Conditions[0].Threshold = Ptr(1e127) }, "conditions[0].threshold"},
		{"absent without duration", func(a *Alert) { a.Conditions[1].Duration = 0 }, "conditions[1].duration"},
		{"duration too short", func(a *Alert) { a.Conditions[0].Duration = 59 }, "conditions[0].duration"},
		{"duration too long", func(a *Alert) { a.Conditions[1].Duration = 3601 }, "conditions[1].duration"},
		{"negative duration", func(a *Alert) { a.Conditions[0].Duration = -60 }, "conditions[0].duration"},
		{"bad summary function", func(a *Alert) { a.Conditions[0].SummaryFunction = "mean" }, "conditions[0].summary_function"},
		{"bad tag name", func(a *Alert) { a.Conditions[0].Tags = []AlertConditionTag{{Name: "", Values: []string{"x"}}} }, "conditions[0].tags[0].name"},
		{"empty tag value", func(a *Alert) { a.Conditions[0].Tags = []AlertConditionTag{{Name: "env", Values: []string{""}}} }, "conditions[0].tags[0].values"},
		{"service without id", func(a *Alert) { a.Services = append(a.Services, Service{Title: "ops"}) }, "services[1]"},
		{"rearm not multiple of 60", func(a *Alert) { a.RearmSeconds = Ptr(90) }, "rearm_seconds"},
		{"negative rearm", func(a *Alert) { a.RearmSeconds = Ptr(-60) }, "rearm_seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			aaNoCalls(mt)
			a := validAlert()
			tc.edit(a)
			_, err := c.Alerts.Create(context.Background(), a)
			aaValidation(t, err, tc.field)
			aaValidation(t, c.Alerts.Update(context.Background(), 1, a.asUpdate()), tc.field)
			assert.Equal(t, 0, mt.GetTotalCallCount())
		})
	}
}

func TestAlertValidationAccepts(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(a *Alert)
	}{
		{"underscore in name, as the reference's example", func(a *Alert) { a.Name = "production.web.frontend.response_time" }},
		{"name of 255", func(a *Alert) { a.Name = strings.Repeat("a", 255) }},
		{"threshold zero", func(a *Alert) { a.Conditions[0].Threshold = Ptr(0.0) }},
		{"no duration on above", func(a *Alert) { a.Conditions[0].Duration = 0 }},
		{"duration bounds", func(a *Alert) { a.Conditions[0].Duration = 60; a.Conditions[1].Duration = 3600 }},
		{"version 1", func(a *Alert) { a.Version = 1 }},
		{"no version", func(a *Alert) { a.Version = 0 }},
		{"no services", func(a *Alert) { a.Services = nil }},
		{"rearm zero", func(a *Alert) { a.RearmSeconds = Ptr(0) }},
		{"derivative with detect_reset", func(a *Alert) {
			a.Conditions[0].SummaryFunction = "derivative"
			a.Conditions[0].DetectReset = Ptr(false)
		}},
		{"wildcard tag value", func(a *Alert) {
			a.Conditions[0].Tags = []AlertConditionTag{{Name: "host", Grouped: true, Values: []string{"prod-*"}}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := validAlert()
			tc.edit(a)
			assert.NoError(t, a.Validate())
		})
	}
	var nilAlert *Alert
	aaValidation(t, nilAlert.Validate(), "alert")
}

func TestAlertsCreateNilIsValidationError(t *testing.T) {
	c, mt := newMockClient(t)
	aaNoCalls(mt)
	_, err := c.Alerts.Create(context.Background(), nil)
	aaValidation(t, err, "alert")
	aaValidation(t, c.Alerts.Update(context.Background(), 1, nil), "alert")
	assert.Equal(t, 0, mt.GetTotalCallCount())
}

func TestAlertListOptionsValidation(t *testing.T) {
	c, mt := newMockClient(t)
	aaNoCalls(mt)
	ctx := context.Background()
	_, err := c.Alerts.List(ctx, &AlertListOptions{Version: 3})
	aaValidation(t, err, "version")
	_, err = c.Alerts.List(ctx, &AlertListOptions{ListOptions: ListOptions{OrderBy: "name"}})
	aaValidation(t, err, "orderby")
	_, err = c.Alerts.List(ctx, &AlertListOptions{ListOptions: ListOptions{Length: 101}})
	aaValidation(t, err, "length")
	for _, err := range c.Alerts.All(ctx, &AlertListOptions{Version: -1}) {
		aaValidation(t, err, "version")
	}
	assert.Equal(t, 0, mt.GetTotalCallCount())
}

func TestAlertServiceDecodesEveryShape(t *testing.T) {
	var got []Service
	require.NoError(t, json.Unmarshal([]byte(`[849, "850", {"id":"145","type":"campfire","title":"Ops","settings":{"room":"Ops","token":"t"}}, null, {"id":17584}]`), &got))
	assert.Equal(t, []Service{
		{ID: 849},
		{ID: 850},
		{ID: 145, Type: "campfire", Title: "Ops", Settings: map[string]any{"room": "Ops", "token": "t"}},
		{},
		{ID: 17584},
	}, got)

	for _, bad := range []string{`["abc"]`, `[1.5]`, `[true]`, `[{"id":"x"}]`} {
		assert.Error(t, json.Unmarshal([]byte(bad), &got), bad)
	}
}

func TestAlertsGetBadBodyIsDecodeError(t *testing.T) {
	c, mt := newMockClient(t)
	aaReply(t, mt, "GET", "/v1/alerts/1", 200, `{"id":1,"services":[{"id":"not-a-number"}]}`)
	_, err := c.Alerts.Get(context.Background(), 1)
	var de *DecodeError
	require.True(t, errors.As(err, &de), "got %v", err)
}

func TestAlertRunbookURLHelpers(t *testing.T) {
	var a Alert
	assert.Equal(t, "", a.RunbookURL())
	a.SetRunbookURL("https://wiki/run")
	assert.Equal(t, "https://wiki/run", a.RunbookURL())
	a.Attributes["team"] = "ops"
	a.SetRunbookURL("")
	assert.Equal(t, map[string]any{"team": "ops"}, a.Attributes)
}

func TestAlertsGuardRefusesViewerWithoutCalling(t *testing.T) {
	c, mt := newMockClient(t, WithRole(RoleViewOnly))
	aaNoCalls(mt)
	_, err := c.Alerts.List(context.Background(), nil)
	var fe *ErrForbiddenForRole
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "/v1/alerts", fe.Endpoint)
	_, err = c.Alerts.Get(context.Background(), 1)
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "/v1/alerts/:id", fe.Endpoint)

	rc, rmt := newMockClient(t, WithRole(RoleRecordOnly), WithStrictGuard())
	aaNoCalls(rmt)
	err = rc.Alerts.Clear(context.Background(), 1)
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "/v1/alerts/:id/clear", fe.Endpoint)
	assert.Equal(t, 0, mt.GetTotalCallCount()+rmt.GetTotalCallCount())
}

func TestAlertEndpointsMatchTheMatrix(t *testing.T) {
	for _, ep := range []*endpoint{epAlertsList, epAlertsCreate, epAlertsGet, epAlertsUpdate, epAlertsDelete,
		epAlertsStatus, epAlertsStatusAll, epAlertsClear, epAlertsAddService, epAlertsRemoveService} {
		require.NotNil(t, ep.row, "%s %s", ep.method, ep.template)
		assert.Equal(t, ep.template, ep.row.Template, "%s %s", ep.method, ep.template)
	}
}

// TestAlertConditionDetectResetOnTheWire: the reference gives detect_reset a
// default of true, so the SDK must be able to send false on purpose, and
// send nothing when the caller says nothing; reads keep what came.
func TestAlertConditionDetectResetOnTheWire(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  *bool
		want any // the member in the condition sent; nil: absent
	}{
		{"unset leaves the server's default", nil, nil},
		{"false is sent", Ptr(false), false},
		{"true is sent", Ptr(true), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			seen := aaReply(t, mt, "PUT", "/v1/alerts/5", 204, "")
			a := validAlert()
			a.Conditions[0].SummaryFunction = "derivative"
			a.Conditions[0].DetectReset = tc.set
			require.NoError(t, c.Alerts.Update(context.Background(), 5, a.asUpdate()))
			var body struct {
				Conditions []map[string]any `json:"conditions"`
			}
			require.NoError(t, json.Unmarshal(aaOne(t, seen, "PUT", "/v1/alerts/5").Body, &body))
			v, present := body.Conditions[0]["detect_reset"]
			assert.Equal(t, tc.want != nil, present)
			assert.Equal(t, tc.want, v)
			_, other := body.Conditions[1]["detect_reset"]
			assert.False(t, other, "a condition without it sends none")
		})
	}
	var a Alert
	require.NoError(t, json.Unmarshal([]byte(`{"id":1,"conditions":[{"type":"above","metric_name":"m","threshold":1,"detect_reset":false},{"type":"above","metric_name":"m","threshold":1}]}`), &a))
	require.NotNil(t, a.Conditions[0].DetectReset)
	assert.False(t, *a.Conditions[0].DetectReset)
	assert.Nil(t, a.Conditions[1].DetectReset)
}
