package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/mock"
)

// noRealAccount makes sure the program uses its in-process mock: an empty
// variable counts as unset.
func noRealAccount(t *testing.T) {
	for _, k := range []string{"LIBRATO_EMAIL", "LIBRATO_TOKEN", "LIBRATO_ROLE", "LIBRATO_URL"} {
		t.Setenv(k, "")
	}
}

// useAccount points the program's real-account mode at srv with a fresh
// token of role, and returns the token.
func useAccount(t *testing.T, srv *mock.Server, role librato.Role) string {
	email, token := srv.Credentials(role)
	t.Setenv("LIBRATO_EMAIL", email)
	t.Setenv("LIBRATO_TOKEN", token)
	t.Setenv("LIBRATO_ROLE", string(role))
	t.Setenv("LIBRATO_URL", srv.URL())
	return token
}

// TestRun runs the program in-process (under -race too) against the mock.
func TestRun(t *testing.T) {
	noRealAccount(t)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, []string{"-prefix", "test-"}), out.String())
	assert.Equal(t, 3, strings.Count(out.String(), " ok\n"), out.String())
	assert.Equal(t, 3, strings.Count(out.String(), "now gets 401"), out.String())
	assert.Equal(t, 3, strings.Count(out.String(), "cleanup: deleted token \"test-"), out.String())
}

// TestRunWithAccount runs the real-account mode against a mock standing in
// for Librato: the account's other tokens are left as they were.
func TestRunWithAccount(t *testing.T) {
	srv, err := mock.New(mock.WithSeed(&mock.Seed{Tokens: []mock.SeedToken{{Name: "existing", Role: librato.RoleViewOnly}}}))
	require.NoError(t, err)
	defer srv.Close()
	useAccount(t, srv, librato.RoleFullAccess)
	admin, err := srv.Client(librato.RoleFullAccess)
	require.NoError(t, err)
	before := tokens(t, admin)

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, nil), out.String())
	assert.Equal(t, 3, strings.Count(out.String(), " ok\n"), out.String())
	assert.Equal(t, before, tokens(t, admin), "tokens changed")
}

// tokens lists the account's tokens as name/role/active.
func tokens(t *testing.T, admin *librato.Client) []string {
	var out []string
	for tok, err := range admin.APITokens.All(context.Background(), nil) {
		require.NoError(t, err)
		name := ""
		if tok.Name != nil {
			name = *tok.Name
		}
		out = append(out, name+"/"+string(tok.Role)+"/"+map[bool]string{true: "active", false: "inactive"}[tok.Active])
	}
	return out
}

// TestRunNeedsFullAccess refuses to start with a token of another role,
// before any request.
func TestRunNeedsFullAccess(t *testing.T) {
	srv, err := mock.New()
	require.NoError(t, err)
	defer srv.Close()
	useAccount(t, srv, librato.RoleRecordOnly)
	var out bytes.Buffer
	require.ErrorContains(t, run(context.Background(), &out, nil), "needs a Full Access token")
	assert.Zero(t, srv.Requests())
}
