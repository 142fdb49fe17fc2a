package api

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock/internal/tsdb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ingestRun is what one POST /v1/measurements body did to a fresh account.
type ingestRun struct {
	status   int
	body     string
	recorded string // Recorded(), JSON-encoded (so -0 and 0 differ)
	state    string // metrics and their streams as the reads see them, JSON-encoded
	notes    string // what the journal would note, sorted
}

// runIngest hands body to the fast route (with its fallback) or to the
// generic path alone, on a fresh account, at a fixed clock.
func runIngest(t testing.TB, e *Env, body []byte, fast bool) ingestRun {
	t.Helper()
	a := NewAccount(e, "diff@example.com")
	r := &http.Request{Method: "POST", URL: &url.URL{Path: "/v1/measurements"}, Header: http.Header{"User-Agent": {"diff-test"}}}
	c := &call{a: a, r: r, q: url.Values{}, body: map[string]any{}, raw: body, now: time.Unix(1_700_000_000, 0)}
	a.mu.Lock()
	var rep *Reply
	if fast {
		rep = c.measurementsIngest()
	} else {
		rep = c.measurementsGeneric()
	}
	enc := rep.Encode()
	// The stored state, as the reads see it: each metric, and each
	// stream's points second by second under every summary function,
	// bit for bit (so -0 and 0 differ).
	state := map[string]any{}
	for m := range a.db.Metrics() {
		state[m.Name] = m.JSON()
	}
	for _, fn := range []string{"sum", "count", "min", "max", "last", "stddev"} {
		var rows []string
		for _, st := range a.db.ReadStreams("*", nil, allTime, 1, fn) {
			pts := make([]string, len(st.Pts))
			for i, p := range st.Pts {
				pts[i] = fmt.Sprintf("%d:%x", p.T, math.Float64bits(p.V))
			}
			rows = append(rows, fmt.Sprintf("%s %v %v", st.Metric.Name, st.Tags, pts))
		}
		state[fn] = rows
	}
	a.mu.Unlock()
	rec, err := json.Marshal(a.Recorded())
	require.NoError(t, err)
	st, err := json.Marshal(state)
	require.NoError(t, err)
	slices.Sort(c.notes)
	return ingestRun{status: rep.Status, body: string(enc), recorded: string(rec), state: string(st), notes: strings.Join(c.notes, "; ")}
}

// fastTakes reports whether the one-pass reader accepts body by itself.
func fastTakes(body []byte) bool {
	_, ok := tsdb.NewStore().Ingest(body, 1_700_000_000, "")
	return ok
}

