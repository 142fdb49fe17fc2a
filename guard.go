package librato

import (
	_ "embed"
	"fmt"
	"math/bits"
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
	switch {
	case bit == 0:
		return false
	case bit == bitFull:
		// Full Access is on every row (parseMatrix insists) and alone on
		// paths without one: the answer needs no lookup.
		return true
	}
	mi := methodIndex(method)
	if mi < 0 || defaultMatrix.methodRoles[mi]&bit == 0 {
		// no row of this method admits the role, and paths without a
		// row are Full Access alone
		return false
	}
	row := defaultMatrix.lookupMethod(mi, path)
	return row != nil && row.roles&bit != 0
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

// matrix holds the rows and, built once, a matcher over their templates.
//
// Every template is /v1/<resource>/...: the matcher picks the resource by
// its first two bytes and compares it in place, then walks the segments after
// it through a small trie in which a literal beats a parameter,
// backtracking to the parameter if the literal's branch leads nowhere.
// Literals are compared a word at a time and only parameters are scanned,
// so classifying a path touches few bytes and allocates nothing.
type matrix struct {
	rows        []permRow
	resources   [256][]*segNode     // by resourceSlot of their first two bytes
	methodRoles [numMethods]roleSet // the roles some row of each method admits
}

// segNode is a literal segment of a template (or the parameter child of
// one) and what may follow it: the row each method has when the path ends
// here, literal children, and at most one parameter child.
type segNode struct {
	lit   literal
	rows  [numMethods]*permRow
	lits  []*segNode
	param *segNode
}

// literal is a segment's text with its bytes packed into words, so that
// comparing it with the path is two masked compares.
type literal struct {
	s          string
	w0, m0     uint64 // bytes 0..7 and their mask
	w1, m1     uint64 // bytes 8..15 and their mask
	longerThan bool   // over 16 bytes: compared as a string
}

func newLiteral(s string) literal {
	l := literal{s: s, longerThan: len(s) > 16}
	for i := 0; i < len(s) && i < 16; i++ {
		if i < 8 {
			l.w0 |= uint64(s[i]) << (8 * i)
			l.m0 |= 0xff << (8 * i)
		} else {
			l.w1 |= uint64(s[i]) << (8 * (i - 8))
			l.m1 |= 0xff << (8 * (i - 8))
		}
	}
	return l
}

// at reports whether the segment of path that starts at pos is exactly l.
func (l *literal) at(path string, pos int) bool {
	end := pos + len(l.s)
	if end > len(path) || (end < len(path) && !segStop[path[end]]) {
		return false
	}
	switch rest := len(path) - pos; {
	case l.longerThan:
		return path[pos:end] == l.s
	case rest >= 16:
		return load8(path[pos:pos+8])&l.m0 == l.w0 && load8(path[pos+8:pos+16])&l.m1 == l.w1
	case rest >= 8:
		return load8(path[pos:pos+8])&l.m0 == l.w0 && (l.m1 == 0 || tailWord(path, pos+8)&l.m1 == l.w1)
	}
	// the literal is shorter than the eight bytes left
	return tailWord(path, pos)&l.m0 == l.w0
}

// segStop marks the bytes that end a segment.
var segStop = [256]bool{'/': true, '?': true, '#': true}

// load8 packs eight bytes into a word; the compiler makes it one load.
func load8(w string) uint64 {
	_ = w[7]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}

// tailWord reads path[pos:] little-endian, fewer than eight bytes, with
// zero bytes past the end: it reads the last eight bytes and shifts rather
// than reading byte by byte.
func tailWord(path string, pos int) uint64 {
	if pos >= len(path) {
		return 0
	}
	if len(path) >= 8 {
		return load8(path[len(path)-8:]) >> (8 * uint(pos-(len(path)-8)))
	}
	var x uint64
	for j := len(path) - 1; j >= pos; j-- {
		x = x<<8 | uint64(path[j])
	}
	return x
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
	m := &matrix{}
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
	segs := strings.Split(row.template[1:], "/")
	if len(segs) < 2 || segs[0] != "v1" {
		return fmt.Errorf("endpoint %q is not /v1/<resource>/...", row.template)
	}
	for i, seg := range segs {
		if seg == "" {
			return fmt.Errorf("endpoint %q has an empty segment", row.template)
		}
		if i == 1 && seg[0] == ':' {
			return fmt.Errorf("endpoint %q: the resource segment must be literal", row.template)
		}
	}
	if len(segs[1]) < 2 {
		return fmt.Errorf("endpoint %q: the resource name needs two characters or more", row.template)
	}
	slot := resourceSlot(segs[1][0], segs[1][1])
	n := findLiteral(m.resources[slot], segs[1])
	if n == nil {
		n = &segNode{lit: newLiteral(segs[1])}
		m.resources[slot] = append(m.resources[slot], n)
	}
	for _, seg := range segs[2:] {
		switch {
		case seg[0] == ':':
			if n.param == nil {
				n.param = &segNode{}
			}
			n = n.param
		default:
			c := findLiteral(n.lits, seg)
			if c == nil {
				c = &segNode{lit: newLiteral(seg)}
				n.lits = append(n.lits, c)
			}
			n = c
		}
	}
	mi := methodIndex(row.method)
	m.methodRoles[mi] |= row.roles
	if n.rows[mi] != nil {
		return fmt.Errorf("%s %s has the same shape as %s %s", row.method, row.template, n.rows[mi].method, n.rows[mi].template)
	}
	n.rows[mi] = row
	return nil
}

// resourceSlot hashes the first two bytes of a resource name.
func resourceSlot(a, b byte) int { return (int(a)*7 ^ int(b)*31) & 255 }

func findLiteral(nodes []*segNode, seg string) *segNode {
	for _, c := range nodes {
		if c.lit.s == seg {
			return c
		}
	}
	return nil
}

// lookup returns the row for method and path, or nil. The path stops at
// '?' or '#', must start with "/v1/", and an empty segment matches
// nothing; a literal segment beats a parameter.
func (m *matrix) lookup(method, path string) *permRow {
	mi := methodIndex(method)
	if mi < 0 {
		return nil
	}
	return m.lookupMethod(mi, path)
}

// lookupMethod is lookup for the method of index mi.
func (m *matrix) lookupMethod(mi int, path string) *permRow {
	if len(path) < 6 || path[:4] != "/v1/" {
		return nil
	}
	var n *segNode
	for _, r := range m.resources[resourceSlot(path[4], path[5])] {
		if r.lit.at(path, 4) {
			n = r
			break
		}
	}
	if n == nil {
		return nil
	}
	pos := 4 + len(n.lit.s) // at '/', '?', '#' or the end
	type alt struct {
		n   *segNode
		pos int // where the parameter's segment starts
	}
	var pending [4]alt // parameter branches not taken yet
	np := 0
	for {
		if pos == len(path) || path[pos] != '/' {
			if r := n.rows[mi]; r != nil {
				return r
			}
		} else {
			start := pos + 1
			var lit *segNode
			for _, c := range n.lits {
				if c.lit.at(path, start) {
					lit = c
					break
				}
			}
			if lit != nil {
				if n.param != nil && np < len(pending) {
					pending[np] = alt{n.param, start}
					np++
				}
				n, pos = lit, start+len(lit.lit.s)
				continue
			}
			if n.param != nil {
				if end := segmentEnd(path, start); end > start {
					n, pos = n.param, end
					continue
				}
			}
		}
		// back to the last parameter branch not taken
		for {
			if np == 0 {
				return nil
			}
			np--
			a := pending[np]
			if end := segmentEnd(path, a.pos); end > a.pos {
				n, pos = a.n, end
				break
			}
		}
	}
}

// segmentEnd returns the index of the first '/', '?' or '#' of path at or
// after pos, or len(path); it reads eight bytes at a time.
func segmentEnd(path string, pos int) int {
	for ; len(path)-pos >= 8; pos += 8 {
		if stop := stopBytes(load8(path[pos : pos+8])); stop != 0 {
			return pos + bits.TrailingZeros64(stop)>>3
		}
	}
	for pos < len(path) && !segStop[path[pos]] {
		pos++
	}
	return pos
}

// stopBytes sets the high bit of each byte of x that ends a segment. '/'
// (0x2f) and '?' (0x3f) are the only bytes that read 0x3f once bit 0x10 is
// set, so two tests cover the three bytes.
func stopBytes(x uint64) uint64 {
	return zeroBytes((x|0x1010101010101010)^query8) | zeroBytes(x^frag8)
}

// The bytes that end segments, repeated over a word.
const (
	query8 = '?' * 0x0101010101010101
	frag8  = '#' * 0x0101010101010101
)

// zeroBytes sets the high bit of each byte of x that is zero, exactly.
func zeroBytes(x uint64) uint64 {
	const low7 = 0x7f7f7f7f7f7f7f7f
	y := (x & low7) + low7
	return ^(y | x | low7)
}
