package mock

import (
	"math/rand/v2"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ingestJSON stores a POST /v1/measurements body in a, failing the test
// unless it is accepted.
func ingestJSON(t *testing.T, a *account, handler func(*call) *reply, body string) {
	t.Helper()
	r := &http.Request{Method: "POST", URL: &url.URL{Path: "/"}, Header: http.Header{}}
	c := &call{a: a, r: r, q: url.Values{}, body: map[string]any{}, raw: []byte(body), now: time.Unix(1_700_000_000, 0)}
	if m, err := decodeJSON(c.raw); err == nil {
		c.body = m
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	rep := handler(c)
	require.Less(t, rep.status, 300, "%s", rep.encode())
}

func TestReadStreams(t *testing.T) {
	a := newAccount(&env{}, "rs@example.com")
	ingestJSON(t, a, (*call).measurementsIngest, `{"measurements":[
		{"name":"Req","value":1,"time":1000,"tags":{"host":"b","region":"x"}},
		{"name":"Req","value":3,"time":1010,"tags":{"host":"b","region":"x"}},
		{"name":"Req","value":5,"time":1060,"tags":{"host":"b","region":"x"}},
		{"name":"Req","value":7,"time":1000,"tags":{"host":"A","region":"y"}},
		{"name":"Req","value":9,"time":5000,"tags":{"host":"c"}},
		{"name":"req.other","count":2,"sum":8,"min":1,"max":7,"time":1000},
		{"name":"cpu","value":1,"time":1000}]}`)
	ingestJSON(t, a, (*call).legacyMetricsCreate, `{"counters":[
		{"name":"req.hits","value":10,"measure_time":990},{"name":"req.hits","value":15,"measure_time":1000},
		{"name":"req.hits","value":4,"measure_time":1070}]}`)
	a.metrics["req.comp"] = newMetric("req.comp", "composite")
	w := window{start: 1000, end: 1060}

	got := a.readStreams("REQ*", nil, w, 60, "")
	type row struct {
		metric string
		tags   map[string]string
		pts    []valuePoint
	}
	var rows []row
	for _, s := range got {
		rows = append(rows, row{s.metric.name, s.tags, s.pts})
	}
	assert.Equal(t, []row{
		{"Req", map[string]string{"host": "a", "region": "y"}, []valuePoint{{960, 7}}},
		{"Req", map[string]string{"host": "b", "region": "x"}, []valuePoint{{960, 2}, {1020, 5}}},
		{"Req", map[string]string{"host": "c"}, nil},
		{"req.hits", map[string]string{}, []valuePoint{{960, 15}}},
		{"req.other", map[string]string{}, []valuePoint{{960, 4}}},
	}, rows, "by metric name, then tag pairs; composites skipped; counters as the raw values sent; empty streams kept")

	keep := func(tags map[string]string) bool { return tags["region"] == "x" }
	got = a.readStreams("req", keep, window{start: 0, end: 10000}, 1, "sum")
	require.Len(t, got, 1)
	assert.Equal(t, []valuePoint{{1000, 1}, {1010, 3}, {1060, 5}}, got[0].pts, "bucket 1: every second its own")
	for fn, want := range map[string]float64{"sum": 9, "max": 5, "min": 1, "count": 3, "mean": 3} {
		got = a.readStreams("req", keep, window{start: 0, end: 10000}, 3600, fn)
		assert.Equal(t, []valuePoint{{0, want}}, got[0].pts, fn)
	}
	a.metrics["req"].attrs = map[string]any{"summarize_function": "max"}
	got = a.readStreams("req", keep, w, 3600, "")
	assert.Equal(t, []valuePoint{{0, 5}}, got[0].pts, "\"\" is the metric's summarize_function")
	got = a.readStreams("req.other", nil, w, 60, "")
	assert.Equal(t, []valuePoint{{960, 4}}, got[0].pts, "a summary's mean")
	assert.Empty(t, a.readStreams("nothing*", nil, w, 60, ""))
}

// TestStoreInterning: names and tag sets are stored once; the same stream
// is found whatever case the client used; Recorded reports what was sent.
func TestStoreInterning(t *testing.T) {
	a := newAccount(&env{}, "in@example.com")
	for i := 0; i < 3; i++ {
		ingestJSON(t, a, (*call).measurementsIngest, `{"measurements":[
			{"name":"CPU","value":1,"time":1000,"tags":{"Host":"Web1"}},
			{"name":"cpu","value":2,"time":1001,"tags":{"host":"web1"}}]}`)
	}
	require.Len(t, a.metrics, 1)
	m := a.metrics["cpu"]
	require.Len(t, m.streams, 1, "one stored tag set")
	assert.Equal(t, 6, m.streams[0].cols.len())
	assert.Len(t, a.ms.names, 2, "names as sent: CPU and cpu")
	assert.Len(t, a.ms.sent, 3, "no-tags plus two sent tag sets")
	assert.Len(t, a.ms.stored, 1)
	rec := a.recorded()
	require.Len(t, rec, 6)
	assert.Equal(t, "CPU", rec[0].Name)
	assert.Equal(t, map[string]string{"Host": "Web1"}, rec[0].Tags)
	assert.Equal(t, map[string]string{"host": "web1"}, rec[1].Tags)
	rec[0].Tags["Host"] = "changed"
	assert.Equal(t, "Web1", a.recorded()[0].Tags["Host"], "Recorded returns copies")
}

// TestBucketizeMatchesNaive compares bucketize, on every column set, with
// a direct computation over random streams, windows and bucket sizes.
func TestBucketizeMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 300; round++ {
		st := &stream{}
		var all []sample
		tm := int64(rng.IntN(100))
		for i := rng.IntN(200); i > 0; i-- {
			if rng.IntN(4) > 0 {
				tm += int64(rng.IntN(30))
			} else {
				tm -= int64(rng.IntN(20)) // out of order now and then
			}
			s := sample{t: tm, count: 1, sum: float64(rng.IntN(100))}
			if rng.IntN(5) == 0 {
				s.count, s.sum = int64(1+rng.IntN(4)), float64(rng.IntN(400))
				s.flags = sSummary
			}
			s.finish()
			st.add(&s)
			all = append(all, s)
		}
		start, end := int64(rng.IntN(300)), int64(rng.IntN(3000))
		bucket := []int64{0, 1, 7, 60, 1000}[rng.IntN(5)]
		type want struct {
			count int64
			sum   float64
			n     int
		}
		ref := map[int64]*want{}
		for _, s := range all {
			if s.t < start || s.t > end {
				continue
			}
			bt := floorTo(s.t, max(bucket, 1))
			if ref[bt] == nil {
				ref[bt] = &want{}
			}
			ref[bt].count += s.count
			ref[bt].sum += s.sum
			ref[bt].n++
		}
		for _, need := range []uint8{needSum, needCount, needSum | needCount, needAll} {
			got := bucketize(st, false, start, end, bucket, need, nil)
			require.Len(t, got, len(ref), "round %d need %d", round, need)
			for i, g := range got {
				if i > 0 {
					require.Less(t, got[i-1].t, g.t)
				}
				w := ref[g.t]
				require.NotNil(t, w, "bucket %d", g.t)
				assert.Equal(t, w.n, g.n)
				if need&needCount != 0 {
					assert.Equal(t, w.count, g.count)
				}
				if need&needSum != 0 {
					assert.Equal(t, w.sum, g.sum, "integer values: exact in any order")
				}
			}
		}
		// Sums agree between the column paths and the full path.
		a := bucketize(st, false, start, end, bucket, needSum, nil)
		b := bucketize(st, false, start, end, bucket, needAll, nil)
		for i := range a {
			assert.Equal(t, b[i].sum, a[i].sum)
		}
	}
}
