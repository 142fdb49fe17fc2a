package librato

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The API spells numeric ids three ways: a number in most bodies, a string
// of digits in /v1/services, and only the tail of an href or Location for
// API tokens, jobs and snapshots. These helpers read all of them.

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

// lenientInt decodes an integer sent as a JSON number (with no fraction)
// or as a numeric string, since the API spells ids and versions both ways;
// null leaves it unchanged.
type lenientInt int64

func (n *lenientInt) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil
	}
	s := string(data)
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*n = 0
			return nil
		}
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = lenientInt(v)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return notAnInteger(s)
	}
	*n = lenientInt(f)
	return nil
}

// maxQuoted is the longest unparsable value an error quotes: a longer one
// may be an echoed credential, and quoting part of it would leak that part
// past the redaction, which only recognises whole spellings.
const maxQuoted = 8

func notAnInteger(s string) error {
	if len(s) > maxQuoted {
		return fmt.Errorf("a value of %d bytes is not an integer", len(s))
	}
	return fmt.Errorf("%s is not an integer", strconv.Quote(s))
}
