package mock

import (
	"slices"

	librato "github.com/librato-sdk/librato-go"
)

// usageRecord is the matrix rows one token used, in first-use order.
type usageRecord struct {
	rows []librato.Permission
	seen map[string]bool
}

// recordUsage notes that token made a call classified as row p, whatever
// the call's outcome.
func (s *Server) recordUsage(token string, p librato.Permission) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.usage[token]
	if u == nil {
		u = &usageRecord{seen: make(map[string]bool)}
		s.usage[token] = u
	}
	key := p.Method + " " + p.Endpoint
	if u.seen[key] {
		return
	}
	u.seen[key] = true
	u.rows = append(u.rows, p)
}

// Usage returns the matrix rows token used in authenticated calls (refused
// ones included), in first-use order; nil if it made none. Calls that
// failed authentication or matched no endpoint are not counted.
func (s *Server) Usage(token string) []librato.Permission {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.usage[token]
	if u == nil {
		return nil
	}
	out := make([]librato.Permission, len(u.rows))
	for i, p := range u.rows {
		p.Roles = slices.Clone(p.Roles)
		out[i] = p
	}
	return out
}

// MinimalRole reports the least privileged role whose matrix permissions
// (inferred roles of unlisted rows included) cover every row token used:
// the role to issue that integration's token with. It reports false if the
// token made no authenticated call.
func (s *Server) MinimalRole(token string) (librato.Role, bool) {
	rows := s.Usage(token)
	if len(rows) == 0 {
		return "", false
	}
	roles := librato.Roles() // most to least privileged
	for i := len(roles) - 1; i >= 0; i-- {
		r := roles[i]
		ok := true
		for _, p := range rows {
			if !slices.Contains(p.Roles, r) {
				ok = false
				break
			}
		}
		if ok {
			return r, true
		}
	}
	return librato.RoleFullAccess, true
}
