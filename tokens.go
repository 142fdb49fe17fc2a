package librato

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// APITokensService manages the account's API tokens.
type APITokensService service

var (
	epAPITokensList   = newEndpoint("GET", "/v1/api_tokens")
	epAPITokensCreate = newEndpoint("POST", "/v1/api_tokens")
	epAPITokensGet    = newEndpoint("GET", "/v1/api_tokens/:id")
	epAPITokensUpdate = newEndpoint("PUT", "/v1/api_tokens/:id")
	epAPITokensDelete = newEndpoint("DELETE", "/v1/api_tokens/:id")
)

// APITokenTimeLayout is how the API writes a token's created_at and
// updated_at, e.g. "2013-02-01 18:53:38 UTC".
const APITokenTimeLayout = "2006-01-02 15:04:05 MST"

// APIToken is an API token of the account. The secret itself is read only
// through Token: fmt (every verb, %#v included), slog and json.Marshal show
// the other fields and never the secret, so logging a token or an error
// about one cannot leak it.
type APIToken struct {
	Name      *string // nil only for legacy or auto-generated tokens
	Active    bool    // an inactive token authenticates with 401
	Role      Role    // as the API sent it; an unknown role is kept as is
	Href      string  // absolute URL of the token; its last segment is the id
	CreatedAt string  // as the API writes it, APITokenTimeLayout; see Created
	UpdatedAt string  // as the API writes it; see Updated

	// token sits behind a pointer so that even a printer that walks
	// unexported fields of an enclosing value shows an address, not the
	// secret.
	token *string
}

// apiTokenJSON is the token as the API spells it.
type apiTokenJSON struct {
	Name      *string `json:"name"`
	Token     string  `json:"token,omitempty"`
	Active    bool    `json:"active"`
	Role      string  `json:"role,omitempty"`
	Href      string  `json:"href,omitempty"`
	CreatedAt string  `json:"created_at,omitempty"`
	UpdatedAt string  `json:"updated_at,omitempty"`
}

// UnmarshalJSON reads the API's token object, keeping the secret where
// only Token reads it. A role the SDK does not know is kept verbatim
// rather than failing the whole answer.
func (t *APIToken) UnmarshalJSON(data []byte) error {
	var w apiTokenJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	role := Role(w.Role)
	if r, err := ParseRole(w.Role); err == nil {
		role = r
	}
	*t = APIToken{Name: w.Name, Active: w.Active, Role: role, Href: w.Href, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if w.Token != "" {
		tok := w.Token
		t.token = &tok
	}
	return nil
}

// MarshalJSON writes the token in the API's shape without the secret: the
// server ignores a token value sent to it, and leaving it out keeps a
// token logged as JSON harmless.
func (t APIToken) MarshalJSON() ([]byte, error) {
	return json.Marshal(apiTokenJSON{Name: t.Name, Active: t.Active, Role: string(t.Role), Href: t.Href, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt})
}

// Token returns the secret, the Basic-auth password of this token; "" when
// the answer did not carry it. Handle it like a password.
func (t APIToken) Token() string {
	if t.token == nil {
		return ""
	}
	return *t.token
}

// ID returns the token's numeric id, read from the end of Href (the API
// sends no id field); 0 if Href has none.
func (t APIToken) ID() int64 { return idFromLocation(t.Href) }

// Created parses CreatedAt; the zero time if it is empty or unreadable.
func (t APIToken) Created() time.Time { return parseTokenTime(t.CreatedAt) }

// Updated parses UpdatedAt; the zero time if it is empty or unreadable.
func (t APIToken) Updated() time.Time { return parseTokenTime(t.UpdatedAt) }

func parseTokenTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range [...]string{APITokenTimeLayout, time.RFC3339Nano} {
		if v, err := time.Parse(layout, s); err == nil {
			return v.UTC()
		}
	}
	return time.Time{}
}

// String describes the token without its secret.
func (t APIToken) String() string {
	var b strings.Builder
	b.WriteString("librato.APIToken{id: ")
	b.WriteString(strconv.FormatInt(t.ID(), 10))
	b.WriteString(", name: ")
	if t.Name == nil {
		b.WriteString("null")
	} else {
		b.WriteString(strconv.Quote(*t.Name))
	}
	fmt.Fprintf(&b, ", role: %s, active: %t", t.Role.String(), t.Active)
	if t.CreatedAt != "" {
		b.WriteString(", created_at: " + strconv.Quote(t.CreatedAt))
	}
	if t.token != nil {
		b.WriteString(", token: [REDACTED]")
	}
	b.WriteByte('}')
	return b.String()
}

// GoString describes the token without its secret.
func (t APIToken) GoString() string { return t.String() }

// Format prints String for every verb, so no verb reaches the secret.
func (t APIToken) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, t.String()) }

// LogValue logs the token's id, name, role and state, never the secret.
func (t APIToken) LogValue() slog.Value {
	name := ""
	if t.Name != nil {
		name = *t.Name
	}
	return slog.GroupValue(
		slog.Int64("id", t.ID()),
		slog.String("name", name),
		slog.String("role", string(t.Role)),
		slog.Bool("active", t.Active),
	)
}

// APITokenPage is one page of GET /v1/api_tokens.
type APITokenPage struct {
	Query     Query      `json:"query"`
	APITokens []APIToken `json:"api_tokens"`
}

func (l *APITokenPage) page() ([]APIToken, Query) { return l.APITokens, l.Query }

