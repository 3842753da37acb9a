package repo

import "errors"

// Errors repositories return; the HTTP layer maps them to 404 and 409.
var (
	// ErrNotFound: the row does not exist.
	ErrNotFound = errors.New("repo: not found")
	// ErrConflict: the write conflicts with existing data (a unique key, a
	// stale version).
	ErrConflict = errors.New("repo: conflict")
	// ErrBadCursor: a keyset cursor that this package did not make, or
	// that was altered. The HTTP layer maps it to 400.
	ErrBadCursor = errors.New("repo: bad cursor")
	// ErrInvalidQuery: a sort, filter, column or page the repository
	// rejects before sending any SQL (an unknown column or operator, a
	// negative limit or offset). The HTTP layer maps it to 400.
	ErrInvalidQuery = errors.New("repo: invalid query")
)
