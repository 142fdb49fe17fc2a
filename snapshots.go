package librato

// SnapshotsService renders charts to images in the background.
type SnapshotsService service
