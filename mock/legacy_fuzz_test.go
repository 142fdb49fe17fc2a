package mock_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// FuzzLegacy sends arbitrary legacy submissions and reads: every answer
// is a deliberate one (200, 400 or 415 for a submission, 200 or 400 for a
// read) with the API's error body, and only a 200 submission stores.
func FuzzLegacy(f *testing.F) {
	for _, c := range []struct{ ct, body, query string }{
		{"application/json", `{"source":"s","measure_time":1700000000,"gauges":[{"name":"cpu","value":1},{"name":"cpu","count":2,"sum":3,"min":1,"max":2,"sum_squares":5}]}`, "start_time=1&resolution=60&summarize_sources=1"},
		{"application/json", `{"gauges":{"cpu":{"value":3.5,"source":"x"}},"counters":{"0":{"name":"hits","value":5}}}`, "count=3&source=x*"},
		{"application/x-www-form-urlencoded", "gauges[0][name]=cpu&gauges[0][value]=75&source=a", "start_time=1&end_time=9999999999&summarize_time=true&group_by=mean"},
		{"", "counters[hits][value]=9&measure_time=1700000060", "sources[]=a&sources[]=b&count=1&end_time=1700000100&breakout_sources=false"},
		{"application/json", `{"gauges":[{"name":"cpu","count":0}]}`, "start_time=x"},
	} {
		f.Add(c.ct, c.body, c.query)
	}
	srv, err := mock.New(mock.WithLegacyPageSize(2))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(srv.Close)
	email, token := srv.Credentials(librato.RoleFullAccess)
	tr := srv.Transport()
	send := func(t *testing.T, method, path, ct, body string) (int, []byte) {
		req, err := http.NewRequest(method, "http://mock.invalid"+path, strings.NewReader(body))
		if err != nil {
			return 0, nil
		}
		req.SetBasicAuth(email, token)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("transport: %v", err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 400 {
			var eb apiErrors
			if json.Unmarshal(data, &eb) != nil || len(eb.Errors.Params)+len(eb.Errors.Request)+len(eb.Errors.System) == 0 {
				t.Fatalf("%s %s: %d without the API's error body: %s", method, path, res.StatusCode, data)
			}
		}
		return res.StatusCode, data
	}
	f.Fuzz(func(t *testing.T, ct, body, query string) {
		before := srv.RecordedCount()
		status, data := send(t, "POST", "/v1/metrics", ct, body)
		switch status {
		case 0:
			return
		case http.StatusOK:
			if len(data) != 0 {
				t.Fatalf("200 with a body: %s", data)
			}
		case http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusRequestEntityTooLarge:
			if srv.RecordedCount() != before {
				t.Fatalf("a refused submission stored measurements: %q", body)
			}
		default:
			t.Fatalf("POST status %d: %s", status, data)
		}
		if strings.ContainsAny(query, "#") {
			return
		}
		for _, name := range []string{"cpu", "hits"} {
			status, data := send(t, "GET", "/v1/metrics/"+name+"?"+query, "", "")
			if status != 0 && status != http.StatusOK && status != http.StatusBadRequest && status != http.StatusNotFound {
				t.Fatalf("GET %s?%s: %d %s", name, query, status, data)
			}
		}
	})
}
