package users

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/gin-gonic/gin"
)

// Page sizes of GET /users: those of repo.Page. A limit above MaxLimit is
// lowered to MaxLimit, as the answer's "limit" shows.
const (
	DefaultLimit = repo.DefaultLimit
	MaxLimit     = repo.MaxLimit
)

// CreateInput is the body of POST /users. Decoding normalises the email
// (NormalizeEmail), so that validation checks what is stored.
type CreateInput struct {
	Name     string `json:"name" binding:"required,max=100"`
	Email    string `json:"email" binding:"required,email,max=100"`
	IsActive *bool  `json:"is_active"`
}

// UnmarshalJSON decodes the body strictly (an unknown field is an error)
// and normalises the email.
func (in *CreateInput) UnmarshalJSON(b []byte) error {
	type plain CreateInput
	if err := decodeStrict(b, (*plain)(in)); err != nil {
		return err
	}
	in.Email = NormalizeEmail(in.Email)
	return nil
}

// UpdateInput is the body of PUT /users/:id. Decoding normalises the email
// (NormalizeEmail), so that validation checks what is stored.
type UpdateInput struct {
	Name     string `json:"name" binding:"required,max=100"`
	Email    string `json:"email" binding:"required,email,max=100"`
	IsActive *bool  `json:"is_active"`
}

// UnmarshalJSON decodes the body strictly (an unknown field is an error)
// and normalises the email.
func (in *UpdateInput) UnmarshalJSON(b []byte) error {
	type plain UpdateInput
	if err := decodeStrict(b, (*plain)(in)); err != nil {
		return err
	}
	in.Email = NormalizeEmail(in.Email)
	return nil
}

// ListResponse is the body of GET /users with offset pagination.
type ListResponse struct {
	Users  []User `json:"users"`
	Total  int64  `json:"total"`
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
}

// CursorResponse is the body of GET /users?cursor=…: a keyset page.
type CursorResponse struct {
	Users      []User `json:"users"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// Routes registers the /users handlers on e. They resolve a *Repository
// and, for POST /users, a *Welcomer from the request's scope. Handlers of
// one or two dependencies returning (T, error) use api.Handle1 and
// api.Handle2, which call them without reflection; remove, returning only
// an error, uses api.Handle.
// GET /users/:id ignores an include parameter; see Module for the app's
// Includes.
func Routes(e *gin.Engine) { routes(e, nil) }

// Includes answers GET /users/:id?include=… in the request's scope: the
// user with id and the relations named by values (the parameter's values,
// unsplit), or an error (an unknown name is a 400 *api.Error). It is
// provided by a feature that relates to users, such as posts, and called
// only when the request has an include parameter.
type Includes func(c *gin.Context, id int64, values []string) (any, error)

// includesKey is the gin.Context key of the Includes that GET /users/:id
// hands include requests to.
const includesKey = "users.includes"

// routes registers the /users handlers on e, with inc (nil for none)
// answering GET /users/:id with include.
func routes(e *gin.Engine, inc Includes) {
	g := e.Group("/users")
	g.POST("", api.Handle2(create, api.WithRetry(3)))
	g.GET("", api.Handle1(list, api.WithReadOnly()))
	if inc != nil {
		g.GET("/:id", func(c *gin.Context) { c.Set(includesKey, inc) }, api.Handle1(show, api.WithReadOnly()))
	} else {
		g.GET("/:id", api.Handle1(show, api.WithReadOnly()))
	}
	g.PUT("/:id", api.Handle1(update, api.WithRetry(3)))
	g.DELETE("/:id", api.Handle(remove))
}

// create creates a user and enqueues its welcome email in the same
// transaction.
func create(c *gin.Context, r *Repository, w *Welcomer) (*User, error) {
	var in CreateInput
	if err := api.BindJSON(c, &in); err != nil {
		return nil, err
	}
	if err := storable(in.Name, in.Email); err != nil {
		return nil, err
	}
	u := &User{Name: in.Name, Email: in.Email, IsActive: in.IsActive == nil || *in.IsActive}
	if err := r.Create(c.Request.Context(), u); err != nil {
		return nil, emailConflict(err)
	}
	if err := w.Enqueue(c.Request.Context(), u.ID); err != nil {
		return nil, err
	}
	c.Header("Location", fmt.Sprintf("/users/%d", u.ID))
	c.Status(http.StatusCreated)
	return u, nil
}

// show answers the user with the :id, or hands a request with an include
// parameter to the route's Includes when it has one.
func show(c *gin.Context, r *Repository) (any, error) {
	id, err := idParam(c)
	if err != nil {
		return nil, err
	}
	if values, ok := c.GetQueryArray("include"); ok {
		if inc, _ := c.Value(includesKey).(Includes); inc != nil {
			return inc(c, id, values)
		}
	}
	return r.FindOrFail(c.Request.Context(), id)
}

func update(c *gin.Context, r *Repository) (*User, error) {
	id, err := idParam(c)
	if err != nil {
		return nil, err
	}
	var in UpdateInput
	if err := api.BindJSON(c, &in); err != nil {
		return nil, err
	}
	if err := storable(in.Name, in.Email); err != nil {
		return nil, err
	}
	u, err := r.FindOrFail(c.Request.Context(), id)
	if err != nil {
		return nil, err
	}
	u.Name, u.Email = in.Name, in.Email
	if in.IsActive != nil {
		u.IsActive = *in.IsActive
	}
	if err := r.Update(c.Request.Context(), u); err != nil {
		return nil, emailConflict(err)
	}
	return u, nil
}

func remove(c *gin.Context, r *Repository) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if err := r.Delete(c.Request.Context(), id); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	c.Writer.WriteHeaderNow()
	return nil
}

func list(c *gin.Context, r *Repository) (any, error) {
	ctx := c.Request.Context()
	var q Query
	if v, ok := c.GetQuery("active"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, badQuery("active", "must be true or false")
		}
		q.Active = &b
	}
	q.Name = c.Query("q")
	if strings.ContainsRune(q.Name, 0) {
		return nil, badQuery("q", "must not contain a NUL character")
	}
	if err := filterQuery(c, &q); err != nil {
		return nil, err
	}
	limit, err := limitQuery(c)
	if err != nil {
		return nil, err
	}
	if cursor, ok := c.GetQuery("cursor"); ok {
		if q.Name != "" || q.Active != nil || q.hasFilter() || c.Query("sort") != "" || c.Query("offset") != "" {
			return nil, api.NewError(http.StatusBadRequest, "cursor pages take only limit")
		}
		users, next, err := r.Keyset(ctx, repo.KeysetPage{After: cursor, Limit: limit})
		if err != nil {
			return nil, badCursor(err)
		}
		if users == nil {
			users = []User{}
		}
		return CursorResponse{Users: users, NextCursor: next}, nil
	}
	offset, err := intQuery(c, "offset", 0, 0, 1<<31-1)
	if err != nil {
		return nil, err
	}
	sort, err := r.Table.ParseSort(c.Query("sort"))
	if err != nil {
		return nil, badSort(err)
	}
	users, total, err := r.List(ctx, q, repo.Page{Limit: limit, Offset: offset, Sort: sort})
	if err != nil {
		return nil, err
	}
	return ListResponse{Users: users, Total: total, Limit: limit, Offset: offset}, nil
}
