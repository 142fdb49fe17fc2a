package mock

import (
	"slices"
	"strings"

	librato "github.com/librato-sdk/librato-go"
)

// RecordedFilter selects recorded measurements (GET /mock/recorded).
type RecordedFilter struct {
	// Metric is the metric's name, compared without case as the API
	// does; "" for every metric.
	Metric string
	// Tags must each be on the measurement with that value, names and
	// values compared without case (the API stores tags lower-cased).
	Tags map[string]string
	// Start and End bound the measurement's time in epoch seconds, both
	// inclusive; 0 leaves that side open.
	Start, End int64
}

func (f RecordedFilter) match(m *librato.Measurement) bool {
	if f.Metric != "" && !strings.EqualFold(f.Metric, m.Name) {
		return false
	}
	if (f.Start != 0 && m.Time < f.Start) || (f.End != 0 && m.Time > f.End) {
		return false
	}
	for k, want := range f.Tags {
		found := false
		for tk, tv := range m.Tags {
			if strings.EqualFold(tk, k) && strings.EqualFold(tv, want) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// RecordedMatching returns the recorded measurements f selects, in
// acceptance order; see Recorded.
func (a *Account) RecordedMatching(f RecordedFilter) []librato.Measurement {
	all := a.Recorded()
	out := all[:0]
	for i := range all {
		if f.match(&all[i]) {
			out = append(out, all[i])
		}
	}
	return slices.Clip(out)
}

// AnnotationRecord is one annotation event of an account, with its
// stream (GET /mock/annotations).
type AnnotationRecord struct {
	Stream      string         `json:"stream"`
	DisplayName string         `json:"display_name"` // the stream's
	ID          int64          `json:"id"`
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	Source      string         `json:"source,omitempty"`
	Links       []librato.Link `json:"links"`
	StartTime   int64          `json:"start_time"`         // epoch seconds
	EndTime     int64          `json:"end_time,omitempty"` // 0: no end
}

// Annotations returns the account's annotation events, streams by name
// and each stream's events in creation order; stream "" means every
// stream, another name just that one (compared without case).
func (a *Account) Annotations(stream string) []AnnotationRecord {
	recs := a.st.AnnotationRecords(stream)
	out := make([]AnnotationRecord, len(recs))
	for i, r := range recs {
		out[i] = AnnotationRecord(r)
	}
	return out
}

// FiredAlert is an alert that has fired (GET /mock/alerts/fired): it
// fires still, or was cleared.
type FiredAlert struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Firing      bool   `json:"firing"`
	TriggeredAt int64  `json:"triggered_at,omitempty"` // epoch seconds, while firing
	ClearedAt   int64  `json:"cleared_at,omitempty"`   // epoch seconds of the last clear
}

// FiredAlerts lists the account's alerts that fire or have fired (through
// FireAlert, POST /mock/alerts/:id/fire or a seed; the mock does not
// evaluate conditions), by id.
func (a *Account) FiredAlerts() []FiredAlert {
	fired := a.st.FiredAlerts()
	out := make([]FiredAlert, len(fired))
	for i, f := range fired {
		out[i] = FiredAlert(f)
	}
	return out
}
