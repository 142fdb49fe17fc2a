package usehelper // want package:"calls example.com/fixtures/helper: 5, example.com/fixtures/usehelper: 3"

import (
	"context"

	librato "github.com/librato-sdk/librato-go"

	"example.com/fixtures/helper"
)

func run(ctx context.Context) {
	c, _ := librato.NewClient("ops@example.com", "token", librato.WithRole(librato.RoleRecordOnly))
	helper.Provision(ctx, c) // want `^helper\.Provision \(POST /v1/spaces\) is not allowed for a Record Only token \(role recorder\)` `^helper\.Provision \(GET /v1/spaces/:id\) is not allowed for a Record Only token`
	helper.Probe(ctx, c)
	d := &helper.Deployer{C: c}
	d.Announce(ctx)
	_ = helper.Reader()
}
