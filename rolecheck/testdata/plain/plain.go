package plain

// Plain imports nothing: the check has nothing to look at.
func Plain() int { return 1 }
