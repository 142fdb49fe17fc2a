// Package integration shows how to test your own code that uses the SDK
// against the bundled mock API (package mock), offline and in milliseconds.
//
// RecordDeploy stands in for your application code: it reports a deployment
// to Librato. The tests beside it (integration_test.go) are the part to copy:
// they start a mock server, get a client of a role, run the code, assert on
// what the mock recorded and on what the API reads back, inject a 503 to show
// the code survives it, and ask the mock which role the code really needs,
// so its production token can be issued with least privilege.
//
// Run them with:
//
//	go test ./examples/integration -v
package integration

import (
	"context"
	"fmt"
	"time"

	librato "github.com/librato-sdk/librato-go"
)

// Deploy is one deployment to report.
type Deploy struct {
	Service  string        // the service deployed, e.g. "api"
	Version  string        // e.g. "v1.4.2"
	Host     string        // where the deploy ran; the annotation's source
	At       time.Time     // when it started; zero means now
	Duration time.Duration // how long it took
}

// Names RecordDeploy reports under.
const (
	DeployMetric = "deploy.duration_seconds" // one measurement per deploy, tagged service and version
	DeployStream = "deploys"                 // the annotation stream of deploy events
)

// RecordDeploy reports d: first a measurement of how long the deploy took,
// then an event in the deploys annotation stream spanning it.
//
// The measurement goes first on purpose: it carries an explicit time, so the
// SDK may safely retry it on a 5xx or a network error, whereas creating an
// event is a POST the SDK does not repeat (a retry could create it twice).
// An error from either step is returned wrapped; on an event failure the
// measurement is already recorded.
func RecordDeploy(ctx context.Context, c *librato.Client, d Deploy) error {
	at := d.At
	if at.IsZero() {
		at = time.Now()
	}
	_, err := c.Measurements.Create(ctx, &librato.MeasurementBatch{
		Measurements: []librato.Measurement{{
			Name:  DeployMetric,
			Value: d.Duration.Seconds(),
			Time:  at.Unix(),
			Tags:  map[string]string{"service": d.Service, "version": d.Version},
		}},
	})
	if err != nil {
		return fmt.Errorf("recording the deploy of %s %s: %w", d.Service, d.Version, err)
	}
	_, err = c.Annotations.CreateEvent(ctx, DeployStream, &librato.AnnotationEvent{
		Title:       fmt.Sprintf("%s %s deployed", d.Service, d.Version),
		Source:      d.Host,
		Description: fmt.Sprintf("took %v", d.Duration),
		StartTime:   at.Unix(),
		EndTime:     at.Add(d.Duration).Unix(),
	})
	if err != nil {
		return fmt.Errorf("annotating the deploy of %s %s: %w", d.Service, d.Version, err)
	}
	return nil
}
