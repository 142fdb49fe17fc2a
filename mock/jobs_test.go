package mock

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
func serveJSON(t testing.TB, a *account, method, target, body string) *encoded {
	t.Helper()
	rt, err := newRouter(endpoints.All)
	require.NoError(t, err)
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	rq := rt.route(method, r.URL.EscapedPath())
	require.NotNil(t, rq.row, "%s %s", method, target)
	return a.serve(r, rq, time.Now())
}

func TestFinishedJobsArePruned(t *testing.T) {
	a := newAccount(&env{jobSteps: 0, maxBody: 1 << 20}, "jobs@example.com")
	var first, last string
	for i := 0; i < 2500; i++ { // each batch update is a job, finished at once
		e := serveJSON(t, a, "PUT", "/v1/metrics", `{"names":["a"],"display_min":0}`)
		require.Equal(t, 202, e.rep.status)
		last = e.rep.location
		if first == "" {
			first = last
		}
	}
	a.mu.Lock()
	n := len(a.jobs)
	a.mu.Unlock()
	assert.LessOrEqual(t, n, maxJobs)
	assert.GreaterOrEqual(t, n, keptJobs)

	get := func(loc string) int { return serveJSON(t, a, "GET", loc, "").rep.status }
	assert.Equal(t, 200, get(last), "the newest job is kept")
	assert.Equal(t, 404, get(first), "the oldest is forgotten")
}

func TestUnfinishedJobsAreKept(t *testing.T) {
	a := newAccount(&env{jobSteps: 2}, "jobs@example.com")
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := 0; i < maxJobs+200; i++ {
		a.newJob(func() (map[string][]string, any) { return nil, nil })
	}
	assert.Len(t, a.jobs, maxJobs+200, "a queued job performs its change when read: never dropped")
}
