package api

import (
	"iter"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/librato-sdk/librato-go/mock/internal/tsdb"
)

// maxPage is the API's largest (and default) page length.
const maxPage = 100

// queryBlock is the "query" object of every paginated answer.
type queryBlock struct {
	Found  int `json:"found"`
	Length int `json:"length"`
	Offset int `json:"offset"`
	Total  int `json:"total"`
}

// listParams are the validated pagination parameters of a list call.
type listParams struct {
	offset  int
	length  int
	orderby string
	desc    bool
}

// listParams reads offset, length, orderby and sort; orderby must be one
// of allowed (the first is the default).
func (c *call) listParams(errs perrs, allowed ...string) listParams {
	lp := listParams{length: maxPage, orderby: allowed[0]}
	if v := c.q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs.add("offset", "must be a whole number, 0 or more")
		} else {
			lp.offset = n
		}
	}
	if v := c.q.Get("length"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			errs.add("length", "must be a whole number from 1 to "+strconv.Itoa(maxPage))
		} else {
			lp.length = n
		}
	}
	if v := c.q.Get("orderby"); v != "" {
		if !slices.Contains(allowed, v) {
			errs.add("orderby", "must be one of "+strings.Join(allowed, ", "))
		} else {
			lp.orderby = v
		}
	}
	switch v := c.q.Get("sort"); v {
	case "", "asc":
	case "desc":
		lp.desc = true
	default:
		errs.add("sort", "must be asc or desc")
	}
	return lp
}

// wholeParam reads query parameter k, a whole number 0 or more; absent
// or empty is no value, and anything else is reported on k with msg.
func (c *call) wholeParam(errs perrs, k, msg string) (int64, bool) {
	v := c.q.Get(k)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		errs.add(k, msg)
		return 0, false
	}
	return n, true
}

// timeParam reads query parameter k, epoch seconds 0 or more; a fraction
// is truncated to the second, as in bodies (tsdb.Seconds). Absent or
// empty is no value, and anything else is reported on k with msg.
func (c *call) timeParam(errs perrs, k, msg string) (int64, bool) {
	v := c.q.Get(k)
	if v == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f != f {
		errs.add(k, msg)
		return 0, false
	}
	if f != math.Trunc(f) && !math.IsInf(f, 0) {
		c.notes.add(noteFraction)
	}
	return tsdb.Seconds(f), true
}

// paginate sorts the matches by cmp (ties keep their order), applies the
// sort direction and returns the page and its query block; total is how
// many objects of the kind the account has before filtering.
func paginate[T any](matches []T, total int, lp listParams, cmp func(a, b T) int) ([]T, queryBlock) {
	slices.SortStableFunc(matches, cmp)
	if lp.desc {
		slices.Reverse(matches)
	}
	q := queryBlock{Found: len(matches), Length: lp.length, Offset: lp.offset, Total: total}
	if lp.offset >= len(matches) {
		return []T{}, q
	}
	end := min(lp.offset+lp.length, len(matches))
	return matches[lp.offset:end], q
}

// withName keeps the items whose name contains sub in any case, or all of
// them when sub is empty: the substring search of the list endpoints,
// within the request's filter budget.
func withName[T any](b *tsdb.Budget, items iter.Seq[T], name func(T) string, sub string) []T {
	var out []T
	for it := range items {
		if sub == "" || b.Contains(name(it), sub) {
			out = append(out, it)
		}
	}
	return out
}

// checkFilterParams refuses, before any matching, a name or tag pattern
// longer than tsdb.MaxPattern (no name or value it could match is) and a
// tags_search longer than tsdb.MaxSearch: 400 on the parameter.
func checkFilterParams(q url.Values) *Reply {
	errs := perrs{}
	for k, vs := range q {
		limit := 0
		switch {
		case k == "name" || k == "source" || k == "sources" || k == "sources[]" || strings.HasPrefix(k, "tags["):
			limit = tsdb.MaxPattern
		case k == "tags_search":
			limit = tsdb.MaxSearch
		default:
			continue
		}
		for _, v := range vs {
			if len(v) > limit || len(k) > limit {
				errs.add(strings.ToValidUTF8(k[:min(len(k), 64)], "\uFFFD"), "is too long: a filter takes at most "+strconv.Itoa(limit)+" characters")
				break
			}
		}
	}
	return errs.reply()
}
