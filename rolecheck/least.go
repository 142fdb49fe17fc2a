package rolecheck

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"
)

// Least loads the packages the patterns name, as the go command run in dir
// would (with their tests if tests is set), analyzes them and returns the
// report of each package with SDK calls, by import path. A package that
// does not load or type-check is an error.
func Least(ctx context.Context, dir string, tests bool, patterns ...string) ([]*Report, error) {
	cfg := &packages.Config{
		Context: ctx,
		Mode:    packages.LoadAllSyntax | packages.NeedModule,
		Dir:     dir,
		Tests:   tests,
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, err
	}
	var errs []error
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			errs = append(errs, e)
		}
	})
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("no packages match %q", patterns)
	}
	graph, err := checker.Analyze([]*analysis.Analyzer{New(Config{})}, pkgs, nil)
	if err != nil {
		return nil, err
	}
	byPath := map[string]*Report{}
	for _, act := range graph.Roots {
		if act.Err != nil {
			return nil, fmt.Errorf("%s: %w", act.Package.PkgPath, act.Err)
		}
		r, _ := act.Result.(*Report)
		if r == nil || r.Count() == 0 {
			continue
		}
		// With tests, a package is analyzed twice (alone and with its
		// test files): keep the larger.
		if old := byPath[r.Path]; old == nil || old.Count() < r.Count() {
			byPath[r.Path] = r
		}
	}
	out := make([]*Report, 0, len(byPath))
	for _, r := range byPath {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}
