package librato

// Ptr returns a pointer to a copy of v, for any optional field of the
// API's types: librato.Ptr(2.5), librato.Ptr(true), librato.Ptr(Role("viewer")).
// Float, Int, Bool and String do the same for their one type.
func Ptr[T any](v T) *T { return &v }
