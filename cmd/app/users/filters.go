package users

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// MaxIDs is how many values the ids parameter of GET /users takes at most,
// duplicates included; more is 400.
const MaxIDs = 1000

// The query parameters of GET /users that filter by id, creation time and
// email domain.
const (
	paramIDs           = "ids"
	paramCreatedAfter  = "created_after"
	paramCreatedBefore = "created_before"
	paramEmailDomain   = "email_domain"
)

// filterQuery reads the ids, created_after, created_before and
// email_domain parameters into q. A bad value is 400 naming the parameter;
// nothing is read from the database.
func filterQuery(c *gin.Context, q *Query) error {
	var err error
	if q.IDs, err = idsQuery(c); err != nil {
		return err
	}
	if q.CreatedAfter, err = timeQuery(c, paramCreatedAfter); err != nil {
		return err
	}
	if q.CreatedBefore, err = timeQuery(c, paramCreatedBefore); err != nil {
		return err
	}
	q.EmailDomain, err = domainQuery(c)
	return err
}

// hasFilter reports whether q holds one of the conditions that filterQuery
// reads.
func (q Query) hasFilter() bool {
	return q.IDs != nil || !q.CreatedAfter.IsZero() || !q.CreatedBefore.IsZero() || q.EmailDomain != ""
}

// onceQuery returns the value of the parameter name, and whether it is
// there; given more than once, it is 400.
func onceQuery(c *gin.Context, name string) (string, bool, error) {
	vs, ok := c.GetQueryArray(name)
	if !ok {
		return "", false, nil
	}
	if len(vs) > 1 {
		return "", false, badQuery(name, "must be given once")
	}
	return vs[0], true, nil
}

// idsQuery parses ids: positive 64-bit integers separated by commas, with
// optional spaces around each, at most MaxIDs of them in all; the
// parameter may also be repeated (ids=1&ids=2). Nil when absent.
func idsQuery(c *gin.Context) ([]int64, error) {
	vs, ok := c.GetQueryArray(paramIDs)
	if !ok {
		return nil, nil
	}
	bad := badQuery(paramIDs, fmt.Sprintf("must be positive integers separated by commas, at most %d", MaxIDs))
	var ids []int64
	for _, v := range vs {
		for s := range strings.SplitSeq(v, ",") {
			if len(ids) == MaxIDs {
				return nil, badQuery(paramIDs, fmt.Sprintf("must hold at most %d ids", MaxIDs))
			}
			s = strings.TrimSpace(s)
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil || id <= 0 || s[0] < '0' || s[0] > '9' {
				return nil, bad
			}
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// timeQuery parses the parameter name as an RFC 3339 timestamp with an
// optional fraction of a second (2024-05-01T12:00:00Z,
// 2024-05-01T14:00:00.5+02:00). A "+" sent unencoded in a query string
// arrives as a space and is read as a "+". The zero time when absent.
func timeQuery(c *gin.Context, name string) (time.Time, error) {
	v, ok, err := onceQuery(c, name)
	if err != nil || !ok {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, strings.Replace(v, " ", "+", 1))
	if err != nil {
		return time.Time{}, badQuery(name, "must be an RFC 3339 timestamp, such as 2024-05-01T12:00:00Z")
	}
	// The databases' times end with year 9999; the zero time means absent.
	if u := t.UTC(); u.Year() > 9999 || !u.After(time.Time{}) {
		return time.Time{}, badQuery(name, "must be later than 0001-01-01T00:00:00Z and earlier than 10000-01-01T00:00:00Z")
	}
	return t, nil
}

// domainQuery reads email_domain: what follows the "@" of an email, without
// it; not empty, valid UTF-8, without a NUL character. "" when absent.
func domainQuery(c *gin.Context) (string, error) {
	v, ok, err := onceQuery(c, paramEmailDomain)
	switch {
	case err != nil || !ok:
		return "", err
	case v == "":
		return "", badQuery(paramEmailDomain, "must not be empty")
	case !utf8.ValidString(v):
		return "", badQuery(paramEmailDomain, "must be valid UTF-8")
	case strings.ContainsRune(v, 0):
		return "", badQuery(paramEmailDomain, "must not contain a NUL character")
	case strings.Contains(v, "@"):
		return "", badQuery(paramEmailDomain, "must be the part of an email after the @, without it")
	}
	return v, nil
}
