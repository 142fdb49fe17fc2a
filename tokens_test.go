package librato

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tokSecret is a recognisable token value: no output may contain it, nor
// its distinctive middle.
const (
	tokSecret     = "24f9fb2134399595b91da1dcac39cb6eSECRETMIDDLEfa08ad3d70892b7aad10e1cf"
	tokSecretPart = "SECRETMIDDLE"
)

const tokenExample = `{
  "name": "My New Token",
  "token": "` + tokSecret + `",
  "active": true,
  "role": "admin",
  "href": "http://api.librato.dev/v1/api_tokens/28",
  "created_at": "2013-02-01 18:53:38 UTC",
  "updated_at": "2013-02-01 18:53:38 UTC",
  "not_documented": {"x": 1}
}`

func decodeExampleToken(t *testing.T) APIToken {
	t.Helper()
	var tok APIToken
	require.NoError(t, json.Unmarshal([]byte(tokenExample), &tok))
	return tok
}

func assertTokenExample(t *testing.T, tok *APIToken) {
	t.Helper()
	require.NotNil(t, tok.Name)
	assert.Equal(t, "My New Token", *tok.Name)
	assert.Equal(t, tokSecret, tok.Token())
	assert.True(t, tok.Active)
	assert.Equal(t, RoleFullAccess, tok.Role)
	assert.Equal(t, "http://api.librato.dev/v1/api_tokens/28", tok.Href)
	assert.EqualValues(t, 28, tok.ID)
	assert.Equal(t, time.Date(2013, 2, 1, 18, 53, 38, 0, time.UTC), tok.CreatedAt)
	assert.Equal(t, time.Date(2013, 2, 1, 18, 53, 38, 0, time.UTC), tok.UpdatedAt)
}

func TestAPITokensList(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "GET", "/v1/api_tokens", 200, `{
	  "api_tokens": [`+tokenExample+`, {"name": null, "token": "abc", "active": false, "role": "viewer", "href": "https://metrics-api.librato.com/v1/api_tokens/3"}],
	  "query": {"found": 2, "length": 2, "offset": 0, "total": 7}
	}`, "")
	page, err := c.APITokens.List(context.Background(), &ListOptions{Name: "*token*", Length: 2})
	require.NoError(t, err)
	call := rec.one(t)
	famAssertRequest(t, call, "GET", "/v1/api_tokens")
	assert.Equal(t, map[string][]string{"name": {"*token*"}, "length": {"2"}}, call.Query)
	assert.Equal(t, Query{Found: 2, Length: 2, Total: 7}, page.Query)
	require.Len(t, page.APITokens, 2)
	assertTokenExample(t, &page.APITokens[0])
	legacy := page.APITokens[1]
	assert.Nil(t, legacy.Name)
	assert.False(t, legacy.Active)
	assert.Equal(t, RoleViewOnly, legacy.Role)
	assert.EqualValues(t, 3, legacy.ID)
	assert.True(t, legacy.CreatedAt.IsZero())
}

func TestAPITokensAll(t *testing.T) {
	c, mt := newMockClient(t)
	var seen []string
	mt.RegisterResponder("GET", testBase+"/v1/api_tokens", func(req *http.Request) (*http.Response, error) {
		q := req.URL.Query()
		assert.Equal(t, "ci-*", q.Get("name"))
		seen = append(seen, q.Get("offset"))
		if q.Get("offset") == "" {
			return httpmock.NewStringResponse(200, `{"query":{"found":2,"length":1,"offset":0,"total":5},"api_tokens":[{"name":"ci-1","token":"a","active":true,"role":"recorder","href":"/v1/api_tokens/1"}]}`), nil
		}
		return httpmock.NewStringResponse(200, `{"query":{"found":2,"length":1,"offset":1,"total":5},"api_tokens":[{"name":"ci-2","token":"b","active":true,"role":"recorder","href":"/v1/api_tokens/2"}]}`), nil
	})
	var ids []int64
	for tok, err := range c.APITokens.All(context.Background(), &ListOptions{Name: "ci-*", Length: 1}) {
		require.NoError(t, err)
		ids = append(ids, tok.ID)
	}
	assert.Equal(t, []int64{1, 2}, ids)
	assert.Equal(t, []string{"", "1"}, seen)
}

