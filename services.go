package librato

// ServicesService manages alert notification services.
type ServicesService service
