package mock

import (
	"cmp"
	"slices"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/internal/endpoints"
)

// usageRecord is the matrix rows one token used, in first-use order, with
// how often it called each.
type usageRecord struct {
	id      identity
	first   int64 // order of first use among the records
	last    int64 // order of last use, for pruning
	rows    []*endpoints.Row
	calls   []int
	byRow   map[*endpoints.Row]int
	deleted bool // the token no longer exists (found by a sweep)
}

// Bounds of the usage records. The records of live tokens are kept; those
// of deleted tokens are swept once usageSweepEvery records were added
// since the last sweep, keeping the maxDeletedUsage most recently used.
const (
	usageSweepEvery = 1000
	maxDeletedUsage = 1000
)

// recordUsage notes that the token made a call classified as row,
// whatever the call's outcome. The caller holds no account lock.
func (s *Server) recordUsage(secret string, id identity, row *endpoints.Row) {
	s.usageMu.Lock()
	u := s.usage[secret]
	if u == nil {
		u = &usageRecord{id: id, byRow: make(map[*endpoints.Row]int)}
		s.usageSeq++
		u.first = s.usageSeq
		s.usage[secret] = u
	}
	s.usageSeq++
	u.last = s.usageSeq
	u.id.name, u.id.role = id.name, id.role // the token's current name and role
	if i, ok := u.byRow[row]; ok {
		u.calls[i]++
	} else {
		u.byRow[row] = len(u.rows)
		u.rows = append(u.rows, row)
		u.calls = append(u.calls, 1)
	}
	sweep := len(s.usage) >= s.usageSweepAt
	s.usageMu.Unlock()
	if sweep {
		s.sweepUsage()
	}
}

// sweepUsage drops the records of deleted tokens beyond the
// maxDeletedUsage most recently used. Liveness is checked under each
// account's lock with the usage lock released.
func (s *Server) sweepUsage() {
	type cand struct {
		secret string
		u      *usageRecord
	}
	s.usageMu.Lock()
	all := make([]cand, 0, len(s.usage))
	for secret, u := range s.usage {
		all = append(all, cand{secret, u})
	}
	s.usageMu.Unlock()
	var dead []cand
	for _, c := range all {
		a := c.u.id.a
		if !a.st.HasToken(c.u.id.tok) || !s.ownsAccount(a) {
			dead = append(dead, c)
		}
	}
	slices.SortFunc(dead, func(x, y cand) int { return cmp.Compare(y.u.last, x.u.last) })
	s.usageMu.Lock()
	defer s.usageMu.Unlock()
	for i, c := range dead {
		c.u.deleted = true
		if i >= maxDeletedUsage && s.usage[c.secret] == c.u {
			delete(s.usage, c.secret)
		}
	}
	s.usageSweepAt = len(s.usage) + usageSweepEvery
}

// ownsAccount reports whether a is still one of the server's accounts
// (Reset detaches the old ones).
func (s *Server) ownsAccount(a *Account) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accounts[accountKey(a.st.Email)] == a
}

func (s *Server) clearUsage() {
	s.usageMu.Lock()
	defer s.usageMu.Unlock()
	s.usage = make(map[string]*usageRecord)
	s.usageSweepAt = usageSweepEvery
}

// Usage returns the matrix rows token used in authenticated calls (refused
// ones included), in first-use order; nil if it made none. Calls that
// failed authentication or matched no endpoint are not counted, nor are
// control-plane requests. Usage of a deleted token is kept for the
// maxDeletedUsage (1,000) most recently used deleted tokens.
func (s *Server) Usage(token string) []librato.Permission {
	s.usageMu.Lock()
	defer s.usageMu.Unlock()
	u := s.usage[token]
	if u == nil {
		return nil
	}
	out := make([]librato.Permission, len(u.rows))
	for i, row := range u.rows {
		out[i] = permission(row)
	}
	return out
}

// permission is a row as the SDK describes it.
func permission(row *endpoints.Row) librato.Permission {
	p := librato.Permission{Method: row.Method, Endpoint: row.Template, Source: row.Source}
	for _, name := range row.Roles() {
		p.Roles = append(p.Roles, librato.Role(name))
	}
	return p
}

// MinimalRole reports the least privileged role whose matrix permissions
// (inferred roles of unlisted rows included) cover every row token used:
// the role to issue that integration's token with. It reports false if the
// token made no authenticated call. For a client made by Client, use
// MinimalRoleOf.
func (s *Server) MinimalRole(token string) (librato.Role, bool) {
	s.usageMu.Lock()
	defer s.usageMu.Unlock()
	u := s.usage[token]
	if u == nil {
		return "", false
	}
	return minimalRole(u.rows), true
}

func minimalRole(rows []*endpoints.Row) librato.Role {
	roles := librato.Roles() // most to least privileged
	for i := len(roles) - 1; i >= 0; i-- {
		r := roles[i]
		ok := true
		for _, row := range rows {
			if !row.Allows(string(r)) {
				ok = false
				break
			}
		}
		if ok {
			return r
		}
	}
	return librato.RoleFullAccess
}

// TokenUsage is what one token did (GET /mock/usage): its name and role
// (as they are now), the least privileged role covering its calls, and
// the matrix rows it called, with call counts. It never holds the token.
type TokenUsage struct {
	Account     string          `json:"account"` // the account's email
	TokenName   string          `json:"token_name"`
	Role        librato.Role    `json:"role"`
	MinimalRole librato.Role    `json:"minimal_role"`
	Deleted     bool            `json:"deleted,omitempty"` // the token was deleted (seen by the last sweep)
	Endpoints   []EndpointUsage `json:"endpoints"`
}

// EndpointUsage is one matrix row a token called and how often.
type EndpointUsage struct {
	Method   string `json:"method"`
	Endpoint string `json:"endpoint"` // the template, "/v1/metrics/:name"
	Calls    int    `json:"calls"`
}

// UsageReport lists every token that made an authenticated call, in
// order of first use, with what Usage and MinimalRole give plus call
// counts (GET /mock/usage).
func (s *Server) UsageReport() []TokenUsage {
	s.usageMu.Lock()
	recs := make([]*usageRecord, 0, len(s.usage))
	for _, u := range s.usage {
		recs = append(recs, u)
	}
	slices.SortFunc(recs, func(x, y *usageRecord) int { return cmp.Compare(x.first, y.first) })
	out := make([]TokenUsage, len(recs))
	for i, u := range recs {
		tu := TokenUsage{
			Account: u.id.a.st.Email, TokenName: u.id.name, Role: u.id.role,
			MinimalRole: minimalRole(u.rows), Deleted: u.deleted,
			Endpoints: make([]EndpointUsage, len(u.rows)),
		}
		for j, row := range u.rows {
			tu.Endpoints[j] = EndpointUsage{Method: row.Method, Endpoint: row.Template, Calls: u.calls[j]}
		}
		out[i] = tu
	}
	s.usageMu.Unlock()
	return out
}
