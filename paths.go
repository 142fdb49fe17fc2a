package librato

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"github.com/librato-sdk/librato-go/internal/endpoints"
)

// checkParams refuses, before the guard and before anything is sent, a
// path parameter that could make the server or a proxy on the way see
// another path than the template names: an empty one, "." or "..", or one
// holding '/', '\' or a control character. Escaping alone is not enough,
// since a proxy may decode %2F before the server routes the request; so a
// metric literally named ".." cannot be reached by name.
func checkParams(ep *endpoint, params []string) error {
	if len(params) != ep.nparams {
		return fmt.Errorf("librato: %s %s takes %d path parameters, got %d", ep.method, ep.template, ep.nparams, len(params))
	}
	for i, v := range params {
		why := ""
		switch {
		case v == "":
			why = "is empty; " + ep.method + " " + ep.template + " needs it"
		case v == "." || v == "..":
			why = "may not be '.' or '..', which a server reads as a path step"
		case strings.ContainsAny(v, `/\`):
			why = "may not contain '/' or '\\', which a server or proxy may read as a path separator"
		case strings.IndexFunc(v, unicode.IsControl) >= 0:
			why = "may not contain control characters"
		}
		if why != "" {
			return &ValidationError{Field: paramName(ep.row, i), Index: -1, Reason: why}
		}
	}
	return nil
}

// paramName is the template's name of the i-th path parameter, for errors.
func paramName(row *endpoints.Row, i int) string {
	if row != nil {
		for _, s := range row.Segments {
			if strings.HasPrefix(s, ":") {
				if i == 0 {
					return s[1:]
				}
				i--
			}
		}
	}
	return "path"
}

// buildURL joins the base URL, the path (the template with each checked
// parameter escaped as one segment, or Do's checked path) and the query.
func (c *Client) buildURL(r *request) string {
	var b strings.Builder
	base := c.base.String()
	b.Grow(len(base) + len(r.ep.template) + 32)
	b.WriteString(base)
	if r.rawPath != "" {
		b.WriteString(r.rawPath)
	} else {
		p := 0
		for _, seg := range r.ep.row.Segments {
			b.WriteByte('/')
			if strings.HasPrefix(seg, ":") {
				seg = url.PathEscape(r.params[p])
				p++
			}
			b.WriteString(seg)
		}
	}
	if r.opts != nil {
		q := url.Values{}
		r.opts.encode(q)
		if len(q) > 0 {
			if strings.Contains(r.rawPath, "?") {
				b.WriteByte('&')
			} else {
				b.WriteByte('?')
			}
			b.WriteString(q.Encode())
		}
	}
	return b.String()
}

// followLink accepts a server-given URL (a "next" link) only if it is on
// the client's origin, under its base path, names its path plainly (see
// cleanPath), passes the guard for the path it names, and names the
// endpoint ep being paged. It returns the URL to request: the base URL's
// scheme and host, the cleaned path and the link's query exactly as given.
func (c *Client) followLink(ep *endpoint, raw string) (string, error) {
	refuse := func(why string) error {
		return fmt.Errorf("librato: %s %s: the server's next link %s; not followed", ep.method, ep.template, why)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", refuse("does not parse")
	}
	if !u.IsAbs() {
		u = c.base.ResolveReference(u)
	}
	if !sameOrigin(u, c.base) {
		return "", refuse(fmt.Sprintf("points at %s://%s, not this client's %s://%s", escapeText(u.Scheme), escapeText(u.Host), c.base.Scheme, c.base.Host))
	}
	prefix := c.base.EscapedPath()
	if !c.withinBase(u) {
		return "", refuse("points outside the base URL's path " + prefix + "/")
	}
	clean, err := cleanPath(u.EscapedPath()[len(prefix):])
	if err != nil {
		return "", refuse(err.Error())
	}
	row := endpoints.All.Match(ep.method, clean)
	template := c.auth.redact(clean) // the server's text, in a strict guard's refusal
	if row != nil {
		template = row.Template
	}
	if err := c.guard(ep.method, template, row); err != nil {
		return "", err
	}
	if row != ep.row {
		return "", refuse(fmt.Sprintf("leads to %s %s, another endpoint", ep.method, template))
	}
	link := c.base.Scheme + "://" + c.base.Host + prefix + clean
	if u.RawQuery != "" || u.ForceQuery {
		link += "?" + u.RawQuery
	}
	return link, nil
}

// cleanPath reads an escaped path as the server will: it decodes the
// percent escapes of unreserved characters (A-Z a-z 0-9 - . _ ~), writes
// the others in upper case, and refuses what could make the server see
// another path than the matrix classifies: an encoded '/' or '\', an
// empty, "." or ".." segment however it is spelled, a bad escape. The path
// must start with "/v1/".
func cleanPath(p string) (string, error) {
	var b []byte
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			return "", errors.New("has a '%' that is not an escape such as %20")
		}
		if b == nil {
			b = append(make([]byte, 0, len(p)), p[:i]...)
		}
		d := unhex(p[i+1])<<4 | unhex(p[i+2])
		switch {
		case d == '/' || d == '\\':
			return "", errors.New("has an encoded '/' or '\\' (%2F, %5C), which a server may read as a separator")
		case isUnreserved(d):
			b = append(b, d)
		default:
			b = append(b, '%', upperHex[d>>4], upperHex[d&15])
		}
		i += 2
	}
	if b != nil {
		p = string(b)
	}
	if p == "/v1" {
		return p, nil
	}
	if !strings.HasPrefix(p, "/v1/") {
		return "", errors.New("must start with /v1/")
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", errors.New("may not contain empty, '.' or '..' segments, escaped or not")
		}
	}
	return p, nil
}

const upperHex = "0123456789ABCDEF"

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// checkDoPath refuses paths that could reach another endpoint or host than
// they name (absolute URLs, fragments, control characters, and what
// cleanPath refuses) and returns the path cleaned, its query unchanged.
func checkDoPath(path string) (string, error) {
	bad := func(why string) error {
		return &ValidationError{Field: "path", Index: -1, Reason: why}
	}
	if !strings.HasPrefix(path, "/") {
		return "", bad("must start with /v1/")
	}
	if strings.ContainsAny(path, "#\\") {
		return "", bad("may not contain '#' or '\\'")
	}
	for _, r := range path {
		if r < 0x20 || r == 0x7f || r == ' ' {
			return "", bad("may not contain spaces or control characters; escape them")
		}
	}
	if _, err := url.ParseRequestURI(path); err != nil {
		return "", bad("is not a valid escaped path")
	}
	p, query, hasQuery := strings.Cut(path, "?")
	clean, err := cleanPath(p)
	if err != nil {
		return "", bad(err.Error())
	}
	if hasQuery {
		clean += "?" + query
	}
	return clean, nil
}
