// Command librato-vet checks, before a program runs, that every call it
// makes of the Librato SDK is one its client's declared role may make, as
// the SDK's guard would check it at run time, and says which role a
// program's token needs at least.
//
//	librato-vet [-role=admin|recorder|viewer] [-strict] [-v] ./...
//	go vet -vettool=$(which librato-vet) ./...
//	librato-vet -least [-v] [-test] ./...
//
// The first form reports, at the call, each call the declared role may not
// make (the exit status is 3 when there are some, as for every
// go/analysis checker); -v also notes every SDK call with its row and its
// declared role, or why it has none. The second runs the same check under
// go vet. The third prints one line per package with SDK calls, "least
// role for <import path>: <role> (<n> calls)", counting the calls of the
// packages it imports from the same module; -v lists each call with its
// rows. See package rolecheck for how roles are declared.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/librato-sdk/librato-go/rolecheck"
)

func main() {
	verbose, least := false, false
	args := []string{os.Args[0]}
	for _, a := range os.Args[1:] {
		switch strings.TrimPrefix(a, "-") {
		case "v", "-v", "v=true", "-v=true":
			verbose = true
		case "least", "-least", "least=true", "-least=true":
			least = true
		default:
			args = append(args, a)
		}
	}
	if least {
		os.Exit(runLeast(args[1:], verbose, os.Stdout, os.Stderr))
	}
	// singlechecker owns -v (a no-op it keeps for old vet scripts), so the
	// notes' switch is taken off the command line before it parses it.
	os.Args = args
	cfg := rolecheck.Config{}
	if verbose {
		cfg.Verbose = os.Stderr
	}
	singlechecker.Main(rolecheck.New(cfg))
}

// runLeast prints the least role of each package the arguments name and
// returns the exit status.
func runLeast(args []string, verbose bool, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("librato-vet -least", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tests := fs.Bool("test", false, "count the calls of test files too")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: librato-vet -least [-v] [-test] packages...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	reports, err := rolecheck.Least(context.Background(), "", *tests, fs.Args()...)
	if err != nil {
		fmt.Fprintln(stderr, "librato-vet:", err)
		return 1
	}
	wd, _ := os.Getwd()
	for _, r := range reports {
		fmt.Fprintf(stdout, "least role for %s: %s (%d calls)\n", r.Path, string(r.Least()), r.Count())
		if u := r.Unknown(); len(u) > 0 {
			fmt.Fprintf(stdout, "  %d of them cannot be classified and are not in the least role (a strict guard lets only admin make them)\n", len(u))
		}
		if !verbose {
			continue
		}
		for _, p := range r.Packages {
			for _, c := range p.Calls {
				c.Pos = relative(wd, c.Pos)
				fmt.Fprintf(stdout, "  %s\n", c)
			}
		}
	}
	return 0
}

// relative shortens a position under the working directory.
func relative(wd, pos string) string {
	if wd == "" {
		return pos
	}
	if rel, err := filepath.Rel(wd, pos); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return pos
}
