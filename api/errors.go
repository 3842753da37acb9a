package api

import (
	"context"
	"database/sql"
	"errors"
	"net/http"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

// Error is an error with the HTTP answer it deserves. Handlers return it to
// choose the status and the client-facing detail; Err, if set, stays in the
// logs.
type Error struct {
	Status int
	Detail string
	Fields []FieldError
	Err    error
}

// NewError returns an *Error with status and detail.
func NewError(status int, detail string) *Error {
	return &Error{Status: status, Detail: detail}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return http.StatusText(e.Status) + ": " + e.Detail + ": " + e.Err.Error()
	}
	return http.StatusText(e.Status) + ": " + e.Detail
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ProblemFor maps an error to the problem the client sees. Driver and SQL
// text never reaches it:
//
//	*Error                                  its Status and Detail
//	*http.MaxBytesError                     413
//	*repo.QueryError                        400 with its Detail
//	repo.ErrInvalidQuery, repo.ErrBadCursor 400
//	repo.ErrNotFound, sql.ErrNoRows         404
//	repo.ErrConflict, db.ErrUniqueViolation,
//	db.ErrForeignKeyViolation               409
//	db.ErrRetryable, db.ErrConnLost,
//	context.DeadlineExceeded                503
//	anything else                           500
func ProblemFor(err error) Problem {
	var e *Error
	var tooLarge *http.MaxBytesError
	var query *repo.QueryError
	switch {
	case errors.As(err, &e):
		p := NewProblem(e.Status, e.Detail)
		p.Errors = e.Fields
		return p
	case errors.As(err, &tooLarge):
		return NewProblem(http.StatusRequestEntityTooLarge, "the request body is too large")
	case errors.As(err, &query) && query.Detail != "":
		return NewProblem(http.StatusBadRequest, query.Detail)
	case errors.Is(err, repo.ErrInvalidQuery), errors.Is(err, repo.ErrBadCursor):
		return NewProblem(http.StatusBadRequest, "the query is invalid")
	case errors.Is(err, repo.ErrNotFound), errors.Is(err, sql.ErrNoRows):
		return NewProblem(http.StatusNotFound, "the resource does not exist")
	case errors.Is(err, repo.ErrConflict), errors.Is(err, db.ErrUniqueViolation), errors.Is(err, db.ErrForeignKeyViolation):
		return NewProblem(http.StatusConflict, "the request conflicts with existing data")
	case errors.Is(err, db.ErrRetryable):
		return NewProblem(http.StatusServiceUnavailable, "the database is busy; try again")
	case errors.Is(err, db.ErrConnLost), errors.Is(err, context.DeadlineExceeded):
		return NewProblem(http.StatusServiceUnavailable, "the database is not available; try again")
	default:
		return NewProblem(http.StatusInternalServerError, "internal server error")
	}
}
