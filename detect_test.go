package librato

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	detectAlertsOK = `{"query":{"found":3,"length":1,"offset":0,"total":3},"alerts":[{"id":1,"name":"a","conditions":[]}]}`
	detectSpacesOK = `{"query":{"found":2,"length":1,"offset":0,"total":2},"spaces":[{"id":1,"name":"s"}]}`
	detectRefused  = `{"errors":{"request":["Your token does not have permission to perform this action"]}}`
)

// detectServer answers the two probes with the given statuses.
func detectServer(t *testing.T, mt *httpmock.MockTransport, alerts, spaces int) (*famCalls, *famCalls) {
	t.Helper()
	body := func(status int, ok string) string {
		if status == 200 {
			return ok
		}
		return detectRefused
	}
	a := famRespond(t, mt, "GET", "/v1/alerts", alerts, body(alerts, detectAlertsOK), "")
	s := famRespond(t, mt, "GET", "/v1/spaces", spaces, body(spaces, detectSpacesOK), "")
	return a, s
}

func TestDetectRole(t *testing.T) {
	for _, tc := range []struct {
		name           string
		alerts, spaces int
		want           Role
	}{
		{"full access", 200, 200, RoleFullAccess},
		{"record only", 200, 403, RoleRecordOnly},
		{"view only", 403, 200, RoleViewOnly},
	} {
		// Whatever the client declares, even a wrong role, detection reads
		// both probes.
		for _, declared := range []Role{"", RoleFullAccess, RoleRecordOnly, RoleViewOnly} {
			t.Run(tc.name+" declared "+declared.Label(), func(t *testing.T) {
				opts := []Option{WithStrictGuard()}
				if declared != "" {
					opts = append(opts, WithRole(declared))
				}
				c, mt := newMockClient(t, opts...)
				a, s := detectServer(t, mt, tc.alerts, tc.spaces)
				got, err := c.DetectRole(context.Background())
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				ac, sc := a.one(t), s.one(t)
				famAssertRequest(t, ac, "GET", "/v1/alerts")
				famAssertRequest(t, sc, "GET", "/v1/spaces")
				assert.Equal(t, map[string][]string{"length": {"1"}}, ac.Query)
				assert.Equal(t, map[string][]string{"length": {"1"}}, sc.Query)
				assert.Equal(t, 2, mt.GetTotalCallCount())
				assert.Equal(t, declared, c.Role(), "the declared role is not changed")
			})
		}
	}
}

func TestDetectRoleViewOnlyClientIsNotGuarded(t *testing.T) {
	c, mt := newMockClient(t, WithRole(RoleViewOnly))
	// The guard would refuse this client's alerts read...
	err := c.Do(context.Background(), "GET", "/v1/alerts", nil, nil)
	var fe *ErrForbiddenForRole
	require.ErrorAs(t, err, &fe)
	require.Zero(t, mt.GetTotalCallCount())
	// ...but detection sends it.
	detectServer(t, mt, 403, 200)
	got, err := c.DetectRole(context.Background())
	require.NoError(t, err)
	assert.False(t, errors.As(err, &fe))
	assert.Equal(t, RoleViewOnly, got)
	assert.Equal(t, 2, mt.GetTotalCallCount())
}

func TestDetectRoleBothRefused(t *testing.T) {
	c, mt := newMockClient(t, WithRole(RoleRecordOnly))
	detectServer(t, mt, 403, 403)
	got, err := c.DetectRole(context.Background())
	require.Error(t, err)
	assert.Empty(t, got)
	assert.ErrorIs(t, err, ErrRoleUndetected)
	assert.ErrorIs(t, err, ErrForbidden, "the server's 403 is wrapped")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "/v1/spaces", apiErr.Endpoint)
	assert.NotContains(t, err.Error(), testToken)
	assert.Equal(t, 2, mt.GetTotalCallCount())
}

func TestDetectRoleOtherErrors(t *testing.T) {
	t.Run("401 stops at the first probe", func(t *testing.T) {
		c, mt := newMockClient(t)
		_, s := detectServer(t, mt, 401, 200)
		_, err := c.DetectRole(context.Background())
		require.ErrorIs(t, err, ErrUnauthorized)
		assert.NotErrorIs(t, err, ErrRoleUndetected)
		assert.Empty(t, s.all())
	})
	t.Run("401 on the second probe", func(t *testing.T) {
		c, mt := newMockClient(t)
		detectServer(t, mt, 200, 401)
		_, err := c.DetectRole(context.Background())
		require.ErrorIs(t, err, ErrUnauthorized)
	})
	t.Run("rate-limited 403 is not a role", func(t *testing.T) {
		c, mt := newMockClient(t)
		famRespond(t, mt, "GET", "/v1/alerts", 200, detectAlertsOK, "")
		famRespond(t, mt, "GET", "/v1/spaces", 403, `{"errors":{"request":["You have hit the API rate limit"]}}`, "")
		_, err := c.DetectRole(context.Background())
		require.ErrorIs(t, err, ErrRateLimited)
	})
	t.Run("network error", func(t *testing.T) {
		c, mt := newMockClient(t, WithoutRetries())
		mt.RegisterResponder("GET", testBase+"/v1/alerts", httpmock.NewErrorResponder(errors.New("connection reset")))
		_, err := c.DetectRole(context.Background())
		var te *TransportError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, "/v1/alerts", te.Endpoint)
	})
	t.Run("server error", func(t *testing.T) {
		c, mt := newMockClient(t, WithoutRetries())
		mt.RegisterResponder("GET", testBase+"/v1/alerts", httpmock.NewStringResponder(http.StatusServiceUnavailable, `{"errors":{"system":["maintenance"]}}`))
		_, err := c.DetectRole(context.Background())
		require.ErrorIs(t, err, ErrUnavailable)
	})
}

func TestDetectRoleDoesNotUnguardOtherCalls(t *testing.T) {
	c, mt := newMockClient(t, WithRole(RoleViewOnly))
	detectServer(t, mt, 403, 200)
	_, err := c.DetectRole(context.Background())
	require.NoError(t, err)
	_, err = c.Spaces.Create(context.Background(), &Space{Name: "x"})
	require.ErrorIs(t, err, ErrForbidden)
	var fe *ErrForbiddenForRole
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 2, mt.GetTotalCallCount())
}
