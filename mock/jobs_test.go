package mock_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

func TestJobTiming(t *testing.T) {
	del := map[string]any{"names": []string{"j.a"}}

	// A short delay: the change is made without a read.
	srv := newServer(t, mock.WithJobDelay(20*time.Millisecond))
	w := newWire(t, srv, librato.RoleFullAccess)
	w.do("PUT", "/v1/metrics/j.a", map[string]any{"type": "gauge"}).requireStatus(t, 201)
	loc := w.do("DELETE", "/v1/metrics", del).requireStatus(t, 202).Header.Get("Location")
	require.True(t, gone(t, w, "j.a", 5*time.Second))
	assert.Equal(t, "complete", w.do("GET", loc, nil).obj(t)["state"], "the job completed without a read")

	// Pinned steps: jobs step only when read, however long it takes.
	srv = newServer(t, mock.WithJobSteps(2))
	assert.Zero(t, srv.JobDelay())
	w = newWire(t, srv, librato.RoleFullAccess)
	w.do("PUT", "/v1/metrics/j.a", map[string]any{"type": "gauge"}).requireStatus(t, 201)
	loc = w.do("DELETE", "/v1/metrics", del).requireStatus(t, 202).Header.Get("Location")
	time.Sleep(3 * mock.DefaultJobDelay / 2)
	assert.True(t, listed(t, w, "j.a"))
	assert.Equal(t, "working", w.do("GET", loc, nil).obj(t)["state"])
	assert.True(t, listed(t, w, "j.a"))
	assert.Equal(t, "complete", w.do("GET", loc, nil).obj(t)["state"])
	assert.False(t, listed(t, w, "j.a"))

	// The control plane sets the delay of the jobs queued after it; Reset
	// restores the option's.
	ctl := newCtl(t, srv)
	var got struct {
		DelayMS float64 `json:"delay_ms"`
		Steps   int     `json:"steps"`
	}
	require.NoError(t, json.Unmarshal(ctl.do("GET", "/mock/jobs", nil).requireStatus(t, 200).Body, &got))
	assert.Equal(t, 0.0, got.DelayMS)
	assert.Equal(t, 2, got.Steps)
	ctl.do("PUT", "/mock/jobs", map[string]any{"delay_ms": 10}).requireStatus(t, 204)
	assert.Equal(t, 10*time.Millisecond, srv.JobDelay())
	w.do("PUT", "/v1/metrics/j.a", map[string]any{"type": "gauge"}).requireStatus(t, 201)
	w.do("DELETE", "/v1/metrics", del).requireStatus(t, 202)
	assert.True(t, gone(t, w, "j.a", 5*time.Second))
	for _, bad := range []map[string]any{{}, {"delay_ms": -1}, {"delay_ms": 10, "steps": 3}, {"delay": 10}} {
		ctl.do("PUT", "/mock/jobs", bad).requestErr(t, 400)
	}
	require.NoError(t, srv.Reset())
	assert.Zero(t, srv.JobDelay(), "Reset restores the options")

	// Snapshots render by themselves too: the image appears unread.
	srv = newServer(t, mock.WithJobDelay(20*time.Millisecond))
	w = newWire(t, srv, librato.RoleFullAccess)
	sid := idOf(t, w.do("POST", "/v1/spaces", map[string]any{"name": "S"}).requireStatus(t, 201).Header.Get("Location"))
	ch := w.do("POST", "/v1/spaces/"+sid+"/charts", map[string]any{"name": "c", "streams": []any{map[string]any{"metric": "cpu"}}}).requireStatus(t, 201).obj(t)
	loc = w.do("POST", "/v1/snapshots", map[string]any{"subject": map[string]any{"chart": map[string]any{"id": ch["id"], "type": "line"}}}).requireStatus(t, 202).Header.Get("Location")
	image := "/mock/snapshots/" + idOf(t, loc) + ".png"
	assert.Equal(t, 404, w.as("", "").raw("GET", image, "", nil).Status, "not rendered yet")
	time.Sleep(40 * time.Millisecond)
	assert.Equal(t, 200, w.as("", "").raw("GET", image, "", nil).Status, "rendered without a read")

	// The two ways of finishing jobs exclude each other at start.
	_, err := mock.New(mock.WithJobSteps(3), mock.WithJobDelay(time.Second))
	assert.Error(t, err)
	_, err = mock.New(mock.WithJobDelay(-time.Second))
	assert.Error(t, err)
	s2, err := mock.New(mock.WithJobSteps(3), mock.WithJobDelay(0))
	require.NoError(t, err)
	s2.Close()
}
