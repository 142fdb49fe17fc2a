package integration_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/examples/integration"
	"github.com/librato-sdk/librato-go/mock"
)

// newServer starts a mock API for one test and stops it when the test ends.
func newServer(t *testing.T) *mock.Server {
	t.Helper()
	srv, err := mock.New()
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	return srv
}

// fast keeps retries quick in tests; production code keeps the defaults.
var fast = librato.WithBackoff(time.Millisecond, 10*time.Millisecond)

// clientFor returns a client of a fresh token of role. It talks to the mock
// through its in-process Transport: no socket, same state and hooks.
func clientFor(t *testing.T, srv *mock.Server, role librato.Role, opts ...librato.Option) *librato.Client {
	t.Helper()
	opts = append([]librato.Option{fast, librato.WithHTTPClient(&http.Client{Transport: srv.Transport()})}, opts...)
	c, err := srv.Client(role, opts...)
	require.NoError(t, err)
	return c
}

var deploy = integration.Deploy{
	Service:  "api",
	Version:  "v1.4.2",
	Host:     "ci-runner-7",
	At:       time.Now().Add(-2 * time.Minute).Truncate(time.Second),
	Duration: 42 * time.Second,
}

// TestRecordDeploy runs the code with the role it is meant for, then checks
// both what the mock recorded and what the API answers when read back.
func TestRecordDeploy(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	recorder := clientFor(t, srv, librato.RoleRecordOnly)

	require.NoError(t, integration.RecordDeploy(ctx, recorder, deploy))

	// What the mock accepted, as the client sent it.
	got := srv.Recorded()
	require.Len(t, got, 1)
	assert.Equal(t, integration.DeployMetric, got[0].Name)
	assert.Equal(t, 42.0, got[0].Value)
	assert.Equal(t, deploy.At.Unix(), got[0].Time)
	assert.Equal(t, map[string]string{"service": "api", "version": "v1.4.2"}, got[0].Tags)

	// What a dashboard reading the account sees.
	viewer := clientFor(t, srv, librato.RoleViewOnly)
	page, err := viewer.Measurements.List(ctx, integration.DeployMetric, &librato.MeasurementsQuery{
		StartTime:  deploy.At.Add(-time.Minute),
		EndTime:    deploy.At.Add(time.Minute),
		Resolution: time.Minute,
		Tags:       map[string][]string{"service": {"api"}},
	})
	require.NoError(t, err)
	require.Len(t, page.Series, 1)
	require.Len(t, page.Series[0].Measurements, 1)
	assert.Equal(t, 42.0, page.Series[0].Measurements[0].Value)

	stream, err := viewer.Annotations.Get(ctx, integration.DeployStream, &librato.AnnotationSearch{Count: 10})
	require.NoError(t, err)
	events := stream.SortedEvents()
	require.Len(t, events, 1)
	assert.Equal(t, "api v1.4.2 deployed", events[0].Title)
	assert.Equal(t, "ci-runner-7", events[0].Source)
	assert.Equal(t, deploy.At.Unix(), events[0].StartTime)
	assert.Equal(t, deploy.At.Add(42*time.Second).Unix(), events[0].EndTime)
}

// TestRecordDeploySurvivesA503 injects one 503: the SDK retries the
// measurement (it has an explicit time, so the retry cannot double it) and
// the code succeeds with exactly one measurement recorded.
func TestRecordDeploySurvivesA503(t *testing.T) {
	srv := newServer(t)
	c := clientFor(t, srv, librato.RoleRecordOnly)

	srv.FailNext(1, http.StatusServiceUnavailable)
	before := srv.Requests()
	require.NoError(t, integration.RecordDeploy(context.Background(), c, deploy))

	assert.Equal(t, 1, srv.RecordedCount(), "the retried measurement is recorded once")
	assert.Equal(t, 3, srv.Requests()-before, "the failed attempt, its retry, and the event")
}

// TestRecordDeployReportsAnOutage makes every attempt fail: the code must
// return an error the caller can recognise, and nothing is recorded.
func TestRecordDeployReportsAnOutage(t *testing.T) {
	srv := newServer(t)
	c := clientFor(t, srv, librato.RoleRecordOnly, librato.WithMaxAttempts(2))

	srv.FailNext(2, http.StatusServiceUnavailable)
	err := integration.RecordDeploy(context.Background(), c, deploy)

	require.ErrorIs(t, err, librato.ErrUnavailable)
	var apiErr *librato.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 2, apiErr.Attempts)
	assert.Zero(t, srv.RecordedCount())
}

// TestRecordDeployRefusedToViewer shows the guard: with a View Only token the
// code fails before anything is sent, so a misconfigured deployment is
// caught by the first call rather than by a server-side 403.
func TestRecordDeployRefusedToViewer(t *testing.T) {
	srv := newServer(t)
	c := clientFor(t, srv, librato.RoleViewOnly)

	before := srv.Requests()
	err := integration.RecordDeploy(context.Background(), c, deploy)

	var refused *librato.ErrForbiddenForRole
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, "/v1/measurements", refused.Endpoint)
	assert.Equal(t, before, srv.Requests(), "nothing was sent")
}

// TestLeastPrivilege runs the code with a Full Access token and no declared
// role, as a first version often does, and asks the mock for the least
// privileged role covering every call the token made: the role to issue the
// production token with.
func TestLeastPrivilege(t *testing.T) {
	srv := newServer(t)
	email, token := srv.Credentials(librato.RoleFullAccess)
	c, err := librato.NewClient(email, token, librato.WithBaseURL(srv.URL()), fast)
	require.NoError(t, err)

	require.NoError(t, integration.RecordDeploy(context.Background(), c, deploy))

	for _, p := range srv.Usage(token) {
		t.Logf("used %s %s (allowed to %v)", p.Method, p.Endpoint, p.Roles)
	}
	role, ok := srv.MinimalRole(token)
	require.True(t, ok, "the token made authenticated calls")
	t.Logf("deploy this integration with a %s token", role)
	assert.Equal(t, librato.RoleRecordOnly, role)
}

// ExampleRecordDeploy is the pattern in a few lines: run the code against
// the mock, then inspect what it recorded and the role it needs.
func ExampleRecordDeploy() {
	srv := mock.NewServer()
	defer srv.Close()
	email, token := srv.Credentials(librato.RoleRecordOnly)
	c, err := librato.NewClient(email, token, librato.WithRole(librato.RoleRecordOnly), librato.WithBaseURL(srv.URL()))
	if err != nil {
		fmt.Println(err)
		return
	}

	err = integration.RecordDeploy(context.Background(), c, integration.Deploy{
		Service: "api", Version: "v1.4.2", Host: "ci-runner-7", Duration: 42 * time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	for _, m := range srv.Recorded() {
		fmt.Printf("recorded %s = %g (service=%s)\n", m.Name, m.Value, m.Tags["service"])
	}
	role, _ := srv.MinimalRole(token)
	fmt.Println("least privileged role:", role)
	// Output:
	// recorded deploy.duration_seconds = 42 (service=api)
	// least privileged role: recorder (Record Only)
}
