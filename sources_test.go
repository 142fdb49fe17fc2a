package librato

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sourcesListExample is the answer of the "List all Sources (name matching
// example)" example, transcribed from librato/api-docs, branch legacy,
// source/includes/_sources.md.
const sourcesListExample = `{
  "query": {"found": 4, "length": 4, "offset": 0, "total": 15},
  "sources": [
    {"name": "prod.example.com", "display_name": null},
    {"name": "stg1.example.com", "display_name": "Staging 1"},
    {"name": "stg2.example.com", "display_name": "Staging 2"},
    {"name": "foo.bar.com", "display_name": "Example Source"}
  ]
}`

func TestSourcesList(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "GET", "/v1/sources", 200, sourcesListExample, "")
	page, err := c.Sources.List(context.Background(), &ListOptions{Name: "example", Offset: 2, Length: 4, OrderBy: "name", Sort: "desc"})
	require.NoError(t, err)
	call := rec.one(t)
	famAssertRequest(t, call, "GET", "/v1/sources")
	assert.Equal(t, map[string][]string{"name": {"example"}, "offset": {"2"}, "length": {"4"}, "orderby": {"name"}, "sort": {"desc"}}, call.Query)
	assert.Empty(t, call.Body)
	assert.Equal(t, Query{Found: 4, Length: 4, Offset: 0, Total: 15}, page.Query)
	assert.Equal(t, []Source{
		{Name: "prod.example.com"},
		{Name: "stg1.example.com", DisplayName: "Staging 1"},
		{Name: "stg2.example.com", DisplayName: "Staging 2"},
		{Name: "foo.bar.com", DisplayName: "Example Source"},
	}, page.Sources)
}

func TestSourcesListNilOptionsSendsNoQuery(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "GET", "/v1/sources", 200, `{"query":{"found":0,"length":100,"offset":0,"total":0},"sources":[]}`, "")
	page, err := c.Sources.List(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, rec.one(t).Query)
	assert.Empty(t, page.Sources)
}

func TestSourcesListRefusesBadOptions(t *testing.T) {
	for field, opts := range map[string]*ListOptions{
		"orderby": {OrderBy: "display_name"},
		"sort":    {Sort: "up"},
		"length":  {Length: MaxPageLength + 1},
		"offset":  {Offset: -1},
	} {
		t.Run(field, func(t *testing.T) {
			c, mt := newMockClient(t)
			_, err := c.Sources.List(context.Background(), opts)
			famRequireInvalid(t, mt, err, field)
		})
	}
}

func TestSourcesAll(t *testing.T) {
	c, mt := newMockClient(t)
	var queries []string
	mt.RegisterResponder("GET", testBase+"/v1/sources", func(req *http.Request) (*http.Response, error) {
		queries = append(queries, req.URL.RawQuery)
		if req.URL.Query().Get("offset") == "" {
			return httpmock.NewStringResponse(200, `{"query":{"found":3,"length":2,"offset":0,"total":9},"sources":[{"name":"a"},{"name":"b","display_name":"B"}]}`), nil
		}
		return httpmock.NewStringResponse(200, `{"query":{"found":3,"length":2,"offset":2,"total":9},"sources":[{"name":"c"}]}`), nil
	})
	opts := &ListOptions{Name: "x", Length: 2}
	var got []Source
	for s, err := range c.Sources.All(context.Background(), opts) {
		require.NoError(t, err)
		got = append(got, s)
	}
	assert.Equal(t, []Source{{Name: "a"}, {Name: "b", DisplayName: "B"}, {Name: "c"}}, got)
	assert.Equal(t, []string{"length=2&name=x", "length=2&name=x&offset=2"}, queries)
	assert.Equal(t, 0, opts.Offset, "All must not change the caller's options")
}

func TestSourcesAllStopsOnError(t *testing.T) {
	c, mt := newMockClient(t)
	famRespond(t, mt, "GET", "/v1/sources", 403, `{"errors":{"request":["Forbidden"]}}`, "")
	n := 0
	for _, err := range c.Sources.All(context.Background(), nil) {
		n++
		require.ErrorIs(t, err, ErrForbidden)
	}
	assert.Equal(t, 1, n)
}

