// Package rolecheck is a static role check for programs that use the
// Librato SDK: an analysis.Analyzer that finds every call of the SDK's
// typed methods, maps it to its row of the permission matrix, and reports
// each call the client's declared role may not make, in the guard's own
// words, before the program ever runs. It also computes the least role a
// package needs (see Report), which cmd/librato-vet -least prints.
//
// Nothing here lists endpoints. The rows a function needs are derived from
// the SDK's code: every endpoint of the root package is a package-level
// variable initialised by newEndpoint("METHOD", "/v1/template"), found in
// the one endpoint table (internal/endpoints), and a function needs the
// rows of the endpoint variables it references plus those of every function
// it references (calls, method values, closures, goroutines), within its
// package by fixed point and across packages by analysis facts (Needs). So
// iterators, batchers, the OpenTelemetry exporter's constructor and the
// user's own helper packages are classified the same way.
//
// A call is unknown, never allowed, when its rows depend on run time: a
// function whose doc comment has a "//librato:dynamic <reason>" line (the
// SDK's role detection), Client.Do with a method or path that is not a
// constant, or a call through an interface or a function value that could
// reach the SDK. Unknown calls and unlisted rows follow the guard's policy:
// reported only under a strict guard (the -strict flag, or WithStrictGuard
// written where the client is built).
//
// The declared role of a call is, in order: the -role flag; the constant
// roles that reach its client in the same function (librato.NewClient with
// librato.WithRole(librato.RoleX), or a mock server's Client(role)), every
// assignment counted, so a client set in several branches has each of their
// roles; a "//librato:role NAME" line in the enclosing function's doc
// comment; one above the package clause of any file of the package. A
// client built from anything the analyzer cannot follow (a parameter, a
// field, a role read at run time) has no declared role and no diagnostic.
// A "//librato:ignore <reason>" comment on a call, or on the line before
// it, silences its diagnostic (the call still counts for the least role).
package rolecheck

import (
	"flag"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"io"
	"reflect"
	"sort"
	"strings"
	"sync"

	"golang.org/x/tools/go/analysis"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/internal/endpoints"
)

// sdkPath is the import path of the SDK's root package, read from its type
// rather than spelled out; mockPath is its mock server's.
var (
	sdkPath  = reflect.TypeOf(librato.Role("")).PkgPath()
	mockPath = sdkPath + "/mock"
)

// Config is what the command line sets. The zero Config checks only calls
// whose role the code declares, with the guard's lenient policy.
type Config struct {
	// Role, when set (an API name or UI label), is the declared role of
	// every call, whatever the code says.
	Role string
	// Strict applies a strict guard to every call: unlisted rows and
	// unknown calls are reported too.
	Strict bool
	// Verbose, when not nil, receives one note per SDK call: its row, its
	// declared role and where that came from, or why it has none.
	Verbose io.Writer
}

// Analyzer is the role check with its command-line flags (-role, -strict),
// for drivers that take analyzers. Its notes (Config.Verbose) are off; use
// New for them.
var Analyzer = New(Config{})

// New returns an analyzer that checks with cfg; its -role and -strict flags
// start from cfg's values and change only this analyzer's copy.
func New(cfg Config) *analysis.Analyzer {
	c := &cfg
	if c.Verbose != nil {
		c.Verbose = &lockedWriter{w: c.Verbose}
	}
	a := &analysis.Analyzer{
		Name: "libratovet",
		Doc: `report Librato SDK calls the declared role of their client may not make

librato-vet finds every call of the Librato SDK's typed methods, maps it to
its row of the permission matrix and reports, at the call, each one the
client's declared role may not make, as the SDK's guard would refuse it at
run time. The declared role comes from -role, from librato.WithRole or a
mock server's Client(role) in the function that builds the client, or from
a //librato:role directive on the function or the package clause.
A //librato:ignore <reason> comment on a call silences it.

librato-vet -v also notes every SDK call with its row and declared role,
or why it has none; librato-vet -least prints the least role each package
needs instead of checking.`,
		Run:        func(pass *analysis.Pass) (any, error) { return run(pass, c) },
		FactTypes:  []analysis.Fact{new(Needs), new(Calls)},
		ResultType: reflect.TypeOf((*Report)(nil)),
	}
	a.Flags.Init(a.Name, flag.ContinueOnError)
	a.Flags.Var((*roleFlag)(&c.Role), "role", "the declared role of every call: admin, recorder or viewer (default: as the code declares it)")
	a.Flags.BoolVar(&c.Strict, "strict", c.Strict, "check as a strict guard does: unlisted rows and calls the analyzer cannot classify are reported too")
	return a
}

