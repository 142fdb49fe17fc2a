package librato_test

import (
	"context"
	"fmt"
	"time"

	librato "github.com/librato-sdk/librato-go"
)

// A source-based agent submits gauges and counters with a source, and
// reads them back per source. Give the batch a MeasureTime: the call is
// retried, and an explicit time makes a retry rewrite the same points.
func ExampleLegacyService_Create() {
	c, err := librato.NewClient("ops@example.com", "token", librato.WithRole(librato.RoleRecordOnly))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	now := time.Now().Truncate(time.Minute)
	err = c.Legacy.Create(ctx, &librato.LegacyBatch{
		Source:      "web-1",
		MeasureTime: now.Unix(),
		Gauges: []librato.LegacyMeasurement{
			{Name: "app.load", Value: 0.42},
			// A summary of the minute's 3 requests, as statsd sends timers.
			{Name: "app.request.time", Count: 3, Sum: librato.Ptr(0.6), Min: librato.Ptr(0.1), Max: librato.Ptr(0.3), SumSquares: librato.Ptr(0.14)},
		},
		Counters: []librato.LegacyMeasurement{{Name: "app.requests", Value: 123456}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for s, err := range c.Legacy.All(ctx, "app.load", &librato.LegacyQuery{StartTime: now.Add(-time.Hour), Resolution: time.Minute}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(s.Source, len(s.Points))
	}
}
