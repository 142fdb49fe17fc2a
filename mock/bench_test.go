package mock_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// benchBody is one POST /v1/measurements body of n tagged measurements:
// 50 metric names, 20 tag sets of 3 tags, the SDK's field order.
func benchBody(n int, t0 int64) []byte {
	var b strings.Builder
	b.WriteString(`{"measurements":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		ts := i % 20
		fmt.Fprintf(&b, `{"name":"bench.metric.%02d","value":%g,"time":%d,"tags":{"az":"us-east-1%c","host":"web-%02d","region":"us-east-%d"}}`,
			i%50, 12.25+float64(i)*0.5, t0+int64(i%60), 'a'+byte(ts%3), ts, ts%4)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// benchPost sends body through the in-process transport and fails unless
// the mock accepts it.
func benchPost(b *testing.B, tr http.RoundTripper, email, token, path string, body []byte) {
	req, err := http.NewRequest("POST", "http://mock.invalid"+path, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.SetBasicAuth(email, token)
	req.Header.Set("Content-Type", "application/json")
	res, err := tr.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		b.Fatalf("status %d: %s", res.StatusCode, data)
	}
}

// BenchmarkMockIngest: one POST /v1/measurements of 1,000 tagged
// measurements through srv.Transport() (mock), beside encoding/json
// unmarshalling the same body into plain structs and nothing else (json).
// The mock's store is replaced every 256 requests, outside the timer, so
// memory stays bounded.
func BenchmarkMockIngest(b *testing.B) {
	const n = 1000
	body := benchBody(n, base)
	b.Run("mock", func(b *testing.B) {
		newSrv := func() (*mock.Server, string, string) {
			srv, err := mock.New()
			if err != nil {
				b.Fatal(err)
			}
			email, token := srv.Credentials(librato.RoleRecordOnly)
			return srv, email, token
		}
		srv, email, token := newSrv()
		tr := srv.Transport()
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i > 0 && i%256 == 0 {
				b.StopTimer()
				srv.Close()
				srv, email, token = newSrv()
				tr = srv.Transport()
				b.StartTimer()
			}
			benchPost(b, tr, email, token, "/v1/measurements", body)
		}
		b.StopTimer()
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "measurements/s")
		srv.Close()
	})
	b.Run("json", func(b *testing.B) {
		type measurement struct {
			Name  string            `json:"name"`
			Value float64           `json:"value"`
			Time  int64             `json:"time"`
			Tags  map[string]string `json:"tags"`
		}
		type batch struct {
			Measurements []measurement `json:"measurements"`
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			var v batch
			if err := json.Unmarshal(body, &v); err != nil || len(v.Measurements) != n {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "measurements/s")
	})
}

// BenchmarkMockQuery: one GET /v1/measurements/:name with a resolution
// and a group_by over the whole of a store of 100,000 or 1,000,000 points
// (100 streams over 10 regions, a point a minute per stream).
func BenchmarkMockQuery(b *testing.B) {
	for _, c := range []struct {
		name   string
		points int
	}{{"100k", 100_000}, {"1m", 1_000_000}} {
		b.Run(c.name, func(b *testing.B) {
			srv, err := mock.New()
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			email, token := srv.Credentials(librato.RoleFullAccess)
			tr := srv.Transport()
			const streams = 100
			perStream := c.points / streams
			var body strings.Builder
			sent := 0
			flush := func() {
				if sent == 0 {
					return
				}
				body.WriteString(`]}`)
				benchPost(b, tr, email, token, "/v1/measurements", []byte(body.String()))
				body.Reset()
				sent = 0
			}
			for i := 0; i < perStream; i++ {
				for s := 0; s < streams; s++ {
					if sent == 0 {
						body.WriteString(`{"measurements":[`)
					} else {
						body.WriteByte(',')
					}
					fmt.Fprintf(&body, `{"name":"bench.query","value":%d,"time":%d,"tags":{"host":"h%03d","region":"r%d"}}`,
						(i*7+s)%100, base+int64(i)*60, s, s%10)
					if sent++; sent == 1000 {
						flush()
					}
				}
			}
			flush()
			q := url.Values{
				"start_time":        {fmt.Sprint(base)},
				"end_time":          {fmt.Sprint(base + int64(perStream)*60)},
				"resolution":        {"3600"},
				"group_by":          {"region"},
				"group_by_function": {"sum"},
			}
			u := "http://mock.invalid/v1/measurements/bench.query?" + q.Encode()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req, _ := http.NewRequest("GET", u, nil)
				req.SetBasicAuth(email, token)
				res, err := tr.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				data, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK || !bytes.Contains(data, []byte(`"region":"r9"`)) {
					b.Fatalf("status %d: %.200s", res.StatusCode, data)
				}
			}
		})
	}
}
