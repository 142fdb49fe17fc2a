package api

import (
	"cmp"
	"slices"
	"strings"

	librato "github.com/librato-sdk/librato-go"
)

// AnnotationRecord is an annotation event with its stream, as the
// control plane shows it (mock.AnnotationRecord).
type AnnotationRecord struct {
	Stream      string
	DisplayName string
	ID          int64
	Title       string
	Description string
	Source      string
	Links       []librato.Link
	StartTime   int64
	EndTime     int64
}

// FiredAlert is an alert that fires or has fired (mock.FiredAlert).
type FiredAlert struct {
	ID          int64
	Name        string
	Firing      bool
	TriggeredAt int64
	ClearedAt   int64
}

// AnnotationRecords lists the account's annotation events for the
// control plane; see mock.Account.Annotations.
func (a *Account) AnnotationRecords(stream string) []AnnotationRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	streams := make([]*annStream, 0, len(a.annotations))
	for _, st := range a.annotations {
		if stream == "" || strings.EqualFold(st.name, stream) {
			streams = append(streams, st)
		}
	}
	slices.SortFunc(streams, func(x, y *annStream) int { return cmp.Compare(x.name, y.name) })
	out := []AnnotationRecord{}
	for _, st := range streams {
		for _, e := range st.events {
			rec := AnnotationRecord{
				Stream: st.name, DisplayName: st.displayName, ID: e.id, Title: e.title,
				Links: make([]librato.Link, len(e.links)), StartTime: e.start,
			}
			if e.description != nil {
				rec.Description = *e.description
			}
			if e.source != nil {
				rec.Source = *e.source
			}
			if e.end != nil {
				rec.EndTime = *e.end
			}
			for i, l := range e.links {
				rec.Links[i] = librato.Link{Rel: l.Rel, Href: l.Href, Label: l.Label}
			}
			out = append(out, rec)
		}
	}
	return out
}

// FiredAlerts lists the account's alerts that fire or have fired, by
// id; see mock.Account.FiredAlerts.
func (a *Account) FiredAlerts() []FiredAlert {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []FiredAlert{}
	for _, al := range a.alerts {
		if al.triggeredAt == 0 && al.clearedAt == 0 {
			continue
		}
		out = append(out, FiredAlert{ID: al.id, Name: al.name, Firing: al.triggeredAt > 0, TriggeredAt: al.triggeredAt, ClearedAt: al.clearedAt})
	}
	slices.SortFunc(out, func(x, y FiredAlert) int { return cmp.Compare(x.ID, y.ID) })
	return out
}
