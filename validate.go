package librato

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limits the API documents; the client checks them before sending.
const (
	MaxMetricNameLength = 255
	MaxTagNameLength    = 64
	MaxTagValueLength   = 255
	MaxTagsPerStream    = 50
	// MaxFloatMagnitude is the largest magnitude the API accepts; beyond it
	// the whole request fails with 400.
	MaxFloatMagnitude = 1e126
	// MaxMeasurementsPerRequest is the API's advised cap per POST.
	MaxMeasurementsPerRequest = 1000
	// MaxResolution is the coarsest query resolution, one week in seconds.
	MaxResolution = 604800
)

// ValidationError is input the API is documented to reject, caught before
// anything was sent. Field names the offending field as the API spells it
// ("name", "tags", "sum"...), Index the measurement it belongs to (-1 when
// it is not about a measurement), and Reason what is wrong and what fits.
type ValidationError struct {
	Field  string
	Index  int
	Reason string
}

// Error reads like "librato: measurements[3].name: ...".
func (e *ValidationError) Error() string {
	if e.Index >= 0 {
		return escapeText("librato: measurements[" + strconv.Itoa(e.Index) + "]." + e.Field + ": " + e.Reason)
	}
	return escapeText("librato: " + e.Field + ": " + e.Reason)
}

func invalid(field string, index int, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Index: index, Reason: fmt.Sprintf(format, args...)}
}

// quoteShort quotes s for an error message if it is short, and otherwise
// only gives its length: a cut would defeat the redaction the pipeline
// runs on validation errors, which removes whole spellings of the token,
// not a part left by the cut.
func quoteShort(s string) string {
	if len(s) > 64 {
		return "(" + strconv.Itoa(len(s)) + " bytes, not quoted)"
	}
	return strconv.Quote(s)
}

// ValidMetricName reports whether name is 1 to 255 characters from
// A-Z a-z 0-9 . : - _, the API's rule for metric names.
func ValidMetricName(name string) bool {
	if len(name) == 0 || len(name) > MaxMetricNameLength {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isWordByte(name[i]) && name[i] != '.' && name[i] != ':' && name[i] != '-' {
			return false
		}
	}
	return true
}

// ValidTagName reports whether name is 1 to 64 characters from
// A-Z a-z 0-9 . : - _, the API's rule for tag names.
func ValidTagName(name string) bool { return ValidMetricName(name) && len(name) <= MaxTagNameLength }

// ValidTagValue reports whether value is 1 to 255 characters from
// A-Z a-z 0-9 . : - _ ? \ / and space, the API's rule for tag values.
func ValidTagValue(value string) bool {
	if len(value) == 0 || len(value) > MaxTagValueLength {
		return false
	}
	for i := 0; i < len(value); i++ {
		switch c := value[i]; {
		case isWordByte(c):
		case c == '.' || c == ':' || c == '-' || c == '?' || c == '\\' || c == '/' || c == ' ':
		default:
			return false
		}
	}
	return true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func checkMetricName(field string, index int, name string) error {
	if ValidMetricName(name) {
		return nil
	}
	if name == "" {
		return invalid(field, index, "is empty; a metric name has 1 to %d characters", MaxMetricNameLength)
	}
	if len(name) > MaxMetricNameLength {
		return invalid(field, index, "has %d characters; the limit is %d", len(name), MaxMetricNameLength)
	}
	return invalid(field, index, "%s has characters outside A-Z a-z 0-9 . : - _", quoteShort(name))
}

func checkTags(field string, index int, tags map[string]string) error {
	if len(tags) > MaxTagsPerStream {
		return invalid(field, index, "has %d tags; the limit is %d", len(tags), MaxTagsPerStream)
	}
	for k, v := range tags {
		if !ValidTagName(k) {
			return invalid(field, index, "tag name %s must be 1 to %d characters from A-Z a-z 0-9 . : - _", quoteShort(k), MaxTagNameLength)
		}
		if !ValidTagValue(v) {
			return invalid(field, index, "value %s of tag %q must be 1 to %d characters from A-Z a-z 0-9 . : - _ ? \\ / and space", quoteShort(v), k, MaxTagValueLength)
		}
	}
	return nil
}

func checkFloat(field string, index int, v float64) error {
	switch {
	case math.IsNaN(v):
		return invalid(field, index, "is NaN; the API takes finite numbers only")
	case math.IsInf(v, 0):
		return invalid(field, index, "is infinite; the API takes finite numbers only")
	case math.Abs(v) > MaxFloatMagnitude:
		return invalid(field, index, "%g is beyond the API's limit of ±1e126", v)
	}
	return nil
}

func checkRequired(field, value string) error {
	if strings.TrimSpace(value) == "" {
		return invalid(field, -1, "is required")
	}
	return nil
}
