package tsdb

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ingestJSON stores a POST /v1/measurements body, failing the test
// unless the one-pass reader takes it.
func ingestJSON(t *testing.T, db *Store, body string) {
	t.Helper()
	_, ok := db.Ingest([]byte(body), 1_700_000_000, "")
	require.True(t, ok, body)
}

// putCounter stores the raw values of a legacy counter, as a legacy
// submission does.
func putCounter(db *Store, name string, points ...[2]int64) {
	for _, p := range points {
		m := Input{Name: []byte(name), Type: "counter", S: Sample{T: p[0], Count: 1, Sum: float64(p[1])}}
		m.S.Finish()
		db.Put(&m, "")
	}
}

func TestReadStreams(t *testing.T) {
	db := NewStore()
	ingestJSON(t, db, `{"measurements":[
		{"name":"Req","value":1,"time":1000,"tags":{"host":"b","region":"x"}},
		{"name":"Req","value":3,"time":1010,"tags":{"host":"b","region":"x"}},
		{"name":"Req","value":5,"time":1060,"tags":{"host":"b","region":"x"}},
		{"name":"Req","value":7,"time":1000,"tags":{"host":"A","region":"y"}},
		{"name":"Req","value":9,"time":5000,"tags":{"host":"c"}},
		{"name":"req.other","count":2,"sum":8,"min":1,"max":7,"time":1000},
		{"name":"cpu","value":1,"time":1000}]}`)
	putCounter(db, "req.hits", [2]int64{990, 10}, [2]int64{1000, 15}, [2]int64{1070, 4})
	db.Create("req.comp", "composite")
	w := Window{Start: 1000, End: 1060}

	got := db.ReadStreams("REQ*", nil, w, 60, "")
	type row struct {
		metric string
		tags   map[string]string
		pts    []valuePoint
	}
	var rows []row
	for _, s := range got {
		rows = append(rows, row{s.Metric.Name, s.Tags, s.Pts})
	}
	assert.Equal(t, []row{
		{"Req", map[string]string{"host": "a", "region": "y"}, []valuePoint{{960, 7}}},
		{"Req", map[string]string{"host": "b", "region": "x"}, []valuePoint{{960, 2}, {1020, 5}}},
		{"Req", map[string]string{"host": "c"}, nil},
		{"req.hits", map[string]string{}, []valuePoint{{960, 15}}},
		{"req.other", map[string]string{}, []valuePoint{{960, 4}}},
	}, rows, "by metric name, then tag pairs; composites skipped; counters as the raw values sent; empty streams kept")

	keep := func(tags map[string]string) bool { return tags["region"] == "x" }
	got = db.ReadStreams("req", keep, Window{Start: 0, End: 10000}, 1, "sum")
	require.Len(t, got, 1)
	assert.Equal(t, []valuePoint{{1000, 1}, {1010, 3}, {1060, 5}}, got[0].Pts, "bucket 1: every second its own")
	for fn, want := range map[string]float64{"sum": 9, "max": 5, "min": 1, "count": 3, "mean": 3} {
		got = db.ReadStreams("req", keep, Window{Start: 0, End: 10000}, 3600, fn)
		assert.Equal(t, []valuePoint{{0, want}}, got[0].Pts, fn)
	}
	db.Metric("req").Attrs = map[string]any{"summarize_function": "max"}
	got = db.ReadStreams("req", keep, w, 3600, "")
	assert.Equal(t, []valuePoint{{0, 5}}, got[0].Pts, "\"\" is the metric's summarize_function")
	got = db.ReadStreams("req.other", nil, w, 60, "")
	assert.Equal(t, []valuePoint{{960, 4}}, got[0].Pts, "a summary's mean")
	assert.Empty(t, db.ReadStreams("nothing*", nil, w, 60, ""))
}

// TestStoreInterning: names and tag sets are stored once; the same stream
// is found whatever case the client used; Recorded reports what was sent.
func TestStoreInterning(t *testing.T) {
	db := NewStore()
	for i := 0; i < 3; i++ {
		ingestJSON(t, db, `{"measurements":[
			{"name":"CPU","value":1,"time":1000,"tags":{"Host":"Web1"}},
			{"name":"cpu","value":2,"time":1001,"tags":{"host":"web1"}}]}`)
	}
	require.Equal(t, 1, db.Len())
	m := db.Metric("cpu")
	require.Len(t, m.streams, 1, "one stored tag set")
	assert.Equal(t, 6, m.streams[0].cols.len())
	assert.Len(t, db.ms.names, 2, "names as sent: CPU and cpu")
	assert.Len(t, db.ms.sent, 3, "no-tags plus two sent tag sets")
	assert.Len(t, db.ms.stored, 1)
	rec := db.Recorded()
	require.Len(t, rec, 6)
	assert.Equal(t, "CPU", rec[0].Name)
	assert.Equal(t, map[string]string{"Host": "Web1"}, rec[0].Tags)
	assert.Equal(t, map[string]string{"host": "web1"}, rec[1].Tags)
	rec[0].Tags["Host"] = "changed"
	assert.Equal(t, "Web1", db.Recorded()[0].Tags["Host"], "Recorded returns copies")
}

// TestBucketizeMatchesNaive compares bucketize, on every column set, with
// a direct computation over random streams, windows and bucket sizes:
// every sample where samples merge (aggregate), the last of each second
// where a later one replaces an earlier (every other metric).
func TestBucketizeMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 600; round++ {
		replace := round%2 == 0
		st := &stream{}
		var all []Sample
		tm := int64(rng.IntN(100))
		for i := rng.IntN(200); i > 0; i-- {
			if rng.IntN(4) > 0 {
				tm += int64(rng.IntN(30))
			} else {
				tm -= int64(rng.IntN(20)) // out of order now and then
			}
			s := Sample{T: tm, Count: 1, Sum: float64(rng.IntN(100))}
			if rng.IntN(5) == 0 {
				s.Count, s.Sum = int64(1+rng.IntN(4)), float64(rng.IntN(400))
				s.Flags = SentSummary
			}
			s.Finish()
			st.add(&s, replace)
			if replace {
				all = slices.DeleteFunc(all, func(o Sample) bool { return o.T == s.T })
			}
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
			if s.T < start || s.T > end {
				continue
			}
			bt := floorTo(s.T, max(bucket, 1))
			if ref[bt] == nil {
				ref[bt] = &want{}
			}
			ref[bt].count += s.Count
			ref[bt].sum += s.Sum
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
