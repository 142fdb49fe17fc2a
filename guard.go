package librato

import (
	_ "embed"
	"fmt"
	"strings"
)

// permissionsTSV is the token-role permission matrix: one row per (method,
// endpoint template) with the roles allowed and where the row comes from.
//
//go:embed permissions.tsv
var permissionsTSV string

// Sources of matrix rows, as the Permission.Source field carries them.
const (
	// SourcePublished rows come straight from Librato's published role table.
	SourcePublished = "published"
	// SourcePublishedResolved rows had one blank cell that had to be placed.
	SourcePublishedResolved = "published-resolved"
	// SourcePublishedAlias rows are a published row under the path the API
	// really uses (GET /v1/measurements/:name).
	SourcePublishedAlias = "published-alias"
	// SourceUnlisted rows are documented endpoints missing from the role
	// table; their roles are inferred and enforced only by a strict guard.
	SourceUnlisted = "unlisted"
)

// Permission is one row of the embedded matrix: which roles may call Method
// on Endpoint (a template such as "/v1/spaces/:id/charts"), and where that
// fact comes from (one of the Source constants).
type Permission struct {
	Method   string
	Endpoint string
	Roles    []Role
	Source   string
}

// Enforced reports whether a lenient guard enforces this row: every row but
// the unlisted ones, whose roles are inferred.
func (p Permission) Enforced() bool { return p.Source != SourceUnlisted }

// ErrForbiddenForRole is returned, before anything is sent, for a call the
// client's declared role may not make. Use a token of one of the Allowed
// roles, or declare the token's real role with WithRole.
type ErrForbiddenForRole struct {
	Role     Role
	Method   string // e.g. "POST"
	Endpoint string // template, e.g. "/v1/spaces/:id/charts"
	Allowed  []Role // roles that may make this call
}

// Error names the role, the call and the roles that may make it.
func (e *ErrForbiddenForRole) Error() string {
	var b strings.Builder
	b.WriteString("librato: a ")
	b.WriteString(e.Role.Label())
	b.WriteString(" token (role ")
	b.WriteString(string(e.Role))
	b.WriteString(") may not call ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Endpoint)
	b.WriteString("; allowed: ")
	for i, r := range e.Allowed {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.String())
	}
	b.WriteString("; nothing was sent")
	return b.String()
}

// Is makes errors.Is(err, ErrForbidden) true for a guard refusal as for a
// server's 403.
func (e *ErrForbiddenForRole) Is(target error) bool { return target == ErrForbidden }

// Permitted reports what the matrix says of role calling method on path. The
// path may be concrete ("/v1/spaces/42") or a template ("/v1/spaces/:id"); a
// query string is ignored. Rows with inferred roles answer with those roles,
// and a path that matches no row is permitted to Full Access alone. It does
// not allocate.
func Permitted(role Role, method, path string) bool {
	bit := role.bit()
	if bit == 0 {
		return false
	}
	row := defaultMatrix.lookup(method, path)
	if row == nil {
		return bit == bitFull
	}
	return row.roles&bit != 0
}

// Permissions returns every row of the embedded matrix, in file order. The
// slice is a fresh copy the caller may keep.
func Permissions() []Permission {
	out := make([]Permission, len(defaultMatrix.rows))
	for i := range defaultMatrix.rows {
		out[i] = defaultMatrix.rows[i].permission()
	}
	return out
}

// LookupPermission finds the matrix row a concrete or template path belongs
// to, by the shape of its segments; a literal segment beats a parameter. It
// reports false for a path that matches no row.
func LookupPermission(method, path string) (Permission, bool) {
	row := defaultMatrix.lookup(method, path)
	if row == nil {
		return Permission{}, false
	}
	return row.permission(), true
}

// permRow is a parsed matrix row.
type permRow struct {
	method   string
	template string
	roles    roleSet
	source   string
}

func (r *permRow) permission() Permission {
	return Permission{Method: r.method, Endpoint: r.template, Roles: r.roles.roles(), Source: r.source}
}

func (r *permRow) enforced() bool { return r.source != SourceUnlisted }

// The methods the matrix uses; anything else matches no row.
const (
	mGet = iota
	mPost
	mPut
	mDelete
	numMethods
)

func methodIndex(m string) int {
	switch m {
	case "GET":
		return mGet
	case "POST":
		return mPost
	case "PUT":
		return mPut
	case "DELETE":
		return mDelete
	}
	switch {
	case strings.EqualFold(m, "GET"):
		return mGet
	case strings.EqualFold(m, "POST"):
		return mPost
	case strings.EqualFold(m, "PUT"):
		return mPut
	case strings.EqualFold(m, "DELETE"):
		return mDelete
	}
	return -1
}

// matrix holds the rows and a segment trie over their templates, built once
// so that classifying a path is a walk over constant data.
type matrix struct {
	rows []permRow
	root *segNode
}

