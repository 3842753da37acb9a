package users

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/gin-gonic/gin"
)

// idParam parses the :id path parameter: a positive 64-bit integer, else 400.
func idParam(c *gin.Context) (int64, error) {
	p := c.Param("id")
	id, err := strconv.ParseInt(p, 10, 64)
	if err != nil || id <= 0 || p[0] < '0' || p[0] > '9' {
		return 0, api.NewError(http.StatusBadRequest, "the id must be a positive integer")
	}
	return id, nil
}

// intQuery parses an integer query parameter within [lo, hi], def when absent.
func intQuery(c *gin.Context, name string, def, lo, hi int) (int, error) {
	v, ok := c.GetQuery(name)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badQuery(name, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
	}
	return n, nil
}

func badQuery(name, msg string) error {
	return &api.Error{Status: http.StatusBadRequest, Detail: "invalid query parameter " + name,
		Fields: []api.FieldError{{Field: name, Message: msg}}}
}

func badCursor(err error) error {
	if errors.Is(err, repo.ErrBadCursor) {
		return badQuery("cursor", "is not a cursor this API gave")
	}
	return err
}

// emailConflict answers a unique violation on the email as 409 with the
// field named.
func emailConflict(err error) error {
	if errors.Is(err, db.ErrUniqueViolation) || errors.Is(err, repo.ErrConflict) {
		return &api.Error{Status: http.StatusConflict, Detail: "a user with this email already exists",
			Fields: []api.FieldError{{Field: "email", Message: "is already taken"}}, Err: err}
	}
	return err
}

// storable rejects a name or email holding a NUL character, which
// PostgreSQL cannot store, as 422 naming the field.
func storable(name, email string) error {
	var fields []api.FieldError
	if strings.ContainsRune(name, 0) {
		fields = append(fields, api.FieldError{Field: "name", Message: "must not contain a NUL character"})
	}
	if strings.ContainsRune(email, 0) {
		fields = append(fields, api.FieldError{Field: "email", Message: "must not contain a NUL character"})
	}
	if fields != nil {
		return &api.Error{Status: http.StatusUnprocessableEntity, Detail: "the request has invalid fields", Fields: fields}
	}
	return nil
}
