package main

import (
	"bytes"
	"context"
	"slices"
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

// TestRun runs the program in-process (under -race too) against the mock.
func TestRun(t *testing.T) {
	noRealAccount(t)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, nil), out.String())
	assert.Contains(t, out.String(), "refused before sending: ")
	assert.Contains(t, out.String(), "\ndone\n")
}

// TestRunWithAccount runs the real-account mode against a mock standing in
// for Librato, once per role: every call the token makes must be one its
// role may make, and what existed before must still exist afterwards.
func TestRunWithAccount(t *testing.T) {
	for _, role := range librato.Roles() {
		t.Run(string(role), func(t *testing.T) {
			srv, err := mock.New(mock.WithSeed(&mock.Seed{
				Spaces: []map[string]any{{"name": "Ops"}},
			}))
			require.NoError(t, err)
			defer srv.Close()
			email, token := srv.Credentials(role)
			t.Setenv("LIBRATO_EMAIL", email)
			t.Setenv("LIBRATO_TOKEN", token)
			t.Setenv("LIBRATO_ROLE", role.Label()) // UI labels work too
			t.Setenv("LIBRATO_URL", srv.URL())
			admin, err := srv.Client(librato.RoleFullAccess)
			require.NoError(t, err)
			tokensBefore := count(t, admin.APITokens.All(context.Background(), nil))

			var out bytes.Buffer
			require.NoError(t, run(context.Background(), &out, nil), out.String())
			t.Log("\n" + out.String())

			for _, p := range srv.Usage(token) {
				assert.True(t, slices.Contains(p.Roles, role), "a %s token called %s %s", role, p.Method, p.Endpoint)
			}
			assert.Equal(t, tokensBefore, count(t, admin.APITokens.All(context.Background(), nil)), "tokens left behind or deleted")
			var spaces []string
			for sp, err := range admin.Spaces.All(context.Background(), nil) {
				require.NoError(t, err)
				spaces = append(spaces, sp.Name)
			}
			assert.Equal(t, []string{"Ops"}, spaces, "spaces left behind or deleted")
			if role == librato.RoleFullAccess {
				assert.Contains(t, out.String(), "skip guard refusal")
			} else {
				assert.Contains(t, out.String(), "refused before sending: ")
			}
		})
	}
}

func count[T any](t *testing.T, seq func(func(T, error) bool)) int {
	n := 0
	for _, err := range seq {
		require.NoError(t, err)
		n++
	}
	return n
}
