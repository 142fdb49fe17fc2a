package api

import (
	"cmp"
	"strconv"
	"strings"
	"time"

	librato "github.com/librato-sdk/librato-go"
)

// Token is an API token of an account.
type Token struct {
	id      int64
	name    string
	Secret  string
	role    librato.Role
	active  bool
	created time.Time
	updated time.Time
}

type tokenJSON struct {
	Name      string `json:"name"`
	Token     string `json:"token"`
	Active    bool   `json:"active"`
	Role      string `json:"role"`
	Href      string `json:"href"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

// tokenTime is the API tokens' timestamp format.
const tokenTime = "2006-01-02 15:04:05 UTC"

func (c *call) tokenJSON(t *Token) tokenJSON {
	return tokenJSON{
		Name: t.name, Token: t.Secret, Active: t.active, Role: string(t.role),
		Href:      c.origin() + tokenLocation(t.id),
		CreatedAt: t.created.UTC().Format(tokenTime),
		UpdatedAt: t.updated.UTC().Format(tokenTime),
	}
}

func tokenLocation(id int64) string { return "/v1/api_tokens/" + strconv.FormatInt(id, 10) }

var tokenRoles = []string{"admin", "recorder", "viewer"}

func (c *call) apiToken() (*Token, *Reply) { return byID(c, c.a.tokens, 0, "API token") }

// tokensList pages the tokens, by created_at (the default) or name, the
// tokens the harness issued included; name matches the whole name with
// '*' wildcards, ignoring case.
func (c *call) tokensList() *Reply { return c.tokensMatching(c.q.Get("name")) }

// tokensMatching answers a page of the tokens whose name matches name (all
// of them for ""), as the list and the by-name read both answer.
func (c *call) tokensMatching(name string) *Reply {
	errs := perrs{}
	lp := c.listParams(errs, "created_at", "name")
	if rep := errs.reply(); rep != nil {
		return rep
	}
	var matches []*Token
	for _, t := range c.a.tokens {
		if name == "" || c.filters().Glob(name, t.name) {
			matches = append(matches, t)
		}
	}
	page, q := paginate(matches, len(c.a.tokens), lp, func(x, y *Token) int {
		if lp.orderby == "name" {
			if r := strings.Compare(strings.ToLower(x.name), strings.ToLower(y.name)); r != 0 {
				return r
			}
		}
		return cmp.Compare(x.id, y.id)
	})
	out := make([]tokenJSON, len(page))
	for i, t := range page {
		out[i] = c.tokenJSON(t)
	}
	return OK(map[string]any{"api_tokens": out, "query": q})
}

// tokensCreate makes a token; name and role are required, a token value
// sent by the client is ignored (tokens are 64 hex characters), and
// active may be set.
func (c *call) tokensCreate() *Reply {
	errs := perrs{}
	o := c.fields(errs)
	name, _ := o.requiredStr("name")
	if !o.has("role") {
		o.invalid("role", "is required: admin, recorder or viewer")
	}
	role, _ := oneOf(o, "role", tokenRoles...)
	active, hasActive := o.boolean("active")
	if rep := errs.reply(); rep != nil {
		return rep
	}
	t := c.a.addToken(name, librato.Role(role), "", c.now)
	if hasActive {
		t.active = active
	}
	return createdReply(tokenLocation(t.id), c.tokenJSON(t))
}

// tokensGet answers GET /v1/api_tokens/:id. The reference also documents
// GET /v1/api_tokens/:name, which returns the list page of the tokens
// matching the name ('*' wildcards), on the same route: a segment made only
// of digits is an id, anything else a name.
func (c *call) tokensGet() *Reply {
	if strings.Trim(c.p[0], "0123456789") != "" {
		return c.tokensMatching(c.p[0])
	}
	t, rep := c.apiToken()
	if rep != nil {
		return rep
	}
	return OK(c.tokenJSON(t))
}

func (c *call) tokensUpdate() *Reply {
	t, rep := c.apiToken()
	if rep != nil {
		return rep
	}
	errs := perrs{}
	o := c.fields(errs)
	next := *t
	if o.has("name") {
		next.name, _ = o.requiredStr("name")
	}
	if v, ok := oneOf(o, "role", tokenRoles...); ok {
		next.role = librato.Role(v)
	}
	if b, ok := o.boolean("active"); ok {
		next.active = b
	}
	if rep := errs.reply(); rep != nil {
		return rep
	}
	// The format has whole seconds; keep updated_at visibly moving.
	next.updated = c.now.UTC().Truncate(time.Second)
	if prev := t.updated.Truncate(time.Second); !next.updated.After(prev) {
		next.updated = prev.Add(time.Second)
	}
	*t = next
	return OK(c.tokenJSON(t))
}

func (c *call) tokensDelete() *Reply {
	t, rep := c.apiToken()
	if rep != nil {
		return rep
	}
	delete(c.a.tokens, t.id)
	delete(c.a.bySecret, t.Secret)
	return NoContent()
}
