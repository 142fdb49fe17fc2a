package librato_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// CommonTags go on every measurement, merged with its own tags (its own
// win per key). DefaultTags are the API's top-level tags: only
// measurements without tags of their own get them.
func ExampleBatcherOptions() {
	srv := mock.NewServer()
	defer srv.Close()
	c, err := srv.Client(librato.RoleRecordOnly)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := c.Measurements.NewBatcher(librato.BatcherOptions{
		CommonTags:  map[string]string{"host": "web-1"},
		DefaultTags: map[string]string{"route": "none"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	now := time.Now().Unix()
	_ = b.Add(ctx, librato.Measurement{Name: "http.requests", Value: 1, Time: now, Tags: map[string]string{"status": "200"}})
	_ = b.Add(ctx, librato.Measurement{Name: "http.requests", Value: 2, Time: now, Tags: map[string]string{"status": "500", "host": "web-2"}})
	_ = b.Add(ctx, librato.Measurement{Name: "http.requests", Value: 3, Time: now})
	if err := b.Close(ctx); err != nil {
		fmt.Println(err)
	}
	rec := srv.Recorded()
	sort.Slice(rec, func(i, j int) bool { return rec[i].Value < rec[j].Value })
	for _, m := range rec {
		fmt.Println(m.Value, m.Tags)
	}
	// Output:
	// 1 map[host:web-1 status:200]
	// 2 map[host:web-2 status:500]
	// 3 map[host:web-1 route:none]
}

// Close's error counts what was not delivered and unwraps to why: here a
// token the server does not know.
func ExampleDeliveryError() {
	srv := mock.NewServer()
	defer srv.Close()
	c, err := librato.NewClient(srv.Email(), "revoked-token", librato.WithBaseURL(srv.URL()))
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := c.Measurements.NewBatcher(librato.BatcherOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	_ = b.Add(ctx, librato.Measurement{Name: "jobs.done", Value: 1})
	err = b.Close(ctx)

	var de *librato.DeliveryError
	if errors.As(err, &de) {
		fmt.Printf("failed=%d of added=%d\n", de.Failed, de.Added)
	}
	fmt.Println("unauthorized:", errors.Is(err, librato.ErrUnauthorized))
	var apiErr *librato.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("status:", apiErr.StatusCode)
	}
	// Output:
	// failed=1 of added=1
	// unauthorized: true
	// status: 401
}
