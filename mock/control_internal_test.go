package mock

import (
	"net/http"
	"strings"
	"testing"

	librato "github.com/librato-sdk/librato-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFinishedJobsArePruned(t *testing.T) {
	srv, err := New(WithJobSteps(0))
	require.NoError(t, err)
	defer srv.Close()
	email, token := srv.Credentials(librato.RoleFullAccess)
	in := &http.Client{Transport: srv.Transport()}
	var first, last string
	for i := 0; i < 2500; i++ { // each batch update is a job, finished at once
		req, _ := http.NewRequest("PUT", "http://x/v1/metrics", strings.NewReader(`{"names":["a"],"display_min":0}`))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(email, token)
		res, err := in.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, 202, res.StatusCode)
		last = res.Header.Get("Location")
		if first == "" {
			first = last
		}
	}
	a := srv.DefaultAccount()
	a.mu.Lock()
	n := len(a.jobs)
	a.mu.Unlock()
	assert.LessOrEqual(t, n, maxJobs)
	assert.GreaterOrEqual(t, n, keptJobs)

	get := func(loc string) int {
		req, _ := http.NewRequest("GET", "http://x"+loc, nil)
		req.SetBasicAuth(email, token)
		res, err := in.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	assert.Equal(t, 200, get(last), "the newest job is kept")
	assert.Equal(t, 404, get(first), "the oldest is forgotten")
}

func TestUnfinishedJobsAreKept(t *testing.T) {
	srv, err := New(WithJobSteps(2))
	require.NoError(t, err)
	defer srv.Close()
	a := srv.DefaultAccount()
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := 0; i < maxJobs+200; i++ {
		a.newJob(func() (map[string][]string, any) { return nil, nil })
	}
	assert.Len(t, a.jobs, maxJobs+200, "a queued job performs its change when read: never dropped")
}