func TestAPITokensGet(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "GET", "/v1/api_tokens/28", 200, tokenExample, "")
	tok, err := c.APITokens.Get(context.Background(), 28)
	require.NoError(t, err)
	famAssertRequest(t, rec.one(t), "GET", "/v1/api_tokens/28")
	assertTokenExample(t, tok)
}

func TestAPITokensCreate(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "POST", "/v1/api_tokens", 201, tokenExample, "/v1/api_tokens/28")
	tok, err := c.APITokens.Create(context.Background(), &APIToken{Name: Ptr("My New Token"), Role: RoleFullAccess})
	require.NoError(t, err)
	call := rec.one(t)
	famAssertRequest(t, call, "POST", "/v1/api_tokens")
	assert.JSONEq(t, `{"name":"My New Token","role":"admin"}`, call.Body)
	assertTokenExample(t, tok)
}

func TestAPITokensCreateWithoutRole(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "POST", "/v1/api_tokens", 201, `{"name":"n","token":"t","active":true,"role":"admin"}`, "https://api.test/prefix/v1/api_tokens/31")
	tok, err := c.APITokens.Create(context.Background(), &APIToken{Name: Ptr("n")})
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"n"}`, rec.one(t).Body)
	assert.EqualValues(t, 31, tok.ID, "the id comes from Location when the body has no href")
}

// TestAPITokensCreateSendsOnlyNameAndRole: a token read from the API can
// be passed to Create; its secret, state, href and times are not sent.
func TestAPITokensCreateSendsOnlyNameAndRole(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "POST", "/v1/api_tokens", 201, tokenExample, "/v1/api_tokens/28")
	in := decodeExampleToken(t)
	_, err := c.APITokens.Create(context.Background(), &in)
	require.NoError(t, err)
	body := rec.one(t).Body
	assert.JSONEq(t, `{"name":"My New Token","role":"admin"}`, body)
	famAssertNoSecret(t, "create body", body)
}

func TestAPITokensUpdateSendsOnlySetFields(t *testing.T) {
	resp := `{"name":"Renamed","token":"` + tokSecret + `","active":false,"role":"viewer","href":"http://api.librato.dev/v1/api_tokens/28","created_at":"2013-02-01 18:53:38 UTC","updated_at":"2013-02-02 10:00:00 UTC"}`
	for _, tc := range []struct {
		name string
		in   *APITokenUpdate
		want string
	}{
		{"name", &APITokenUpdate{Name: Ptr("Renamed")}, `{"name":"Renamed"}`},
		{"deactivate", &APITokenUpdate{Active: Ptr(false)}, `{"active":false}`},
		{"role", &APITokenUpdate{Role: Ptr(RoleViewOnly)}, `{"role":"viewer"}`},
		{"all", &APITokenUpdate{Name: Ptr("Renamed"), Active: Ptr(true), Role: Ptr(RoleRecordOnly)}, `{"name":"Renamed","active":true,"role":"recorder"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			rec := famRespond(t, mt, "PUT", "/v1/api_tokens/28", 200, resp, "")
			require.NoError(t, c.APITokens.Update(context.Background(), 28, tc.in))
			call := rec.one(t)
			famAssertRequest(t, call, "PUT", "/v1/api_tokens/28")
			assert.JSONEq(t, tc.want, call.Body)
		})
	}
}

func TestAPITokensDelete(t *testing.T) {
	c, mt := newMockClient(t)
	rec := famRespond(t, mt, "DELETE", "/v1/api_tokens/28", 204, ``, "")
	require.NoError(t, c.APITokens.Delete(context.Background(), 28))
	famAssertRequest(t, rec.one(t), "DELETE", "/v1/api_tokens/28")
}

