package librato

import (
	"strconv"
	"strings"
)

// The API spells numeric ids three ways: a number in most bodies, a string
// of digits in /v1/services (which decodeJSON's lenient pass reads), and
// only the tail of an href or Location for API tokens, jobs and snapshots,
// which idFromLocation reads.

// idFromLocation reads the numeric id at the end of a Location such as
// "/v1/jobs/123" or an absolute URL; 0 if there is none.
func idFromLocation(loc string) int64 {
	loc, _, _ = strings.Cut(loc, "?")
	loc = strings.TrimRight(loc, "/")
	id, err := strconv.ParseInt(loc[strings.LastIndexByte(loc, '/')+1:], 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}

// idParam formats a numeric id as a path parameter; 0 and negative ids
// format as "" so the pipeline reports them missing.
func idParam(id int64) string {
	if id <= 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}
