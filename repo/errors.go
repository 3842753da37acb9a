package repo

import "errors"

// Errors repositories return; the HTTP layer maps them to 404 and 409.
var (
	// ErrNotFound: the row does not exist.
	ErrNotFound = errors.New("repo: not found")
	// ErrConflict: the write conflicts with existing data (a unique key, a
	// stale version).
	ErrConflict = errors.New("repo: conflict")
)
