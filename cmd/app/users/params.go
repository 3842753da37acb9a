package users

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/gin-gonic/gin"
)

// idParam parses the :id path parameter: a positive 64-bit integer, else 400.
func idParam(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
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
