package mock_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// FuzzHandler sends arbitrary requests with valid credentials: every
// answer must be a deliberate one (never a recovered panic), carry the
// rate-limit headers, and give errors in the API's shape.
func FuzzHandler(f *testing.F) {
	for _, c := range []struct{ method, path, ct, body string }{
		{"POST", "/v1/measurements", "application/json", `{"measurements":[{"name":"a","value":1,"tags":{"h":"x"}}]}`},
		{"GET", "/v1/measurements/a?start_time=1&resolution=60&tags[h]=!x*&group_by=h&group_by_function=sum", "", ""},
		{"GET", "/v1/measurements?compose=s(%22a%22,%22*%22)&start_time=1&resolution=60", "", ""},
		{"PUT", "/v1/metrics", "application/x-www-form-urlencoded", "names[]=a&period=5"},
		{"POST", "/v1/spaces/1/charts", "application/json", `{"name":"c","streams":[{"metric":"a"}]}`},
		{"POST", "/v1/alerts", "application/json", `{"name":"x","conditions":[{"type":"absent","metric_name":"a","duration":60}]}`},
		{"POST", "/v1/annotations/x", "application/x-www-form-urlencoded", "title=t&links[0][rel]=r&links[0][href]=h"},
		{"GET", "/v1/api_tokens?name=*&length=3&sort=desc", "", ""},
		{"DELETE", "/v1/metrics/%2E%2E", "", ""},
		{"POST", "/v1/snapshots", "application/json", `{"subject":{"chart":{"id":"1"}}}`},
	} {
		f.Add(c.method, c.path, c.ct, c.body)
	}
	srv, err := mock.New()
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(srv.Close)
	email, token := srv.Credentials(librato.RoleFullAccess)
	tr := srv.Transport()
	f.Fuzz(func(t *testing.T, method, path, ct, body string) {
		req, err := http.NewRequest(method, "http://mock.invalid"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		req.SetBasicAuth(email, token)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("transport error: %v", err)
		}
		defer res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s: status %d", method, path, res.StatusCode)
		}
		if res.Header.Get("X-Librato-RateLimit-Std") == "" {
			t.Fatal("no rate-limit header")
		}
		if res.StatusCode >= 400 && method != "HEAD" {
			var eb apiErrors
			if err := json.NewDecoder(res.Body).Decode(&eb); err != nil || len(eb.Errors.Params)+len(eb.Errors.Request)+len(eb.Errors.System) == 0 {
				t.Fatalf("%s %s: %d without the API's error body (%v)", method, path, res.StatusCode, err)
			}
		}
	})
}
