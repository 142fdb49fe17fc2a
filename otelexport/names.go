package otelexport

import (
	"strings"
	"unicode/utf8"

	librato "github.com/librato-sdk/librato-go"
)

// replacement stands in for every character a Librato name or value may
// not hold.
const replacement = '_'

// charset says which ASCII bytes a kind of string may hold.
type charset func(c byte) bool

func metricChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == ':' || c == '-'
}

// tagNameChar is metricChar: the API's tag names allow [-.:_\w] too.
func tagNameChar(c byte) bool { return metricChar(c) }

func tagValueChar(c byte) bool {
	return metricChar(c) || c == '?' || c == '\\' || c == '/' || c == ' '
}

// rewrite applies the rules of the package documentation: every character
// outside allowed becomes one '_' (a multi-byte UTF-8 character, or an
// invalid byte, counts as one character), with lower set ASCII letters are
// lower-cased, an empty result becomes "_", and the result is cut to limit
// bytes. It reports whether s changed and allocates only when it did.
func rewrite(s string, allowed charset, lower bool, limit int) (string, bool) {
	if fits(s, allowed, lower, limit) {
		return s, false
	}
	var b strings.Builder
	b.Grow(min(len(s), limit))
	for i := 0; i < len(s) && b.Len() < limit; {
		c := s[i]
		if c >= utf8.RuneSelf {
			_, size := utf8.DecodeRuneInString(s[i:])
			b.WriteByte(replacement)
			i += size
			continue
		}
		switch {
		case !allowed(c):
			c = replacement
		case lower && c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		b.WriteByte(c)
		i++
	}
	if b.Len() == 0 {
		return string(replacement), true
	}
	return b.String(), true
}

// fits reports whether s already obeys the rules.
func fits(s string, allowed charset, lower bool, limit int) bool {
	if len(s) == 0 || len(s) > limit {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !allowed(c) || lower && c >= 'A' && c <= 'Z' {
			return false
		}
	}
	return true
}

// tagName rewrites an attribute key into a Librato tag name: lower-cased
// (the API stores tag names lower-cased, so doing it here makes two keys
// that differ only in case a visible collision), invalid characters
// replaced, at most 64 bytes.
func tagName(k string) (string, bool) {
	return rewrite(k, tagNameChar, true, librato.MaxTagNameLength)
}

// tagValue rewrites an attribute value into a Librato tag value: invalid
// characters replaced, at most 255 bytes. Case is kept; the API lower-cases
// values when it stores them.
func tagValue(v string) (string, bool) {
	return rewrite(v, tagValueChar, false, librato.MaxTagValueLength)
}

// metricName builds a Librato metric name from the prefix, the instrument
// name and, if asked, the unit: invalid characters replaced, at most 255
// bytes. Case is kept (metric names are case-insensitive in the API).
func metricName(prefix, name, unit string, withUnit bool) (string, bool) {
	full := prefix + name
	if withUnit {
		if u := unitSuffix(unit); u != "" {
			full += "." + u
		}
	}
	out, changed := rewrite(full, metricChar, false, librato.MaxMetricNameLength)
	return out, changed
}

// unitSuffix turns a UCUM unit as OpenTelemetry writes it into a name
// suffix: annotations in braces are removed ("{request}" → ""), a
// dimensionless "1" or an empty unit gives no suffix, "/" reads "_per_"
// ("By/s" → "By_per_s", "{packet}/s" → "per_s"); other invalid characters
// are replaced by the metric name rule.
func unitSuffix(unit string) string {
	var b strings.Builder
	depth := 0
	for i := 0; i < len(unit); i++ {
		switch c := unit[i]; {
		case c == '{':
			depth++
		case c == '}' && depth > 0:
			depth--
		case depth > 0:
		case c == '/':
			b.WriteString("_per_")
		default:
			b.WriteByte(c)
		}
	}
	u := strings.Trim(b.String(), "_ ")
	if u == "1" {
		return ""
	}
	return u
}