func TestAPITokensValidation(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		field string
		call  func(c *Client) error
	}{
		{"create nil", "name", func(c *Client) error { _, err := c.APITokens.Create(ctx, nil); return err }},
		{"create no name", "name", func(c *Client) error {
			_, err := c.APITokens.Create(ctx, &APIToken{Role: RoleViewOnly})
			return err
		}},
		{"create blank name", "name", func(c *Client) error {
			_, err := c.APITokens.Create(ctx, &APIToken{Name: Ptr(" "), Role: RoleViewOnly})
			return err
		}},
		{"create bad role", "role", func(c *Client) error {
			_, err := c.APITokens.Create(ctx, &APIToken{Name: Ptr("n"), Role: "root"})
			return err
		}},
		{"update nothing", "api_token", func(c *Client) error { return c.APITokens.Update(ctx, 1, &APITokenUpdate{}) }},
		{"update nil", "api_token", func(c *Client) error { return c.APITokens.Update(ctx, 1, nil) }},
		{"update empty name", "name", func(c *Client) error {
			return c.APITokens.Update(ctx, 1, &APITokenUpdate{Name: Ptr("")})
		}},
		{"update bad role", "role", func(c *Client) error {
			return c.APITokens.Update(ctx, 1, &APITokenUpdate{Role: Ptr(Role("Full Access"))})
		}},
		{"update empty role", "role", func(c *Client) error {
			return c.APITokens.Update(ctx, 1, &APITokenUpdate{Role: Ptr(Role(""))})
		}},
		{"update id 0", "id", func(c *Client) error {
			return c.APITokens.Update(ctx, 0, &APITokenUpdate{Active: Ptr(true)})
		}},
		{"get id 0", "id", func(c *Client) error { _, err := c.APITokens.Get(ctx, 0); return err }},
		{"delete id 0", "id", func(c *Client) error { return c.APITokens.Delete(ctx, 0) }},
		{"list bad offset", "offset", func(c *Client) error {
			_, err := c.APITokens.List(ctx, &ListOptions{Offset: -1})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newMockClient(t)
			famRequireInvalid(t, mt, tc.call(c), tc.field)
		})
	}
}

func TestAPITokensGuard(t *testing.T) {
	for _, r := range []Role{RoleRecordOnly, RoleViewOnly} {
		c, mt := newMockClient(t, WithRole(r))
		_, err := c.APITokens.Create(context.Background(), &APIToken{Name: Ptr("x")})
		require.ErrorIs(t, err, ErrForbidden)
		_, err = c.APITokens.List(context.Background(), nil)
		require.ErrorIs(t, err, ErrForbidden)
		assert.Zero(t, mt.GetTotalCallCount())
	}
}

func famAssertNoSecret(t *testing.T, what, out string) {
	t.Helper()
	assert.NotContains(t, out, tokSecretPart, "%s leaked the token: %s", what, out)
}

