package librato

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// The two probes DetectRole reads: alerts are open to Full Access and
// Record Only, spaces to Full Access and View Only, so together they tell
// the three roles apart.
var (
	epDetectAlerts = newEndpoint("GET", "/v1/alerts")
	epDetectSpaces = newEndpoint("GET", "/v1/spaces")
)

// ErrRoleUndetected is wrapped by DetectRole's error when the server
// refused both probes, which matches none of the three roles.
var ErrRoleUndetected = errors.New("librato: the token's role could not be detected")

// DetectRole finds the role the client's token really has by asking the
// server, with two one-item reads: GET /v1/alerts (Full Access, Record
// Only) and GET /v1/spaces (Full Access, View Only). It works whatever
// role the client declared, since those two reads skip the guard. A 403 on
// both is an error wrapping ErrRoleUndetected and the last *APIError; any other failure (401 for a
// bad or inactive token, a rate-limited 403, a network error) is returned
// as is. The client's declared role is not changed: build a new client
// with WithRole(role) to use the answer.
//
//librato:dynamic it probes endpoints whatever the role and expects some to be refused
func (c *Client) DetectRole(ctx context.Context) (Role, error) {
	alertsRefused, err := c.probe(ctx, epDetectAlerts)
	if err != nil {
		return "", err
	}
	spacesRefused, err := c.probe(ctx, epDetectSpaces)
	if err != nil {
		return "", err
	}
	switch {
	case alertsRefused == nil && spacesRefused == nil:
		return RoleFullAccess, nil
	case alertsRefused == nil:
		return RoleRecordOnly, nil
	case spacesRefused == nil:
		return RoleViewOnly, nil
	}
	return "", fmt.Errorf("%w: the server refused both GET /v1/alerts and GET /v1/spaces, which no role should be: %w", ErrRoleUndetected, spacesRefused)
}

// probe reads one item of ep unguarded. It returns the server's 403 as
// refused when the refusal is by role, and any other failure as err; both
// are nil on 2xx.
func (c *Client) probe(ctx context.Context, ep *endpoint) (refused *APIError, err error) {
	_, err = c.call(ctx, &request{ep: ep, opts: &ListOptions{Length: 1}, noGuard: true})
	if err == nil {
		return nil, nil
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusForbidden && !errors.Is(apiErr, ErrRateLimited) {
		return apiErr, nil
	}
	return nil, err
}
