package api

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/librato-sdk/librato-go/mock/internal/tsdb"
)

// Legacy sources (GET /v1/sources, GET and PUT /v1/sources/:name).
//
// A source exists when a stored stream carries the tag "source" with its
// name (a legacy measurement's source is stored that way), or when it was
// created by PUT; names ignore case and keep their first spelling, and
// "unassigned" (no source) is not listed. The registry below holds only what PUT said: sources
// created that way and the display names set on any source. Everything
// else is read from the store through ReadStreams, so deleting the last
// metric that names a source removes that source unless it was PUT.

// maxSourceDisplayName is the documented limit on a display name, in
// characters.
const maxSourceDisplayName = 255

// sourceRegistry is an account's sources as PUT /v1/sources/:name left
// them, by lower-cased name.
type sourceRegistry struct {
	byKey map[string]*sourceEntry
}

type sourceEntry struct {
	name        string  // as first spelled
	displayName *string // nil: none
}

func newSourceRegistry() *sourceRegistry {
	return &sourceRegistry{byKey: map[string]*sourceEntry{}}
}

// sourceJSON is a source as the API shows it.
type sourceJSON struct {
	Name        string  `json:"name"`
	DisplayName *string `json:"display_name"`
}

// allTime is a window that holds every stored point.
var allTime = tsdb.Window{Start: math.MinInt64 / 4, End: math.MaxInt64 / 4, Res: tsdb.MaxRes}

// storedSources calls found with the value of the tag "source" of every
// stored stream that has one. The keep callback sees every stream and
// keeps none, so no points are summarised.
func (a *Account) storedSources(found func(name string)) {
	a.db.ReadStreams("*", func(tags map[string]string) bool {
		if v, ok := tags["source"]; ok && v != "" {
			found(v)
		}
		return false
	}, allTime, tsdb.MaxRes, "")
}

// sourcesByKey is every source of the account, by lower-cased name. A
// source both PUT and measured keeps the spelling and display name of its
// registry entry.
func (a *Account) sourcesByKey() map[string]sourceJSON {
	out := make(map[string]sourceJSON, len(a.sources.byKey))
	for k, e := range a.sources.byKey {
		out[k] = sourceJSON{Name: e.name, DisplayName: e.displayName}
	}
	a.storedSources(func(name string) {
		k := strings.ToLower(name)
		if _, ok := out[k]; !ok {
			out[k] = sourceJSON{Name: name}
		}
	})
	return out
}

// source finds one source by name, ignoring case.
func (a *Account) source(name string) (sourceJSON, bool) {
	k := strings.ToLower(name)
	if e := a.sources.byKey[k]; e != nil {
		return sourceJSON{Name: e.name, DisplayName: e.displayName}, true
	}
	var got sourceJSON
	found := false
	a.storedSources(func(n string) {
		if !found && strings.ToLower(n) == k {
			got, found = sourceJSON{Name: n}, true
		}
	})
	return got, found
}

// sourcesList answers GET /v1/sources: name filters on the name or the
// display name (a substring, ignoring case); orderby is name only; total
// counts every source of the account.
func (c *call) sourcesList() *Reply {
	errs := perrs{}
	lp := c.listParams(errs, "name")
	if rep := errs.reply(); rep != nil {
		return rep
	}
	all := c.a.sourcesByKey()
	sub := c.q.Get("name")
	matches := make([]sourceJSON, 0, len(all))
	for _, s := range all {
		if sub == "" || c.filters().Contains(s.Name, sub) || (s.DisplayName != nil && c.filters().Contains(*s.DisplayName, sub)) {
			matches = append(matches, s)
		}
	}
	page, q := paginate(matches, len(all), lp, func(x, y sourceJSON) int {
		return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name))
	})
	return OK(map[string]any{"query": q, "sources": page})
}

// sourcesGet answers GET /v1/sources/:name; the name ignores case.
func (c *call) sourcesGet() *Reply {
	s, ok := c.a.source(c.p[0])
	if !ok {
		return NotFound("source " + strconv.Quote(c.p[0]))
	}
	return OK(s)
}

// sourcesPut answers PUT /v1/sources/:name: 201 with Location and the
// source when it creates the source, 204 when the source exists (by a
// measurement or an earlier PUT). display_name left out keeps the current
// one; null or "" removes it.
func (c *call) sourcesPut() *Reply {
	name := c.p[0]
	errs := perrs{}
	switch {
	case !tsdb.ValidName(name):
		errs.add("name", tsdb.MsgName)
	case strings.EqualFold(name, "all"):
		errs.add("name", `is reserved: "all" names a merge across sources`)
	}
	o := c.fields(errs)
	setDisplay := o.present("display_name")
	var display *string
	if d, ok := o.str("display_name"); ok {
		if n := utf8.RuneCountInString(d); n > maxSourceDisplayName {
			o.invalid("display_name", "is too long: "+strconv.Itoa(n)+" characters; the limit is "+strconv.Itoa(maxSourceDisplayName))
		} else if d != "" {
			display = &d
		}
	}
	if rep := errs.reply(); rep != nil {
		return rep
	}
	key := strings.ToLower(name)
	existing, exists := c.a.source(name)
	e := c.a.sources.byKey[key]
	if e == nil && (!exists || setDisplay) {
		// a measured source enters the registry only to hold a display
		// name, keeping the spelling its measurements gave it
		spelling := name
		if exists {
			spelling = existing.Name
		}
		e = &sourceEntry{name: spelling}
		c.a.sources.byKey[key] = e
	}
	if setDisplay {
		e.displayName = display
	}
	if exists {
		return NoContent()
	}
	return createdReply("/v1/sources/"+url.PathEscape(e.name), sourceJSON{Name: e.name, DisplayName: e.displayName})
}
