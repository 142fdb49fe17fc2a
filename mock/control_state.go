package mock

import (
	"fmt"
	"strings"
	"sync"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock/internal/api"
)

// controlState is what the server remembers for its harness: the tokens
// Credentials handed out, which Reset restores, and the SDK clients
// Client made, for MinimalRoleOf.
type controlState struct {
	mu      sync.Mutex // taken after an account's lock, never before
	tokens  []issuedToken
	clients map[*librato.Client]string // the secret each client holds

	resetMu sync.Mutex // one Reset at a time
}

// issuedToken is a token as Credentials created it.
type issuedToken struct {
	email string
	tok   api.Token
}

func (c *controlState) init() { c.clients = make(map[*librato.Client]string) }

// issued remembers a token Credentials created.
func (c *controlState) issued(email string, t api.Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokens = append(c.tokens, issuedToken{email: email, tok: t})
}

func (c *controlState) issuedTokens() []issuedToken {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]issuedToken(nil), c.tokens...)
}

func (c *controlState) remember(cl *librato.Client, secret string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clients[cl] = secret
}

func (c *controlState) secretOf(cl *librato.Client) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.clients[cl]
	return s, ok
}

// newClient is Account.Client: an SDK client holding a fresh token of
// role, remembered so that MinimalRoleOf can find the token, which the
// client never shows.
func (s *Server) newClient(a *Account, role librato.Role, opts ...librato.Option) (*librato.Client, error) {
	if !role.Valid() {
		_, err := librato.ParseRole(string(role))
		return nil, err
	}
	email, token := a.Credentials(role)
	all := append([]librato.Option{librato.WithBaseURL(s.URL()), librato.WithRole(role)}, opts...)
	c, err := librato.NewClient(email, token, all...)
	if err != nil {
		return nil, err
	}
	s.control.remember(c, token)
	return c, nil
}

// MinimalRoleOf is MinimalRole for the token held by c, a client made by
// Server.Client or Account.Client (the SDK client never shows its token,
// so the server remembers it). It reports false for any other client and
// for a client that made no authenticated call.
func (s *Server) MinimalRoleOf(c *librato.Client) (librato.Role, bool) {
	secret, ok := s.control.secretOf(c)
	if !ok {
		return "", false
	}
	return s.MinimalRole(secret)
}

// UsageOf is Usage for the token held by c, a client made by Server.Client
// or Account.Client; nil for any other client.
func (s *Server) UsageOf(c *librato.Client) []librato.Permission {
	secret, ok := s.control.secretOf(c)
	if !ok {
		return nil
	}
	return s.Usage(secret)
}

// ControlToken is the bearer token of the control plane under /mock/
// (Authorization: Bearer <token>): random per server unless
// WithControlToken fixes it. It is no API token: /v1 answers it with 401,
// as /mock/ answers API tokens.
func (s *Server) ControlToken() string { return s.cfg.controlToken }

// Reset puts the server back as it started (POST /mock/reset): every
// account is created anew through newAccount, the default account gets
// the seed of WithSeed again (its tokens with the same secrets), and the
// tokens Credentials and Client handed out are restored as they were
// issued, so the credentials a test or the librato-mock program printed
// keep working. The journal, the usage records and pending faults are
// emptied, and latency, the job delay, gzip and rate limits go back to
// their options. Objects
// get new ids. Account values taken before Reset are detached: take them
// again with Account or DefaultAccount. Requests keeps counting.
func (s *Server) Reset() error {
	s.control.resetMu.Lock()
	defer s.control.resetMu.Unlock()
	def := s.newAccount(s.cfg.email)
	if s.seed != nil {
		if err := s.seed.applyTo(def.st); err != nil {
			return fmt.Errorf("mock: Reset: applying the seed again: %w", err)
		}
	}
	accounts := map[string]*Account{accountKey(def.st.Email): def}
	for _, it := range s.control.issuedTokens() {
		key := accountKey(it.email)
		a := accounts[key]
		if a == nil {
			a = s.newAccount(it.email)
			accounts[key] = a
		}
		a.st.Restore(it.tok)
	}
	s.mu.Lock()
	s.accounts = accounts
	s.def.Store(def)
	s.mu.Unlock()

	s.ClearFaults()
	s.journal.clear()
	s.clearUsage()
	s.latency.Store(int64(s.cfg.latency))
	s.env.SetJobDelay(s.cfg.jobDelay)
	s.noGzip.Store(s.cfg.noGzip)
	s.aggLimit.Store(int64(s.cfg.aggLimit))
	s.stdLimit.Store(int64(s.cfg.stdLimit))
	return nil
}

func accountKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// identity is who a request authenticated as: a snapshot taken under the
// account's lock, so later changes to the token do not race with the
// request.
type identity struct {
	a    *Account
	tok  *api.Token
	name string
	role librato.Role
}

// identify finds the account and active token of a request's Basic
// credentials, in the forms of the package doc's "Authentication": the
// account's email as user name and the token as password, as the Librato
// reference documents; the user name "token" with the token as password,
// as appoptics-api-go's Client sends it; or the token as user name with
// an empty password, as its legacy SimpleClient sends it. ok is false for
// anything else.
func (s *Server) identify(user, secret string) (identity, bool) {
	if secret == "" {
		user, secret = tokenUser, user
	}
	if a := s.findAccount(user); a != nil {
		if id, ok := a.lookup(secret); ok {
			return id, true
		}
	}
	if user != tokenUser {
		return identity{}, false
	}
	var found identity
	n := 0
	for _, a := range s.allAccounts() {
		if id, ok := a.lookup(secret); ok {
			found = id
			n++
		}
	}
	// A secret two accounts share (fixed seed tokens) says no account.
	return found, n == 1
}

// tokenUser is the Basic-auth user name appoptics-api-go sends with the
// token as password.
const tokenUser = "token"

// lookup returns the identity of the account's active token with that
// secret.
func (a *Account) lookup(secret string) (identity, bool) {
	t, name, role, ok := a.st.Lookup(secret)
	if !ok {
		return identity{}, false
	}
	return identity{a: a, tok: t, name: name, role: role}, true
}
