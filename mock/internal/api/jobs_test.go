package api

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/librato-sdk/librato-go/internal/endpoints"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serveJSON answers one request on a as the server does once the caller
// is authenticated and allowed: routing by the endpoint table, then
// account.serve.
func serveJSON(t testing.TB, a *Account, method, target, body string) *Encoded {
	t.Helper()
	rt, err := NewRouter(endpoints.All)
	require.NoError(t, err)
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	rq := rt.Route(method, r.URL.EscapedPath())
	require.NotNil(t, rq.Row, "%s %s", method, target)
	return a.Serve(r, rq, time.Now())
}

func TestFinishedJobsArePruned(t *testing.T) {
	a := NewAccount(&Env{JobSteps: 0, MaxBody: 1 << 20}, "jobs@example.com")
	var first, last string
	for i := 0; i < 2500; i++ { // each batch update is a job, finished at once
		e := serveJSON(t, a, "PUT", "/v1/metrics", `{"names":["a"],"display_min":0}`)
		require.Equal(t, 202, e.Rep.Status)
		last = e.Rep.location
		if first == "" {
			first = last
		}
	}
	a.mu.Lock()
	n := len(a.jobs)
	a.mu.Unlock()
	assert.LessOrEqual(t, n, maxJobs)
	assert.GreaterOrEqual(t, n, keptJobs)

	get := func(loc string) int { return serveJSON(t, a, "GET", loc, "").Rep.Status }
	assert.Equal(t, 200, get(last), "the newest job is kept")
	assert.Equal(t, 404, get(first), "the oldest is forgotten")
}

func TestUnfinishedJobsAreKept(t *testing.T) {
	a := NewAccount(&Env{JobSteps: 2}, "jobs@example.com")
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := 0; i < maxJobs+200; i++ {
		a.newJob(time.Now(), func() (map[string][]string, any) { return nil, nil })
	}
	assert.Len(t, a.jobs, maxJobs+200, "a queued job performs its change when read: never dropped")
}
