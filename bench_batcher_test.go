package librato

import (
	"context"
	"io"
	"net/http"
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
	c, err := NewClient(testEmail, testToken, WithBaseURL(testBase), WithHTTPClient(&http.Client{Transport: discardTransport{202}}))
	if err != nil {
		b.Fatal(err)
	}
	bt, err := c.Measurements.NewBatcher(BatcherOptions{Concurrency: 2, MaxBuffered: 100000, FlushInterval: time.Hour, DefaultTags: map[string]string{"host": "bench"}})
	if err != nil {
		b.Fatal(err)
	}
	tags := map[string]string{"host": "db-1", "region": "us-east-1", "az": "b"}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if err := bt.Add(Measurement{Name: "bench.add", Value: float64(i), Tags: tags, Time: 1700000000}); err != nil {
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
