package librato

import (
	"context"
	"encoding/json"
	"iter"
	"strings"
	"unicode/utf8"
)

// SourcesService reads and names the sources of the legacy (source-based)
// API: the hosts, users or devices a legacy measurement names in its
// source field. A source is created by its first measurement, or by
// Update.
//
// The permission matrix has no rows for /v1/sources: a client that
// declares a role other than Full Access sends these calls unless its
// guard is strict, and Permitted answers true for Full Access only.
type SourcesService service

var (
	epSourcesList   = newEndpoint("GET", "/v1/sources")
	epSourcesGet    = newEndpoint("GET", "/v1/sources/:name")
	epSourcesUpdate = newEndpoint("PUT", "/v1/sources/:name")
)

// MaxSourceDisplayNameLength is the longest display name a source may
// have, in characters.
const MaxSourceDisplayNameLength = 255

// Source is a legacy source: its name (1 to 255 characters from
// A-Z a-z 0-9 . : - _, compared ignoring case) and the human-readable
// display name shown in its place, "" when it has none.
type Source struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name,omitempty"`
}

// SourceUpdate changes a source (PUT /v1/sources/:name). A nil
// DisplayName is not sent and leaves the display name as it is (a new
// source gets none); Ptr("") removes it.
type SourceUpdate struct {
	DisplayName *string `json:"display_name,omitempty"`
}

// sourceBody is an update on its way to PUT /v1/sources/:name; it carries
// the name so the pipeline's validation can check it with the body.
type sourceBody struct {
	name string
	upd  SourceUpdate
}

func (b *sourceBody) MarshalJSON() ([]byte, error) { return json.Marshal(b.upd) }

func (b *sourceBody) validate() error {
	if err := checkSourceName("name", b.name); err != nil {
		return err
	}
	if d := b.upd.DisplayName; d != nil && utf8.RuneCountInString(*d) > MaxSourceDisplayNameLength {
		return invalid("display_name", -1, "has %d characters; the limit is %d", utf8.RuneCountInString(*d), MaxSourceDisplayNameLength)
	}
	return nil
}

// checkSourceName applies the legacy rule for source names: the metric
// name charset and length, and not the reserved word "all" (the name of a
// merge across sources).
func checkSourceName(field, name string) error {
	if !ValidMetricName(name) {
		if name == "" {
			return invalid(field, -1, "is empty; a source name has 1 to %d characters", MaxMetricNameLength)
		}
		if len(name) > MaxMetricNameLength {
			return invalid(field, -1, "has %d characters; the limit is %d", len(name), MaxMetricNameLength)
		}
		return invalid(field, -1, "%s has characters outside A-Z a-z 0-9 . : - _", quoteShort(name))
	}
	if strings.EqualFold(name, "all") {
		return invalid(field, -1, `"all" is reserved for a merge across sources; choose another source name`)
	}
	return nil
}

// SourcePage is one page of GET /v1/sources.
type SourcePage struct {
	Query   Query    `json:"query"`
	Sources []Source `json:"sources"`
}

func (l *SourcePage) page() ([]Source, Query) { return l.Sources, l.Query }

// List returns one page of sources filtered by opts; an orderby other
// than "name" is a *ValidationError.
func (s *SourcesService) List(ctx context.Context, opts *ListOptions) (*SourcePage, error) {
	return callInto[SourcePage](ctx, s.client, &request{ep: epSourcesList, opts: listOf{opts, []string{"name"}, true}})
}

// All yields every source matching opts, page after page; an error ends
// the sequence.
func (s *SourcesService) All(ctx context.Context, opts *ListOptions) iter.Seq2[Source, error] {
	return allPages[Source](ctx, opts, s.List)
}

// Get returns source name (any case); a missing source is an *APIError
// matching ErrNotFound.
func (s *SourcesService) Get(ctx context.Context, name string) (*Source, error) {
	return callInto[Source](ctx, s.client, &request{ep: epSourcesGet, params: []string{name}})
}

// Update creates source name, or changes the display name of the existing
// one (PUT /v1/sources/:name); a nil upd, or one without DisplayName, only
// makes sure the source exists. An invalid name, the reserved "all", or a
// display name over 255 characters is a *ValidationError and nothing is
// sent.
func (s *SourcesService) Update(ctx context.Context, name string, upd *SourceUpdate) error {
	body := &sourceBody{name: name}
	if upd != nil {
		body.upd = *upd
	}
	_, err := s.client.call(ctx, &request{ep: epSourcesUpdate, params: []string{name}, body: body})
	return err
}
