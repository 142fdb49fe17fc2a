package librato

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sentBody is a request as the server saw it: its encoding and its body,
// gunzipped.
type sentBody struct {
	encoding string
	json     string
}

func recordBodies(mu *sync.Mutex, seen *[]sentBody, status int, body string) httpmock.Responder {
	return func(req *http.Request) (*http.Response, error) {
		b, err := readRequestBody(req)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		*seen = append(*seen, sentBody{req.Header.Get("Content-Encoding"), string(b)})
		mu.Unlock()
		return httpmock.NewStringResponse(status, body), nil
	}
}

// TestBodiesAreGzippedByDefault: submissions always, other bodies from a
// kilobyte; WithoutCompression sends everything plain. What the server
// reads is the same JSON either way.
func TestBodiesAreGzippedByDefault(t *testing.T) {
	ctx := context.Background()
	batch := &MeasurementBatch{Measurements: []Measurement{{Name: "cpu", Value: 1, Time: 1700000000}}}
	many := &MetricsBatchDelete{MetricNames{Names: make([]string, 100)}}
	for i := range many.Names {
		many.Names[i] = fmt.Sprintf("app.metric.number.%03d", i)
	}
	for _, compress := range []bool{true, false} {
		var opts []Option
		if !compress {
			opts = append(opts, WithoutCompression())
		}
		c, mt := newMockClient(t, opts...)
		var mu sync.Mutex
		var seen []sentBody
		mt.RegisterResponder("POST", testBase+"/v1/measurements", recordBodies(&mu, &seen, 202, `{}`))
		mt.RegisterResponder("POST", testBase+"/v1/spaces", recordBodies(&mu, &seen, 201, `{"id":1,"name":"ops"}`))
		mt.RegisterResponder("DELETE", testBase+"/v1/metrics", recordBodies(&mu, &seen, 204, ``))
		mt.RegisterResponder("POST", testBase+"/v1/metrics", recordBodies(&mu, &seen, 200, ``))

		_, err := c.Measurements.Create(ctx, batch)
		require.NoError(t, err)
		_, err = c.Spaces.Create(ctx, &Space{Name: "ops"})
		require.NoError(t, err)
		_, err = c.Metrics.DeleteBatch(ctx, many)
		require.NoError(t, err)
		require.NoError(t, legacyCreate(c, &LegacyBatch{Source: "web-1", Gauges: []LegacyMeasurement{{Name: "cpu", Value: 1}}}))

		require.Len(t, seen, 4)
		want := []string{"gzip", "", "gzip", "gzip"} // a small submission, a small body, a large body, a legacy submission
		if !compress {
			want = []string{"", "", "", ""}
		}
		for i, s := range seen {
			assert.Equal(t, want[i], s.encoding, "compress=%v request %d", compress, i)
		}
		assert.JSONEq(t, `{"measurements":[{"name":"cpu","value":1,"time":1700000000}]}`, seen[0].json)
		assert.JSONEq(t, `{"name":"ops"}`, seen[1].json)
		assert.Contains(t, seen[2].json, "app.metric.number.099")
		assert.JSONEq(t, `{"source":"web-1","gauges":[{"name":"cpu","value":1}]}`, seen[3].json)
	}
}

// legacyCreate is the one call site of the legacy submission in these
// tests.
func legacyCreate(c *Client, b *LegacyBatch) error {
	return c.Legacy.Create(context.Background(), b)
}

