package mock_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	librato "github.com/librato-sdk/librato-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// srcSubmit stores tagged measurements, the form a legacy measurement's
// source takes in the store (the tag "source").
func srcSubmit(t *testing.T, w *wire, ms ...map[string]any) {
	t.Helper()
	list := make([]any, len(ms))
	for i, m := range ms {
		list[i] = m
	}
	w.do("POST", "/v1/measurements", map[string]any{"measurements": list}).requireStatus(t, http.StatusAccepted)
}

// srcNames lists the names and display names of a /v1/sources answer,
// checking every source has exactly the documented members.
func srcNames(t *testing.T, body map[string]any) []string {
	t.Helper()
	var out []string
	for _, v := range body["sources"].([]any) {
		s := v.(map[string]any)
		require.ElementsMatch(t, []string{"name", "display_name"}, keys(s), "a source is {name, display_name}")
		d := "<null>"
		if s["display_name"] != nil {
			d = s["display_name"].(string)
		}
		out = append(out, s["name"].(string)+"="+d)
	}
	return out
}

func TestSourcesPutCreatesThenUpdates(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)

	// the documented create: a form body, 201, Location and the source
	r := w.form("PUT", "/v1/sources/foo.bar.com", "display_name=FooBar").requireStatus(t, http.StatusCreated)
	assert.Equal(t, "/v1/sources/foo.bar.com", r.Header.Get("Location"))
	assert.JSONEq(t, `{"name":"foo.bar.com","display_name":"FooBar"}`, string(r.Body))

	// the same name again is an update: 204 and no body
	r = w.form("PUT", "/v1/sources/foo.bar.com", "display_name=Foo+Two").requireStatus(t, http.StatusNoContent)
	assert.Empty(t, r.Body)
	assert.Empty(t, r.Header.Get("Location"))

	// names ignore case and keep their first spelling
	r = w.do("GET", "/v1/sources/FOO.BAR.COM", nil).requireStatus(t, http.StatusOK)
	assert.JSONEq(t, `{"name":"foo.bar.com","display_name":"Foo Two"}`, string(r.Body))
	w.do("PUT", "/v1/sources/Foo.Bar.Com", map[string]any{"display_name": "Three"}).requireStatus(t, http.StatusNoContent)

	// display_name left out keeps it; null or "" removes it
	w.do("PUT", "/v1/sources/foo.bar.com", map[string]any{}).requireStatus(t, http.StatusNoContent)
	assert.JSONEq(t, `{"name":"foo.bar.com","display_name":"Three"}`, string(w.do("GET", "/v1/sources/foo.bar.com", nil).Body))
	w.do("PUT", "/v1/sources/foo.bar.com", map[string]any{"display_name": nil}).requireStatus(t, http.StatusNoContent)
	assert.JSONEq(t, `{"name":"foo.bar.com","display_name":null}`, string(w.do("GET", "/v1/sources/foo.bar.com", nil).Body))
	w.form("PUT", "/v1/sources/foo.bar.com", "display_name=Four").requireStatus(t, http.StatusNoContent)
	w.form("PUT", "/v1/sources/foo.bar.com", "display_name=").requireStatus(t, http.StatusNoContent)
	assert.JSONEq(t, `{"name":"foo.bar.com","display_name":null}`, string(w.do("GET", "/v1/sources/foo.bar.com", nil).Body))

	// a create without display_name has none
	r = w.do("PUT", "/v1/sources/db1", nil).requireStatus(t, http.StatusCreated)
	assert.JSONEq(t, `{"name":"db1","display_name":null}`, string(r.Body))

	r = w.do("GET", "/v1/sources/nowhere", nil).requireStatus(t, http.StatusNotFound)
	_, request, _ := r.errs(t)
	assert.Contains(t, request[0], "nowhere")
}

func TestSourcesComeFromStoredSourceTags(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	srcSubmit(t, w,
		map[string]any{"name": "cpu", "value": 1, "time": base, "tags": map[string]any{"source": "web1"}},
		map[string]any{"name": "cpu", "value": 2, "time": base, "tags": map[string]any{"source": "web2", "host": "h1"}},
		map[string]any{"name": "mem", "value": 3, "time": base, "tags": map[string]any{"source": "web1"}},
		map[string]any{"name": "mem", "value": 4, "time": base, "tags": map[string]any{"host": "h2"}},
	)
	body := w.do("GET", "/v1/sources", nil).requireStatus(t, http.StatusOK).obj(t)
	assert.Equal(t, []string{"web1=<null>", "web2=<null>"}, srcNames(t, body), "one source per distinct source tag; streams without one add none")
	assert.Equal(t, map[string]any{"found": 2.0, "length": 100.0, "offset": 0.0, "total": 2.0}, body["query"])
	assert.JSONEq(t, `{"name":"web2","display_name":null}`, string(w.do("GET", "/v1/sources/web2", nil).requireStatus(t, http.StatusOK).Body))

	// a measured source exists: PUT updates it
	w.form("PUT", "/v1/sources/web1", "display_name=Web+One").requireStatus(t, http.StatusNoContent)
	w.do("PUT", "/v1/sources/web2", nil).requireStatus(t, http.StatusNoContent)
	w.form("PUT", "/v1/sources/db1", "display_name=Database").requireStatus(t, http.StatusCreated)
	assert.Equal(t, []string{"db1=Database", "web1=Web One", "web2=<null>"}, srcNames(t, w.do("GET", "/v1/sources", nil).obj(t)))

	// without its metrics, a source lives on only if PUT gave it a display
	// name or created it
	w.do("DELETE", "/v1/metrics/cpu", nil).requireStatus(t, http.StatusNoContent)
	w.do("DELETE", "/v1/metrics/mem", nil).requireStatus(t, http.StatusNoContent)
	assert.Equal(t, []string{"db1=Database", "web1=Web One"}, srcNames(t, w.do("GET", "/v1/sources", nil).obj(t)))
	w.do("GET", "/v1/sources/web2", nil).requireStatus(t, http.StatusNotFound)
}