// roleFlag is -role: a role's API name or UI label, kept as the API name.
type roleFlag string

func (f *roleFlag) String() string { return string(*f) }

func (f *roleFlag) Set(s string) error {
	r, err := librato.ParseRole(s)
	if err != nil {
		return err
	}
	*f = roleFlag(r)
	return nil
}

// lockedWriter keeps the notes of packages analyzed in parallel whole.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Needs is the fact about a function that can be called from another
// package: the rows of the matrix a call of it may reach, and why some of
// its calls cannot be classified.
type Needs struct {
	Rows    []string // "POST /v1/spaces", in matrix order
	Unknown []string // reasons, sorted
}

// AFact marks Needs as an analysis fact.
func (*Needs) AFact() {}

// String says what the fact holds, as analysistest's `// want` lines match it.
func (n *Needs) String() string {
	s := "needs " + strings.Join(n.Rows, ", ")
	if len(n.Rows) == 0 {
		s = "needs no row"
	}
	if len(n.Unknown) > 0 {
		s += "; unknown: " + strings.Join(n.Unknown, "; ")
	}
	return s
}

// Calls is the fact about a package: its SDK calls and those of the
// packages of the same module it imports, directly or not.
type Calls struct {
	Packages []PackageCalls // by import path
}

// AFact marks Calls as an analysis fact.
func (*Calls) AFact() {}

// String counts the calls of each package, as `// want` lines match it.
func (c *Calls) String() string {
	parts := make([]string, len(c.Packages))
	for i, p := range c.Packages {
		parts[i] = fmt.Sprintf("%s: %d", p.Path, len(p.Calls))
	}
	return "calls " + strings.Join(parts, ", ")
}

// PackageCalls is the SDK calls of one package, in source order.
type PackageCalls struct {
	Path  string
	Calls []Call
}

// Call is one call of the SDK (or of a function that makes some): where it
// is, what it calls, the rows it may reach and, when it cannot be
// classified, why.
type Call struct {
	Pos     string // file:line:column
	Name    string // "Spaces.Create", "otelexport.New"
	Rows    []string
	Unknown string
}

// String is the line -least -v prints for the call: where, what, rows.
func (c Call) String() string {
	what := strings.Join(c.Rows, ", ")
	if c.Unknown != "" {
		if what != "" {
			what += "; "
		}
		what += "unknown: " + c.Unknown
	}
	return fmt.Sprintf("%s: %s (%s)", c.Pos, c.Name, what)
}

// Report is the analyzer's result for a package: its SDK calls and those
// of the same-module packages it imports, own package first.
type Report struct {
	Path     string
	Packages []PackageCalls
}

// Count is the number of calls the report holds.
func (r *Report) Count() int {
	n := 0
	for _, p := range r.Packages {
		n += len(p.Calls)
	}
	return n
}

// Unknown returns the calls the analyzer could not classify.
func (r *Report) Unknown() []Call {
	var out []Call
	for _, p := range r.Packages {
		for _, c := range p.Calls {
			if c.Unknown != "" {
				out = append(out, c)
			}
		}
	}
	return out
}

// Least is the least privileged role whose matrix permissions (inferred
// roles of unlisted rows included, as the mock's usage report counts them)
// cover every row the calls may reach: View Only, then Record Only, then
// Full Access. Unknown calls are not in it; see Unknown.
func (r *Report) Least() librato.Role {
	var rows []*endpoints.Row
	for _, p := range r.Packages {
		for _, c := range p.Calls {
			for _, s := range c.Rows {
				rows = append(rows, rowOf(s))
			}
		}
	}
	return leastRole(rows)
}

