package librato

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// benchCases is every matrix row, as a concrete path, for every role.
var benchCases = func() []struct {
	role         Role
	method, path string
} {
	var out []struct {
		role         Role
		method, path string
	}
	for _, p := range Permissions() {
		for _, r := range Roles() {
			out = append(out, struct {
				role         Role
				method, path string
			}{r, p.Method, concretePath(p.Endpoint)})
		}
	}
	return out
}()

// BenchmarkPermitted cycles over every matrix row and role with concrete
// paths.
func BenchmarkPermitted(b *testing.B) {
	b.ReportAllocs()
	n, j := 0, 0
	for i := 0; i < b.N; i++ {
		c := &benchCases[j]
		if Permitted(c.role, c.method, c.path) {
			n++
		}
		if j++; j == len(benchCases) {
			j = 0
		}
	}
	if n == 0 {
		b.Fatal("nothing permitted")
	}
}

// BenchmarkRefused is a typed call the guard refuses, end to end.
func BenchmarkRefused(b *testing.B) {
	c, err := NewClient(testEmail, testToken, WithRole(RoleViewOnly), WithHTTPClient(&http.Client{Transport: failTransport{}}))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := c.Metrics.Delete(ctx, "cpu.load"); err == nil {
			b.Fatal("not refused")
		}
	}
}

// failTransport fails a benchmark that reaches the network.
type failTransport struct{}

func (failTransport) RoundTrip(*http.Request) (*http.Response, error) {
	panic("a refused call reached the transport")
}

// cannedTransport answers every request with the same body, in process.
type cannedTransport struct {
	status int
	body   []byte
}

func (t cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{
		StatusCode: t.status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(t.body)), ContentLength: int64(len(t.body)), Request: req,
	}, nil
}

var metricJSON = []byte(`{"name":"cpu_temp","display_name":"cpu_temp","description":"Current CPU temperature in Fahrenheit","period":60,"type":"gauge","attributes":{"created_by_ua":"librato-metrics/0.7.4 (ruby; 1.9.3p194; x86_64-linux) direct-faraday/0.8.4","display_max":null,"display_min":0,"display_stacked":true,"display_units_long":"Fahrenheit","display_units_short":"°F"}}`)

