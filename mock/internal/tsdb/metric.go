package tsdb

import (
	"maps"
	"slices"
	"strings"
)

// Metric is a metric's metadata and its streams of measurements.
type Metric struct {
	Name        string // as first created; lookups ignore case
	Type        string // gauge, composite, or counter (legacy submissions)
	displayName *string
	description *string
	period      *int64
	Attrs       map[string]any
	Composite   string
	streams     []*stream          // in creation order until sortedStreams sorts them
	byTags      map[uint32]*stream // by the account's stored tag-set id
	unsorted    bool               // streams were added since the last sort
	aggregate   bool               // attribute aggregate is true: samples merge, none replaces another
}

// MetricJSON is a metric as the API answers it.
type MetricJSON struct {
	Name        string         `json:"name"`
	DisplayName *string        `json:"display_name"`
	Type        string         `json:"type"`
	Description *string        `json:"description"`
	Period      *int64         `json:"period"`
	SourceLag   *int64         `json:"source_lag"`
	Composite   string         `json:"composite,omitempty"`
	Attributes  map[string]any `json:"attributes,omitempty"`
}

// JSON is the metric as the API answers it. attributes is {} when a
// metric has none, except for a composite: the reference's answer to a
// composite's creation has no attributes member at all.
func (m *Metric) JSON() MetricJSON {
	attrs := maps.Clone(m.Attrs)
	if attrs == nil && m.Type != "composite" {
		attrs = map[string]any{}
	}
	return MetricJSON{
		Name:        m.Name,
		DisplayName: m.displayName,
		Type:        m.Type,
		Description: m.description,
		Period:      m.period,
		Composite:   m.Composite,
		Attributes:  attrs,
	}
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// tagKey is the canonical key of a tag set.
func tagKey(tags map[string]string) string {
	// The keys are gathered here rather than by sortedKeys so that the
	// compiler keeps them on the stack: tagKey runs for every stream of a
	// grouped read and in its sort's comparisons.
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
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

// MetricProps are the properties a metric PUT (or a creating measurement)
// may set; nil fields were not sent.
type MetricProps struct {
	Type        *string
	DisplayName *string
	Description *string
	Period      *int64
	Composite   *string
	Attrs       map[string]any // updates; a nil value is stored as null
}

// Apply sets the properties p carries on m.
func (m *Metric) Apply(p MetricProps) {
	if p.Type != nil {
		m.Type = *p.Type
	}
	if p.DisplayName != nil {
		m.displayName = p.DisplayName
	}
	if p.Description != nil {
		m.description = p.Description
	}
	if p.Period != nil {
		m.period = p.Period
	}
	if p.Composite != nil {
		m.Composite = *p.Composite
	}
	// An attribute sent as null is kept as null, not removed: the
	// reference's answers show "display_max": null for a metric created
	// with it.
	for k, v := range p.Attrs {
		if m.Attrs == nil {
			m.Attrs = map[string]any{}
		}
		m.Attrs[k] = v
	}
	m.aggregate = m.Attrs["aggregate"] == true
}
