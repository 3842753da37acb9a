package repo

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

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
	// negative limit or offset). The HTTP layer maps it to 400. The error
	// returned is a *QueryError, whose Detail can be shown to a client.
	ErrInvalidQuery = errors.New("repo: invalid query")
)

// QueryError is the ErrInvalidQuery error: a sort, filter, column or page
// that the repository rejects before sending any SQL. Its Detail is a
// sentence written for an API's client — it names the value given and what
// would be accepted, and holds no Go package name, table name or SQL —
// while Error, for the log, adds the operation and the table:
//
//	var qe *repo.QueryError
//	if errors.As(err, &qe) {
//		return &api.Error{Status: http.StatusBadRequest, Detail: qe.Detail, Err: err}
//	}
//
// errors.Is(err, ErrInvalidQuery) holds for it.
type QueryError struct {
	// Op is the operation that rejected the query: "sort", "filter",
	// "find by", "first by" or "page".
	Op string
	// Table is the model's table ("" for a page size or offset).
	Table string
	// Column is the column the caller named, when the error is about one
	// ("" when the name was empty, or for a page size or offset).
	Column string
	// Allowed lists what would have been accepted in Column's place: the
	// table's columns for an unknown column, the operators for an unknown
	// operator; nil otherwise.
	Allowed []string
	// Detail says what is wrong, for the client, e.g.
	// `unknown sort column "password"; sortable: id, name, email`.
	Detail string
}

// Error returns "repo: " Op, Table, Detail and ErrInvalidQuery's text.
func (e *QueryError) Error() string {
	var b strings.Builder
	b.WriteString("repo: ")
	b.WriteString(e.Op)
	if e.Table != "" {
		b.WriteByte(' ')
		b.WriteString(e.Table)
	}
	b.WriteString(": ")
	b.WriteString(e.Detail)
	b.WriteString(": ")
	b.WriteString(ErrInvalidQuery.Error())
	return b.String()
}

// Unwrap returns ErrInvalidQuery.
func (e *QueryError) Unwrap() error { return ErrInvalidQuery }

// maxQuoted is how many bytes of a caller's value a Detail quotes.
const maxQuoted = 64

// quoteValue quotes a caller's value for a Detail, in Go syntax (so that
// control characters and invalid UTF-8 are escaped), cut after maxQuoted
// bytes with "…" to show the cut.
func quoteValue(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}

// unknownColumn is the QueryError of a name that is not one of the
// table's columns; kind says what the column was for ("sort", "filter" or
// "" for a plain column) and allowedAs names the list of columns.
func unknownColumn(op, table, kind, allowedAs, name string, columns []string) *QueryError {
	detail := "unknown column " + quoteValue(name)
	if kind != "" {
		detail = "unknown " + kind + " column " + quoteValue(name)
	}
	return &QueryError{Op: op, Table: table, Column: name, Allowed: columns,
		Detail: detail + "; " + allowedAs + ": " + strings.Join(columns, ", ")}
}