func TestSourcesListFilterSortAndPages(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	// the sources of the documented "name=example" answer (api-docs,
	// legacy, _sources.md), among 15 in the account as there
	documented := map[string]string{
		"prod.example.com": "", "stg1.example.com": "Staging 1", "stg2.example.com": "Staging 2", "foo.bar.com": "Example Source",
	}
	for name, display := range documented {
		body := map[string]any{}
		if display != "" {
			body["display_name"] = display
		}
		w.do("PUT", "/v1/sources/"+name, body).requireStatus(t, http.StatusCreated)
	}
	for i := 0; i < 11; i++ {
		w.do("PUT", fmt.Sprintf("/v1/sources/host-%02d", i), nil).requireStatus(t, http.StatusCreated)
	}

	body := w.do("GET", "/v1/sources?name=example", nil).requireStatus(t, http.StatusOK).obj(t)
	assert.Equal(t, map[string]any{"found": 4.0, "length": 100.0, "offset": 0.0, "total": 15.0}, body["query"])
	// the documented four, matched on the name or (foo.bar.com) the
	// display name, in name order
	assert.Equal(t, []string{"foo.bar.com=Example Source", "prod.example.com=<null>", "stg1.example.com=Staging 1", "stg2.example.com=Staging 2"}, srcNames(t, body))

	assert.Equal(t, []string{"stg1.example.com=Staging 1", "stg2.example.com=Staging 2"},
		srcNames(t, w.do("GET", "/v1/sources?name=STAGING", nil).obj(t)), "the display name matches, ignoring case")

	body = w.do("GET", "/v1/sources?name=example&offset=1&length=2", nil).obj(t)
	assert.Equal(t, map[string]any{"found": 4.0, "length": 2.0, "offset": 1.0, "total": 15.0}, body["query"])
	assert.Equal(t, []string{"prod.example.com=<null>", "stg1.example.com=Staging 1"}, srcNames(t, body))

	body = w.do("GET", "/v1/sources?name=example&sort=desc&orderby=name", nil).obj(t)
	assert.Equal(t, []string{"stg2.example.com=Staging 2", "stg1.example.com=Staging 1", "prod.example.com=<null>", "foo.bar.com=Example Source"}, srcNames(t, body))

	body = w.do("GET", "/v1/sources?offset=14", nil).obj(t)
	assert.Equal(t, []string{"stg2.example.com=Staging 2"}, srcNames(t, body))
	assert.Empty(t, srcNames(t, w.do("GET", "/v1/sources?offset=15", nil).obj(t)))

	for q, field := range map[string]string{"orderby=display_name": "orderby", "length=0": "length", "length=101": "length", "sort=up": "sort", "offset=-1": "offset"} {
		w.do("GET", "/v1/sources?"+q, nil).requireParam(t, field)
	}
}

func TestSourcesPutValidation(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	for _, path := range []string{"/v1/sources/all", "/v1/sources/ALL", "/v1/sources/a%20b", "/v1/sources/a%2Fb", "/v1/sources/" + strings.Repeat("a", 256)} {
		w.form("PUT", path, "display_name=x").requireParam(t, "name")
	}
	w.do("PUT", "/v1/sources/web1", map[string]any{"display_name": strings.Repeat("x", 256)}).requireParam(t, "display_name")
	w.do("PUT", "/v1/sources/web1", map[string]any{"display_name": map[string]any{"a": 1}}).requireParam(t, "display_name")
	w.do("GET", "/v1/sources/web1", nil).requireStatus(t, http.StatusNotFound)
	assert.Empty(t, srcNames(t, w.do("GET", "/v1/sources", nil).obj(t)), "an invalid PUT creates nothing")

	// the limit counts characters, not bytes
	w.do("PUT", "/v1/sources/web1", map[string]any{"display_name": strings.Repeat("é", 255)}).requireStatus(t, http.StatusCreated)
	w.do("PUT", "/v1/sources/"+strings.Repeat("a", 255), nil).requireStatus(t, http.StatusCreated)
}

