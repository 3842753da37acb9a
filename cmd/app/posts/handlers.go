package posts

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/gin-gonic/gin"
)

// CreateInput is the body of POST /posts: the author's id, the title and
// body, and the names of the post's tags (created when missing).
type CreateInput struct {
	UserID int64    `json:"user_id" binding:"required"`
	Title  string   `json:"title" binding:"required,max=200"`
	Body   string   `json:"body" binding:"max=10000"`
	Tags   []string `json:"tags"`
}

// ListResponse is the body of GET /posts.
type ListResponse struct {
	Posts  []Post `json:"posts"`
	Total  int64  `json:"total"`
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
}

// Routes registers the /posts handlers on e.
func Routes(e *gin.Engine) {
	g := e.Group("/posts")
	g.POST("", api.Handle1(create, api.WithRetry(3)))
	g.GET("", api.Handle1(list, api.WithReadOnly()))
	g.GET("/:id", api.Handle1(show, api.WithReadOnly()))
	g.DELETE("/:id", api.Handle(remove))
}

// UsersInclude returns the users.Includes of GET /users/:id: include takes
// posts, posts.tags, posts.comments and posts.author, loaded eagerly with
// one statement per level; a posts.* name loads the posts too.
func UsersInclude() users.Includes {
	return func(c *gin.Context, id int64, values []string) (any, error) {
		inc, err := parseUserIncludes(values)
		if err != nil {
			return nil, err
		}
		r, err := api.Resolve[*Repository](c)
		if err != nil {
			return nil, err
		}
		return r.Author(c.Request.Context(), id, inc)
	}
}

func create(c *gin.Context, r *Repository) (*Post, error) {
	var in CreateInput
	if err := api.BindJSON(c, &in); err != nil {
		return nil, err
	}
	if err := checkInput(in); err != nil {
		return nil, err
	}
	p := &Post{UserID: in.UserID, Title: in.Title, Body: in.Body}
	if err := r.Create(c.Request.Context(), p, in.Tags); err != nil {
		if errors.Is(err, ErrNoAuthor) {
			return nil, &api.Error{Status: http.StatusUnprocessableEntity, Detail: "the request has invalid fields", Err: err,
				Fields: []api.FieldError{{Field: "user_id", Message: "is not an existing user"}}}
		}
		return nil, err
	}
	c.Header("Location", fmt.Sprintf("/posts/%d", p.ID))
	c.Status(http.StatusCreated)
	return p, nil
}

// checkInput checks what the binding tags do not: a positive user_id, no
// NUL character (which PostgreSQL cannot store), and at most MaxTags tag
// names of 1 to 50 characters once trimmed. Each bad field is listed (422).
func checkInput(in CreateInput) error {
	var fields []api.FieldError
	if in.UserID < 0 {
		fields = append(fields, api.FieldError{Field: "user_id", Message: "must be a positive integer"})
	}
	if strings.ContainsRune(in.Title, 0) {
		fields = append(fields, api.FieldError{Field: "title", Message: "must not contain a NUL character"})
	}
	if strings.ContainsRune(in.Body, 0) {
		fields = append(fields, api.FieldError{Field: "body", Message: "must not contain a NUL character"})
	}
	seen := map[string]bool{}
	for _, t := range in.Tags {
		n := NormalizeTag(t)
		seen[n] = true
		if n == "" || utf8.RuneCountInString(n) > 50 || strings.ContainsRune(n, 0) {
			fields = append(fields, api.FieldError{Field: "tags", Message: "must be names of 1 to 50 characters, without a NUL character"})
			break
		}
	}
	if len(seen) > MaxTags {
		fields = append(fields, api.FieldError{Field: "tags", Message: fmt.Sprintf("must hold at most %d names", MaxTags)})
	}
	if fields != nil {
		return &api.Error{Status: http.StatusUnprocessableEntity, Detail: "the request has invalid fields", Fields: fields}
	}
	return nil
}

func list(c *gin.Context, r *Repository) (ListResponse, error) {
	f, limit, offset, err := listQuery(c)
	if err != nil {
		return ListResponse{}, err
	}
	posts, total, err := r.List(c.Request.Context(), f, limit, offset)
	if err != nil {
		return ListResponse{}, err
	}
	return ListResponse{Posts: posts, Total: total, Limit: limit, Offset: offset}, nil
}

func show(c *gin.Context, r *Repository) (*Post, error) {
	id, err := idParam(c)
	if err != nil {
		return nil, err
	}
	inc, err := parsePostIncludes(c.QueryArray("include"))
	if err != nil {
		return nil, err
	}
	return r.Show(c.Request.Context(), id, inc)
}

func remove(c *gin.Context, r *Repository) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if err := r.Posts.Delete(c.Request.Context(), id); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	c.Writer.WriteHeaderNow()
	return nil
}
