package mock_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
)

// The mock as real clients found it: each test replays what a client
// sent (testdata/clients, with where each request comes from) and checks
// the answer the client needs. These tests use only what the mock had
// before they were written, so each can be run against an older mock.

// statsdStoplist is how statsd-librato-backend 2.0.16 (lib/librato.js,
// postPayload) finds, in a 4xx answer's errors.params.type, the metrics
// to stop sending.
var statsdStoplist = regexp.MustCompile(`'([^']+)' is a \S+, but was submitted as different type`)

// stoplisted is what the backend would stop sending after this answer.
func stoplisted(t *testing.T, body []byte) []string {
	t.Helper()
	var eb struct {
		Errors struct {
			Params map[string][]string `json:"params"`
		} `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(body, &eb), "%s", body)
	var out []string
	for _, msg := range eb.Errors.Params["type"] {
		if m := statsdStoplist.FindStringSubmatch(msg); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

// statsd with countersAsGauges false sends app.hits as a tagged gauge and
// as a legacy counter: the legacy payload is a type conflict, answered in
// the shape the backend parses, so it stoplists app.hits instead of
// having the whole payload, gauges included, refused on every flush.
func TestTypeConflictsAreAnsweredAsStatsdParsesThem(t *testing.T) {
	reqs := loadCaptured(t, "statsd-0.9.0-librato-backend-2.0.16-legacy-counters.jsonl")
	require.Len(t, reqs, 2)
	srv := newServer(t)
	email, token := srv.Credentials(librato.RoleRecordOnly)

	code, body := send(t, srv.URL(), email, token, reqs[0])
	require.Equal(t, http.StatusAccepted, code, "%s", body)
	code, body = send(t, srv.URL(), email, token, reqs[1])
	require.Equal(t, http.StatusBadRequest, code, "%s", body)
	assert.Equal(t, []string{"app.hits"}, stoplisted(t, body), "%s", body)
	assert.Equal(t, 4, srv.RecordedCount(), "the legacy payload is all or nothing: its gauges are refused too")

	// The mirror case, on the tagged route: a counter sent as a gauge.
	w := newWire(t, srv, librato.RoleRecordOnly)
	w.raw("POST", "/v1/metrics", "application/json", []byte(`{"counters":[{"name":"c.total","value":5},{"name":"c.other","value":1}]}`)).requireStatus(t, 200)
	r := w.raw("POST", "/v1/measurements", "application/json",
		[]byte(`{"measurements":[{"name":"c.total","value":6},{"name":"fine","value":1},{"name":"c.other","value":2},{"name":"c.total","value":7}]}`))
	r.requireStatus(t, http.StatusBadRequest)
	assert.Equal(t, []string{"c.total", "c.other"}, stoplisted(t, r.Body), "every metric in conflict, once: %s", r.Body)
	params, _, _ := r.errs(t)
	assert.Equal(t, []string{"'c.total' is a counter, but was submitted as different type", "'c.other' is a counter, but was submitted as different type"}, params["type"])
	// The generic reader (an escape in a name) answers the same.
	r = w.raw("POST", "/v1/measurements", "application/json", []byte(`{"measurements":[{"name":"c.tot\u0061l","value":6}]}`))
	r.requireStatus(t, http.StatusBadRequest)
	assert.Equal(t, []string{"c.total"}, stoplisted(t, r.Body))
	assert.Equal(t, 6, srv.RecordedCount(), "nothing of a refused payload is stored")
}

// appoptics-api-go's BatchPersister sends "time":0 at the top of every
// batch: no time, so each measurement has its own or the time of receipt.
func TestAppOpticsBatchPersisterTimeZero(t *testing.T) {
	reqs := loadCaptured(t, "appoptics-api-go-0.6.0.jsonl")
	srv := newServer(t)
	email, token := srv.Credentials(librato.RoleRecordOnly)
	from := time.Now().Unix()
	code, body := send(t, srv.URL(), email, token, reqs[0])
	require.Equal(t, http.StatusAccepted, code, "%s", body)
	to := time.Now().Unix()
	rec := srv.Recorded()
	require.Len(t, rec, 2)
	assert.Equal(t, "agent.cpu", rec[0].Name)
	assert.GreaterOrEqual(t, rec[0].Time, from, "the time of receipt")
	assert.LessOrEqual(t, rec[0].Time, to)
	assert.Equal(t, int64(1796332800), rec[1].Time, "a measurement's own time")
}

// appoptics-api-go's legacy client authenticates with the token as user
// name and an empty password.
func TestAppOpticsLegacyClientAuth(t *testing.T) {
	reqs := loadCaptured(t, "appoptics-api-go-0.6.0.jsonl")
	require.Equal(t, "{token}:", reqs[1].Auth)
	srv := newServer(t)
	email, token := srv.Credentials(librato.RoleRecordOnly)
	code, body := send(t, srv.URL(), email, token, reqs[1])
	require.Equal(t, http.StatusAccepted, code, "%s", body)
	rec := srv.Recorded()
	require.Len(t, rec, 1)
	assert.Equal(t, "collector.flushes", rec[0].Name)
	assert.Equal(t, map[string]string{"host": "web-1"}, rec[0].Tags)
	j := srv.Journal()
	assert.Equal(t, "recorder", j[len(j)-1].Role)
}

// A Node program sends Date.now() / 1000 as it is: annotation times,
// measurement times and measure_time with a fraction, kept to the second.
func TestFractionalEpochSeconds(t *testing.T) {
	reqs := loadCaptured(t, "node-fractional-times.jsonl")
	srv := newServer(t)
	email, token := srv.Credentials(librato.RoleFullAccess)
	for _, r := range reqs {
		code, body := send(t, srv.URL(), email, token, r)
		require.Less(t, code, 300, "%s %s: %s", r.Method, r.URL, body)
	}
	var ann struct {
		StartTime float64 `json:"start_time"`
		EndTime   float64 `json:"end_time"`
	}
	require.NoError(t, json.Unmarshal([]byte(reqs[0].Body), &ann))
	require.NotEqual(t, ann.StartTime, float64(int64(ann.StartTime)), "the capture has fractions")
	events := srv.DefaultAccount().Annotations("node.deploys")
	require.Len(t, events, 1)
	assert.Equal(t, int64(ann.StartTime), events[0].StartTime, "truncated to the second")
	assert.Equal(t, int64(ann.EndTime), events[0].EndTime)

	var m struct {
		Measurements []struct {
			Time float64 `json:"time"`
		} `json:"measurements"`
	}
	require.NoError(t, json.Unmarshal([]byte(reqs[1].Body), &m))
	rec := srv.Recorded()
	require.Len(t, rec, 2)
	assert.Equal(t, int64(m.Measurements[0].Time), rec[0].Time)
	assert.Equal(t, int64(m.Measurements[0].Time), rec[1].Time, "measure_time too")
	assert.Equal(t, map[string]string{"source": "a"}, rec[1].Tags)

	// A read's window takes the same fractional seconds.
	w := newWire(t, srv, librato.RoleViewOnly)
	at := strconv.FormatFloat(m.Measurements[0].Time, 'f', -1, 64)
	q := url.Values{"start_time": {at}, "end_time": {at}, "resolution": {"1"}}
	page := w.do("GET", "/v1/measurements/node.frac?"+q.Encode(), nil).requireStatus(t, 200).obj(t)
	require.Len(t, page["series"], 1, "%v", page)
}

// listed reports whether GET /v1/metrics lists name.
func listed(t *testing.T, w *wire, name string) bool {
	t.Helper()
	for _, m := range w.do("GET", "/v1/metrics?name="+name, nil).requireStatus(t, 200).obj(t)["metrics"].([]any) {
		if m.(map[string]any)["name"] == name {
			return true
		}
	}
	return false
}

// gone waits up to wait for name to leave the metrics list.
func gone(t *testing.T, w *wire, name string, wait time.Duration) bool {
	t.Helper()
	for deadline := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
		if !listed(t, w, name) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// python-librato's delete of a list of names queues a job and never
// reads it; on the default mock the metrics go all the same, as the API's
// workers delete them.
func TestUnpolledJobsFinishByThemselves(t *testing.T) {
	reqs := loadCaptured(t, "python-librato-3.1.0.jsonl")
	srv := newServer(t)
	w := newWire(t, srv, librato.RoleFullAccess)
	for _, n := range []string{"py.requests", "py.latency", "py.kept"} {
		w.do("PUT", "/v1/metrics/"+n, map[string]any{"type": "gauge"}).requireStatus(t, 201)
	}
	email, token := srv.Credentials(librato.RoleFullAccess)
	require.Len(t, reqs, 1)
	assert.Equal(t, []int{202}, replay(t, srv.URL(), email, token, reqs))

	assert.True(t, gone(t, w, "py.requests", 5*time.Second), "a job nobody reads still completes")
	assert.False(t, listed(t, w, "py.latency"))
	assert.True(t, listed(t, w, "py.kept"))
	for _, e := range srv.Journal() {
		assert.NotEqual(t, "/v1/jobs/:id", e.Endpoint, "nobody read the job")
	}
}