// TestGzipRefusedIsResentPlain: a 415 to a gzipped body is answered by
// sending the same request plain at once, even without retries and for a
// call that is never retried, and the client sends everything plain after
// that; a 415 to a plain body is an error like any other.
func TestGzipRefusedIsResentPlain(t *testing.T) {
	ctx := context.Background()
	for _, opts := range [][]Option{nil, {WithoutRetries()}} {
		c, mt := newMockClient(t, opts...)
		var mu sync.Mutex
		var seen []sentBody
		refuseGzip := func(status int, body string) httpmock.Responder {
			ok := recordBodies(&mu, &seen, status, body)
			return func(req *http.Request) (*http.Response, error) {
				if req.Header.Get("Content-Encoding") == "gzip" {
					_, _ = ok(req)
					return httpmock.NewStringResponse(415, `{"errors":{"request":["Content-Encoding gzip is not supported"]}}`), nil
				}
				return ok(req)
			}
		}
		mt.RegisterResponder("POST", testBase+"/v1/measurements", refuseGzip(202, `{}`))
		mt.RegisterResponder("DELETE", testBase+"/v1/metrics", refuseGzip(204, ``))

		_, err := c.Measurements.Create(ctx, &MeasurementBatch{Measurements: []Measurement{{Name: "cpu", Value: 1, Time: 1700000000}}})
		require.NoError(t, err)
		require.Len(t, seen, 2)
		assert.Equal(t, "gzip", seen[0].encoding)
		assert.Equal(t, "", seen[1].encoding, "the same request, plain")
		assert.Equal(t, seen[0].json, seen[1].json)

		many := &MetricsBatchDelete{MetricNames{Names: []string{strings.Repeat("m", 250), strings.Repeat("n", 250), strings.Repeat("o", 250), strings.Repeat("p", 250), strings.Repeat("q", 250)}}}
		_, err = c.Metrics.DeleteBatch(ctx, many)
		require.NoError(t, err)
		require.Len(t, seen, 3, "the client stopped compressing: one plain request")
		assert.Equal(t, "", seen[2].encoding)
	}

	c, mt := newMockClient(t, WithoutCompression())
	mt.RegisterResponder("POST", testBase+"/v1/measurements", httpmock.NewStringResponder(415, ``))
	_, err := c.Measurements.Create(ctx, &MeasurementBatch{Measurements: []Measurement{{Name: "cpu", Value: 1}}})
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 415, ae.StatusCode)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

// TestGzipFallbackUnderConcurrency: many goroutines meet a server that
// refuses gzip at once; every call succeeds, each sends its gzipped body
// at most once, and the client ends sending plain (run with -race).
func TestGzipFallbackUnderConcurrency(t *testing.T) {
	c, mt := newMockClient(t)
	var gz, plain atomic.Int64
	var mu sync.Mutex
	gzipped := map[string]int{} // body -> times it came gzipped
	mt.RegisterResponder("POST", testBase+"/v1/measurements", func(req *http.Request) (*http.Response, error) {
		body, err := readRequestBody(req)
		if err != nil {
			return nil, err
		}
		if req.Header.Get("Content-Encoding") == "gzip" {
			gz.Add(1)
			mu.Lock()
			gzipped[string(body)]++
			mu.Unlock()
			return httpmock.NewStringResponse(415, ``), nil
		}
		plain.Add(1)
		return httpmock.NewStringResponse(202, `{}`), nil
	})
	const n = 32
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := c.Measurements.Create(context.Background(), &MeasurementBatch{Measurements: []Measurement{{Name: "cpu", Value: float64(i), Time: 1700000000}}})
			assert.NoError(t, err)
		}(i)
	}
	wg.Wait()
	assert.Equal(t, int64(n), plain.Load(), "every call was delivered plain")
	mu.Lock()
	for body, times := range gzipped {
		assert.Equal(t, 1, times, "a call sent its gzipped body twice: %s", body)
	}
	mu.Unlock()
	before := gz.Load()
	_, err := c.Measurements.Create(context.Background(), &MeasurementBatch{Measurements: []Measurement{{Name: "cpu", Value: 1}}})
	require.NoError(t, err)
	assert.Equal(t, before, gz.Load(), "after the fallback, nothing is gzipped")
}

// TestFirstRoundFitsTheBacklog: batches waiting before the first answer
// all go out at once (up to MaxConcurrency), not four at a time.
func TestFirstRoundFitsTheBacklog(t *testing.T) {
	const batches = 12
	c, mt := newMockClient(t)
	var inFlight, peak atomic.Int64
	release := make(chan struct{})
	mt.RegisterResponder("POST", testBase+"/v1/measurements", func(req *http.Request) (*http.Response, error) {
		n := inFlight.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		if n == batches {
			close(release)
		}
		select {
		case <-release:
		case <-time.After(2 * time.Second):
		}
		inFlight.Add(-1)
		return httpmock.NewStringResponse(202, `{}`), nil
	})
	b, err := c.Measurements.NewBatcher(BatcherOptions{BatchSize: 10, FlushInterval: time.Hour})
	require.NoError(t, err)
	for i := 0; i < batches*10; i++ {
		require.NoError(t, addMeasurement(b, Measurement{Name: "cpu", Value: float64(i)}))
	}
	require.NoError(t, b.Close(context.Background()))
	assert.Equal(t, int64(batches), peak.Load(), "every waiting batch was in flight at once")
	assert.Equal(t, batches, b.Stats().PeakConcurrency)
}
