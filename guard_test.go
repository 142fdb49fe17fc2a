package librato

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// concretePath turns a matrix template into a path a caller would send:
// each parameter becomes a plausible value of its kind.
func concretePath(template string) string {
	segs := strings.Split(template, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, ":") {
			continue
		}
		switch s {
		case ":name":
			segs[i] = "app.requests"
		case ":rel":
			segs[i] = "runbook"
		default:
			segs[i] = "4217"
		}
	}
	return strings.Join(segs, "/")
}

// The matrix as permissions.md states it, restated here independently of
// the embedded file so a corrupted data file fails the test.
var wantMatrix = map[string]string{ // "METHOD template" -> allowed roles a=admin r=recorder v=viewer, then source
	"GET /v1/alerts":                              "ar published-resolved",
	"POST /v1/alerts":                             "a published",
	"GET /v1/alerts/:id":                          "ar published-resolved",
	"PUT /v1/alerts/:id":                          "a published",
	"DELETE /v1/alerts/:id":                       "a published",
	"POST /v1/alerts/:id/services":                "a published",
	"DELETE /v1/alerts/:id/services/:service_id":  "a published",
	"GET /v1/annotations":                         "arv published",
	"GET /v1/annotations/:name":                   "arv published",
	"POST /v1/annotations/:name":                  "ar published-resolved",
	"PUT /v1/annotations/:name":                   "a published",
	"DELETE /v1/annotations/:name":                "a published",
	"GET /v1/annotations/:name/:id":               "arv published",
	"PUT /v1/annotations/:name/:id":               "a published",
	"DELETE /v1/annotations/:name/:id":            "a published",
	"POST /v1/annotations/:name/:id/links":        "a published",
	"DELETE /v1/annotations/:name/:id/links/:rel": "a published",
	"GET /v1/api_tokens":                          "a published",
	"POST /v1/api_tokens":                         "a published",
	"GET /v1/api_tokens/:id":                      "a published",
	"PUT /v1/api_tokens/:id":                      "a published",
	"DELETE /v1/api_tokens/:id":                   "a published",
	"GET /v1/measurements":                        "arv published",
	"POST /v1/measurements":                       "ar published-resolved",
	"GET /v1/metrics":                             "arv published",
	"DELETE /v1/metrics":                          "a published",
	"GET /v1/metrics/:name":                       "arv published",
	"PUT /v1/metrics/:name":                       "a published",
	"DELETE /v1/metrics/:name":                    "a published",
	"GET /v1/services":                            "a published",
	"POST /v1/services":                           "a published",
	"GET /v1/services/:id":                        "a published",
	"PUT /v1/services/:id":                        "a published",
	"DELETE /v1/services/:id":                     "a published",
	"GET /v1/spaces":                              "av published-resolved",
	"POST /v1/spaces":                             "a published",
	"GET /v1/spaces/:id":                          "av published-resolved",
	"PUT /v1/spaces/:id":                          "a published",
	"DELETE /v1/spaces/:id":                       "a published",
	"GET /v1/spaces/:id/charts":                   "av published-resolved",
	"POST /v1/spaces/:id/charts":                  "a published",
	"GET /v1/spaces/:id/charts/:chart_id":         "av published-resolved",
	"PUT /v1/spaces/:id/charts/:chart_id":         "a published",
	"DELETE /v1/spaces/:id/charts/:chart_id":      "a published",
	"GET /v1/measurements/:name":                  "arv published-alias",
	"GET /v1/alerts/:id/status":                   "ar unlisted",
	"POST /v1/alerts/:id/clear":                   "a unlisted",
	"PUT /v1/metrics":                             "a unlisted",
	"GET /v1/jobs/:id":                            "a unlisted",
	"POST /v1/snapshots":                          "a unlisted",
	"GET /v1/snapshots/:id":                       "a unlisted",
	"GET /v1/alerts/status":                       "ar unlisted",
	"POST /v1/metrics":                            "ar unlisted",
	"GET /v1/sources":                             "arv unlisted",
	"GET /v1/sources/:name":                       "arv unlisted",
	"PUT /v1/sources/:name":                       "a unlisted",
}