func TestAPITokenNeverPrinted(t *testing.T) {
	tok := decodeExampleToken(t)
	ptr := &tok
	list := &APITokenPage{APITokens: []APIToken{tok, tok}}
	type hidden struct {
		tok APIToken
		ptr *APIToken
	}
	values := map[string]any{
		"value":        tok,
		"pointer":      ptr,
		"slice":        []APIToken{tok},
		"pointers":     []*APIToken{ptr},
		"list":         list,
		"list value":   *list,
		"map":          map[string]APIToken{"k": tok},
		"unexported":   hidden{tok: tok, ptr: ptr},
		"unexported *": &hidden{tok: tok, ptr: ptr},
		"anonymous":    struct{ T APIToken }{tok},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v", "%T"}
	for name, v := range values {
		for _, verb := range verbs {
			famAssertNoSecret(t, name+" "+verb, fmt.Sprintf(verb, v))
		}
		famAssertNoSecret(t, name+" Sprint", fmt.Sprint(v))
		famAssertNoSecret(t, name+" Sprintln", fmt.Sprintln(v))
	}
	assert.Contains(t, tok.String(), "[REDACTED]")
	assert.Contains(t, fmt.Sprintf("%v", tok), `"My New Token"`)
	assert.Contains(t, fmt.Sprintf("%#v", ptr), "id: 28")
	assert.Equal(t, tokSecret, tok.Token(), "the secret is still there for whoever asks")

	var nilTok *APIToken
	assert.NotPanics(t, func() { _ = fmt.Sprintf("%v %s %#v", nilTok, nilTok, nilTok) })
}

// failures collects what a failed assertion reports.
type failures struct{ msgs []string }

func (f *failures) Errorf(format string, args ...any) {
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}

// TestAPITokenSecretIsSealed: printers that walk unexported fields by
// reflection, as testify's diff does, see only the sealed bytes, while
// tokens with equal secrets stay deeply equal.
func TestAPITokenSecretIsSealed(t *testing.T) {
	tok, again := decodeExampleToken(t), decodeExampleToken(t)
	assert.True(t, reflect.DeepEqual(tok, again), "equal tokens are deeply equal")
	other := tok
	other.token = seal(strings.Replace(tokSecret, "fa08", "0000", 1))
	assert.False(t, reflect.DeepEqual(tok, other), "tokens with other secrets differ")

	var f failures
	assert.Equal(&f, tok, other)
	assert.Equal(&f, struct{ T []APIToken }{[]APIToken{tok}}, struct{ T []APIToken }{[]APIToken{other}})
	require.Len(t, f.msgs, 2, "the assertions fail and print their diff")
	for _, m := range f.msgs {
		assert.Contains(t, m, "Diff")
		famAssertNoSecret(t, "testify diff", m)
	}
	famAssertNoSecret(t, "%v of a struct holding a token", fmt.Sprintf("%v %+v", struct{ t APIToken }{tok}, struct{ t []APIToken }{[]APIToken{tok}}))
}

func TestAPITokenNeverLoggedOrMarshalled(t *testing.T) {
	tok := decodeExampleToken(t)
	b, err := json.Marshal(tok)
	require.NoError(t, err)
	famAssertNoSecret(t, "json.Marshal", string(b))
	assert.JSONEq(t, `{"name":"My New Token","active":true,"role":"admin","href":"http://api.librato.dev/v1/api_tokens/28","created_at":"2013-02-01 18:53:38 UTC","updated_at":"2013-02-01 18:53:38 UTC"}`, string(b))
	b, err = json.Marshal(&APITokenPage{APITokens: []APIToken{tok}})
	require.NoError(t, err)
	famAssertNoSecret(t, "json.Marshal list", string(b))

	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("token", "tok", tok, "ptr", &tok)
		l.Info("fields", slog.Any("t", tok))
	}
	famAssertNoSecret(t, "slog", buf.String())
	assert.Contains(t, buf.String(), "My New Token")
}

func TestAPITokenSecretNotInDecodeErrors(t *testing.T) {
	for _, body := range []string{
		`{"name":"n","token":"` + tokSecret + `","active":"yes"}`,
		`{"name":"n","token":"` + tokSecret + `","active":true,"role":["admin"]}`,
		`{"name":"n","token":"` + tokSecret + `", "active": tru`,
		`{"token":["` + tokSecret + `"]}`,
	} {
		c, mt := newMockClient(t)
		famRespond(t, mt, "GET", "/v1/api_tokens/1", 200, body, "")
		_, err := c.APITokens.Get(context.Background(), 1)
		var de *DecodeError
		require.ErrorAs(t, err, &de, body)
		famAssertNoSecret(t, "decode error", err.Error())
		famAssertNoSecret(t, "decode error %+v", fmt.Sprintf("%+v", err))
	}
}

func TestAPITokenSecretNotInAPIErrorForOwnToken(t *testing.T) {
	// The client's own token echoed back by a server is redacted by the
	// pipeline; check that holds for these endpoints too.
	c, mt := newMockClient(t)
	famRespond(t, mt, "POST", "/v1/api_tokens", 400, `{"errors":{"params":{"name":["`+testToken+` is invalid"]}}}`, "")
	_, err := c.APITokens.Create(context.Background(), &APIToken{Name: Ptr("n")})
	require.ErrorIs(t, err, ErrBadRequest)
	assert.NotContains(t, err.Error(), testToken)
}

