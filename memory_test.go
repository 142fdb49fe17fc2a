package librato

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// paddedBody is n bytes of a metric's JSON padded with spaces, produced
// without allocating; read counts what was taken from it.
type paddedBody struct {
	n, off int64
	read   *atomic.Int64
}

const spaceHead, spaceTail = `{"name":"cpu"`, `}`

func (b *paddedBody) Read(p []byte) (int, error) {
	if b.off >= b.n {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && b.off < b.n {
		var n int
		switch {
		case b.off < int64(len(spaceHead)):
			n = copy(p[k:], spaceHead[b.off:])
		case b.off == b.n-1:
			n = copy(p[k:], spaceTail)
		default:
			n = copy(p[k:min(len(p), k+int(b.n-1-b.off))], spaces[:])
		}
		k += n
		b.off += int64(n)
	}
	if b.read != nil {
		b.read.Add(int64(k))
	}
	return k, nil
}

var spaces = [64 << 10]byte{}

func init() {
	for i := range spaces {
		spaces[i] = ' '
	}
}

func (b *paddedBody) Close() error { return nil }

// streamTransport answers with an n-byte paddedBody, with or without an
// honest Content-Length.
type streamTransport struct {
	n    int64
	cl   bool
	read *atomic.Int64
}

func (t streamTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	cl := int64(-1)
	if t.cl {
		cl = t.n
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: &paddedBody{n: t.n, read: t.read}, ContentLength: cl, Request: req}, nil
}

// allocated returns the bytes the process allocated while f ran.
func allocated(f func()) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc)
}

const testCap = 4 << 20

// TestCappedReadsStayNearTheCap reads bodies over and under a small cap
// and bounds what each call allocated as a ratio: a body over the cap costs
// at most 1.25x the cap (nothing, if its Content-Length says so), one
// under it 1.25x its size with a Content-Length and 2.25x without (read in
// blocks, then joined; readCapped says 2.125x).
func TestCappedReadsStayNearTheCap(t *testing.T) {
	cases := []struct {
		name    string
		n       int64
		cl      bool
		ok      bool
		bound   float64 // times base
		base    int64
		maxRead int64
	}{
		{"over the cap, no Content-Length", 8 * testCap, false, false, 1.25, testCap, testCap + 1},
		{"over the cap by one byte, no Content-Length", testCap + 1, false, false, 1.25, testCap, testCap + 1},
		{"over the cap, honest Content-Length", 8 * testCap, true, false, 0.05, testCap, 0},
		{"under the cap, Content-Length", 3 << 20, true, true, 1.25, 3 << 20, 3 << 20},
		{"at the cap, Content-Length", testCap, true, true, 1.25, testCap, testCap},
		{"under the cap, no Content-Length", 3 << 20, false, true, 2.25, 3 << 20, 3 << 20},
		{"at the cap, no Content-Length", testCap, false, true, 2.25, testCap, testCap},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var read atomic.Int64
			c, err := NewClient(testEmail, testToken, WithHTTPClient(&http.Client{Transport: streamTransport{n: tc.n, cl: tc.cl, read: &read}}),
				WithMaxResponseBytes(testCap), WithoutRetries())
			require.NoError(t, err)
			var m *Metric
			got := allocated(func() { m, err = c.Metrics.Get(context.Background(), "cpu") })
			if tc.ok {
				require.NoError(t, err)
				assert.Equal(t, "cpu", m.Name)
			} else {
				var de *DecodeError
				require.ErrorAs(t, err, &de)
				assert.Contains(t, err.Error(), strconv.Itoa(testCap))
				assert.Contains(t, err.Error(), "WithMaxResponseBytes")
			}
			assert.LessOrEqual(t, read.Load(), tc.maxRead, "bytes taken from the body")
			ratio := float64(got) / float64(tc.base)
			t.Logf("allocated %d bytes, %.3fx", got, ratio)
			assert.LessOrEqual(t, ratio, tc.bound, "allocated %d bytes for a %d-byte body and a %d-byte cap", got, tc.n, testCap)
		})
	}
}

// gzipServer serves n bytes of paddedBody gzip-compressed, so net/http's
// transport decompresses it and the SDK sees no Content-Length.
func gzipServer(t testing.TB, n int64) *httptest.Server {
	var zipped bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zipped, gzip.BestSpeed)
	_, err := io.Copy(zw, &paddedBody{n: n})
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	body := zipped.Bytes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestGzipBombStaysNearTheCap serves 32 MiB that compress to well under
// a MiB: the call must fail at the cap having allocated about the cap.
func TestGzipBombStaysNearTheCap(t *testing.T) {
	srv := gzipServer(t, 8*testCap)
	c, err := NewClient(testEmail, testToken, WithBaseURL(srv.URL), WithMaxResponseBytes(testCap), WithoutRetries())
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	got := allocated(func() { _, err = c.Metrics.Get(context.Background(), "cpu") })
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), "exceeds")
	ratio := float64(got) / testCap
	t.Logf("allocated %d bytes, %.3fx the cap", got, ratio)
	assert.LessOrEqual(t, ratio, 1.25)

	// the same, under the cap, decodes
	small := gzipServer(t, testCap/2)
	c2, err := NewClient(testEmail, testToken, WithBaseURL(small.URL), WithMaxResponseBytes(testCap), WithoutRetries())
	require.NoError(t, err)
	defer c2.CloseIdleConnections()
	m, err := c2.Metrics.Get(context.Background(), "cpu")
	require.NoError(t, err)
	assert.Equal(t, "cpu", m.Name)
}

// TestConcurrentCappedReads runs eight calls at once on bodies over the
// cap: together they allocate about eight caps, not eight doubled buffers.
func TestConcurrentCappedReads(t *testing.T) {
	c, err := NewClient(testEmail, testToken, WithHTTPClient(&http.Client{Transport: streamTransport{n: 4 * testCap}}), WithMaxResponseBytes(testCap), WithoutRetries())
	require.NoError(t, err)
	got := allocated(func() { concurrentGets(t, c, 8) })
	ratio := float64(got) / (8 * testCap)
	t.Logf("allocated %d bytes, %.3fx eight caps", got, ratio)
	assert.LessOrEqual(t, ratio, 1.25)
}

func concurrentGets(t testing.TB, c *Client, n int) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Metrics.Get(context.Background(), "cpu")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		var de *DecodeError
		if !assertErrorAs(err, &de) {
			t.Errorf("want a *DecodeError at the cap, got %v", err)
		}
	}
}

func assertErrorAs(err error, de **DecodeError) bool {
	e, ok := err.(*DecodeError)
	*de = e
	return ok
}

// BenchmarkConcurrentCappedReads is eight concurrent calls whose bodies
// (no Content-Length) run past the default cap of 64 MiB. It reports the
// bytes allocated per eight calls and the largest heap seen while they ran.
func BenchmarkConcurrentCappedReads(b *testing.B) {
	c, err := NewClient(testEmail, testToken, WithHTTPClient(&http.Client{Transport: streamTransport{n: DefaultMaxResponseBytes + 8<<20}}), WithoutRetries())
	if err != nil {
		b.Fatal(err)
	}
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
		}
	}()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		concurrentGets(b, c, 8)
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	close(stop)
	<-done
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "MiB-alloc/8calls")
	b.ReportMetric(float64(peak.Load())/(1<<20), "MiB-peak-heap")
}
