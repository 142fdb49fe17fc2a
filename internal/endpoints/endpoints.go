// Package endpoints is the one list of the Librato API's endpoints: the rows
// of the token-role permission matrix, embedded from permissions.tsv, and the
// one path matcher that classifies a request by them. The SDK's guard, its
// typed methods, the mock's router and the static role check all look
// endpoints up here, so an endpoint exists for all of them or for none.
package endpoints

import (
	_ "embed"
	"fmt"
	"strings"
)

//go:embed permissions.tsv
var permissionsTSV string

// The sources of rows, as the matrix's last column names them.
const (
	Published         = "published"
	PublishedResolved = "published-resolved"
	PublishedAlias    = "published-alias"
	Unlisted          = "unlisted"
)

// RoleNames are the API names of the roles, in the matrix's column order
// (Full Access, Record Only, View Only).
var RoleNames = [3]string{"admin", "recorder", "viewer"}

// Row is one endpoint: a method, a path template such as
// "/v1/spaces/:id/charts", the roles that may call it and where that fact
// comes from.
type Row struct {
	Method   string
	Template string
	Source   string
	Index    int      // position in the file, from 0
	Segments []string // Template split at '/', without the leading empty one
	roles    uint8    // bit i: RoleNames[i] may call it
}

// Allows reports whether the role of API name role ("admin", "recorder",
// "viewer") may call the row.
func (r *Row) Allows(role string) bool {
	b := roleBit(role)
	return b != 0 && r.roles&b != 0
}

// Roles returns the API names of the roles that may call the row, most
// privileged first.
func (r *Row) Roles() []string {
	out := make([]string, 0, len(RoleNames))
	for i, n := range RoleNames {
		if r.roles&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// Enforced reports whether a lenient guard enforces the row: all but the
// unlisted rows, whose roles are inferred.
func (r *Row) Enforced() bool { return r.Source != Unlisted }

// Params returns the segments of path (as Match accepted it) that stand
// where the template has parameters, in order, still escaped.
func (r *Row) Params(path string) []string {
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var out []string
	for i, s := range r.Segments {
		if isParam(s) && i < len(segs) {
			out = append(out, segs[i])
		}
	}
	return out
}

// String is the row as "METHOD template", the form errors and tests name it by.
func (r *Row) String() string { return r.Method + " " + r.Template }

func roleBit(role string) uint8 {
	for i, n := range RoleNames {
		if n == role {
			return 1 << i
		}
	}
	return 0
}

func isParam(seg string) bool { return seg != "" && seg[0] == ':' }

// Table is the parsed matrix.
type Table struct {
	rows  []Row
	roots [4]*node // by method: GET, POST, PUT, DELETE
}

// node is a segment of some template: the row each method has when a path
// ends here, its literal children and its one parameter child.
type node struct {
	lit   string
	rows  [4]*Row
	lits  []*node
	param *node
}

// All is the embedded matrix. It is parsed once, when the program starts; a
// malformed file stops the program there, not at the first call.
var All = mustParse(permissionsTSV)

func mustParse(tsv string) *Table {
	t, err := Parse(tsv)
	if err != nil {
		panic("librato: the embedded permissions.tsv is malformed: " + err.Error())
	}
	return t
}

// Parse reads a matrix in the permissions.tsv format: "method endpoint full
// record view source", tab-separated, '#' starting a comment line.
func Parse(tsv string) (*Table, error) {
	t := &Table{}
	for n, line := range strings.Split(tsv, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("line %d: want 6 tab-separated fields, got %d", n+1, len(f))
		}
		row := Row{Method: f[0], Template: f[1], Source: f[5], Index: len(t.rows)}
		if methodIndex(row.Method) < 0 {
			return nil, fmt.Errorf("line %d: unknown method %q", n+1, row.Method)
		}
		switch row.Source {
		case Published, PublishedResolved, PublishedAlias, Unlisted:
		default:
			return nil, fmt.Errorf("line %d: unknown source %q", n+1, row.Source)
		}
		for i := range RoleNames {
			switch f[2+i] {
			case "yes":
				row.roles |= 1 << i
			case "no":
			default:
				return nil, fmt.Errorf("line %d: cell %q is neither yes nor no", n+1, f[2+i])
			}
		}
		if row.roles&1 == 0 {
			return nil, fmt.Errorf("line %d: Full Access must be allowed everywhere", n+1)
		}
		if !strings.HasPrefix(row.Template, "/v1/") {
			return nil, fmt.Errorf("line %d: endpoint %q does not start with /v1/", n+1, row.Template)
		}
		row.Segments = strings.Split(row.Template[1:], "/")
		for _, s := range row.Segments {
			if s == "" || s == ":" || strings.ContainsAny(s, "?#%") {
				return nil, fmt.Errorf("line %d: endpoint %q has an empty or malformed segment", n+1, row.Template)
			}
		}
		t.rows = append(t.rows, row)
	}
	for i := range t.rows {
		if err := t.insert(&t.rows[i]); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *Table) insert(row *Row) error {
	mi := methodIndex(row.Method)
	if t.roots[0] == nil {
		for i := range t.roots {
			t.roots[i] = &node{}
		}
	}
	n := t.roots[0] // one trie; the rows are kept per method at each node
	for _, seg := range row.Segments {
		if isParam(seg) {
			if n.param == nil {
				n.param = &node{}
			}
			n = n.param
			continue
		}
		var next *node
		for _, c := range n.lits {
			if c.lit == seg {
				next = c
				break
			}
		}
		if next == nil {
			next = &node{lit: seg}
			n.lits = append(n.lits, next)
		}
		n = next
	}
	if old := n.rows[mi]; old != nil {
		return fmt.Errorf("%s and %s have the same shape", row, old)
	}
	n.rows[mi] = row
	return nil
}

// Rows returns every row in file order. The slice is shared: do not modify.
func (t *Table) Rows() []Row { return t.rows }

// Lookup returns the row whose method and template are exactly these, or
// nil.
func (t *Table) Lookup(method, template string) *Row {
	r := t.Match(method, template)
	if r == nil || r.Template != template {
		return nil
	}
	return r
}

// Match classifies a request: it returns the row for method (upper case)
// and path, a concrete escaped path ("/v1/spaces/42") or a template
// ("/v1/spaces/:id"), or nil when no row has its shape. The path ends at
// '?' or '#'; an empty segment matches nothing; a literal segment beats a
// parameter ("/v1/alerts/status" is its own row, not alert "status"). It
// does not allocate.
func (t *Table) Match(method, path string) *Row {
	mi := methodIndex(method)
	if mi < 0 || t.roots[0] == nil || len(path) < 2 || path[0] != '/' {
		return nil
	}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	return t.roots[0].match(mi, path[1:])
}

// match finds the row of method index mi for rest, the path after the
// '/' that ends n's segment; it tries a literal child before the parameter
// child, and backtracks.
func (n *node) match(mi int, rest string) *Row {
	seg, tail, more := strings.Cut(rest, "/")
	if seg == "" {
		return nil
	}
	for _, c := range n.lits {
		if c.lit == seg {
			if r := c.end(mi, tail, more); r != nil {
				return r
			}
			break
		}
	}
	if n.param != nil {
		return n.param.end(mi, tail, more)
	}
	return nil
}

func (n *node) end(mi int, tail string, more bool) *Row {
	if !more {
		return n.rows[mi]
	}
	return n.match(mi, tail)
}

func methodIndex(m string) int {
	switch m {
	case "GET":
		return 0
	case "POST":
		return 1
	case "PUT":
		return 2
	case "DELETE":
		return 3
	}
	return -1
}