func rolesFromLetters(s string) []Role {
	var out []Role
	for _, r := range Roles() {
		if strings.ContainsRune(s, rune(string(r)[0])) {
			out = append(out, r)
		}
	}
	return out
}

func TestPermissionsMatchTheMatrix(t *testing.T) {
	perms := Permissions()
	require.Len(t, perms, 56)
	require.Len(t, wantMatrix, 56)
	seen := map[string]bool{}
	for _, p := range perms {
		key := p.Method + " " + p.Endpoint
		require.False(t, seen[key], "duplicate row %s", key)
		seen[key] = true
		want, ok := wantMatrix[key]
		require.True(t, ok, "unexpected row %s", key)
		letters, source, _ := strings.Cut(want, " ")
		assert.Equal(t, rolesFromLetters(letters), p.Roles, key)
		assert.Equal(t, source, p.Source, key)
		assert.Equal(t, source != SourceUnlisted, p.Enforced(), key)
	}
	counts := map[string]int{}
	for _, p := range perms {
		counts[p.Source]++
	}
	assert.Equal(t, map[string]int{"published": 36, "published-resolved": 8, "published-alias": 1, "unlisted": 11}, counts)
}

func TestPermissionsReturnsACopy(t *testing.T) {
	p := Permissions()
	p[0].Roles[0] = "mutated"
	p[0].Endpoint = "/v1/x"
	assert.Equal(t, RoleFullAccess, Permissions()[0].Roles[0])
	assert.Equal(t, "/v1/alerts", Permissions()[0].Endpoint)
}

// TestPermittedEveryRowAndRole checks all 56 rows x 3 roles with concrete
// paths and with the templates themselves.
func TestPermittedEveryRowAndRole(t *testing.T) {
	for key, want := range wantMatrix {
		method, template, _ := strings.Cut(key, " ")
		letters, _, _ := strings.Cut(want, " ")
		for _, role := range Roles() {
			allowed := strings.ContainsRune(letters, rune(string(role)[0]))
			path := concretePath(template)
			assert.Equal(t, allowed, Permitted(role, method, path), "%s %s as %s", method, path, role)
			assert.Equal(t, allowed, Permitted(role, method, template), "%s %s as %s", method, template, role)
			p, ok := LookupPermission(method, path)
			require.True(t, ok, "%s %s", method, path)
			assert.Equal(t, template, p.Endpoint)
		}
	}
}

func TestPermittedClassification(t *testing.T) {
	cases := []struct {
		method, path string
		template     string // "" = no row
	}{
		{"GET", "/v1/alerts/status", "/v1/alerts/status"}, // literal beats parameter
		{"GET", "/v1/alerts/17/status", "/v1/alerts/:id/status"},
		{"GET", "/v1/alerts/status/status", "/v1/alerts/:id/status"}, // the literal's branch leads nowhere: back to the parameter
		{"PUT", "/v1/alerts/status", "/v1/alerts/:id"},
		{"DELETE", "/v1/metrics/x?names=y", "/v1/metrics/:name"},
		{"GET", "/v1/alerts/17", "/v1/alerts/:id"},
		{"GET", "/v1/measurements?compose=s(%22cpu%22)", "/v1/measurements"},
		{"GET", "/v1/measurements/cpu?resolution=60#frag", "/v1/measurements/:name"},
		{"get", "/v1/metrics/cpu", "/v1/metrics/:name"},
		{"Delete", "/v1/metrics", "/v1/metrics"},
		{"GET", "/v1/metrics/a%2Fb", "/v1/metrics/:name"},
		{"GET", "/v1/metrics/%2E%2E", "/v1/metrics/:name"},
		{"DELETE", "/v1/annotations/deploys/5/links/runbook", "/v1/annotations/:name/:id/links/:rel"},
		{"GET", "/v1/spaces/:id/charts/:chart_id", "/v1/spaces/:id/charts/:chart_id"},
		{"GET", "/v1/spaces/:id/charts/:id", "/v1/spaces/:id/charts/:chart_id"}, // names carry no meaning
		{"POST", "/v1/alerts/status", ""},                                       // no POST row of that shape... literal then param: POST /v1/alerts/:id? none
		{"GET", "/v1/spaces/", ""},
		{"GET", "/v1//spaces", ""},
		{"GET", "v1/spaces", ""},
		{"GET", "", ""},
		{"GET", "/", ""},
		{"GET", "/v2/spaces", ""},
		{"PATCH", "/v1/spaces/1", ""},
		{"GET", "/v1/spaces/1/charts/2/extra", ""},
		{"GET", "/v1/unknown", ""},
	}
	for _, tc := range cases {
		p, ok := LookupPermission(tc.method, tc.path)
		if tc.template == "" {
			assert.False(t, ok, "%s %s classified as %s", tc.method, tc.path, p.Endpoint)
			assert.True(t, Permitted(RoleFullAccess, tc.method, tc.path), "unknown paths are Full Access only")
			assert.False(t, Permitted(RoleRecordOnly, tc.method, tc.path))
			assert.False(t, Permitted(RoleViewOnly, tc.method, tc.path))
			continue
		}
		require.True(t, ok, "%s %s", tc.method, tc.path)
		assert.Equal(t, tc.template, p.Endpoint, "%s %s", tc.method, tc.path)
	}
	assert.False(t, Permitted("", "GET", "/v1/metrics"), "the zero role is not in any row")
	assert.False(t, Permitted("root", "GET", "/v1/metrics"))
}

