package librato

// Ptr returns a pointer to a copy of v, for any optional field of the
// API's types: librato.Ptr(2.5), librato.Ptr(true), librato.Ptr(Role("viewer")).
func Ptr[T any](v T) *T { return &v }