// TestSourcesRolesFollowTheMatrix: the sources rows are answered like
// every other row, as the matrix says: every role reads sources, only
// Full Access names one (PUT), and the others get 403 naming their role.
func TestSourcesRolesFollowTheMatrix(t *testing.T) {
	srv := newServer(t)
	admin := newWire(t, srv, librato.RoleFullAccess)
	admin.do("PUT", "/v1/sources/web1", nil).requireStatus(t, http.StatusCreated)
	calls := []struct {
		method, path string
		body         any
		status       int
		roles        []librato.Role
	}{
		{"GET", "/v1/sources", nil, http.StatusOK, librato.Roles()},
		{"GET", "/v1/sources/web1", nil, http.StatusOK, librato.Roles()},
		{"PUT", "/v1/sources/web1", map[string]any{"display_name": "Web 1"}, http.StatusNoContent, []librato.Role{librato.RoleFullAccess}},
	}
	for _, role := range librato.Roles() {
		w := newWire(t, srv, role)
		for _, c := range calls {
			r := w.do(c.method, c.path, c.body)
			assert.Equal(t, slices.Contains(c.roles, role), librato.Permitted(role, c.method, c.path), "%s %s as %s: the matrix", c.method, c.path, role)
			if !slices.Contains(c.roles, role) {
				r.requireStatus(t, http.StatusForbidden)
				_, request, _ := r.errs(t)
				assert.Contains(t, request[0], role.Label())
				assert.Contains(t, request[0], "Full Access")
				continue
			}
			r.requireStatus(t, c.status)
		}
	}
	assert.JSONEq(t, `{"name":"web1","display_name":"Web 1"}`, string(admin.do("GET", "/v1/sources/web1", nil).Body), "only the Full Access PUT changed it")
}

func TestSourcesThroughTheSDK(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	c := sdk(t, srv, librato.RoleFullAccess)

	require.NoError(t, c.Sources.Update(ctx, "foo.bar.com", &librato.SourceUpdate{DisplayName: librato.Ptr("FooBar")}))
	got, err := c.Sources.Get(ctx, "foo.bar.com")
	require.NoError(t, err)
	assert.Equal(t, &librato.Source{Name: "foo.bar.com", DisplayName: "FooBar"}, got)
	require.NoError(t, c.Sources.Update(ctx, "foo.bar.com", &librato.SourceUpdate{DisplayName: librato.Ptr("Foo")}))
	got, err = c.Sources.Get(ctx, "FOO.bar.com")
	require.NoError(t, err)
	assert.Equal(t, &librato.Source{Name: "foo.bar.com", DisplayName: "Foo"}, got)
	_, err = c.Sources.Get(ctx, "missing")
	require.ErrorIs(t, err, librato.ErrNotFound)

	_, err = c.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{
		{Name: "cpu", Value: 1, Tags: map[string]string{"source": "web1"}},
		{Name: "cpu", Value: 2, Tags: map[string]string{"source": "web2"}},
	}})
	require.NoError(t, err)
	var names []string
	for s, err := range c.Sources.All(ctx, &librato.ListOptions{Length: 1}) {
		require.NoError(t, err)
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"foo.bar.com", "web1", "web2"}, names, "All pages through every source, one per page")
	page, err := c.Sources.List(ctx, &librato.ListOptions{Name: "WEB"})
	require.NoError(t, err)
	assert.Equal(t, librato.Query{Found: 2, Length: 100, Offset: 0, Total: 3}, page.Query)
	assert.Equal(t, []librato.Source{{Name: "web1"}, {Name: "web2"}}, page.Sources)
}

// TestSourcesGuardAgainstTheMock: a View Only client lists sources, as
// the matrix allows; a lenient Record Only client sends a PUT, which the
// matrix infers for Full Access only, and the mock refuses it; a strict
// one refuses it itself and sends nothing.
func TestSourcesGuardAgainstTheMock(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	viewer := sdk(t, srv, librato.RoleViewOnly)
	_, err := viewer.Sources.List(ctx, nil)
	require.NoError(t, err)

	lenient := sdk(t, srv, librato.RoleRecordOnly)
	before := srv.Requests()
	err = lenient.Sources.Update(ctx, "web1", &librato.SourceUpdate{DisplayName: librato.Ptr("x")})
	require.ErrorIs(t, err, librato.ErrForbidden)
	var ae *librato.APIError
	require.ErrorAs(t, err, &ae, "the server refused it")
	assert.Equal(t, http.StatusForbidden, ae.StatusCode)
	assert.Equal(t, before+1, srv.Requests())

	strict := sdk(t, srv, librato.RoleRecordOnly, librato.WithStrictGuard())
	before = srv.Requests()
	err = strict.Sources.Update(ctx, "web1", &librato.SourceUpdate{DisplayName: librato.Ptr("x")})
	var fe *librato.ErrForbiddenForRole
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, []librato.Role{librato.RoleFullAccess}, fe.Allowed)
	assert.Equal(t, before, srv.Requests(), "a strict guard sends nothing")
}
