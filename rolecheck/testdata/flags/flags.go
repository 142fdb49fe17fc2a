package flags // want package:"calls example.com/fixtures/flags: 5"

// Checked with -role viewer -strict: every call has the flag's role,
// whatever the code says.

import (
	"context"

	librato "github.com/librato-sdk/librato-go"
)

func run(ctx context.Context, c *librato.Client) {
	c.Metrics.List(ctx, nil)
	c.Measurements.Create(ctx, nil) // want `^Measurements\.Create \(POST /v1/measurements\) is not allowed for a View Only token \(role viewer\)`
	c.Jobs.Get(ctx, 1)              // want `^Jobs\.Get \(GET /v1/jobs/:id\) is not allowed for a View Only token \(role viewer\) under a strict guard`
	c.DetectRole(ctx)               // want `^Client\.DetectRole \(unknown: .+\) is not allowed for a View Only token \(role viewer\) under a strict guard`
	a, _ := librato.NewClient("ops@example.com", "token", librato.WithRole(librato.RoleFullAccess))
	a.Spaces.Create(ctx, nil) // want `^Spaces\.Create \(POST /v1/spaces\) is not allowed for a View Only token \(role viewer\)`
}
