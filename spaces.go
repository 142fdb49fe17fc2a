package librato

// SpacesService manages spaces (dashboards).
type SpacesService service

// ChartsService manages the charts of a space.
type ChartsService service
