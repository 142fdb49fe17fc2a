package librato

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRole(t *testing.T) {
	cases := map[string]Role{
		"admin":          RoleFullAccess,
		"ADMIN":          RoleFullAccess,
		" Full Access\t": RoleFullAccess,
		"full access":    RoleFullAccess,
		"recorder":       RoleRecordOnly,
		"Record Only":    RoleRecordOnly,
		"RECORD ONLY":    RoleRecordOnly,
		"viewer":         RoleViewOnly,
		"\nView Only  ":  RoleViewOnly,
		"view only":      RoleViewOnly,
	}
	for in, want := range cases {
		got, err := ParseRole(in)
		require.NoError(t, err, "%q", in)
		assert.Equal(t, want, got, "%q", in)
	}
	for _, in := range []string{"", "  ", "root", "viewers", "Full  Access", "record-only", strings.Repeat("x", 500)} {
		_, err := ParseRole(in)
		require.Error(t, err, "%q", in)
		assert.True(t, errors.Is(err, ErrUnknownRole))
		for _, valid := range []string{"admin", "recorder", "viewer", "Full Access", "Record Only", "View Only"} {
			assert.Contains(t, err.Error(), valid, "the error lists the valid values")
		}
		assert.Less(t, len(err.Error()), 250, "long input is cut in the message")
	}
}

func TestRoleLabelsAndString(t *testing.T) {
	assert.Equal(t, "Full Access", RoleFullAccess.Label())
	assert.Equal(t, "Record Only", RoleRecordOnly.Label())
	assert.Equal(t, "View Only", RoleViewOnly.Label())
	assert.Equal(t, "no role declared", Role("").Label())
	assert.Equal(t, "viewer (View Only)", RoleViewOnly.String())
	assert.True(t, RoleRecordOnly.Valid())
	assert.False(t, Role("Record Only").Valid(), "labels are not API names")
	assert.Equal(t, []Role{RoleFullAccess, RoleRecordOnly, RoleViewOnly}, Roles())
}

func TestRoleJSONRoundTrip(t *testing.T) {
	type doc struct {
		Role Role `json:"role"`
	}
	for _, r := range Roles() {
		b, err := json.Marshal(doc{r})
		require.NoError(t, err)
		assert.Equal(t, `{"role":"`+string(r)+`"}`, string(b))
		var back doc
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, r, back.Role)
	}
	var d doc
	require.NoError(t, json.Unmarshal([]byte(`{"role":"View Only"}`), &d), "labels decode too")
	assert.Equal(t, RoleViewOnly, d.Role)
	require.NoError(t, json.Unmarshal([]byte(`{"role":""}`), &d))
	assert.Equal(t, Role(""), d.Role)
	assert.Error(t, json.Unmarshal([]byte(`{"role":"superuser"}`), &d))
	_, err := json.Marshal(doc{Role("superuser")})
	assert.Error(t, err)
	b, err := json.Marshal(doc{Role("Full Access")})
	require.NoError(t, err)
	assert.Equal(t, `{"role":"admin"}`, string(b), "a label encodes as the API name")
	b, err = json.Marshal(doc{})
	require.NoError(t, err)
	assert.Equal(t, `{"role":""}`, string(b))
}

func FuzzParseRole(f *testing.F) {
	for _, s := range []string{"admin", "Record Only", " view only ", "", "x", "FULL ACCESS\n", "\u00a0viewer"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRole(s)
		if err != nil {
			if !errors.Is(err, ErrUnknownRole) || r != "" {
				t.Fatalf("ParseRole(%q) = %q, %v", s, r, err)
			}
			return
		}
		if !r.Valid() {
			t.Fatalf("ParseRole(%q) returned invalid role %q", s, r)
		}
		t2 := strings.TrimSpace(s)
		if !strings.EqualFold(t2, string(r)) && !strings.EqualFold(t2, r.Label()) {
			t.Fatalf("ParseRole(%q) = %q, which neither name nor label matches", s, r)
		}
		for _, again := range []string{string(r), r.Label()} {
			if r2, err := ParseRole(again); err != nil || r2 != r {
				t.Fatalf("round trip of %q failed: %q, %v", again, r2, err)
			}
		}
	})
}

// TestWithRoleTakesLabels: a role given by its UI label is the role, not a
// client that silently guards nothing.
func TestWithRoleTakesLabels(t *testing.T) {
	for _, label := range []string{"Record Only", "record only", " recorder "} {
		c, err := NewClient(testEmail, testToken, WithRole(Role(label)))
		require.NoError(t, err)
		assert.Equal(t, RoleRecordOnly, c.Role(), label)
		_, err = c.Spaces.Create(context.Background(), &Space{Name: "x"})
		var fe *ErrForbiddenForRole
		assert.ErrorAs(t, err, &fe, "%q guards", label)
	}
}
