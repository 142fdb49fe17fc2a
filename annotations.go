package librato

// AnnotationsService manages annotation streams, their events and the events' links.
type AnnotationsService service
