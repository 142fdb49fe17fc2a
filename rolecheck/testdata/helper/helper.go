package helper // want package:"calls example.com/fixtures/helper: 5"

// A user's own package of SDK helpers: their facts say what they need,
// derived through the SDK's code.

import (
	"context"

	librato "github.com/librato-sdk/librato-go"
)

// Provision creates a space, reads it back and records a measurement.
func Provision(ctx context.Context, c *librato.Client) error { // want Provision:"needs POST /v1/measurements, POST /v1/spaces, GET /v1/spaces/:id"
	sp, err := c.Spaces.Create(ctx, &librato.Space{Name: "p"})
	if err != nil {
		return err
	}
	if _, err := c.Spaces.Get(ctx, sp.ID); err != nil {
		return err
	}
	return record(ctx, c)
}

func record(ctx context.Context, c *librato.Client) error {
	_, err := c.Measurements.Create(ctx, &librato.MeasurementBatch{})
	return err
}

// Probe asks the server for the token's role.
func Probe(ctx context.Context, c *librato.Client) (librato.Role, error) { // want Probe:"needs no row; unknown: Client\\.DetectRole: "
	return c.DetectRole(ctx)
}

// Deployer announces deploys.
type Deployer struct{ C *librato.Client }

// Announce adds a deploy event.
func (d *Deployer) Announce(ctx context.Context) error { // want Announce:"needs POST /v1/annotations/:name$"
	_, err := d.C.Annotations.CreateEvent(ctx, "deploys", &librato.AnnotationEvent{Title: "deploy"})
	return err
}

// Reader is what Announce's callers may be handed instead: no SDK call.
func Reader() string { return "no calls" }
