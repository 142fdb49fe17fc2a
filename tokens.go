package librato

import (
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

// APIToken is an API token of the account, as the API returns it and as
// Create sends it (its name and role). The secret itself is read only
// through Token: fmt (every verb, %#v included), slog and json.Marshal
// show the other fields and never the secret, and the secret is held
// sealed, so a printer that walks unexported fields by reflection (a
// struct holding tokens printed with %v, testify's diff) shows only noise.
type APIToken struct {
	ID        int64     `json:"-"`          // read from the end of Href; the API sends no id
	Name      *string   `json:"name"`       // nil only for legacy or auto-generated tokens; required to create
	Active    bool      `json:"active"`     // an inactive token authenticates with 401
	Role      Role      `json:"role"`       // as the API sent it; an unknown role is kept as is
	Href      string    `json:"href"`       // absolute URL of the token
	CreatedAt time.Time `json:"created_at"` // the zero time when absent or unreadable
	UpdatedAt time.Time `json:"updated_at"`

	token sealed
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

// UnmarshalJSON reads the API's token object: the id from the href, the
// times in APITokenTimeLayout (or RFC 3339), and the secret where only
// Token reads it. A role the SDK does not know is kept verbatim rather
// than failing the whole answer.
func (t *APIToken) UnmarshalJSON(data []byte) error {
	var w apiTokenJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	role := Role(w.Role)
	if r, err := ParseRole(w.Role); err == nil {
		role = r
	}
	*t = APIToken{
		ID: idFromLocation(w.Href), Name: w.Name, Active: w.Active, Role: role, Href: w.Href,
		CreatedAt: parseTokenTime(w.CreatedAt), UpdatedAt: parseTokenTime(w.UpdatedAt),
	}
	if w.Token != "" {
		t.token = seal(w.Token)
	}
	return nil
}

// MarshalJSON writes the token in the API's shape without the secret: the
// server ignores a token value sent to it, and leaving it out keeps a
// token logged as JSON harmless.
func (t APIToken) MarshalJSON() ([]byte, error) {
	return json.Marshal(apiTokenJSON{Name: t.Name, Active: t.Active, Role: string(t.Role), Href: t.Href,
		CreatedAt: formatTokenTime(t.CreatedAt), UpdatedAt: formatTokenTime(t.UpdatedAt)})
}

// Token returns the secret, the Basic-auth password of this token; "" when
// the answer did not carry it. Handle it like a password.
func (t APIToken) Token() string { return t.token.open() }

func parseTokenTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range [...]string{APITokenTimeLayout, time.RFC3339Nano} {
		if v, err := time.Parse(layout, s); err == nil {
			return v.UTC()
		}
	}
	return time.Time{}
}

func formatTokenTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(APITokenTimeLayout)
}

// String describes the token without its secret.
func (t APIToken) String() string {
	var b strings.Builder
	b.WriteString("librato.APIToken{id: ")
	b.WriteString(strconv.FormatInt(t.ID, 10))
	b.WriteString(", name: ")
	if t.Name == nil {
		b.WriteString("null")
	} else {
		b.WriteString(strconv.Quote(*t.Name))
	}
	fmt.Fprintf(&b, ", role: %s, active: %t", t.Role.String(), t.Active)
	if !t.CreatedAt.IsZero() {
		b.WriteString(", created_at: " + strconv.Quote(formatTokenTime(t.CreatedAt)))
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
		slog.Int64("id", t.ID),
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

// apiTokenCreate is what Create sends: the name and the role.
type apiTokenCreate struct {
	Name string `json:"name"`
	Role Role   `json:"role,omitempty"`
}

func (c *apiTokenCreate) validate() error {
	if err := checkRequired("name", c.Name); err != nil {
		return err
	}
	return checkTokenRole(c.Role)
}

// APITokenUpdate changes a token (PUT /v1/api_tokens/:id): a nil field is
// not sent and the server keeps it.
type APITokenUpdate struct {
	Name   *string `json:"name,omitempty"`   // not blank
	Active *bool   `json:"active,omitempty"` // false revokes the token: it then gets 401
	Role   *Role   `json:"role,omitempty"`   // RoleFullAccess, RoleRecordOnly or RoleViewOnly
}

func (u *APITokenUpdate) validate() error {
	if u == nil || (u.Name == nil && u.Active == nil && u.Role == nil) {
		return invalid("api_token", -1, "sets no field; nothing to update")
	}
	if u.Name != nil && strings.TrimSpace(*u.Name) == "" {
		return invalid("name", -1, "may not be set to empty")
	}
	if u.Role != nil && *u.Role == "" {
		return invalid("role", -1, "is empty; use admin, recorder or viewer")
	}
	if u.Role != nil {
		return checkTokenRole(*u.Role)
	}
	return nil
}

func checkTokenRole(r Role) error {
	if r != "" && !r.Valid() {
		return invalid("role", -1, "%s is not admin, recorder or viewer", quoteShort(string(r)))
	}
	return nil
}

// List returns one page of the account's tokens, each with its secret.
// opts.Name finds tokens by name, '*' being a wildcard ("*deploy*"); names
// need not be unique, so it may match several. A bad offset, length or
// sort is a *ValidationError.
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

// Create issues a new token named t.Name (required; names need not be
// unique) with role t.Role (empty for the server's default), and returns
// it with the secret the server generated. Nothing else of t is sent. A
// missing name or an unknown role is a *ValidationError and nothing is
// sent.
func (s *APITokensService) Create(ctx context.Context, t *APIToken) (*APIToken, error) {
	body := &apiTokenCreate{}
	if t != nil {
		body.Role = t.Role
		if t.Name != nil {
			body.Name = *t.Name
		}
	}
	var out APIToken
	res, err := s.client.call(ctx, &request{ep: epAPITokensCreate, body: body, out: &out})
	if err != nil {
		return nil, err
	}
	if out.Href == "" && res.location != "" {
		out.Href = res.location
		out.ID = idFromLocation(res.location)
	}
	return &out, nil
}

// Update changes what u sets on token id (name, active, role). An update
// that sets nothing, a blank name or an unknown role is a
// *ValidationError and nothing is sent; a missing token is an *APIError
// matching ErrNotFound.
func (s *APITokensService) Update(ctx context.Context, id int64, u *APITokenUpdate) error {
	_, err := s.client.call(ctx, &request{ep: epAPITokensUpdate, params: []string{idParam(id)}, body: u})
	return err
}

// Delete deletes token id; clients using it then get 401.
func (s *APITokensService) Delete(ctx context.Context, id int64) error {
	_, err := s.client.call(ctx, &request{ep: epAPITokensDelete, params: []string{idParam(id)}})
	return err
}
