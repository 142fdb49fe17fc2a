package librato

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ListOptions pages and filters a list endpoint; it is what every family's
// List and All take (Alerts' AlertListOptions embeds it). Zero fields are
// left to the server: offset 0, length 100 (the maximum), the resource's
// own order, no filter.
type ListOptions struct {
	Offset  int    // results to skip
	Length  int    // page size, at most 100
	OrderBy string // a field the resource allows, such as "name"
	Sort    string // "asc" or "desc"
	// Name keeps items whose name contains this text, as the API matches
	// it for each family: a substring for metrics, spaces, annotation
	// streams and alerts (any case for alerts and sources, which also
	// match display names), '*' wildcards for API tokens. Services have no
	// name filter, and refuse one.
	Name string
}

// MaxPageLength is the largest page the API returns.
const MaxPageLength = 100

func (o *ListOptions) encode(q url.Values) {
	if o == nil {
		return
	}
	if o.Offset > 0 {
		q.Set("offset", strconv.Itoa(o.Offset))
	}
	if o.Length > 0 {
		q.Set("length", strconv.Itoa(o.Length))
	}
	if o.OrderBy != "" {
		q.Set("orderby", o.OrderBy)
	}
	if o.Sort != "" {
		q.Set("sort", o.Sort)
	}
	if o.Name != "" {
		q.Set("name", o.Name)
	}
}

func (o *ListOptions) validate() error {
	if o == nil {
		return nil
	}
	switch {
	case o.Offset < 0:
		return &ValidationError{Field: "offset", Index: -1, Reason: "may not be negative"}
	case o.Length < 0 || o.Length > MaxPageLength:
		return &ValidationError{Field: "length", Index: -1, Reason: fmt.Sprintf("must be between 1 and %d (0 for the default)", MaxPageLength)}
	case o.Sort != "" && o.Sort != "asc" && o.Sort != "desc":
		return &ValidationError{Field: "sort", Index: -1, Reason: `must be "asc" or "desc"`}
	}
	return nil
}

// listOf is the options of one list endpoint: ListOptions checked against
// the orders that endpoint documents (none: any) and its name filter.
type listOf struct {
	*ListOptions
	orders   []string
	filtered bool // the endpoint filters by name
}

func (o listOf) validate() error {
	if o.ListOptions == nil {
		return nil
	}
	if o.OrderBy != "" && len(o.orders) > 0 && !slices.Contains(o.orders, o.OrderBy) {
		return invalid("orderby", -1, "%s is not an order of this list; use one of %s", quoteShort(o.OrderBy), strings.Join(o.orders, ", "))
	}
	if o.Name != "" && !o.filtered {
		return invalid("name", -1, "is not a filter of this list; the API has none")
	}
	return o.ListOptions.validate()
}

// Query is the "query" block of a paginated answer.
type Query struct {
	Found  int `json:"found"`  // resources that match the filters
	Length int `json:"length"` // page size used
	Offset int `json:"offset"` // where this page starts
	Total  int `json:"total"`  // resources of this kind in the account
}

// pagedOptions is implemented by *ListOptions and, through embedding, by
// every list's option type.
type pagedOptions interface{ listOptions() *ListOptions }

func (o *ListOptions) listOptions() *ListOptions { return o }

// listPage is implemented by the one-page answer of a list endpoint.
type listPage[T any] interface{ page() ([]T, Query) }

// ErrPaginationStalled matches, with errors.Is, the *PaginationError an
// iterator (All and its kin) yields when the server makes no progress.
var ErrPaginationStalled = errors.New("librato: pagination stalled")

// MaxPaginationRequests bounds the requests one iterator makes: past it,
// the iterator ends with a *PaginationError even if the server still
// claims more. At the maximum page length that is a million items; to read
// further, start another iterator at the next Offset.
const MaxPaginationRequests = 10000

// PaginationError ends an iterator whose server made no progress: a next
// link already followed, a page whose position (query.offset) is not past
// the previous page's, or MaxPaginationRequests reached. What was yielded
// before it is valid; what follows was not read. It matches
// ErrPaginationStalled.
type PaginationError struct {
	Method   string
	Endpoint string // the template, e.g. "/v1/metrics"
	Requests int    // requests made by the iterator, the last included
	Reason   string
}

