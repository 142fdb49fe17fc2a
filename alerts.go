package librato

// AlertsService manages alerts, their status and their notification services.
type AlertsService service
