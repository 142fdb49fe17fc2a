package mock

import (
	"maps"
	"slices"
	"strings"
)

// metric is a metric's metadata and its streams of measurements.
type metric struct {
	name        string // as first created; lookups ignore case
	typ         string // gauge, composite, or counter (legacy submissions)
	displayName *string
	description *string
	period      *int64
	attrs       map[string]any
	composite   string
	streams     []*stream          // in creation order until sortedStreams sorts them
	byTags      map[uint32]*stream // by the account's stored tag-set id
	unsorted    bool               // streams were added since the last sort
}

type metricJSON struct {
	Name        string         `json:"name"`
	DisplayName *string        `json:"display_name"`
	Type        string         `json:"type"`
	Description *string        `json:"description"`
	Period      *int64         `json:"period"`
	SourceLag   *int64         `json:"source_lag"`
	Composite   string         `json:"composite,omitempty"`
	Attributes  map[string]any `json:"attributes,omitempty"`
}

// json is the metric as the API answers it. attributes is {} when a
// metric has none, except for a composite: the reference's answer to a
// composite's creation has no attributes member at all.
func (m *metric) json() metricJSON {
	attrs := maps.Clone(m.attrs)
	if attrs == nil && m.typ != "composite" {
		attrs = map[string]any{}
	}
	return metricJSON{
		Name:        m.name,
		DisplayName: m.displayName,
		Type:        m.typ,
		Description: m.description,
		Period:      m.period,
		Composite:   m.composite,
		Attributes:  attrs,
	}
}

// tagKey is the canonical key of a tag set.
func tagKey(tags map[string]string) string {
	keys := slices.Sorted(maps.Keys(tags))
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(tags[k])
	}
	return b.String()
}

// metricProps are the properties a metric PUT (or a creating measurement)
// may set; nil fields were not sent.
type metricProps struct {
	typ         *string
	displayName *string
	description *string
	period      *int64
	composite   *string
	attrs       map[string]any // updates; a nil value is stored as null
}

// apply sets the properties p carries on m.
func (m *metric) apply(p metricProps) {
	if p.typ != nil {
		m.typ = *p.typ
	}
	if p.displayName != nil {
		m.displayName = p.displayName
	}
	if p.description != nil {
		m.description = p.description
	}
	if p.period != nil {
		m.period = p.period
	}
	if p.composite != nil {
		m.composite = *p.composite
	}
	// An attribute sent as null is kept as null, not removed: the
	// reference's answers show "display_max": null for a metric created
	// with it.
	for k, v := range p.attrs {
		if m.attrs == nil {
			m.attrs = map[string]any{}
		}
		m.attrs[k] = v
	}
}
