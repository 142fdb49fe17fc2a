package mock_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// FuzzComposeQuery runs arbitrary expressions against a server holding a
// few streams: every answer is a 200 with finite values in the documented
// shape, or a 400 with one message on compose.
func FuzzComposeQuery(f *testing.F) {
	seeds, err := os.ReadFile("internal/tsdb/testdata/compose_seeds.txt") // the parser's fuzz seeds, one a line
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range strings.Split(strings.TrimSuffix(string(seeds), "\n"), "\n") {
		f.Add(s, int64(60))
	}
	srv, err := mock.New(mock.WithRateLimits(math.MaxInt32, math.MaxInt32))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(srv.Close)
	c, err := srv.Client(librato.RoleFullAccess)
	if err != nil {
		f.Fatal(err)
	}
	const start = 1_700_000_400
	var ms []librato.Measurement
	for i := range 6 {
		for _, h := range []string{"a", "b", "c"} {
			ms = append(ms,
				librato.Measurement{Name: "m", Value: float64(i*i) - 3, Time: start + 60*int64(i), Tags: map[string]string{"host": h, "region": "us-" + h, "source": "web-" + h}},
				librato.Measurement{Name: "n", Value: float64(i%3) * 1e120, Time: start + 90*int64(i), Tags: map[string]string{"host": h}})
		}
	}
	if err := c.Metrics.Update(context.Background(), "m", &librato.MetricUpdate{Type: librato.Ptr("gauge"), Period: librato.Ptr(60)}); err != nil {
		f.Fatal(err)
	}
	if _, err := c.Measurements.Create(context.Background(), &librato.MeasurementBatch{Measurements: ms}); err != nil {
		f.Fatal(err)
	}
	email, token := srv.Credentials(librato.RoleFullAccess)
	tr := srv.Transport()
	f.Fuzz(func(t *testing.T, expr string, res int64) {
		if res < 1 || res > 3600 {
			res = 60
		}
		q := url.Values{"compose": {expr}, "start_time": {strconv.Itoa(start)}, "end_time": {strconv.Itoa(start + 3600)}, "resolution": {strconv.FormatInt(res, 10)}}
		req, err := http.NewRequest("GET", "http://mock.invalid/v1/measurements?"+q.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(email, token)
		rsp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer rsp.Body.Close()
		switch rsp.StatusCode {
		case 200:
			var out []struct {
				Tags         map[string]string `json:"tags"`
				Measurements []struct {
					Time  int64   `json:"time"`
					Value float64 `json:"value"`
				} `json:"measurements"`
				Metric struct {
					Name string `json:"name"`
				} `json:"metric"`
				Period int64 `json:"period"`
			}
			if err := json.NewDecoder(rsp.Body).Decode(&out); err != nil {
				t.Fatalf("%q: 200 that is not an array of series: %v", expr, err)
			}
			for _, s := range out {
				if s.Tags == nil || s.Metric.Name == "" || s.Period <= 0 || len(s.Measurements) == 0 {
					t.Fatalf("%q: series without tags, metric, period or points: %+v", expr, s)
				}
			}
		case 400:
			var eb apiErrors
			if err := json.NewDecoder(rsp.Body).Decode(&eb); err != nil || len(eb.Errors.Params["compose"]) != 1 || len(eb.Errors.Params) != 1 {
				t.Fatalf("%q: 400 without one compose message: %+v (%v)", expr, eb, err)
			}
		default:
			t.Fatalf("%q: status %d", expr, rsp.StatusCode)
		}
	})
}
