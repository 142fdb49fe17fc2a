// Command librato-mock runs the SDK's mock Librato Metrics API as a
// program, so tests written in any language can use it:
//
//	go run ./cmd/librato-mock -addr 127.0.0.1:8080 [-seed seed.json] [-email ops@example.com]
//
// It prints, as shell assignments, the base URL, the account's email and
// one fresh token per role, then serves until SIGINT or SIGTERM:
//
//	LIBRATO_MOCK_URL=http://127.0.0.1:8080
//	LIBRATO_MOCK_EMAIL=mock@example.com
//	LIBRATO_MOCK_TOKEN_ADMIN=<64 hex characters>
//	LIBRATO_MOCK_TOKEN_RECORDER=...
//	LIBRATO_MOCK_TOKEN_VIEWER=...
//
// The seed file's format is described in the mock package's documentation;
// testdata/seed.json is an example.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "librato-mock:", err)
		os.Exit(2)
	}
}

// run starts the server with the flags in args, prints how to reach it to
// stdout and serves until ctx ends; then it closes the server and returns.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("librato-mock", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free one)")
	seedPath := fs.String("seed", "", "JSON seed file to fill the account with (see the mock package documentation)")
	email := fs.String("email", mock.DefaultEmail, "email of the account, the Basic-auth user name")
	latency := fs.Duration("latency", 0, "delay added to every request, e.g. 50ms")
	jobSteps := fs.Int("job-steps", mock.DefaultJobSteps, "reads of a job until it completes (0: at once)")
	maxBody := fs.Int64("max-body", mock.DefaultMaxBodyBytes, "largest request body in bytes; larger ones get 413")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; see -h", strings.Join(fs.Args(), " "))
	}
	opts := []mock.Option{
		mock.WithAddr(*addr), mock.WithEmail(*email), mock.WithLatency(*latency),
		mock.WithJobSteps(*jobSteps), mock.WithMaxBodyBytes(*maxBody),
	}
	if *seedPath != "" {
		seed, err := mock.LoadSeedFile(*seedPath)
		if err != nil {
			return err
		}
		opts = append(opts, mock.WithSeed(seed))
	}
	srv, err := mock.New(opts...)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "LIBRATO_MOCK_URL=%s\n", srv.URL())
	fmt.Fprintf(stdout, "LIBRATO_MOCK_EMAIL=%s\n", srv.Email())
	for _, role := range librato.Roles() {
		_, token := srv.Credentials(role)
		fmt.Fprintf(stdout, "LIBRATO_MOCK_TOKEN_%s=%s\n", strings.ToUpper(string(role)), token)
	}
	fmt.Fprintln(stdout, "# librato-mock is serving; stop it with SIGINT (Ctrl-C) or SIGTERM")
	<-ctx.Done()
	srv.Close()
	fmt.Fprintln(stdout, "# librato-mock stopped")
	return nil
}
