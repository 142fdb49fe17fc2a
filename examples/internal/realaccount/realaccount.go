// Package realaccount lets the example programs run against a real
// Librato account named by the environment instead of the in-process mock.
package realaccount

import (
	"errors"
	"fmt"
	"os"

	librato "github.com/librato-sdk/librato-go"
)

// Account is a real account named by the environment.
type Account struct {
	Email string
	Token string
	Role  librato.Role
	URL   string // another API root, or "" for Librato's
}

// FromEnv reads LIBRATO_EMAIL, LIBRATO_TOKEN and LIBRATO_ROLE (all or none)
// and the optional LIBRATO_URL, an API root other than Librato's (such as a
// librato-mock you started). It returns nil when none is set: use the
// in-process mock. Some but not all set, or an unknown role, is an error.
func FromEnv() (*Account, error) {
	a := &Account{Email: os.Getenv("LIBRATO_EMAIL"), Token: os.Getenv("LIBRATO_TOKEN"), URL: os.Getenv("LIBRATO_URL")}
	role := os.Getenv("LIBRATO_ROLE")
	if a.Email == "" && a.Token == "" && role == "" && a.URL == "" {
		return nil, nil
	}
	if a.Email == "" || a.Token == "" || role == "" {
		return nil, errors.New("set all of LIBRATO_EMAIL, LIBRATO_TOKEN and LIBRATO_ROLE for a real account, or none of them for the mock")
	}
	var err error
	if a.Role, err = librato.ParseRole(role); err != nil {
		return nil, fmt.Errorf("LIBRATO_ROLE: %w", err)
	}
	return a, nil
}

// Client builds a client of the account's token that declares its role and
// names the program in its User-Agent.
func (a *Account) Client(userAgent string) (*librato.Client, error) {
	opts := []librato.Option{librato.WithRole(a.Role), librato.WithUserAgent(userAgent)}
	if a.URL != "" {
		opts = append(opts, librato.WithBaseURL(a.URL))
	}
	return librato.NewClient(a.Email, a.Token, opts...)
}
