package librato

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// discardTransport accepts every request after reading its body, in
// process: the cost left is the SDK's own.
type discardTransport struct{ status int }

func (d discardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{StatusCode: d.status, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

// BenchmarkBatcherAdd measures Add from parallel goroutines, with the
// batches delivered in the background through an in-process transport.
func BenchmarkBatcherAdd(b *testing.B) {
	benchBatcherAdd(b, BatcherOptions{Concurrency: 2, DefaultTags: map[string]string{"host": "bench"}},
		map[string]string{"host": "db-1", "region": "us-east-1", "az": "b"})
}

// BenchmarkBatcherAddCommonTags is BenchmarkBatcherAdd with CommonTags:
// the merged tag limit is checked at Add, the merge itself happens when
// the body is encoded.
func BenchmarkBatcherAddCommonTags(b *testing.B) {
	benchBatcherAdd(b, BatcherOptions{CommonTags: map[string]string{"host": "bench", "region": "us-east-1", "service": "api"}},
		map[string]string{"route": "/a", "status": "200", "method": "GET"})
}

// benchBatcherAdd adds measurements tagged tags from parallel goroutines
// to a batcher with opts (and room for them all, flushing only when full)
// that delivers to a transport answering 202, and checks every one was
// sent.
func benchBatcherAdd(b *testing.B, opts BatcherOptions, tags map[string]string) {
	c, err := NewClient(testEmail, testToken, WithBaseURL(testBase), WithHTTPClient(&http.Client{Transport: discardTransport{202}}))
	if err != nil {
		b.Fatal(err)
	}
	opts.MaxBuffered, opts.FlushInterval = 100000, time.Hour
	bt, err := c.Measurements.NewBatcher(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if err := bt.Add(context.Background(), Measurement{Name: "bench.add", Value: float64(i), Tags: tags, Time: 1700000000}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if err := bt.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	if st := bt.Stats(); st.Sent != st.Added {
		b.Fatalf("sent %d of %d", st.Sent, st.Added)
	}
	b.ReportMetric(float64(bt.Stats().Batches), "batches")
}

// BenchmarkEncodeCommonTags builds the Batcher's body for 1,000
// measurements (3 own tags from 20 tag sets) with and without 3 common
// tags merged in.
func BenchmarkEncodeCommonTags(b *testing.B) {
	tagSets := make([]map[string]string, 20)
	for i := range tagSets {
		tagSets[i] = map[string]string{"route": "/r" + strconv.Itoa(i), "status": "200", "method": "GET"}
	}
	ms := make([]Measurement, 1000)
	for i := range ms {
		ms[i] = Measurement{Name: "app.metric." + strconv.Itoa(i%50), Value: float64(i) * 1.37, Tags: tagSets[i%20], Time: 1700000000}
	}
	common := map[string]string{"host": "web-1", "region": "us-east-1", "service": "api"}
	for _, tc := range []struct {
		name   string
		common map[string]string
	}{{"plain", nil}, {"common", common}} {
		body := &measurementBody{common: tc.common, ms: ms}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for i := 0; i < b.N; i++ {
				buf, _ = body.appendJSON(buf[:0])
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}
