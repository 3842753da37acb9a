package config

import (
	"errors"
	"fmt"

	"github.com/fasttrack-go/fasttrack/dburl"
)

// Sentinel errors wrapped by [Error.Err]; test for them with [errors.Is].
// An invalid DATABASE_URL wraps [dburl.ErrUnknownScheme] or
// [dburl.ErrMalformed] instead.
var (
	// ErrOutOfRange reports a number, duration or size outside its range.
	ErrOutOfRange = errors.New("out of range")
	// ErrUnknownValue reports a value that is not one of a fixed set.
	ErrUnknownValue = errors.New("unknown value")
)

// Error is a configuration error for one variable.
type Error struct {
	Var      string // environment variable, such as "DATABASE_URL"
	Value    string // offending value, passed through dburl.Redact
	Accepted string // what Var accepts
	Err      error  // what is wrong with Value
}

// Error returns the message, such as
//
//	config: LOG_FORMAT="xml": unknown value; accepted: text, json
func (e *Error) Error() string {
	return fmt.Sprintf("config: %s=%q: %v; accepted: %s", e.Var, e.Value, e.Err, e.Accepted)
}

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

func newError(env, value, accepted string, err error) *Error {
	return &Error{Var: env, Value: dburl.Redact(value), Accepted: accepted, Err: err}
}
