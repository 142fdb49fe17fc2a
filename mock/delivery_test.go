package mock_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// The API keeps one sample per series (metric and tag set, or metric and
// source) and second, the later replacing the earlier, so a write whose
// answer was lost and that the SDK sends again records nothing new. These
// tests make the write land and lose its answer (a Fault with After), the
// way a gateway timing out after the API stored a batch does.

// createLegacy is the SDK's legacy submission, in one place while it
// moves from Metrics to its own service.
func createLegacy(ctx context.Context, c *librato.Client, b *librato.LegacyBatch) error {
	return c.Legacy.Create(ctx, b)
}

// landedThen503 makes the next request to endpoint land and answer 503.
func landedThen503(t *testing.T, srv *mock.Server, endpoint string) {
	t.Helper()
	require.NoError(t, srv.InjectFault(mock.Fault{Count: 1, Status: http.StatusServiceUnavailable, Method: "POST", Endpoint: endpoint, After: true}))
}

// taggedPoint reads metric at one second (or over [from, to]) with
// summary_function=all and returns its one point's count and sum.
func taggedPoint(t *testing.T, srv *mock.Server, metric string, from, to int64) (count int64, sum float64) {
	t.Helper()
	q := url.Values{"start_time": {strconv.FormatInt(from, 10)}, "end_time": {strconv.FormatInt(to, 10)},
		"resolution": {"1"}, "summary_function": {"all"}}
	var page struct {
		Series []struct {
			Measurements []struct {
				Count int64   `json:"count"`
				Sum   float64 `json:"sum"`
			} `json:"measurements"`
		} `json:"series"`
	}
	getJSON(t, srv, "/v1/measurements/"+metric+"?"+q.Encode(), &page)
	require.Len(t, page.Series, 1, metric)
	require.Len(t, page.Series[0].Measurements, 1, "%s: one point", metric)
	p := page.Series[0].Measurements[0]
	return p.Count, p.Sum
}

func TestRetriedWritesRecordEachPointOnce(t *testing.T) {
	srv := newServer(t)
	c := sdk(t, srv, librato.RoleRecordOnly)
	ctx := context.Background()
	host := map[string]string{"host": "a"}

	// Measurements.Create with explicit times: a value and a summary.
	landedThen503(t, srv, "/v1/measurements")
	_, err := c.Measurements.Create(ctx, &librato.MeasurementBatch{Tags: host, Measurements: []librato.Measurement{
		{Name: "retry.value", Value: 5, Time: base},
		{Name: "retry.summary", Count: 4, Sum: librato.Ptr(10.0), Min: librato.Ptr(1.0), Max: librato.Ptr(4.0), Time: base},
	}})
	require.NoError(t, err)

	// The Batcher stamps the time of Add.
	from := time.Now().Unix()
	landedThen503(t, srv, "/v1/measurements")
	b, err := c.Measurements.NewBatcher(librato.BatcherOptions{CommonTags: host, FlushInterval: time.Hour})
	require.NoError(t, err)
	require.NoError(t, b.Add(context.Background(), librato.Measurement{Name: "retry.batched", Value: 7}))
	require.NoError(t, b.Close(ctx))
	to := time.Now().Unix()

	// The legacy route: a gauge and a counter's running total.
	landedThen503(t, srv, "/v1/metrics")
	require.NoError(t, createLegacy(ctx, c, &librato.LegacyBatch{Source: "a", MeasureTime: base,
		Gauges:   []librato.LegacyMeasurement{{Name: "retry.gauge", Value: 3}},
		Counters: []librato.LegacyMeasurement{{Name: "retry.counter", Value: 100}}}))

	// Every write was delivered twice: the lost answer, then the retry.
	var answers []int
	for _, e := range srv.Journal() {
		answers = append(answers, e.Status)
		if e.Status == http.StatusServiceUnavailable {
			assert.True(t, e.Injected, "%+v", e)
		}
	}
	assert.Equal(t, []int{503, 202, 503, 202, 503, 200}, answers)
	assert.Equal(t, 2*5, srv.RecordedCount(), "Recorded lists every measurement accepted, a repeat too")

	// Each point is stored once.
	n, sum := taggedPoint(t, srv, "retry.value", base, base)
	assert.Equal(t, int64(1), n)
	assert.Equal(t, 5.0, sum)
	n, sum = taggedPoint(t, srv, "retry.summary", base, base)
	assert.Equal(t, int64(4), n, "a summary's count is not doubled")
	assert.Equal(t, 10.0, sum)
	n, sum = taggedPoint(t, srv, "retry.batched", from, to)
	assert.Equal(t, int64(1), n)
	assert.Equal(t, 7.0, sum)
	n, sum = taggedPoint(t, srv, "retry.gauge", base, base)
	assert.Equal(t, int64(1), n)
	assert.Equal(t, 3.0, sum)
	n, sum = taggedPoint(t, srv, "retry.counter", base, base)
	assert.Equal(t, int64(1), n, "a counter's repeat rewrites the same running total")
	assert.Equal(t, 100.0, sum)
}

// A later sample of a series and second replaces the earlier one, whatever
// the route; a metric with service-side aggregation (attribute aggregate)
// merges them instead, so there a repeat counts twice.
func TestOneSamplePerSeriesAndSecond(t *testing.T) {
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	post := func(name string, v float64) {
		w.do("POST", "/v1/measurements", map[string]any{"time": base, "tags": map[string]any{"source": "a"},
			"measurements": []any{map[string]any{"name": name, "value": v}}}).requireStatus(t, 202)
	}
	post("lww", 1)
	post("lww", 2)
	w.raw("POST", "/v1/metrics", "application/json", []byte(`{"measure_time":`+strconv.FormatInt(base, 10)+
		`,"gauges":[{"name":"lww","value":4,"source":"A"}]}`)).requireStatus(t, 200)
	n, sum := taggedPoint(t, srv, "lww", base, base)
	assert.Equal(t, int64(1), n, "tagged and legacy share the series through the source tag")
	assert.Equal(t, 4.0, sum, "the last write wins")

	w.do("PUT", "/v1/metrics/agg", map[string]any{"type": "gauge", "attributes": map[string]any{"aggregate": true}}).requireStatus(t, 201)
	post("agg", 1)
	post("agg", 2)
	n, sum = taggedPoint(t, srv, "agg", base, base)
	assert.Equal(t, int64(2), n, "an aggregate metric keeps both samples")
	assert.Equal(t, 3.0, sum)
}
