package least // want package:"calls example.com/fixtures/least: 4"

// It reads and detects: its least role is View Only, and the role probe
// is the one call the analyzer cannot classify.

import (
	"context"

	librato "github.com/librato-sdk/librato-go"
)

func read(ctx context.Context, c *librato.Client) {
	c.Spaces.List(ctx, nil)
	for range c.Metrics.All(ctx, nil) {
	}
	c.Sources.List(ctx, nil)
	c.DetectRole(ctx)
}
