package librato

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const serviceListExample = `{
  "query": {"found": 2, "length": 2, "offset": 0, "total": 2},
  "services": [
    {
      "id": "145",
      "type": "campfire",
      "settings": {"room": "Ops", "token": "1234567890ABCDEF", "subdomain": "acme"},
      "title": "Notify Ops Room",
      "created_at": 1400000000
    },
    {
      "id": 156,
      "type": "mail",
      "settings": {"addresses": "ops@example.com,dev@example.com", "include_graph": true, "retries": 3},
      "title": "Mail the team"
    }
  ]
}`

func TestServicesList(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "GET", "/v1/services", 200, serviceListExample, "")
	page, err := c.Services.List(context.Background(), &ListOptions{Length: 2, OrderBy: "updated_at", Sort: "asc"})
	require.NoError(t, err)
	call := rec.one(t)
	famAssertRequest(t, call, "GET", "/v1/services")
	assert.Equal(t, map[string][]string{"length": {"2"}, "orderby": {"updated_at"}, "sort": {"asc"}}, call.Query)
	assert.Equal(t, Query{Found: 2, Length: 2, Offset: 0, Total: 2}, page.Query)
	assert.Equal(t, []Service{
		{ID: 145, Type: "campfire", Title: "Notify Ops Room", Settings: map[string]any{"room": "Ops", "token": "1234567890ABCDEF", "subdomain": "acme"}},
		{ID: 156, Type: "mail", Title: "Mail the team", Settings: map[string]any{"addresses": "ops@example.com,dev@example.com", "include_graph": true, "retries": float64(3)}},
	}, page.Services)
}

func TestServicesAll(t *testing.T) {
	c, mt := newMockClient(t)
	var offsets []string
	mt.RegisterResponder("GET", testBase+"/v1/services", func(req *http.Request) (*http.Response, error) {
		off := req.URL.Query().Get("offset")
		offsets = append(offsets, off)
		if off == "" {
			return httpmock.NewStringResponse(200, `{"query":{"found":2,"length":1,"offset":0,"total":2},"services":[{"id":"1","type":"mail","title":"a","settings":{}}]}`), nil
		}
		return httpmock.NewStringResponse(200, `{"query":{"found":2,"length":1,"offset":1,"total":2},"services":[{"id":"2","type":"slack","title":"b","settings":{}}]}`), nil
	})
	var ids []int64
	for sv, err := range c.Services.All(context.Background(), &ListOptions{Length: 1}) {
		require.NoError(t, err)
		ids = append(ids, sv.ID)
	}
	assert.Equal(t, []int64{1, 2}, ids)
	assert.Equal(t, []string{"", "1"}, offsets)
}

func TestServicesGet(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "GET", "/v1/services/156", 200, `{"id":"156","type":"slack","settings":{"url":"https://hooks.slack.com/services/X"},"title":"Slack"}`, "")
	sv, err := c.Services.Get(context.Background(), 156)
	require.NoError(t, err)
	famAssertRequest(t, rec.one(t), "GET", "/v1/services/156")
	assert.Equal(t, &Service{ID: 156, Type: "slack", Title: "Slack", Settings: map[string]any{"url": "https://hooks.slack.com/services/X"}}, sv)
}

func TestServicesCreate(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "POST", "/v1/services", 201, `{"id":"145","type":"campfire","settings":{"room":"Ops","token":"abc","subdomain":"acme"},"title":"Notify Ops Room"}`, "/v1/services/145")
	in := &Service{ID: 999, Type: "campfire", Title: "Notify Ops Room", Settings: map[string]any{"room": "Ops", "token": "abc", "subdomain": "acme"}}
	sv, err := c.Services.Create(context.Background(), in)
	require.NoError(t, err)
	call := rec.one(t)
	famAssertRequest(t, call, "POST", "/v1/services")
	assert.JSONEq(t, `{"type":"campfire","title":"Notify Ops Room","settings":{"room":"Ops","token":"abc","subdomain":"acme"}}`, call.Body, "the id is never sent")
	assert.EqualValues(t, 145, sv.ID)
	assert.Equal(t, "Notify Ops Room", sv.Title)
}

func TestServicesCreateIDFromLocation(t *testing.T) {
	c, mt := newMockClient(t)
	famRespond(t, mt, "POST", "/v1/services", 201, `{"type":"mail","title":"t"}`, "https://api.test/prefix/v1/services/77")
	sv, err := c.Services.Create(context.Background(), &Service{Type: "mail", Title: "t"})
	require.NoError(t, err)
	assert.EqualValues(t, 77, sv.ID)
}

