package librato

import (
	"encoding/base64"
	"net/url"
	"strings"
)

// secret holds the credentials. Its methods never reveal the token, and
// the Client keeps it behind a pointer, so no fmt verb prints it.
type secret struct {
	email  string
	token  string
	header []string // the Authorization header value, shared read-only
	forms  []string // every spelling of the token redact removes
}

func newSecret(email, token string) *secret {
	basic := base64.StdEncoding.EncodeToString([]byte(email + ":" + token))
	forms := []string{token, basic, base64.URLEncoding.EncodeToString([]byte(email + ":" + token))}
	if q := url.QueryEscape(token); q != token {
		forms = append(forms, q)
	}
	return &secret{email: email, token: token, header: []string{"Basic " + basic}, forms: forms}
}

// String hides the token.
func (s *secret) String() string { return "credentials(" + s.email + ", token redacted)" }

// GoString hides the token.
func (s *secret) GoString() string { return s.String() }

// redact removes every spelling of the token from text that came from the
// network, such as an error body that echoes the request.
func (s *secret) redact(text string) string {
	for _, f := range s.forms {
		if f != "" && strings.Contains(text, f) {
			text = strings.ReplaceAll(text, f, "[REDACTED]")
		}
	}
	return text
}
