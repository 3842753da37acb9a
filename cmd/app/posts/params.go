package posts

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/gin-gonic/gin"
)

// badQuery is a 400 naming the query parameter name.
func badQuery(name, msg string) error {
	return &api.Error{Status: http.StatusBadRequest, Detail: "invalid query parameter " + name,
		Fields: []api.FieldError{{Field: name, Message: msg}}}
}

// onceQuery returns the value of the parameter name and whether it is
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

// positive parses s as a positive 64-bit integer in decimal digits.
func positive(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0 && s[0] >= '0' && s[0] <= '9'
}

// idParam parses the :id path parameter: a positive 64-bit integer, else 400.
func idParam(c *gin.Context) (int64, error) {
	id, ok := positive(c.Param("id"))
	if !ok {
		return 0, api.NewError(http.StatusBadRequest, "the id must be a positive integer")
	}
	return id, nil
}

// listQuery reads the parameters of GET /posts: user_id, has_comments,
// limit and offset. A bad value is 400 naming the parameter.
func listQuery(c *gin.Context) (f Filter, limit, offset int, err error) {
	if v, ok, err := onceQuery(c, "user_id"); err != nil {
		return f, 0, 0, err
	} else if ok {
		if f.UserID, ok = positive(v); !ok {
			return f, 0, 0, badQuery("user_id", "must be a positive integer")
		}
	}
	if v, ok, err := onceQuery(c, "has_comments"); err != nil {
		return f, 0, 0, err
	} else if ok {
		if v != "true" && v != "false" {
			return f, 0, 0, badQuery("has_comments", "must be true or false")
		}
		b := v == "true"
		f.HasComments = &b
	}
	limit = repo.DefaultLimit
	if v, ok, err := onceQuery(c, "limit"); err != nil {
		return f, 0, 0, err
	} else if ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if errors.Is(err, strconv.ErrRange) && n > 0 {
			n, err = repo.MaxLimit, nil
		}
		if err != nil || n < 1 {
			return f, 0, 0, badQuery("limit", fmt.Sprintf("must be a whole number of at least 1; more than %d gives %d", repo.MaxLimit, repo.MaxLimit))
		}
		limit = int(min(n, repo.MaxLimit))
	}
	if v, ok, err := onceQuery(c, "offset"); err != nil {
		return f, 0, 0, err
	} else if ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1<<31-1 {
			return f, 0, 0, badQuery("offset", fmt.Sprintf("must be an integer from 0 to %d", 1<<31-1))
		}
		offset = n
	}
	return f, limit, offset, nil
}
