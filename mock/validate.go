package mock

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// The API's documented rules, checked independently of the SDK.
var (
	reMetricName = regexp.MustCompile(`^[A-Za-z0-9.:_-]{1,255}$`)
	reTagName    = regexp.MustCompile(`^[-.:_\w]{1,64}$`)
	reTagValue   = regexp.MustCompile(`^[-.:_?\\/\w ]{1,255}$`)
	// Alert names: the documented set A-Za-z0-9.:- plus '_', which the
	// API's own example uses.
	reAlertName = regexp.MustCompile(`^[A-Za-z0-9.:_-]{1,255}$`)
	reColor     = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)
	// Chart transform functions: digits, x, p, parentheses, + , - . / and
	// space per the documented regex, plus '*' which its text allows.
	reTransform = regexp.MustCompile(`^[\dxp()+,\-./* ]+$`)
)

const (
	maxTags      = 50
	maxMagnitude = 1e126
	minMagnitude = 1e-130
	maxRes       = 604800
)

// checkTags validates a tag object read from field k of o and returns it
// as a map; ok is false when something was wrong (recorded in o.errs).
func checkTags(o obj, k string) (map[string]string, bool) {
	t, ok := o.object(k)
	if !ok {
		return nil, false
	}
	key := o.key(k)
	if len(t.m) > maxTags {
		o.errs.add(key, "has "+strconv.Itoa(len(t.m))+" tags; the limit is "+strconv.Itoa(maxTags))
		return nil, false
	}
	out := make(map[string]string, len(t.m))
	good := true
	for _, name := range sortedKeys(t.m) {
		if !reTagName.MatchString(name) {
			o.errs.add(key, "tag name "+strconv.Quote(name)+" is invalid")
			good = false
			continue
		}
		v, isStr := t.m[name].(string)
		if !isStr || !reTagValue.MatchString(v) {
			o.errs.add(key, "value of tag "+strconv.Quote(name)+" is invalid")
			good = false
			continue
		}
		out[name] = v
	}
	return out, good
}

// checkMagnitude reports a float beyond the API's range on field k and
// flushes tiny values to 0 as the API stores them.
func checkMagnitude(o obj, k string, v float64) (float64, bool) {
	if math.IsInf(v, 0) || math.IsNaN(v) || math.Abs(v) > maxMagnitude {
		o.invalid(k, "is out of range: the magnitude may not exceed 1e126")
		return 0, false
	}
	if v != 0 && math.Abs(v) < minMagnitude {
		return 0, true
	}
	return v, true
}

// oneOf checks that field k, when present, is one of allowed.
func oneOf(o obj, k string, allowed ...string) (string, bool) {
	v, ok := o.str(k)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if v == a {
			return v, true
		}
	}
	o.invalid(k, "is invalid: must be one of "+strings.Join(allowed, ", "))
	return "", false
}
