package librato

import (
	"errors"
	"fmt"
	"strings"
)

// Role is the role an API token was issued with. The API names the roles
// "admin", "recorder" and "viewer"; the web UI calls them Full Access,
// Record Only and View Only. The zero Role means "not declared": a client
// built without WithRole does not guard its calls.
type Role string

// The three token roles, by their API names.
const (
	// RoleFullAccess may call every endpoint, including creating API tokens.
	RoleFullAccess Role = "admin"
	// RoleRecordOnly may record measurements and annotations and read
	// metric-related data; meant for agents and collectors.
	RoleRecordOnly Role = "recorder"
	// RoleViewOnly may only read; meant for viewing and embedding dashboards.
	RoleViewOnly Role = "viewer"
)

// Roles lists the three token roles from the most to the least privileged.
func Roles() []Role {
	return []Role{RoleFullAccess, RoleRecordOnly, RoleViewOnly}
}

// ErrUnknownRole is wrapped by every error ParseRole returns, so callers can
// test for it with errors.Is.
var ErrUnknownRole = errors.New("librato: unknown token role")

// ParseRole reads a role from its API name ("admin", "recorder", "viewer") or
// its UI label ("Full Access", "Record Only", "View Only"), in any case and
// with surrounding space. An empty or unknown string is an error wrapping
// ErrUnknownRole that lists the valid values.
func ParseRole(s string) (Role, error) {
	t := strings.TrimSpace(s)
	for _, r := range Roles() {
		if strings.EqualFold(t, string(r)) || strings.EqualFold(t, r.Label()) {
			return r, nil
		}
	}
	if len(t) > 40 {
		t = t[:40] + "..."
	}
	return "", fmt.Errorf("%w %q: use one of admin (Full Access), recorder (Record Only), viewer (View Only)", ErrUnknownRole, t)
}

// Label returns the name the Librato web UI gives the role ("Full Access",
// "Record Only", "View Only"), "no role declared" for the zero Role, and the
// raw string for anything else.
func (r Role) Label() string {
	switch r {
	case RoleFullAccess:
		return "Full Access"
	case RoleRecordOnly:
		return "Record Only"
	case RoleViewOnly:
		return "View Only"
	case "":
		return "no role declared"
	}
	return string(r)
}

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool {
	return r == RoleFullAccess || r == RoleRecordOnly || r == RoleViewOnly
}

// String returns the API name and the UI label, e.g. `viewer (View Only)`.
func (r Role) String() string {
	if !r.Valid() {
		return r.Label()
	}
	return string(r) + " (" + r.Label() + ")"
}

// MarshalText encodes the role as its API name, so JSON carries "admin",
// "recorder" or "viewer", even for a role spelled as a UI label. The zero
// Role encodes as an empty string; an unknown role is an error.
func (r Role) MarshalText() ([]byte, error) {
	if r == "" || r.Valid() {
		return []byte(r), nil
	}
	v, err := ParseRole(string(r))
	if err != nil {
		return nil, err
	}
	return []byte(v), nil
}

// UnmarshalText accepts anything ParseRole accepts, and an empty string as
// the zero Role.
func (r *Role) UnmarshalText(b []byte) error {
	if len(strings.TrimSpace(string(b))) == 0 {
		*r = ""
		return nil
	}
	v, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}