func TestPermittedDoesNotAllocate(t *testing.T) {
	paths := []string{"/v1/spaces/42/charts/7", "/v1/alerts/status", "/v1/measurements/cpu?x=1", "/v1/nope"}
	allocs := testing.AllocsPerRun(200, func() {
		for _, p := range paths {
			Permitted(RoleViewOnly, "GET", p)
		}
	})
	assert.Zero(t, allocs)
}

func TestErrForbiddenForRoleMessage(t *testing.T) {
	e := &ErrForbiddenForRole{Role: RoleViewOnly, Method: "POST", Endpoint: "/v1/spaces/:id/charts", Allowed: []Role{RoleFullAccess}}
	msg := e.Error()
	for _, want := range []string{"View Only", "viewer", "POST", "/v1/spaces/:id/charts", "admin (Full Access)", "nothing was sent"} {
		assert.Contains(t, msg, want)
	}
	assert.True(t, errors.Is(e, ErrForbidden))
	assert.False(t, errors.Is(e, ErrNotFound))
}

// FuzzLookupPermission checks that classification never panics and only
// ever names a row whose template has the path's exact shape.
func FuzzLookupPermission(f *testing.F) {
	for key := range wantMatrix {
		method, template, _ := strings.Cut(key, " ")
		f.Add(method, concretePath(template))
		f.Add(method, template)
	}
	f.Add("GET", "/v1/alerts/status/status")
	f.Add("GET", "/v1/metrics/../api_tokens")
	f.Add("GET", "//v1/metrics")
	f.Add("POST", "/v1/measurements/")
	f.Fuzz(func(t *testing.T, method, path string) {
		p, ok := LookupPermission(method, path)
		allowedAdmin := Permitted(RoleFullAccess, method, path)
		if !allowedAdmin {
			t.Fatalf("Full Access refused %s %q", method, path)
		}
		if !ok {
			if Permitted(RoleRecordOnly, method, path) || Permitted(RoleViewOnly, method, path) {
				t.Fatalf("unknown %s %q permitted to a lesser role", method, path)
			}
			return
		}
		if !strings.EqualFold(p.Method, method) {
			t.Fatalf("%s %q classified under method %s", method, path, p.Method)
		}
		clean, _, _ := strings.Cut(path, "?")
		clean, _, _ = strings.Cut(clean, "#")
		got := strings.Split(clean, "/")
		want := strings.Split(p.Endpoint, "/")
		if len(got) != len(want) {
			t.Fatalf("%q classified as %s: segment counts differ", path, p.Endpoint)
		}
		for i := range want {
			if strings.HasPrefix(want[i], ":") {
				if got[i] == "" {
					t.Fatalf("%q: empty segment matched parameter %s", path, want[i])
				}
				continue
			}
			if got[i] != want[i] {
				t.Fatalf("%q classified as %s: segment %d %q != %q", path, p.Endpoint, i, got[i], want[i])
			}
		}
	})
}