func TestAPITokenUnknownRoleKept(t *testing.T) {
	var tok APIToken
	require.NoError(t, json.Unmarshal([]byte(`{"name":"n","token":"t","active":true,"role":"auditor","href":"/v1/api_tokens/9"}`), &tok))
	assert.Equal(t, Role("auditor"), tok.Role)
	assert.False(t, tok.Role.Valid())
	b, err := json.Marshal(tok)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"role":"auditor"`)
}

func TestAPITokenTimes(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2013-02-01 18:53:38 UTC": time.Date(2013, 2, 1, 18, 53, 38, 0, time.UTC),
		"2016-02-20T01:18:46Z":    time.Date(2016, 2, 20, 1, 18, 46, 0, time.UTC),
		"":                        {},
		"yesterday":               {},
	} {
		var tok APIToken
		body, err := json.Marshal(map[string]string{"created_at": in, "updated_at": in})
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(body, &tok), in)
		assert.Equal(t, want, tok.CreatedAt, in)
		assert.Equal(t, want, tok.UpdatedAt, in)
	}
}

// tokensByNameExample is the reference's "Retrieve a Token" response
// (librato/api-docs, source/includes/_api-tokens.md), the list page of the
// tokens matching a name.
const tokensByNameExample = `{
  "api_tokens": [
    {
      "name": "Token for collectors",
      "token": "24f9fb2134399595b91da1dcac39cb6eafc68a07fa08ad3d70892b7aad10e1cf",
      "active": true,
      "role": "recorder",
      "href": "http://metrics-api.librato.com/v1/api_tokens/28",
      "created_at": "2013-02-01 18:53:38 UTC",
      "updated_at": "2013-02-01 18:53:38 UTC"
    },
    {
      "name": "Token that has been disabled",
      "active": false,
      "role": "viewer",
      "href": "http://metrics-api.librato.com/v1/api_tokens/29",
      "token": "d1ffbbbe327c6839a71023c2a8c9ba921207e32e427a49fb221843d74d63f7b8",
      "created_at": "2013-02-01 18:54:28 UTC",
      "updated_at": "2013-02-01 18:54:28 UTC"
    }
  ],
    "query": {
        "found": 2,
        "length": 2,
        "offset": 0,
        "total": 2
    }
}`

// TestAPITokensListByName finds tokens by name with List: the name is a
// query filter, so any name (digits only, spaces, a slash) goes as given,
// and several tokens may match.
func TestAPITokensListByName(t *testing.T) {
	c, mt := newMockClient(t)
	got := capture(mt, 200, tokensByNameExample)
	page, err := c.APITokens.List(context.Background(), &ListOptions{Name: "*token*"})
	require.NoError(t, err)
	require.Len(t, *got, 1)
	assert.Equal(t, "GET", (*got)[0].method)
	assert.Equal(t, "/prefix/v1/api_tokens", (*got)[0].path)
	assert.Equal(t, "name=%2Atoken%2A", (*got)[0].query)
	toks := page.APITokens
	require.Len(t, toks, 2)
	assert.Equal(t, "Token for collectors", *toks[0].Name)
	assert.Equal(t, RoleRecordOnly, toks[0].Role)
	assert.EqualValues(t, 28, toks[0].ID)
	assert.Equal(t, "24f9fb2134399595b91da1dcac39cb6eafc68a07fa08ad3d70892b7aad10e1cf", toks[0].Token())
	assert.False(t, toks[1].Active)
	assert.EqualValues(t, 29, toks[1].ID)

	for name, query := range map[string]string{"ci / deploy": "name=ci+%2F+deploy", "2024": "name=2024"} {
		got = capture(mt, 200, `{"api_tokens":[],"query":{"found":0,"length":0,"offset":0,"total":2}}`)
		page, err = c.APITokens.List(context.Background(), &ListOptions{Name: name})
		require.NoError(t, err)
		assert.Equal(t, "/prefix/v1/api_tokens", (*got)[0].path)
		assert.Equal(t, query, (*got)[0].query)
		assert.NotNil(t, page.APITokens)
		assert.Empty(t, page.APITokens, "no match is an empty list, not an error")
	}

	capture(mt, 200, `{"api_tokens":[{"name":7}]}`)
	_, err = c.APITokens.List(context.Background(), &ListOptions{Name: "x"})
	var de *DecodeError
	assert.ErrorAs(t, err, &de, "a malformed token still fails")
}

func TestAPITokensListByNameGuard(t *testing.T) {
	for _, role := range []Role{RoleRecordOnly, RoleViewOnly} {
		c, mt := newMockClient(t, WithRole(role))
		_, err := c.APITokens.List(context.Background(), &ListOptions{Name: "ci"})
		var fe *ErrForbiddenForRole
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "/v1/api_tokens", fe.Endpoint)
		assert.Zero(t, mt.GetTotalCallCount())
	}
}