// segNode is one path segment of the trie: literal children, at most one
// parameter child, and the row each method has at this exact depth.
type segNode struct {
	lits  []litEdge
	param *segNode
	rows  [numMethods]*permRow
}

type litEdge struct {
	seg  string
	node *segNode
}

var defaultMatrix = mustParseMatrix(permissionsTSV)

func mustParseMatrix(tsv string) *matrix {
	m, err := parseMatrix(tsv)
	if err != nil {
		panic("librato: embedded permissions.tsv is malformed: " + err.Error())
	}
	return m
}

func parseMatrix(tsv string) (*matrix, error) {
	m := &matrix{root: &segNode{}}
	for n, line := range strings.Split(tsv, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("line %d: want 6 tab-separated fields, got %d", n+1, len(f))
		}
		row := permRow{method: f[0], template: f[1], source: f[5]}
		if methodIndex(row.method) < 0 || row.method != strings.ToUpper(row.method) {
			return nil, fmt.Errorf("line %d: unknown method %q", n+1, row.method)
		}
		if !strings.HasPrefix(row.template, "/v1/") {
			return nil, fmt.Errorf("line %d: endpoint %q does not start with /v1/", n+1, row.template)
		}
		switch row.source {
		case SourcePublished, SourcePublishedResolved, SourcePublishedAlias, SourceUnlisted:
		default:
			return nil, fmt.Errorf("line %d: unknown source %q", n+1, row.source)
		}
		for i, bit := range []roleSet{bitFull, bitRecord, bitView} {
			switch f[2+i] {
			case "yes":
				row.roles |= bit
			case "no":
			default:
				return nil, fmt.Errorf("line %d: cell %q is neither yes nor no", n+1, f[2+i])
			}
		}
		if row.roles&bitFull == 0 {
			return nil, fmt.Errorf("line %d: Full Access must be allowed everywhere", n+1)
		}
		m.rows = append(m.rows, row)
	}
	for i := range m.rows {
		if err := m.insert(&m.rows[i]); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *matrix) insert(row *permRow) error {
	n := m.root
	for _, seg := range strings.Split(row.template[1:], "/") {
		switch {
		case seg == "":
			return fmt.Errorf("endpoint %q has an empty segment", row.template)
		case seg[0] == ':':
			if n.param == nil {
				n.param = &segNode{}
			}
			n = n.param
		default:
			n = n.child(seg)
		}
	}
	mi := methodIndex(row.method)
	if n.rows[mi] != nil {
		return fmt.Errorf("%s %s has the same shape as %s %s", row.method, row.template, n.rows[mi].method, n.rows[mi].template)
	}
	n.rows[mi] = row
	return nil
}

func (n *segNode) child(seg string) *segNode {
	for _, e := range n.lits {
		if e.seg == seg {
			return e.node
		}
	}
	c := &segNode{}
	n.lits = append(n.lits, litEdge{seg: seg, node: c})
	return c
}

// lookup returns the row for method and path, or nil. It stops the path at
// '?' or '#', needs a leading '/', and treats an empty segment as matching
// nothing; any other segment matches a literal of the same text first and a
// parameter otherwise, backtracking to the parameter if the literal's
// branch leads nowhere. One pass over the bytes, no allocation.
func (m *matrix) lookup(method, path string) *permRow {
	mi := methodIndex(method)
	if mi < 0 || len(path) == 0 || path[0] != '/' {
		return nil
	}
	type alt struct {
		n   *segNode
		pos int
	}
	var pending [8]alt // parameter branches not taken yet; templates are shallower than this
	np := 0
	n, pos := m.root, 0
	for {
		if pos == len(path) || path[pos] != '/' {
			if r := n.rows[mi]; r != nil {
				return r
			}
		} else if lit, param, end := n.step(path, pos); lit != nil || param != nil {
			if lit == nil {
				n, pos = param, end
				continue
			}
			if param != nil && np < len(pending) {
				pending[np] = alt{param, end}
				np++
			}
			n, pos = lit, end
			continue
		}
		if np == 0 {
			return nil
		}
		np--
		n, pos = pending[np].n, pending[np].pos
	}
}

// step reads the segment after the '/' at pos and returns the literal and
// parameter children it may lead to (either possibly nil) and where it
// ends. An empty segment leads nowhere.
func (n *segNode) step(path string, pos int) (lit, param *segNode, end int) {
	start := pos + 1
	end = start
	for end < len(path) && !segStop[path[end]] {
		end++
	}
	if end == start {
		return nil, nil, end
	}
	seg := path[start:end]
	for i := range n.lits {
		if n.lits[i].seg == seg {
			lit = n.lits[i].node
			break
		}
	}
	return lit, n.param, end
}

// segStop marks the bytes that end a segment.
var segStop = [256]bool{'/': true, '?': true, '#': true}
