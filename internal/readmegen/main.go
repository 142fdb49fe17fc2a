// Command readmegen rewrites the permission table in README.md from the
// embedded matrix. Run it with go generate from the repository root.
package main

import (
	"fmt"
	"os"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/internal/permtable"
)

func main() {
	const path = "README.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "readmegen: run it from the repository root:", err)
		os.Exit(1)
	}
	out, err := permtable.Splice(string(raw), permtable.Render(librato.Permissions()))
	if err != nil {
		fmt.Fprintln(os.Stderr, "readmegen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "readmegen:", err)
		os.Exit(1)
	}
}
