package api

import (
	"maps"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/librato-sdk/librato-go/internal/endpoints"
	"github.com/librato-sdk/librato-go/mock/internal/tsdb"
)

// The API's documented rules, checked independently of the SDK; names
// and tags follow ValidName, ValidTagName and ValidTagValue.
var (
	// Alert names: the documented set A-Za-z0-9.:- plus '_', which the
	// API's own example uses.
	reAlertName = regexp.MustCompile(`^[A-Za-z0-9.:_-]{1,255}$`)
	reColor     = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)
	// Chart transform functions: digits, x, p, parentheses, + , - . / and
	// space per the documented regex, plus '*' which its text allows.
	reTransform = regexp.MustCompile(`^[\dxp()+,\-./* ]+$`)
)

// checkTags validates a tag object read from field k of o and returns it
// as a map; ok is false when something was wrong (recorded in o.errs).
func checkTags(o obj, k string) (map[string]string, bool) {
	t, ok := o.object(k)
	if !ok {
		return nil, false
	}
	key := o.key(k)
	if len(t.m) > tsdb.MaxTags {
		o.errs.add(key, "has "+strconv.Itoa(len(t.m))+" tags; the limit is "+strconv.Itoa(tsdb.MaxTags))
		return nil, false
	}
	out := make(map[string]string, len(t.m))
	good := true
	for _, name := range slices.Sorted(maps.Keys(t.m)) {
		if !tsdb.ValidTagName(name) {
			o.errs.add(key, "tag name "+strconv.Quote(name)+" is invalid")
			good = false
			continue
		}
		v, isStr := t.m[name].(string)
		if !isStr || !tsdb.ValidTagValue(v) {
			o.errs.add(key, "value of tag "+strconv.Quote(name)+" is invalid")
			good = false
			continue
		}
		out[name] = v
	}
	return out, good
}

// checkMagnitude is CheckMagnitude reporting a value out of range on
// field k.
func checkMagnitude(o obj, k string, v float64) (float64, bool) {
	v, ok := tsdb.CheckMagnitude(v)
	if !ok {
		o.invalid(k, tsdb.MsgRange)
	}
	return v, ok
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

// Time fields keep one rule, tsdb's (tsdb.ValidTime): epoch seconds
// within [tsdb.MinTime, tsdb.MaxTime], a fraction truncated to the
// second, as a JSON number or, as forms and queries carry them, a numeric
// string. That is every time a body stores (measurement times, legacy
// measure_time, annotation times). A snapshot's end_time and the control
// plane's start_time and end_time also take an ISO-8601 time: RFC 3339
// ("2024-05-01T12:00:00Z", an offset or a fraction allowed), the same
// without a zone (UTC), or a date alone (midnight UTC), within the same
// range.
var isoLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"}

const (
	msgTimeInvalid = "is invalid: expected epoch seconds or an ISO-8601 time such as 2024-05-01T12:00:00Z"
	msgSecsInvalid = "is invalid: expected epoch seconds"
	msgTimeParam   = "is invalid: expected epoch seconds, 0 or more"
)

// seconds converts epoch seconds, a number or a numeric string, to whole
// seconds (tsdb.Seconds), without the range check.
func seconds(v any) (int64, bool) {
	f, ok := number(v)
	if !ok {
		return 0, false
	}
	return tsdb.Seconds(f), true
}

// ParseEpoch reads a time field's value in any accepted encoding, epoch
// seconds or ISO-8601; msg says what is wrong when ok is false.
func ParseEpoch(v any) (t int64, msg string, ok bool) {
	t, isNum := seconds(v)
	if !isNum {
		s, isStr := v.(string)
		if !isStr {
			return 0, msgTimeInvalid, false
		}
		parsed := false
		for _, layout := range isoLayouts {
			if pt, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
				t, parsed = pt.Unix(), true
				break
			}
		}
		if !parsed {
			return 0, msgTimeInvalid, false
		}
	}
	if !tsdb.ValidTime(t) {
		return 0, tsdb.MsgTime, false
	}
	return t, "", true
}

// secs reads field k as epoch seconds without the range check, for
// readers that leave the rules to tsdb; a wrong type is recorded.
func (o obj) secs(k string) (int64, bool) {
	v, ok := o.raw(k)
	if !ok {
		return 0, false
	}
	if s, isStr := v.(string); isStr && strings.TrimSpace(s) == "" {
		return 0, false // an empty form field is no value
	}
	t, ok := seconds(v)
	if !ok {
		o.invalid(k, msgSecsInvalid)
		return 0, false
	}
	o.noteFraction(v)
	return t, true
}

// noteFraction notes a number read as epoch seconds that had a fraction.
func (o obj) noteFraction(v any) {
	if f, ok := number(v); ok && f != math.Trunc(f) && !math.IsInf(f, 0) {
		o.notes.add(noteFraction)
	}
}

// epoch reads time field k, epoch seconds under the time rule; a wrong or
// out-of-range value is recorded in o.errs.
func (o obj) epoch(k string) (int64, bool) {
	t, ok := o.secs(k)
	if ok && !tsdb.ValidTime(t) {
		o.invalid(k, tsdb.MsgTime)
		return 0, false
	}
	return t, ok
}

// isoTime reads time field k in any encoding ParseEpoch takes; a wrong or
// out-of-range value is recorded in o.errs.
func (o obj) isoTime(k string) (int64, bool) {
	v, ok := o.raw(k)
	if !ok {
		return 0, false
	}
	if s, isStr := v.(string); isStr && strings.TrimSpace(s) == "" {
		return 0, false
	}
	t, msg, ok := ParseEpoch(v)
	if !ok {
		o.invalid(k, msg)
		return 0, false
	}
	o.noteFraction(v)
	return t, true
}

const msgInvalidUTF8 = "is invalid: not valid UTF-8"

// checkParamsUTF8 answers 400 when a path parameter, or a query
// parameter's name or value, is not valid UTF-8: the API would read each
// as U+FFFD, so distinct names would collide.
func checkParamsUTF8(row *endpoints.Row, params []string, q url.Values) *Reply {
	errs := perrs{}
	j := 0
	for _, seg := range row.Segments {
		if seg[0] != ':' {
			continue
		}
		if j < len(params) && !utf8.ValidString(params[j]) {
			errs.add(seg[1:], msgInvalidUTF8)
		}
		j++
	}
	for k, vs := range q {
		if !utf8.ValidString(k) {
			errs.add(strings.ToValidUTF8(k, "\uFFFD"), msgInvalidUTF8)
			continue
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				errs.add(k, msgInvalidUTF8)
			}
		}
	}
	return errs.reply()
}
