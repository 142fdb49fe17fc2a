package mock

import (
	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock/internal/api"
)

// Account is one isolated Librato account of the server: its own tokens,
// metrics, measurements, spaces, alerts, services, annotations, jobs and
// snapshots. A token of one account never authenticates with another
// account's email, and no account sees another's objects. Reset replaces
// every account: take them again afterwards.
type Account struct {
	srv *Server
	st  *api.Account
}

// Email is the account's email, the Basic-auth user name of its tokens.
func (a *Account) Email() string { return a.st.Email }

// Credentials creates a fresh active API token of role in the account
// (listed by GET /v1/api_tokens like any other; Reset restores it) and
// returns the account's email and the token. An invalid role returns an
// empty token.
func (a *Account) Credentials(role librato.Role) (email, token string) {
	t, ok := a.st.Issue(role)
	if !ok {
		return a.st.Email, ""
	}
	a.srv.control.issued(a.st.Email, t)
	return a.st.Email, t.Secret
}

// Client returns an SDK client holding a fresh token of role for this
// account, declaring that role, with the server's URL as base URL; opts
// are applied after those. MinimalRoleOf reports what the client used.
func (a *Account) Client(role librato.Role, opts ...librato.Option) (*librato.Client, error) {
	return a.srv.newClient(a, role, opts...)
}

// Recorded returns copies of the measurements the account accepted, in
// acceptance order. Each carries its effective tags (its own, or the
// batch's top-level tags when it had none), time (its own, the batch's, or
// the server's clock) and period, with names and tags as the client sent
// them (the stored series lower-case tags), and the summary fields it
// sent. Seeded measurements count, and so do legacy POST /v1/metrics
// submissions, as measurements tagged {"source": S} (none without a
// source). They are rebuilt from the store on each call.
func (a *Account) Recorded() []librato.Measurement { return a.st.Recorded() }

// RecordedCount is how many measurements the account accepted so far.
func (a *Account) RecordedCount() int { return a.st.RecordedCount() }

// FireAlert makes alert id trigger, as if its conditions held: it shows as
// firing in the status endpoints until POST /v1/alerts/:id/clear. It
// reports false if the account has no such alert.
func (a *Account) FireAlert(id int64) bool { return a.st.FireAlert(id) }
