package librato

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strconv"
)

// ListOptions pages through a list endpoint. Zero fields are left to the
// server: offset 0, length 100 (the maximum), the resource's own order.
type ListOptions struct {
	Offset  int    // results to skip
	Length  int    // page size, at most 100
	OrderBy string // a field the resource allows, such as "name"
	Sort    string // "asc" or "desc"
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

// allPages yields every item of a list from opts' offset on, calling list
// page after page, until everything found was yielded, the server returns
// an empty page, or the caller stops. An error is yielded once and ends
// the sequence. opts is copied; the caller's value is never changed.
func allPages[T any, O any, PO interface {
	*O
	pagedOptions
}, L listPage[T]](ctx context.Context, opts PO, list func(context.Context, PO) (L, error)) iter.Seq2[T, error] {
	var base O
	if opts != nil {
		base = *opts
	}
	return func(yield func(T, error) bool) {
		o := base
		lo := PO(&o).listOptions()
		for {
			page, err := list(ctx, &o)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			items, q := page.page()
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			next := lo.Offset + len(items)
			if len(items) == 0 || next >= q.Found {
				return
			}
			lo.Offset = next
		}
	}
}
