//librato:role recorder
package pkgdirective

import librato "github.com/librato-sdk/librato-go"

func use(c *librato.Client) {
	c.Spaces.List(ctx, nil) // want `^Spaces\.List \(GET /v1/spaces\) is not allowed for a Record Only token \(role recorder\)`
	c.Measurements.Create(ctx, nil)
}

// override gives its own role.
//
//librato:role View Only
func override(c *librato.Client) {
	c.Measurements.Create(ctx, nil) // want `^Measurements\.Create \(POST /v1/measurements\) is not allowed for a View Only token`
}

func codeWins() {
	c, _ := librato.NewClient("ops@example.com", "token", librato.WithRole(librato.RoleFullAccess))
	c.Spaces.Create(ctx, nil)
}
