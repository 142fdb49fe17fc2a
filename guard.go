package librato

import (
	"strings"

	"github.com/librato-sdk/librato-go/internal/endpoints"
)

// Sources of matrix rows, as the Permission.Source field carries them.
const (
	// SourcePublished rows come straight from Librato's published role table.
	SourcePublished = endpoints.Published
	// SourcePublishedResolved rows had one blank cell that had to be placed.
	SourcePublishedResolved = endpoints.PublishedResolved
	// SourcePublishedAlias rows are a published row under the path the API
	// really uses (GET /v1/measurements/:name).
	SourcePublishedAlias = endpoints.PublishedAlias
	// SourceUnlisted rows are documented endpoints missing from the role
	// table; their roles are inferred and enforced only by a strict guard.
	SourceUnlisted = endpoints.Unlisted
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
	return escapeText(b.String())
}

// Is makes errors.Is(err, ErrForbidden) true for a guard refusal as for a
// server's 403.
func (e *ErrForbiddenForRole) Is(target error) bool { return target == ErrForbidden }

// Permitted reports what the matrix says of role calling method on path. The
// path may be concrete ("/v1/spaces/42") or a template ("/v1/spaces/:id"); a
// query string is ignored. Rows with inferred roles answer with those roles,
// and a path that matches no row is permitted to Full Access alone. It does
// not allocate for an upper-case method.
func Permitted(role Role, method, path string) bool {
	if role == RoleFullAccess {
		return true // on every row (the matrix insists) and alone on paths without one
	}
	row := matchRow(method, path)
	return row != nil && row.Allows(string(role))
}

// matchRow classifies method and path by the one endpoint table.
func matchRow(method, path string) *endpoints.Row {
	if strings.ToUpper(method) != method {
		method = strings.ToUpper(method)
	}
	return endpoints.All.Match(method, path)
}

// Permissions returns every row of the embedded matrix, in file order. The
// slice is a fresh copy the caller may keep.
func Permissions() []Permission {
	rows := endpoints.All.Rows()
	out := make([]Permission, len(rows))
	for i := range rows {
		out[i] = permissionOf(&rows[i])
	}
	return out
}

// LookupPermission finds the matrix row a concrete or template path belongs
// to, by the shape of its segments; a literal segment beats a parameter. It
// reports false for a path that matches no row.
func LookupPermission(method, path string) (Permission, bool) {
	row := matchRow(method, path)
	if row == nil {
		return Permission{}, false
	}
	return permissionOf(row), true
}

func permissionOf(r *endpoints.Row) Permission {
	p := Permission{Method: r.Method, Endpoint: r.Template, Source: r.Source}
	for _, name := range r.Roles() {
		p.Roles = append(p.Roles, Role(name))
	}
	return p
}
