package librato

// APITokensService manages the account's API tokens.
type APITokensService service
