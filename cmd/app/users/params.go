package users

import (
	"bytes"
	"encoding/json"
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

// limitQuery parses the limit query parameter, the page size: DefaultLimit
// when absent; a whole number from 1, lowered to MaxLimit when larger (as
// repo.Page does), however many digits it has; anything else — zero, a
// negative number, no number — is 400.
func limitQuery(c *gin.Context) (int, error) {
	v, ok := c.GetQuery("limit")
	if !ok {
		return DefaultLimit, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if errors.Is(err, strconv.ErrRange) && n > 0 {
		n, err = MaxLimit, nil // a number past int64 is past MaxLimit too
	}
	if err != nil || n < 1 {
		return 0, badQuery("limit", fmt.Sprintf("must be a whole number of at least 1; more than %d gives %d", MaxLimit, MaxLimit))
	}
	return int(min(n, MaxLimit)), nil
}

// badSort answers a sort the table rejects as 400, with the repository's
// sentence for clients (which names the column and lists the sortable
// ones) as the detail; err itself stays for the log.
func badSort(err error) error {
	var qe *repo.QueryError
	if !errors.As(err, &qe) {
		return err
	}
	return &api.Error{Status: http.StatusBadRequest, Detail: qe.Detail, Err: err,
		Fields: []api.FieldError{{Field: "sort", Message: "must be sortable columns separated by commas, each at most once, with - for descending order"}}}
}

// decodeStrict decodes the JSON value b into dst, failing on an unknown
// field, as api.BindJSON does.
func decodeStrict(b []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(dst)
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