// Error names the endpoint and what the server did.
func (e *PaginationError) Error() string {
	return escapeText(fmt.Sprintf("librato: %s %s: pagination stalled after %d requests: %s; the items yielded so far are valid, the rest were not read",
		e.Method, e.Endpoint, e.Requests, e.Reason))
}

// Is makes errors.Is(err, ErrPaginationStalled) true.
func (e *PaginationError) Is(target error) bool { return target == ErrPaginationStalled }

// allPages yields every item of a list from opts' offset on, calling list
// page after page. It ends, as the reference documents, when the next
// offset reaches query.found, when a page holds fewer items than its
// query.length, on an empty page, or when the caller stops. An error is
// yielded once and ends the sequence; so is a *PaginationError when the
// server makes no progress (a page whose query.offset does not move past
// the previous page's, as from a server that ignores offset) or after
// MaxPaginationRequests requests. opts is copied; the caller's value is
// never changed.
func allPages[T any, O any, PO interface {
	*O
	pagedOptions
}, L listPage[T]](ctx context.Context, opts PO, list func(context.Context, PO) (L, error)) iter.Seq2[T, error] {
	var base O
	if opts != nil {
		base = *opts
	}
	return func(yield func(T, error) bool) {
		var zero T
		o := base
		lo := PO(&o).listOptions()
		probe := &pageProbe{}
		pctx := context.WithValue(ctx, pageProbeKey{}, probe)
		prev := -1 // query.offset of the previous page
		for requests := 1; ; requests++ {
			page, err := list(pctx, &o)
			if err != nil {
				yield(zero, err)
				return
			}
			items, q := page.page()
			if requests > 1 && q.Offset <= prev {
				yield(zero, probe.stalled(requests, fmt.Sprintf("the server answered offset %d for the page after offset %d, so it ignores offset or the list is changing", q.Offset, prev)))
				return
			}
			prev = q.Offset
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			next := lo.Offset + len(items)
			if len(items) == 0 || next >= q.Found || (q.Length > 0 && len(items) < q.Length) {
				return
			}
			if requests >= MaxPaginationRequests {
				yield(zero, probe.stalled(requests, fmt.Sprintf("the server still claims %d items after %d requests, the most one iterator makes", q.Found, requests)))
				return
			}
			lo.Offset = next
		}
	}
}

// pageProbe, carried in the context of an iterator's calls, learns from
// the pipeline which endpoint the iterator pages, for its errors.
type pageProbe struct{ method, template string }

type pageProbeKey struct{}

func (p *pageProbe) stalled(requests int, why string) *PaginationError {
	return &PaginationError{Method: p.method, Endpoint: p.template, Requests: requests, Reason: why}
}

// followLinks yields the items of first's page, then of every page its
// "next" link leads to, calling ep through the pipeline for each (which
// refuses a link that leaves the client's origin or names another
// endpoint; see Client.followLink). It ends when a page has no next link,
// the one end the reference documents for links, or when the caller
// stops. An error is yielded once and ends the sequence; so is a
// *PaginationError when a next link repeats one already followed, or
// after MaxPaginationRequests requests. parts gives a page's items and its
// next link ("" for none).
func followLinks[T any, P any](ctx context.Context, c *Client, ep *endpoint, first func(context.Context) (*P, error), parts func(*P) ([]T, string)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		page, err := first(ctx)
		seen := map[string]struct{}{}
		for requests := 1; ; requests++ {
			if err != nil {
				yield(zero, err)
				return
			}
			items, next := parts(page)
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			stall := &pageProbe{ep.method, ep.template}
			if _, again := seen[next]; again {
				yield(zero, stall.stalled(requests, "the server's next link repeats one already followed"))
				return
			}
			if requests >= MaxPaginationRequests {
				yield(zero, stall.stalled(requests, "the server still gives a next link after the most requests one iterator makes"))
				return
			}
			seen[next] = struct{}{}
			page = new(P)
			_, err = c.call(ctx, &request{ep: ep, rawURL: next, out: page})
		}
	}
}