func TestSourcesGet(t *testing.T) {
	c, mt := newMockClient(t)
	// the "Retrieve a Source" example (api-docs, legacy, _sources.md)
	rec := famRespond(t, mt, "GET", "/v1/sources/foo.bar.com", 200, `{"name":"foo.bar.com","display_name":"FooBar"}`, "")
	s, err := c.Sources.Get(context.Background(), "foo.bar.com")
	require.NoError(t, err)
	famAssertRequest(t, rec.one(t), "GET", "/v1/sources/foo.bar.com")
	assert.Equal(t, &Source{Name: "foo.bar.com", DisplayName: "FooBar"}, s)
}

func TestSourcesGetEscapesAndReportsMissing(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "GET", "/v1/sources/a%20b%3F", 404, `{"errors":{"request":["source not found"]}}`, "")
	_, err := c.Sources.Get(context.Background(), "a b?")
	require.ErrorIs(t, err, ErrNotFound)
	famAssertRequest(t, rec.one(t), "GET", "/v1/sources/a%20b%3F")

	for _, name := range []string{"", "a/b", ".."} {
		_, err = c.Sources.Get(context.Background(), name)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, "%q", name)
	}
	assert.Equal(t, 1, mt.GetTotalCallCount(), "names that are not one plain segment are not sent")
}

func TestSourcesUpdateCreated(t *testing.T) {
	c, mt := newMockClient(t)
	// the "Create a Source" example (api-docs, legacy, _sources.md)
	rec := famRespond(t, mt, "PUT", "/v1/sources/foo.bar.com", 201, `{"name":"foo.bar.com","display_name":"FooBar"}`, "/v1/sources/foo.bar.com")
	require.NoError(t, c.Sources.Update(context.Background(), "foo.bar.com", &SourceUpdate{DisplayName: Ptr("FooBar")}))
	call := rec.one(t)
	famAssertRequest(t, call, "PUT", "/v1/sources/foo.bar.com")
	assert.Equal(t, "application/json", call.Header.Get("Content-Type"))
	assert.JSONEq(t, `{"display_name":"FooBar"}`, call.Body)
	assert.Empty(t, call.Query)
}

func TestSourcesUpdateUpdated(t *testing.T) {
	c, mt := newMockClient(t)
	// the "update i-d32d61af" example (api-docs, legacy, _sources.md)
	rec := famRespond(t, mt, "PUT", "/v1/sources/i-d32d61af", 204, "", "")
	require.NoError(t, c.Sources.Update(context.Background(), "i-d32d61af", &SourceUpdate{DisplayName: Ptr("web-frontend-0")}))
	assert.JSONEq(t, `{"display_name":"web-frontend-0"}`, rec.one(t).Body)
}

