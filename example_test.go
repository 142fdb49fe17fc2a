package librato_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// Build one client per token, declaring the role the token was issued
// with, and share it. Here the token comes from the bundled mock API;
// against Librato, leave out WithBaseURL.
func ExampleNewClient() {
	srv := mock.NewServer()
	defer srv.Close()
	email, token := srv.Credentials(librato.RoleViewOnly)

	c, err := librato.NewClient(email, token,
		librato.WithRole(librato.RoleViewOnly),
		librato.WithBaseURL(srv.URL()),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("declared:", c.Role())

	// DetectRole asks the server which role the token really has.
	detected, err := c.DetectRole(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("detected:", detected)

	// Credentials never travel in clear text to a remote host.
	_, err = librato.NewClient(email, token, librato.WithBaseURL("http://metrics.example.com"))
	fmt.Println("plain http refused:", err != nil)
	// Output:
	// declared: viewer (View Only)
	// detected: viewer (View Only)
	// plain http refused: true
}

// A client declared Record Only refuses, before anything is built or sent,
// a call that role may not make.
func ExampleErrForbiddenForRole() {
	srv := mock.NewServer()
	defer srv.Close()
	c, err := srv.Client(librato.RoleRecordOnly)
	if err != nil {
		fmt.Println(err)
		return
	}

	before := srv.Requests()
	err = c.Metrics.Delete(context.Background(), "cpu")

	var refused *librato.ErrForbiddenForRole
	if errors.As(err, &refused) {
		fmt.Println("role:", refused.Role)
		fmt.Println("call:", refused.Method, refused.Endpoint)
		fmt.Println("allowed:", refused.Allowed)
	}
	fmt.Println("is ErrForbidden:", errors.Is(err, librato.ErrForbidden))
	fmt.Println("requests sent:", srv.Requests()-before)
	// Output:
	// role: recorder (Record Only)
	// call: DELETE /v1/metrics/:name
	// allowed: [admin (Full Access)]
	// is ErrForbidden: true
	// requests sent: 0
}

// Submit measurements with explicit times, so the SDK may retry the
// request without recording a point twice. Top-level tags apply to the
// measurements that have none of their own.
func ExampleMeasurementsService_Create() {
	srv := mock.NewServer()
	defer srv.Close()
	c, err := srv.Client(librato.RoleRecordOnly)
	if err != nil {
		fmt.Println(err)
		return
	}

	at := time.Now().Add(-time.Minute).Unix()
	summary, err := c.Measurements.Create(context.Background(), &librato.MeasurementBatch{
		Tags: map[string]string{"region": "us-east-1"},
		Time: at,
		Measurements: []librato.Measurement{
			{Name: "cpu", Value: 41.5, Tags: map[string]string{"host": "web-1"}},
			{Name: "cpu", Value: 63.2, Tags: map[string]string{"host": "web-2"}},
			{Name: "queue.depth", Value: 7},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("accepted %d of %d\n", summary.Accepted, summary.Total)
	for _, m := range srv.Recorded() {
		fmt.Println(m.Name, m.Value, m.Tags)
	}

	// Input the API would reject is refused before sending.
	_, err = c.Measurements.Create(context.Background(), &librato.MeasurementBatch{
		Measurements: []librato.Measurement{{Name: "cpu load", Value: 1}},
	})
	var invalid *librato.ValidationError
	fmt.Println("invalid name refused:", errors.As(err, &invalid))
	// Output:
	// accepted 3 of 3
	// cpu 41.5 map[host:web-1]
	// cpu 63.2 map[host:web-2]
	// queue.depth 7 map[region:us-east-1]
	// invalid name refused: true
}

// An agent adds measurements from any goroutine; the batcher sends them in
// batches, retries transient failures, and delivers what is left on Close.
func ExampleMeasurementsService_NewBatcher() {
	srv := mock.NewServer()
	defer srv.Close()
	c, err := srv.Client(librato.RoleRecordOnly)
	if err != nil {
		fmt.Println(err)
		return
	}

	b, err := c.Measurements.NewBatcher(librato.BatcherOptions{
		DefaultTags: map[string]string{"host": "web-1"},
		BatchSize:   2,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 5 {
		// ctx bounds the wait should the buffer be full (BlockWhenFull).
		if err := b.Add(ctx, librato.Measurement{Name: "jobs.done", Value: float64(i)}); err != nil {
			fmt.Println(err)
		}
	}
	if err := b.Close(ctx); err != nil {
		fmt.Println("not delivered:", err)
	}
	st := b.Stats()
	fmt.Printf("added=%d sent=%d failed=%d batches=%d\n", st.Added, st.Sent, st.Failed, st.Batches)
	fmt.Println("the mock recorded", srv.RecordedCount())
	// Output:
	// added=5 sent=5 failed=0 batches=3
	// the mock recorded 5
}

// All pages through every metric; here two per page, so three metrics take
// two requests.
func ExampleMetricsService_All() {
	srv := mock.NewServer(mock.WithSeed(&mock.Seed{
		Metrics: []map[string]any{
			{"name": "memory.used", "type": "gauge"},
			{"name": "cpu", "type": "gauge"},
			{"name": "disk.free", "type": "gauge"},
		},
	}))
	defer srv.Close()
	c, err := srv.Client(librato.RoleViewOnly)
	if err != nil {
		fmt.Println(err)
		return
	}

	before := srv.Requests()
	opts := &librato.ListOptions{Length: 2}
	for m, err := range c.Metrics.All(context.Background(), opts) {
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(m.Name, m.Type)
	}
	fmt.Println("requests:", srv.Requests()-before)
	// Output:
	// cpu gauge
	// disk.free gauge
	// memory.used gauge
	// requests: 2
}

// ParseRole reads the API's role names and the web UI's labels, in any case.
func ExampleParseRole() {
	for _, s := range []string{"recorder", "View Only", " FULL ACCESS "} {
		r, err := librato.ParseRole(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%q -> %s\n", s, r)
	}
	_, err := librato.ParseRole("owner")
	fmt.Println("unknown:", errors.Is(err, librato.ErrUnknownRole))
	// Output:
	// "recorder" -> recorder (Record Only)
	// "View Only" -> viewer (View Only)
	// " FULL ACCESS " -> admin (Full Access)
	// unknown: true
}

// Permitted answers from the embedded matrix, for concrete paths or
// templates, without a client or a network call.
func ExamplePermitted() {
	calls := []struct{ method, path string }{
		{"POST", "/v1/measurements"},
		{"GET", "/v1/measurements/cpu"},
		{"GET", "/v1/spaces/42"},
		{"PUT", "/v1/spaces/:id/charts/:chart_id"},
		{"POST", "/v1/api_tokens"},
	}
	for _, call := range calls {
		fmt.Printf("%-6s %-32s", call.method, call.path)
		for _, role := range librato.Roles() {
			mark := "-"
			if librato.Permitted(role, call.method, call.path) {
				mark = "y"
			}
			fmt.Printf(" %s=%s", string(role), mark)
		}
		fmt.Println()
	}
	// Output:
	// POST   /v1/measurements                 admin=y recorder=y viewer=-
	// GET    /v1/measurements/cpu             admin=y recorder=y viewer=y
	// GET    /v1/spaces/42                    admin=y recorder=- viewer=y
	// PUT    /v1/spaces/:id/charts/:chart_id  admin=y recorder=- viewer=-
	// POST   /v1/api_tokens                   admin=y recorder=- viewer=-
}