// BenchmarkGetMetric compares one Metrics.Get with the same request and
// decode written by hand with net/http and encoding/json.
func BenchmarkGetMetric(b *testing.B) {
	hc := &http.Client{Transport: cannedTransport{200, metricJSON}}
	ctx := context.Background()
	b.Run("sdk", func(b *testing.B) {
		c, err := NewClient(testEmail, testToken, WithHTTPClient(hc))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			m, err := c.Metrics.Get(ctx, "cpu_temp")
			if err != nil || m.Name != "cpu_temp" {
				b.Fatal(m, err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(testEmail+":"+testToken))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			req, err := http.NewRequestWithContext(ctx, "GET", DefaultBaseURL+"/v1/metrics/cpu_temp", nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Authorization", auth)
			req.Header.Set("Accept", "application/json")
			req.Header.Set("User-Agent", "raw")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var m Metric
			err = json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || m.Name != "cpu_temp" {
				b.Fatal(m, err)
			}
		}
	})
}

// benchBatch is 1,000 measurements with 3 tags each, drawn from 20 hosts
// as an agent's would be; unique gives every measurement its own map.
func benchBatch(unique bool) *MeasurementBatch {
	shared := make([]map[string]string, 20)
	for i := range shared {
		shared[i] = map[string]string{"host": fmt.Sprintf("web-%02d", i), "region": "us-east-1", "az": "us-east-1" + string(rune('a'+i%4))}
	}
	ms := make([]Measurement, 1000)
	for i := range ms {
		tags := shared[i%20]
		if unique {
			tags = map[string]string{"host": fmt.Sprintf("web-%04d", i), "region": "us-east-1", "az": "b"}
		}
		ms[i] = Measurement{Name: fmt.Sprintf("app.metric.%d", i%50), Value: float64(i) * 1.37, Tags: tags, Time: 1700000000 + int64(i%60)}
	}
	return &MeasurementBatch{Measurements: ms, Period: 60}
}

// plainMeasurement and plainBatch are what a hand-written client would
// hand to encoding/json.
type plainMeasurement struct {
	Name  string            `json:"name"`
	Value float64           `json:"value"`
	Tags  map[string]string `json:"tags,omitempty"`
	Time  int64             `json:"time,omitempty"`
}

type plainBatch struct {
	Period       int64              `json:"period,omitempty"`
	Measurements []plainMeasurement `json:"measurements"`
}

func toPlain(b *MeasurementBatch) *plainBatch {
	p := &plainBatch{Period: b.Period}
	for _, m := range b.Measurements {
		p.Measurements = append(p.Measurements, plainMeasurement{m.Name, m.Value, m.Tags, m.Time})
	}
	return p
}

// BenchmarkEncodeMeasurements builds the request body for 1,000
// measurements with 3 tags each.
func BenchmarkEncodeMeasurements(b *testing.B) {
	for _, unique := range []bool{false, true} {
		batch := benchBatch(unique)
		plain := toPlain(batch)
		suffix := ""
		if unique {
			suffix = "_unique_tags"
		}
		b.Run("sdk"+suffix, func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for i := 0; i < b.N; i++ {
				var err error
				buf, err = batch.appendJSON(buf[:0])
				if err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
		b.Run("encoding_json"+suffix, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for i := 0; i < b.N; i++ {
				out, err := json.Marshal(plain)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.SetBytes(int64(n))
		})
	}
}

// BenchmarkSubmit compares Measurements.Create of 1,000 measurements with a
// hand-written net/http + encoding/json post of the same batch, both
// through an in-process transport that reads the whole body.
func BenchmarkSubmit(b *testing.B) {
	ack := []byte(`{"measurements":{"summary":{"total":1000,"accepted":1000,"failed":0,"filtered":0}}}`)
	hc := &http.Client{Transport: cannedTransport{202, ack}}
	batch := benchBatch(false)
	ctx := context.Background()
	b.Run("sdk", func(b *testing.B) {
		c, err := NewClient(testEmail, testToken, WithHTTPClient(hc), WithRole(RoleRecordOnly))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := c.Measurements.Create(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(testEmail+":"+testToken))
		plain := toPlain(batch)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			body, err := json.Marshal(plain)
			if err != nil {
				b.Fatal(err)
			}
			req, err := http.NewRequestWithContext(ctx, "POST", DefaultBaseURL+"/v1/measurements", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Authorization", auth)
			req.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var out measurementsResponse
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 202 {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEncodeBody measures what gzip costs and saves on a batch of
// 500 measurements with 3 tags each (the Batcher's default size), at each
// level worth considering, with the tags of a realistic agent (a few
// hosts, many metric names) and with a unique tag set per measurement.
// It reports the bytes on the wire per measurement; ns/op is the CPU.
func BenchmarkEncodeBody(b *testing.B) {
	for _, unique := range []bool{false, true} {
		batch := benchBatch(unique)
		batch.Measurements = batch.Measurements[:500]
		raw, err := batch.appendJSON(nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, level := range []int{0, gzip.BestSpeed, 3, gzip.DefaultCompression} {
			name := fmt.Sprintf("level%d", level)
			if unique {
				name += "_unique_tags"
			}
			b.Run(name, func(b *testing.B) {
				var out bytes.Buffer
				w, _ := gzip.NewWriterLevel(&out, level)
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					out.Reset()
					if level == 0 {
						out.Write(raw)
						continue
					}
					w.Reset(&out)
					w.Write(raw)
					w.Close()
				}
				b.ReportMetric(float64(out.Len())/500, "bytes/meas")
			})
		}
	}
}
