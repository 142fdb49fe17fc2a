package librato

// Version is the SDK's version; it is part of the User-Agent header.
const Version = "0.3.0"