func leastRole(rows []*endpoints.Row) librato.Role {
	roles := librato.Roles() // most to least privileged
	for i := len(roles) - 1; i > 0; i-- {
		ok := true
		for _, row := range rows {
			if row == nil || !row.Allows(string(roles[i])) {
				ok = false
				break
			}
		}
		if ok {
			return roles[i]
		}
	}
	return librato.RoleFullAccess
}

// rowOf finds the row a fact names ("POST /v1/spaces"); nil if none.
func rowOf(s string) *endpoints.Row {
	method, template, _ := strings.Cut(s, " ")
	return endpoints.All.Lookup(method, template)
}

// run analyzes one package.
func run(pass *analysis.Pass, cfg *Config) (any, error) {
	var flagRole librato.Role
	if cfg.Role != "" {
		r, err := librato.ParseRole(cfg.Role)
		if err != nil {
			return nil, fmt.Errorf("-role: %w", err)
		}
		flagRole = r
	}
	report := &Report{Path: pass.Pkg.Path()}
	sdk := findPackage(pass.Pkg, sdkPath)
	if sdk == nil {
		return report, nil // a package that cannot reach the SDK
	}
	c := &state{
		pass:     pass,
		cfg:      cfg,
		flagRole: flagRole,
		isRoot:   pass.Pkg.Path() == sdkPath,
		sdk:      sdk,
		imported: make(map[*types.Func]*need),
	}
	c.derive()
	c.exportNeeds()
	own := c.checkCalls()

	// The package's calls and those of its same-module imports; the
	// imports' facts already hold their own imports.
	byPath := map[string]PackageCalls{}
	if len(own) > 0 {
		byPath[report.Path] = PackageCalls{Path: report.Path, Calls: own}
	}
	for _, imp := range pass.Pkg.Imports() {
		if !sameModule(pass.Module, imp.Path()) {
			continue
		}
		var f Calls
		if pass.ImportPackageFact(imp, &f) {
			for _, p := range f.Packages {
				byPath[p.Path] = p
			}
		}
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		if p != report.Path {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	if len(own) > 0 {
		report.Packages = append(report.Packages, byPath[report.Path])
	}
	for _, p := range paths {
		report.Packages = append(report.Packages, byPath[p])
	}
	if len(report.Packages) > 0 {
		fact := &Calls{Packages: append([]PackageCalls(nil), report.Packages...)}
		sort.Slice(fact.Packages, func(i, j int) bool { return fact.Packages[i].Path < fact.Packages[j].Path })
		pass.ExportPackageFact(fact)
	}
	return report, nil
}

// sameModule reports whether the package path belongs to the module being
// analyzed.
func sameModule(m *analysis.Module, path string) bool {
	return m != nil && m.Path != "" && (path == m.Path || strings.HasPrefix(path, m.Path+"/"))
}

// findPackage returns the package of the given path among pkg and its
// imports, direct or not, or nil.
func findPackage(pkg *types.Package, path string) *types.Package {
	seen := map[*types.Package]bool{}
	var visit func(p *types.Package) *types.Package
	visit = func(p *types.Package) *types.Package {
		if p.Path() == path {
			return p
		}
		if seen[p] {
			return nil
		}
		seen[p] = true
		for _, imp := range p.Imports() {
			if found := visit(imp); found != nil {
				return found
			}
		}
		return nil
	}
	return visit(pkg)
}

// state holds what one package's analysis has learned.
type state struct {
	pass     *analysis.Pass
	cfg      *Config
	flagRole librato.Role
	isRoot   bool           // the package is the SDK's root package
	sdk      *types.Package // the SDK's root package

	endpointVars map[*types.Var]*need      // root package: newEndpoint variables
	funcs        map[*types.Func]*funcInfo // functions declared here
	imported     map[*types.Func]*need     // facts read so far
	candidates   []*types.Func             // functions of any package that need rows; built lazily
	candidatesOK bool
}

// funcInfo is a function declared in the package being analyzed.
type funcInfo struct {
	decl  *ast.FuncDecl
	need  need
	edges []*types.Func // functions of this package it references
}

// pos renders a position for notes and facts.
func (c *state) pos(p token.Pos) string { return c.pass.Fset.Position(p).String() }