func TestSourcesUpdateBodies(t *testing.T) {
	for _, tc := range []struct {
		name string
		upd  *SourceUpdate
		want string
	}{
		{"nil only ensures the source exists", nil, `{}`},
		{"nil display name keeps it", &SourceUpdate{}, `{}`},
		{"empty display name removes it", &SourceUpdate{DisplayName: Ptr("")}, `{"display_name":""}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			rec := famRespond(t, mt, "PUT", "/v1/sources/web1", 201, "", "/v1/sources/web1")
			require.NoError(t, c.Sources.Update(context.Background(), "web1", tc.upd))
			assert.JSONEq(t, tc.want, rec.one(t).Body)
		})
	}
}

func TestSourcesUpdateRefusesInvalidInput(t *testing.T) {
	for _, tc := range []struct {
		name, source, field string
		upd                 *SourceUpdate
	}{
		{"reserved all", "all", "name", nil},
		{"reserved ALL in any case", "ALL", "name", nil},
		{"space in name", "web 1", "name", nil},
		{"name too long", strings.Repeat("a", MaxMetricNameLength+1), "name", nil},
		{"display name too long", "web1", "display_name", &SourceUpdate{DisplayName: Ptr(strings.Repeat("é", MaxSourceDisplayNameLength+1))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			famRequireInvalid(t, mt, c.Sources.Update(context.Background(), tc.source, tc.upd), tc.field)
		})
	}
	// 255 characters of two bytes each are within the limit
	c, mt := newMockClient(t)
	famRespond(t, mt, "PUT", "/v1/sources/web1", 204, "", "")
	require.NoError(t, c.Sources.Update(context.Background(), "web1", &SourceUpdate{DisplayName: Ptr(strings.Repeat("é", MaxSourceDisplayNameLength))}))
}

func TestSourcesAPIErrorKeepsParams(t *testing.T) {
	c, mt := newMockClient(t)
	famRespond(t, mt, "PUT", "/v1/sources/web1", 400, `{"errors":{"params":{"display_name":["is too long"]}}}`, "")
	err := c.Sources.Update(context.Background(), "web1", &SourceUpdate{DisplayName: Ptr("x")})
	require.ErrorIs(t, err, ErrBadRequest)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, map[string][]string{"display_name": {"is too long"}}, ae.Params)
}

// TestSourcesRoles: /v1/sources has no matrix row, so the guard treats it
// as an unknown path (sent unless strict; strict allows Full Access only)
// and Permitted admits Full Access only.
func TestSourcesRoles(t *testing.T) {
	// The matrix's three unlisted rows for the legacy sources: reads for
	// every role, the display-name update for Full Access alone, enforced
	// (like every unlisted row) only by a strict guard.
	calls := []struct {
		method, path, template string
		allowed                []Role
		call                   func(context.Context, *Client) error
	}{
		{"GET", "/v1/sources", "/v1/sources", Roles(), func(ctx context.Context, c *Client) error { _, err := c.Sources.List(ctx, nil); return err }},
		{"GET", "/v1/sources/web1", "/v1/sources/:name", Roles(), func(ctx context.Context, c *Client) error { _, err := c.Sources.Get(ctx, "web1"); return err }},
		{"PUT", "/v1/sources/web1", "/v1/sources/:name", []Role{RoleFullAccess}, func(ctx context.Context, c *Client) error {
			return c.Sources.Update(ctx, "web1", &SourceUpdate{DisplayName: Ptr("Web 1")})
		}},
	}
	for _, tc := range calls {
		p, ok := LookupPermission(tc.method, tc.path)
		require.True(t, ok, "%s %s has a matrix row", tc.method, tc.path)
		assert.Equal(t, Permission{Method: tc.method, Endpoint: tc.template, Roles: tc.allowed, Source: SourceUnlisted}, p)
		for _, role := range Roles() {
			assert.Equal(t, slices.Contains(tc.allowed, role), Permitted(role, tc.method, tc.path), "%s %s as %s", tc.method, tc.path, role)
		}
		for _, role := range append(Roles(), "") {
			for _, strict := range []bool{false, true} {
				opts := []Option{}
				if role != "" {
					opts = append(opts, WithRole(role))
				}
				if strict {
					opts = append(opts, WithStrictGuard())
				}
				c, mt := newMockClient(t, opts...)
				acceptAll(mt)
				err := tc.call(context.Background(), c)
				refused := strict && role != "" && !slices.Contains(tc.allowed, role)
				if !refused {
					require.NoError(t, err, "%s %s as %q strict=%v", tc.method, tc.path, role, strict)
					assert.Equal(t, 1, mt.GetTotalCallCount())
					continue
				}
				var fe *ErrForbiddenForRole
				require.ErrorAs(t, err, &fe, "%s %s as %q strict", tc.method, tc.path, role)
				assert.Equal(t, &ErrForbiddenForRole{Role: role, Method: tc.method, Endpoint: tc.template, Allowed: tc.allowed}, fe)
				assert.Zero(t, mt.GetTotalCallCount(), "a refused call sends nothing")
			}
		}
	}
}
