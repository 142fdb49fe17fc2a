package librato

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// retryCase is one row of the retry table in the package doc: a first
// answer (or no answer) and whether it is retried.
type retryCase struct {
	name  string
	first func() (*http.Response, error)
	retry bool
}

func answer(status int, header ...string) func() (*http.Response, error) {
	return func() (*http.Response, error) {
		r := httpmock.NewStringResponse(status, `{"errors":{"request":["no"]}}`)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		return r, nil
	}
}

// retryTable is the table of the package doc but its 415 row, which is no
// retry: a body refused for its gzip is sent again plain (see
// TestGzipRefusedIsResentPlain).
func retryTable() []retryCase {
	spent := "limit=300,remaining=0,reset=" + strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	left := "limit=300,remaining=12,reset=" + strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	return []retryCase{
		{"network error", func() (*http.Response, error) { return nil, errors.New("read: connection reset by peer") }, true},
		{"408", answer(408), true},
		{"425", answer(425), true},
		{"429", answer(429), true},
		{"500", answer(500), true},
		{"501", answer(501), false},
		{"502", answer(502), true},
		{"503", answer(503), true},
		{"504", answer(504), true},
		{"403 with the standard limit spent", answer(403, "X-Librato-RateLimit-Std", spent), true},
		{"403 with the aggregate limit spent", answer(403, "X-Librato-RateLimit-Agg", spent), true},
		{"403 with requests left", answer(403, "X-Librato-RateLimit-Std", left), false},
		{"403 without rate-limit headers", answer(403), false},
		{"400", answer(400), false},
		{"401", answer(401), false},
		{"404", answer(404), false},
		{"409", answer(409), false},
		{"413", answer(413), false},
		{"422", answer(422), false},
	}
}

// firstThen answers tc's first answer, then success, counting calls.
func firstThen(tc retryCase, then *http.Response, calls *int) httpmock.Responder {
	return func(req *http.Request) (*http.Response, error) {
		*calls++
		if *calls == 1 {
			return tc.first()
		}
		return then, nil
	}
}

// TestOneRetryTableForEveryPath sends each row of the retry table to a
// typed GET, to a measurement POST and to the Batcher, and finds the same
// decision on all three: retried and then delivered, or given up after one
// attempt. APIError.Temporary and TransportError.Temporary agree with it.
func TestOneRetryTableForEveryPath(t *testing.T) {
	ctx := context.Background()
	for _, tc := range retryTable() {
		t.Run(tc.name, func(t *testing.T) {
			var decisions []bool

			c, mt := newMockClient(t)
			calls := 0
			mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu", firstThen(tc, httpmock.NewStringResponse(200, `{"name":"cpu"}`), &calls))
			_, getErr := c.Metrics.Get(ctx, "cpu")
			decisions = append(decisions, calls == 2 && getErr == nil)
			if calls == 1 {
				require.Error(t, getErr)
				assert.Equal(t, tc.retry, temporary(getErr), "the error's Temporary agrees: %v", getErr)
			}

			c, mt = newMockClient(t)
			calls = 0
			mt.RegisterResponder("POST", testBase+"/v1/measurements", firstThen(tc, httpmock.NewStringResponse(202, `{}`), &calls))
			_, postErr := c.Measurements.Create(ctx, &MeasurementBatch{Measurements: []Measurement{{Name: "cpu", Value: 1, Time: time.Now().Unix()}}})
			decisions = append(decisions, calls == 2 && postErr == nil)

			c, mt = newMockClient(t)
			calls = 0
			mt.RegisterResponder("POST", testBase+"/v1/measurements", firstThen(tc, httpmock.NewStringResponse(202, `{}`), &calls))
			b, err := c.Measurements.NewBatcher(BatcherOptions{})
			require.NoError(t, err)
			require.NoError(t, addMeasurement(b, Measurement{Name: "cpu", Value: 1}))
			closeErr := b.Close(ctx)
			st := b.Stats()
			decisions = append(decisions, calls == 2 && closeErr == nil && st.Sent == 1)
			if !tc.retry {
				assert.Equal(t, int64(1), st.Failed, "the batcher lost what the table does not retry")
			}

			assert.Equal(t, []bool{tc.retry, tc.retry, tc.retry}, decisions, "retried? typed GET, measurement POST, Batcher")
		})
	}
}

// addMeasurement adds m to b, the one call site of Batcher.Add in the
// tests of the retry table and of the transport.
func addMeasurement(b *Batcher, m Measurement) error { return b.Add(context.Background(), m) }

// TestRetryTableDoesNotRetryUnsafeCalls keeps the other half of the
// policy: a POST that creates something is never repeated, whatever the
// answer, since the first may have been stored.
func TestRetryTableDoesNotRetryUnsafeCalls(t *testing.T) {
	for _, tc := range retryTable() {
		c, mt := newMockClient(t)
		calls := 0
		mt.RegisterResponder("POST", testBase+"/v1/spaces", firstThen(tc, httpmock.NewStringResponse(201, `{"id":1,"name":"ops"}`), &calls))
		_, err := c.Spaces.Create(context.Background(), &Space{Name: "ops"})
		assert.Error(t, err, tc.name)
		assert.Equal(t, 1, calls, "%s: POST /v1/spaces is tried once", tc.name)
	}
}

// TestBatcherCapsTheServersWait: a Retry-After of ten years, or a rate
// limit that resets in ten years, holds the batcher only for the client's
// maximum wait; then it tries again and delivers.
func TestBatcherCapsTheServersWait(t *testing.T) {
	decade := strconv.Itoa(10 * 365 * 24 * 3600)
	spent := "limit=300,remaining=0,reset=" + strconv.FormatInt(time.Now().AddDate(10, 0, 0).Unix(), 10)
	for _, first := range []func() (*http.Response, error){
		answer(429, "Retry-After", decade),
		answer(503, "Retry-After", decade),
		answer(403, "X-Librato-RateLimit-Std", spent),
	} {
		f := &fakeIngest{}
		c := newIngestClient(t, f, WithMaxRetryWait(50*time.Millisecond))
		calls := 0
		f.fail = func(n int64, _ []Measurement) *http.Response {
			calls++
			if n == 1 {
				r, _ := first()
				return r
			}
			return nil
		}
		b, err := c.Measurements.NewBatcher(BatcherOptions{})
		require.NoError(t, err)
		require.NoError(t, addMeasurement(b, Measurement{Name: "cpu", Value: 1}))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		start := time.Now()
		require.NoError(t, b.Close(ctx))
		cancel()
		assert.Less(t, time.Since(start), 9*time.Second, "the wait was capped, not a decade")
		assert.Equal(t, int64(1), b.Stats().Sent)
		assert.Equal(t, 2, calls)
	}
}
