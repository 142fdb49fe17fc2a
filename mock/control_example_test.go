package mock_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// Which role does the code under test really need? Give it a Full Access
// client, run it, and ask.
func ExampleServer_MinimalRoleOf() {
	srv := mock.NewServer()
	defer srv.Close()
	c, err := srv.Client(librato.RoleFullAccess)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The code under test: it records, and reads a metric back.
	ctx := context.Background()
	if _, err := c.Measurements.Create(ctx, &librato.MeasurementBatch{Measurements: []librato.Measurement{{Name: "jobs.done", Value: 1}}}); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := c.Metrics.Get(ctx, "jobs.done"); err != nil {
		fmt.Println(err)
		return
	}
	role, _ := srv.MinimalRoleOf(c)
	fmt.Println("issue a token of role", string(role))
	for _, u := range srv.UsageOf(c) {
		fmt.Println(u.Method, u.Endpoint)
	}
	// Output:
	// issue a token of role recorder
	// POST /v1/measurements
	// GET /v1/metrics/:name
}

// The control plane is plain HTTP with a bearer token, for tests written
// in any language; here it is driven from Go to show the wire format.
func ExampleServer_ControlToken() {
	srv := mock.NewServer()
	defer srv.Close()
	control := func(method, path, body string) string {
		req, _ := http.NewRequest(method, srv.URL()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+srv.ControlToken())
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err.Error()
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		return strings.TrimSpace(fmt.Sprint(res.StatusCode, " ", string(data)))
	}
	fmt.Println(control("POST", "/mock/faults", `{"count":1,"status":503,"endpoint":"/v1/measurements"}`))

	email, token := srv.Credentials(librato.RoleRecordOnly)
	for i := 0; i < 2; i++ { // a client's retry, by hand
		req, _ := http.NewRequest("POST", srv.URL()+"/v1/measurements", strings.NewReader(`{"measurements":[{"name":"cpu","value":1,"time":1714564800}]}`))
		req.SetBasicAuth(email, token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		res.Body.Close()
		fmt.Println("submission:", res.StatusCode)
	}
	fmt.Println(control("GET", "/mock/recorded?metric=cpu", ""))
	// Output:
	// 204
	// submission: 503
	// submission: 202
	// 200 {"measurements":[{"name":"cpu","value":1,"time":1714564800}]}
}