// APITokenCreate is a new token: Name is required (any length, need not be
// unique); Role is one of the three roles, or empty for the server's
// default.
type APITokenCreate struct {
	Name string `json:"name"`
	Role Role   `json:"role,omitempty"`
}

func (c *APITokenCreate) validate() error {
	if err := checkRequired("name", c.Name); err != nil {
		return err
	}
	return checkTokenRole(c.Role)
}

// APITokenUpdate changes the fields it sets on a token; nil fields and an
// empty Role are not sent.
type APITokenUpdate struct {
	Name   *string `json:"name,omitempty"`
	Active *bool   `json:"active,omitempty"` // false revokes the token: it then gets 401
	Role   Role    `json:"role,omitempty"`
}

func (u *APITokenUpdate) validate() error {
	if u.Name == nil && u.Active == nil && u.Role == "" {
		return invalid("api_token", -1, "sets no field; nothing to update")
	}
	if u.Name != nil && strings.TrimSpace(*u.Name) == "" {
		return invalid("name", -1, "may not be set to empty")
	}
	return checkTokenRole(u.Role)
}

func checkTokenRole(r Role) error {
	if r != "" && !r.Valid() {
		return invalid("role", -1, "%s is not admin, recorder or viewer", quoteShort(string(r)))
	}
	return nil
}

// List returns one page of the account's tokens, each with its secret,
// filtered by opts.
func (s *APITokensService) List(ctx context.Context, opts *ListOptions) (*APITokenPage, error) {
	return callInto[APITokenPage](ctx, s.client, &request{ep: epAPITokensList, opts: listOf{opts, nil, true}})
}

// All yields every token matching opts, page after page; an error ends the
// sequence.
func (s *APITokensService) All(ctx context.Context, opts *ListOptions) iter.Seq2[APIToken, error] {
	return allPages[APIToken](ctx, opts, s.List)
}

// Get returns token id with its secret; a missing one is an *APIError
// matching ErrNotFound.
func (s *APITokensService) Get(ctx context.Context, id int64) (*APIToken, error) {
	return callInto[APIToken](ctx, s.client, &request{ep: epAPITokensGet, params: []string{idParam(id)}})
}

// GetByName returns the tokens whose name matches name ('*' is a
// wildcard: "*deploy*"), with their secrets: GET /v1/api_tokens/:name, the
// same matrix row as Get. Token names need not be unique, so it returns
// every match, in the server's order, and an empty slice when none
// matches. The reference documents a list page for this route; a server
// that answers with a single token object is read as a list of one. The
// route answers one page: for more than 100 matches, use All with a Name.
//
// On this route the server cannot tell a name made only of digits from an
// id, so such a name is looked up with List's name filter instead (GET
// /v1/api_tokens?name=..., also Full Access only). An empty name is a
// *ValidationError.
func (s *APITokensService) GetByName(ctx context.Context, name string) ([]APIToken, error) {
	if err := checkRequired("name", name); err != nil {
		return nil, err
	}
	if strings.Trim(name, "0123456789") == "" {
		l, err := s.List(ctx, &ListOptions{Name: name})
		if err != nil {
			return nil, err
		}
		return l.APITokens, nil
	}
	out, err := callInto[apiTokensByName](ctx, s.client, &request{ep: epAPITokensGet, params: []string{name}})
	if err != nil {
		return nil, err
	}
	return *out, nil
}

// apiTokensByName is the answer of GET /v1/api_tokens/:name: the list page
// the reference shows ({"api_tokens": [...], "query": {...}}), a bare
// array, or a single token.
type apiTokensByName []APIToken

func (l *apiTokensByName) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		return decodeJSON(data, (*[]APIToken)(l))
	}
	var page struct {
		APITokens *[]APIToken `json:"api_tokens"`
	}
	if err := decodeJSON(data, &page); err != nil {
		return err
	}
	if page.APITokens != nil {
		*l = *page.APITokens
		return nil
	}
	var one APIToken
	if err := decodeJSON(data, &one); err != nil {
		return err
	}
	if one.Href == "" && one.Name == nil && one.token == nil {
		*l = apiTokensByName{} // an empty object: no token
		return nil
	}
	*l = apiTokensByName{one}
	return nil
}

// Create issues a new token and returns it with the secret the server
// generated. A missing name or unknown role is a *ValidationError.
func (s *APITokensService) Create(ctx context.Context, c *APITokenCreate) (*APIToken, error) {
	if c == nil {
		c = &APITokenCreate{}
	}
	var out APIToken
	res, err := s.client.call(ctx, &request{ep: epAPITokensCreate, body: c, out: &out})
	if err != nil {
		return nil, err
	}
	if out.Href == "" && res.location != "" {
		out.Href = res.location
	}
	return &out, nil
}

// Update changes what u sets on token id (name, active, role) and returns
// the updated token. An update that sets nothing is a *ValidationError.
func (s *APITokensService) Update(ctx context.Context, id int64, u *APITokenUpdate) (*APIToken, error) {
	if u == nil {
		u = &APITokenUpdate{}
	}
	return callInto[APIToken](ctx, s.client, &request{ep: epAPITokensUpdate, params: []string{idParam(id)}, body: u})
}

// Delete deletes token id; clients using it then get 401.
func (s *APITokensService) Delete(ctx context.Context, id int64) error {
	_, err := s.client.call(ctx, &request{ep: epAPITokensDelete, params: []string{idParam(id)}})
	return err
}
