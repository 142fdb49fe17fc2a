package mock_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// Test code that uses the SDK against an in-memory API: get a client of a
// role, run the code, then inspect what the server recorded, inject a
// failure, and ask which role the code really needed.
func ExampleNewServer() {
	srv := mock.NewServer()
	defer srv.Close()
	ctx := context.Background()

	// A fresh Record Only token, and a client declaring that role.
	email, token := srv.Credentials(librato.RoleRecordOnly)
	c, err := librato.NewClient(email, token,
		librato.WithRole(librato.RoleRecordOnly),
		librato.WithBaseURL(srv.URL()),
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	// The next request fails with 503; the SDK retries the submission,
	// which carries an explicit time and so cannot be recorded twice.
	srv.FailNext(1, http.StatusServiceUnavailable)
	_, err = c.Measurements.Create(ctx, &librato.MeasurementBatch{
		Measurements: []librato.Measurement{
			{Name: "cpu", Value: 42, Time: time.Now().Unix(), Tags: map[string]string{"host": "web-1"}},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range srv.Recorded() {
		fmt.Println("recorded:", m.Name, m.Value, m.Tags)
	}
	fmt.Println("requests:", srv.Requests())

	// Every call the token made fits Record Only: issue it with that role.
	role, _ := srv.MinimalRole(token)
	fmt.Println("minimal role:", role)

	// The server enforces roles too: a Record Only token reading spaces
	// is refused with 403 (a client without WithRole sends the call).
	unguarded, err := librato.NewClient(email, token, librato.WithBaseURL(srv.URL()))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = unguarded.Spaces.List(ctx, nil)
	var apiErr *librato.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("server said:", apiErr.StatusCode)
	}

	// Refused calls count: code that records and reads spaces needs more.
	role, _ = srv.MinimalRole(token)
	fmt.Println("minimal role now:", role)
	// Output:
	// recorded: cpu 42 map[host:web-1]
	// requests: 2
	// minimal role: recorder (Record Only)
	// server said: 403
	// minimal role now: admin (Full Access)
}