// ingestCorpus holds SDK-encoded bodies, hand-written valid bodies the
// fast path must take, and the invalid bodies of the validation tests.
func ingestCorpus(t testing.TB) (fastBodies, otherBodies []string) {
	batches := []librato.MeasurementBatch{
		{Measurements: []librato.Measurement{{Name: "cpu", Value: 42}}},
		{Tags: map[string]string{"region": "us-east", "host": "Web1"}, Time: 1_700_000_400, Period: 60, Measurements: []librato.Measurement{
			{Name: "cpu", Value: 1.5},
			{Name: "cpu", Value: -3, Tags: map[string]string{"host": "db1"}, Time: 1_700_000_410},
			{Name: "CPU", Value: 5e-140},
			{Name: "lat", Count: 4, Sum: librato.Ptr(10.0), Min: librato.Ptr(1.0), Max: librato.Ptr(4.0), Last: librato.Ptr(2.0), StdDev: librato.Ptr(1.25)},
			{Name: "lat", Count: 2, Sum: librato.Ptr(3.0)},
			{Name: "named", Value: 1e126, DisplayName: "Named one", Description: "what it is", Period: 30},
		}},
		{Measurements: []librato.Measurement{{Name: "a.b:c-d_e", Value: 0.1, Last: librato.Ptr(0.2), StdDev: librato.Ptr(0.0)}}},
	}
	for _, b := range batches {
		raw, err := json.Marshal(&b)
		require.NoError(t, err)
		fastBodies = append(fastBodies, string(raw))
	}
	fastBodies = append(fastBodies,
		`{"measurements":[{"name":"x","value":1,"tags":{}}],"tags":{"h":"a"}}`,
		`{"measurements":[{"name":"x","value":1,"tags":null}],"tags":{}}`,
		`{"measurements":[{"name":"x","value":1,"sum":2,"min":-1,"extra":{"a":[1,"b\"",null,true,false,{}]}}]}`,
		` {"time":1700000000,"measurements":[{"name":"x","value":-0,"count":null,"attributes":null}]} `,
		`{"measurements":[{"name":"x","count":3,"sum":1e3,"max":2.5e1,"min":0.0000001}]}`,
		`{"measurements":[{"sum":2,"value":1,"name":"x"}]}`,
		`{"measurements":[{"name":"x","value":-1e126}]}`,
		`{"measurements":[{"name":"x","value":123456789012345678901234567890}]}`,
		`{"measurements":[{"name":"x","value":1,"time":1.7e9,"period":6e1}]}`,
		`{"measurements":[{"name":"x","value":1,"tags":{"Host":"A","host":"b","ho.st":"c d/e?f"}}]}`,
		// Times: a fraction is truncated, a top-level 0 is no time
		// (appoptics-api-go's BatchPersister), the range ends in 2099.
		`{"measurements":[{"name":"a","value":1,"time":1796322198.464}]}`,
		`{"time":1796322198.9,"measurements":[{"name":"a","value":1}]}`,
		`{"time":0,"measurements":[{"name":"a","value":1}]}`,
		`{"time":0,"measurements":[{"name":"a","value":1,"time":1700000000}]}`,
		`{"measurements":[{"name":"a","value":1,"time":4102444799.99}]}`,
	)
	otherBodies = []string{
		``, `   `, `[]`, `null`, `{`, `{}`, `{"measurements":[]}`, `{"measurements":null}`, `{"measurements":{}}`,
		`{"measurements":[{"value":1}]}`, `{"measurements":[{"name":"bad name","value":1}]}`,
		`{"measurements":[{"name":"` + strings.Repeat("a", 256) + `","value":1}]}`,
		`{"measurements":[{"name":"a"}]}`, `{"measurements":[{"name":"a","value":"x"}]}`,
		`{"measurements":[{"name":"a","value":"5"}]}`, `{"measurements":[{"name":"a","value":""}]}`,
		`{"measurements":[{"name":"a","value":2e126}]}`, `{"measurements":[{"name":"a","value":-1e300}]}`,
		`{"measurements":[{"name":"a","value":1e400}]}`, `{"measurements":[{"name":"a","count":3}]}`,
		`{"measurements":[{"name":"a","count":3,"sum":1,"value":1}]}`, `{"measurements":[{"name":"a","count":0,"sum":1}]}`,
		`{"measurements":[{"name":"a","count":1.5,"sum":1}]}`, `{"measurements":[{"name":"a","value":1,"tags":{"bad tag!":"x"}}]}`,
		`{"measurements":[{"name":"a","value":1,"tags":{"host":"bad|value"}}]}`, `{"measurements":[{"name":"a","value":1,"tags":{"host":""}}]}`,
		`{"measurements":[{"name":"a","value":1,"tags":{"host":5}}]}`, `{"measurements":[{"name":"a","value":1,"time":-5}]}`,
		`{"measurements":[{"name":"a","value":1,"attributes":{"color":"green"}}]}`,
		`{"measurements":[{"name":"a","value":1,"attributes":{"color":"#00ff00"},"type":"gauge"}]}`,
		`{"measurements":[{"name":"ok","value":1},{"name":"b!","value":1}]}`,
		`{"measurements":[{"name":"a","value":1,"value":2}]}`, `{"measurements":[{"name":"a","value":1}],"measurements":[]}`,
		`{"measurements":[{"name":"a\u0062","value":1}]}`, `{"measurements":[{"name":123,"value":1}]}`,
		`{"measurements":[{"name":"a","value":1,"tags":{"h":"x","h":"y"}}]}`, `{"measurements":[{"name":"a","value":1}]} x`,
		`{"measurements":[{"name":"a","value":01}]}`, `{"measurements":[{"name":"a","value":1.}]}`,
		`{"measurements":[{"name":"a","value":1,"time":"1700000000"}]}`, `{"measurements":[{"name":"a","value":1,"period":0}]}`,
		`{"tags":{"a":"b"},"tags":{"c":"d"},"measurements":[{"name":"a","value":1}]}`,
		`{"measurements":[{"name":"a","value":1,"time":9007199254740993}]}`, `{"measurements":[{"name":"a","value":1,"time":4102444800}]}`,
		`{"measurements":[{"name":"a","value":1,"time":1700000000000}]}`, `{"time":4102444800,"measurements":[{"name":"a","value":1}]}`,
		`{"measurements":[{"name":"a","value":1,"time":0}]}`, `{"measurements":[{"name":"a","value":1,"time":0.5}]}`,
		`{"time":-1,"measurements":[{"name":"a","value":1}]}`, `{"measurements":[{"name":"a","value":1,"time":1e400}]}`,
		`{"measurements":[{"name":"a","value":1,"display_name":"caf\u00e9"}]}`, `{"measurements":[{"name":"a","value":1,"description":5}]}`,
		`{"measurements":[{"name":"a","value":1,"x":"\q"}]}`, `{"measurements":[{"name":"a","value":1,"x":[1,]}]}`,
		`{"measurements":[{"name":"a","value":true}]}`, `{"measurements":[{"name":"a","value":null}]}`,
		`{"measurements":[{"name":"a","value":1.7976931348623157e308}]}`, `{"measurements":[1,2]}`,
	}
	return fastBodies, otherBodies
}

// FuzzIngestDifferential feeds the same body to the fast ingest route and
// to the generic path: status, answer body, Recorded and the stored
// state must be identical, whichever path the fast route took.
func FuzzIngestDifferential(f *testing.F) {
	fastBodies, otherBodies := ingestCorpus(f)
	for _, b := range append(fastBodies, otherBodies...) {
		f.Add([]byte(b))
	}
	e := &Env{MaxBody: 3 << 20}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast := runIngest(t, e, body, true)
		gen := runIngest(t, e, body, false)
		require.Equal(t, gen, fast, "body %q (fast path took it: %v)", body, fastTakes(body))
	})
}

// TestIngestFastPathTakesValidBodies checks the corpus's split: what the
// SDK sends goes through the fast decoder, what is invalid does not (and
// gets the generic path's answer).
func TestIngestFastPathTakesValidBodies(t *testing.T) {
	fastBodies, otherBodies := ingestCorpus(t)
	e := &Env{MaxBody: 3 << 20}
	for _, b := range fastBodies {
		assert.True(t, fastTakes([]byte(b)), "fast path refused %s", b)
		assert.Equal(t, 202, runIngest(t, e, []byte(b), true).status, b)
	}
	for _, b := range otherBodies {
		assert.False(t, fastTakes([]byte(b)), "fast path took %s", b)
	}
}
