package librato

import (
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"
)

// sealed is a secret as the process holds it: XORed with a pad drawn at
// random once per process, so a printer that walks values by reflection
// (fmt's %v of a struct, testify's diff, spew) shows only noise, while
// equal secrets stay equal for reflect.DeepEqual. It is not encryption
// against someone who can read the process's memory; it keeps the token out
// of logs and test output.
type sealed []byte

// sealPad is the per-process pad, immutable after start.
var sealPad = func() (pad [512]byte) {
	if _, err := rand.Read(pad[:]); err != nil {
		panic("librato: no randomness for sealing credentials: " + err.Error())
	}
	return pad
}()

func seal(s string) sealed {
	out := make(sealed, len(s))
	for i := range out {
		out[i] = s[i] ^ sealPad[i%len(sealPad)]
	}
	return out
}

// open returns the secret; call it only where the secret is used.
func (s sealed) open() string {
	var b strings.Builder
	b.Grow(len(s))
	for i, c := range s {
		b.WriteByte(c ^ sealPad[i%len(sealPad)])
	}
	return b.String()
}

// secret holds the credentials: the email in the clear, the token sealed.
// Its methods never reveal the token.
type secret struct {
	email string
	token sealed
	basic sealed // the Authorization header's value
}

func newSecret(email, token string) *secret {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+token))
	return &secret{email: email, token: seal(token), basic: seal(basic)}
}

// header is the Authorization header's value, opened for each request so
// that the plain token never rests in a field.
func (s *secret) header() []string { return []string{s.basic.open()} }

// forms lists every spelling of the token that redact removes, longest
// first: the token, its path and query escapes, and the base64 of the token
// and of "email:token" in every alphabet, padded or not (a server or proxy
// that echoes the Authorization header may have re-encoded it).
func (s *secret) forms() []string {
	token := s.token.open()
	pair := []byte(s.email + ":" + token)
	forms := []string{token, url.PathEscape(token), url.QueryEscape(token)}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		forms = append(forms, enc.EncodeToString(pair), enc.EncodeToString([]byte(token)))
	}
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	uniq := forms[:0]
	for i, f := range forms {
		if f != "" && (i == 0 || f != forms[i-1]) {
			uniq = append(uniq, f)
		}
	}
	return uniq
}

// String hides the token.
func (s *secret) String() string { return "credentials(" + s.email + ", token redacted)" }

// GoString hides the token.
func (s *secret) GoString() string { return s.String() }

const redacted = "[REDACTED]"

// redact removes every spelling of the token from text that came from the
// network or from the caller, such as an error body that echoes the
// request: the forms above, and the token written with any mix of percent
// escapes (%XX in either hex case, '+' for a space) or JSON escapes
// (\uXXXX, \/). Callers cut text only after redacting it, so a cut can
// never leave part of a token behind. It runs only on error and log paths.
func (s *secret) redact(text string) string {
	if s == nil || text == "" {
		return text
	}
	token := s.token.open()
	forms := s.forms()
	for _, f := range forms {
		if strings.Contains(text, f) {
			text = strings.ReplaceAll(text, f, redacted)
		}
	}
	if strings.ContainsAny(text, `%\`) {
		text = redactEscaped(text, forms, false)
	}
	if strings.ContainsRune(text, '+') && strings.ContainsRune(token, ' ') {
		text = redactEscaped(text, forms, true)
	}
	return text
}

// redactEscaped decodes the escapes in text into a view that remembers
// where each decoded byte came from, finds the token's spellings in the
// view, and replaces the text they came from; it decodes the view again,
// up to a few levels, for text quoted more than once (an error that
// quotes a JSON string quotes its escapes). plus reads '+' as a space, as
// a query string does.
func redactEscaped(text string, forms []string, plus bool) string {
	// view[k] was decoded from text[start[k]:stop[k]]
	view := []byte(text)
	start := make([]int32, len(text))
	stop := make([]int32, len(text))
	for i := range start {
		start[i], stop[i] = int32(i), int32(i+1)
	}
	var cut []bool
	for level := 0; level < 4; level++ {
		next, s2, e2, escaped := unescapeView(view, plus)
		if !escaped {
			break
		}
		for k := range s2 {
			s2[k], e2[k] = start[s2[k]], stop[e2[k]-1]
		}
		view, start, stop = next, s2, e2
		v := string(view)
		for _, f := range forms {
			for off := 0; ; {
				k := strings.Index(v[off:], f)
				if k < 0 {
					break
				}
				if cut == nil {
					cut = make([]bool, len(text))
				}
				for p := start[off+k]; p < stop[off+k+len(f)-1]; p++ {
					cut[p] = true
				}
				off += k + len(f)
			}
		}
	}
	if cut == nil {
		return text
	}
	var out strings.Builder
	out.Grow(len(text))
	for i := 0; i < len(text); {
		if !cut[i] {
			out.WriteByte(text[i])
			i++
			continue
		}
		out.WriteString(redacted)
		for i < len(text) && cut[i] {
			i++
		}
	}
	return out.String()
}

// unescapeView decodes one level of escapes in text: %XX, \uXXXX, \xXX,
// \/, \\, \", and '+' as a space if plus is set. view[k] comes from
// text[start[k]:stop[k]]; escaped reports whether anything was decoded.
func unescapeView(text []byte, plus bool) (view []byte, start, stop []int32, escaped bool) {
	view = make([]byte, 0, len(text))
	start = make([]int32, 0, len(text))
	stop = make([]int32, 0, len(text))
	var ubuf [utf8.UTFMax]byte
	for i := 0; i < len(text); {
		c := text[i]
		out, width := ubuf[:1], 1
		ubuf[0] = c
		switch {
		case c == '%' && i+2 < len(text) && isHex(text[i+1]) && isHex(text[i+2]):
			ubuf[0], width = unhex(text[i+1])<<4|unhex(text[i+2]), 3
		case c == '\\' && i+5 < len(text) && text[i+1] == 'u' &&
			isHex(text[i+2]) && isHex(text[i+3]) && isHex(text[i+4]) && isHex(text[i+5]):
			r := rune(unhex(text[i+2]))<<12 | rune(unhex(text[i+3]))<<8 | rune(unhex(text[i+4]))<<4 | rune(unhex(text[i+5]))
			out, width = ubuf[:utf8.EncodeRune(ubuf[:], r)], 6
		case c == '\\' && i+3 < len(text) && text[i+1] == 'x' && isHex(text[i+2]) && isHex(text[i+3]):
			ubuf[0], width = unhex(text[i+2])<<4|unhex(text[i+3]), 4
		case c == '\\' && i+1 < len(text) && (text[i+1] == '/' || text[i+1] == '\\' || text[i+1] == '"'):
			ubuf[0], width = text[i+1], 2
		case c == '+' && plus:
			ubuf[0] = ' '
		}
		escaped = escaped || width > 1 || out[0] != c
		for range out {
			start = append(start, int32(i))
			stop = append(stop, int32(i+width))
		}
		view = append(view, out...)
		i += width
	}
	return view, start, stop, escaped
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