func TestServicesUpdateSendsOnlySetFields(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   *ServiceUpdate
		want string
	}{
		{"title", &ServiceUpdate{Title: Ptr("New title")}, `{"title":"New title"}`},
		{"settings", &ServiceUpdate{Settings: map[string]any{"room": "Dev"}}, `{"settings":{"room":"Dev"}}`},
		{"empty settings", &ServiceUpdate{Settings: map[string]any{}}, `{"settings":{}}`},
		{"whole", &ServiceUpdate{Type: Ptr("mail"), Title: Ptr("t"), Settings: map[string]any{"addresses": "a@b.c"}}, `{"type":"mail","title":"t","settings":{"addresses":"a@b.c"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			rec := famRespond(t, mt, "PUT", "/v1/services/145", 204, ``, "")
			require.NoError(t, c.Services.Update(context.Background(), 145, tc.in))
			call := rec.one(t)
			famAssertRequest(t, call, "PUT", "/v1/services/145")
			assert.JSONEq(t, tc.want, call.Body)
		})
	}
}

func TestServicesDelete(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "DELETE", "/v1/services/145", 204, ``, "")
	require.NoError(t, c.Services.Delete(context.Background(), 145))
	famAssertRequest(t, rec.one(t), "DELETE", "/v1/services/145")
}

func TestServicesValidation(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		field string
		call  func(c *Client) error
	}{
		{"create nil", "title", func(c *Client) error { _, err := c.Services.Create(ctx, nil); return err }},
		{"create no title", "title", func(c *Client) error {
			_, err := c.Services.Create(ctx, &Service{Type: "mail"})
			return err
		}},
		{"create no type", "type", func(c *Client) error {
			_, err := c.Services.Create(ctx, &Service{Title: "t"})
			return err
		}},
		{"update nothing", "service", func(c *Client) error { return c.Services.Update(ctx, 1, &ServiceUpdate{}) }},
		{"update nil", "service", func(c *Client) error { return c.Services.Update(ctx, 1, nil) }},
		{"update blank title", "title", func(c *Client) error { return c.Services.Update(ctx, 1, &ServiceUpdate{Title: Ptr(" ")}) }},
		{"update empty type", "type", func(c *Client) error { return c.Services.Update(ctx, 1, &ServiceUpdate{Type: Ptr("")}) }},
		{"update id 0", "id", func(c *Client) error { return c.Services.Update(ctx, 0, &ServiceUpdate{Title: Ptr("t")}) }},
		{"get id 0", "id", func(c *Client) error { _, err := c.Services.Get(ctx, 0); return err }},
		{"delete id 0", "id", func(c *Client) error { return c.Services.Delete(ctx, 0) }},
		{"list bad sort", "sort", func(c *Client) error {
			_, err := c.Services.List(ctx, &ListOptions{Sort: "up"})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			famRequireInvalid(t, mt, tc.call(c), tc.field)
		})
	}
}

func TestServiceIDDecoding(t *testing.T) {
	for in, want := range map[string]int64{
		`{"id":"145"}`:  145,
		`{"id":145}`:    145,
		`{"id":null}`:   0,
		`{"id":""}`:     0,
		`{}`:            0,
		`{"id":" 12 "}`: 12,
		`{"id":"12a"}`:  -1,
		`{"id":1.5}`:    -1,
		`{"id":true}`:   -1,
		`{"id":["1"]}`:  -1,
		`{"id":"1e3"}`:  1000,  // an integral number in any notation
		`17584`:         17584, // a bare id, as alert requests carry services
		`"849"`:         849,
		`{"id":"0042"}`: 42,
	} {
		var sv Service
		err := json.Unmarshal([]byte(in), &sv)
		if want == -1 {
			assert.Error(t, err, in)
			continue
		}
		require.NoError(t, err, in)
		assert.Equal(t, want, sv.ID, in)
	}
}

func TestServiceEncodesIDAsNumber(t *testing.T) {
	b, err := json.Marshal(Service{ID: 145, Type: "mail", Title: "t", Settings: map[string]any{"addresses": "a@b.c"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":145,"type":"mail","title":"t","settings":{"addresses":"a@b.c"}}`, string(b))
}

func TestServicesDecodeErrorOnBadID(t *testing.T) {
	c, mt := newMockClient(t)
	famRespond(t, mt, "GET", "/v1/services/1", 200, `{"id":"abc","type":"mail"}`, "")
	_, err := c.Services.Get(context.Background(), 1)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
}

func TestServicesGuardRecordOnly(t *testing.T) {
	c, mt := newMockClient(t, WithRole(RoleRecordOnly))
	_, err := c.Services.List(context.Background(), nil)
	require.ErrorIs(t, err, ErrForbidden)
	assert.Zero(t, mt.GetTotalCallCount())
}
