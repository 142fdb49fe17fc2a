// Command librato-mock runs the SDK's mock Librato Metrics API as a
// program, so tests written in any language can use it:
//
//	go build -o librato-mock ./cmd/librato-mock
//	./librato-mock -addr 127.0.0.1:0 -env mock.env [-seed seed.json] [-log]
//
// It prints, as shell assignments, the base URL, the account's email, one
// fresh token per role and the control plane's token, then serves until
// SIGINT or SIGTERM, and exits with status 0:
//
//	LIBRATO_MOCK_URL=http://127.0.0.1:41234
//	LIBRATO_MOCK_EMAIL=mock@example.com
//	LIBRATO_MOCK_TOKEN_ADMIN=<64 hex characters>
//	LIBRATO_MOCK_TOKEN_RECORDER=...
//	LIBRATO_MOCK_TOKEN_VIEWER=...
//	LIBRATO_MOCK_CONTROL_TOKEN=...
//
// With -addr and port 0 it picks a free port and prints the real one.
// -env FILE writes the same variables as "export NAME='value'" lines a
// shell can source: the file (mode 0600) appears complete once the server
// accepts requests, and is removed when the program exits; a file left
// by an earlier run is removed at start. -log prints one line per request
// (the journal entry: method, path, endpoint, status, token name, role,
// duration, error) to stderr; no line holds a token. -journal and
// -journal-bytes bound what GET /mock/journal keeps; -job-delay sets how
// soon jobs complete by themselves, -job-steps pins them to their reads
// instead; -gzip=false answers gzipped bodies with 415. -h lists them all.
//
// The control plane under /mock/ (Authorization: Bearer
// $LIBRATO_MOCK_CONTROL_TOKEN) resets the state, injects faults and
// latency, sets rate limits and shows what was recorded, the request
// journal and each token's least privilege; see the mock package's
// documentation. The seed file's format is mock.Seed's;
// testdata/seed.json is an example.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "librato-mock:", err)
		os.Exit(2)
	}
}

// run starts the server with the flags in args, prints how to reach it to
// stdout (request lines, with -log, to stderr) and serves until ctx ends;
// then it closes the server and returns.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("librato-mock", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free one, printed in LIBRATO_MOCK_URL)")
	seedPath := fs.String("seed", "", "JSON seed file to fill the account with (the format of mock.Seed)")
	email := fs.String("email", mock.DefaultEmail, "email of the account, the Basic-auth user name")
	latency := fs.Duration("latency", 0, "delay added to every request, e.g. 50ms")
	jobSteps := fs.Int("job-steps", mock.DefaultJobSteps, "reads of a job until it completes (0: at once); setting it pins jobs to their reads, no -job-delay")
	jobDelay := fs.Duration("job-delay", mock.DefaultJobDelay, "how long after it was queued a job completes by itself, read or not (0: only reads complete it)")
	maxBody := fs.Int64("max-body", mock.DefaultMaxBodyBytes, "largest request body in bytes (after decompression); larger ones get 413")
	envPath := fs.String("env", "", "write the LIBRATO_MOCK_* variables to this file as sourceable export lines")
	logRequests := fs.Bool("log", false, "print one line per request (the journal entry, never a token) to stderr")
	journalSize := fs.Int("journal", mock.DefaultJournalSize, "requests the journal (GET /mock/journal) keeps")
	journalBytes := fs.Int64("journal-bytes", mock.DefaultJournalBytes, "bytes of text the journal keeps at most, the oldest entries going first")
	gzipOK := fs.Bool("gzip", true, "take gzipped request bodies; -gzip=false answers them with 415 (PUT /mock/encodings changes it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; see -h", strings.Join(fs.Args(), " "))
	}
	opts := []mock.Option{
		mock.WithAddr(*addr), mock.WithEmail(*email), mock.WithLatency(*latency),
		mock.WithMaxBodyBytes(*maxBody), mock.WithJournalSize(*journalSize), mock.WithJournalBytes(*journalBytes),
		mock.WithGzip(*gzipOK),
	}
	// Only the flags given: -job-steps alone pins jobs to their reads.
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "job-steps":
			opts = append(opts, mock.WithJobSteps(*jobSteps))
		case "job-delay":
			opts = append(opts, mock.WithJobDelay(*jobDelay))
		}
	})
	if *logRequests {
		opts = append(opts, mock.WithLogger(slog.New(slog.NewTextHandler(stderr, nil))))
	}
	if *seedPath != "" {
		seed, err := mock.LoadSeedFile(*seedPath)
		if err != nil {
			return err
		}
		opts = append(opts, mock.WithSeed(seed))
	}
	if *envPath != "" {
		// A file from an earlier run would let a script waiting for the
		// file read stale credentials.
		if err := os.Remove(*envPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing the old env file: %w", err)
		}
	}
	srv, err := mock.New(opts...)
	if err != nil {
		return err
	}
	defer srv.Close()
	vars := [][2]string{{"LIBRATO_MOCK_URL", srv.URL()}, {"LIBRATO_MOCK_EMAIL", srv.Email()}}
	for _, role := range librato.Roles() {
		_, token := srv.Credentials(role)
		vars = append(vars, [2]string{"LIBRATO_MOCK_TOKEN_" + strings.ToUpper(string(role)), token})
	}
	vars = append(vars, [2]string{"LIBRATO_MOCK_CONTROL_TOKEN", srv.ControlToken()})
	for _, v := range vars {
		fmt.Fprintf(stdout, "%s=%s\n", v[0], v[1])
	}
	if *envPath != "" {
		if err := writeEnv(*envPath, vars); err != nil {
			return err
		}
		defer os.Remove(*envPath)
	}
	fmt.Fprintln(stdout, "# librato-mock is serving; stop it with SIGINT (Ctrl-C) or SIGTERM")
	<-ctx.Done()
	srv.Close()
	fmt.Fprintln(stdout, "# librato-mock stopped")
	return nil
}

// writeEnv writes the variables as sourceable export lines, atomically:
// a reader sees no file or the whole file.
func writeEnv(path string, vars [][2]string) error {
	var b strings.Builder
	b.WriteString("# written by librato-mock; removed when it exits\n")
	for _, v := range vars {
		fmt.Fprintf(&b, "export %s=%s\n", v[0], shellQuote(v[1]))
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".librato-mock-env-*")
	if err != nil {
		return fmt.Errorf("writing the env file: %w", err)
	}
	defer os.Remove(tmp.Name()) // gone after the rename; cleans up on failure
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the env file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the env file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing the env file: %w", err)
	}
	return nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
