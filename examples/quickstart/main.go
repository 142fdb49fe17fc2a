// Command quickstart shows the SDK's main job. It is completed by the mock
// server; for now it builds a Record Only client and shows the guard.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	librato "github.com/librato-sdk/librato-go"
)

func main() {
	c, err := librato.NewClient("agent@example.com", "not-a-real-token", librato.WithRole(librato.RoleRecordOnly))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	err = c.Metrics.Delete(context.Background(), "cpu")
	var refused *librato.ErrForbiddenForRole
	if !errors.As(err, &refused) {
		fmt.Fprintln(os.Stderr, "expected a guard refusal, got", err)
		os.Exit(1)
	}
	fmt.Println("refused before sending:", refused)
}
