package posts_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/cmd/app/posts"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/internal/tbrecord"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

// authorsRoutes are test-only handlers answering the author of each post:
// /test/authors/loop reads the posts, then each author by id (an N+1);
// /test/authors/with loads the authors with the posts (repo.Query.With).
func authorsRoutes(s *posts.Schema) func(*gin.Engine) {
	return func(e *gin.Engine) {
		e.GET("/test/authors/loop", api.Handle1(func(c *gin.Context, r *posts.Repository) ([]string, error) {
			list, err := r.Posts.Query().OrderBy(s.PostID.Asc()).All(c)
			if err != nil {
				return nil, err
			}
			names := make([]string, 0, len(list))
			for _, p := range list {
				a, err := r.Authors.FindOrFail(c, p.UserID)
				if err != nil {
					return nil, err
				}
				names = append(names, a.Name)
			}
			return names, nil
		}))
		e.GET("/test/authors/with", api.Handle1(func(c *gin.Context, r *posts.Repository) ([]string, error) {
			list, err := r.Posts.Query().OrderBy(s.PostID.Asc()).With(s.PostAuthor).All(c)
			if err != nil {
				return nil, err
			}
			names := make([]string, 0, len(list))
			for _, p := range list {
				a, err := p.Author.Get()
				if err != nil {
					return nil, err
				}
				names = append(names, a.Name)
			}
			return names, nil
		}))
	}
}

// An N+1 planted in a handler (each post's author read one by one) fails
// the test that calls it under fasttest, the failure naming the route and
// the statement; the same handler with With passes. On each database.
func TestNPlusOneHandler(t *testing.T) {
	for _, d := range fasttest.Dialects() {
		t.Run(d.Name(), func(t *testing.T) {
			rec := tbrecord.New(t)
			e := start(rec, d, fx.Invoke(func(s *posts.Schema, g *gin.Engine) { authorsRoutes(s)(g) }))
			e.fill(t)
			e.inTx(t, func(r *posts.Repository) error {
				for i := range 8 { // 11 live posts, 3 authors: past the threshold of 10 statements
					if err := r.Create(bg, &posts.Post{UserID: e.ids[[]string{"ada", "bob", "cyd"}[i%3]], Title: fmt.Sprint("extra ", i)}, nil); err != nil {
						return err
					}
				}
				return nil
			})

			resp := e.app.Do(rec, http.MethodGet, "/test/authors/loop", nil)
			if resp.Status != http.StatusInternalServerError {
				t.Errorf("the N+1 answered %d %s, want 500", resp.Status, resp.Body)
			}
			errs := rec.Take()
			if len(errs) != 1 {
				t.Fatalf("the test would fail with %q, want one error", errs)
			}
			t.Logf("the test's error: %s", errs[0])
			for _, want := range []string{"N+1 query in GET /test/authors/loop", "run 11 times (threshold 10)", "SELECT " + e.schema.Authors.SelectList() + " FROM " + e.schema.Authors.QuotedName() + " WHERE " + d.Quote("id") + " = "} {
				if !strings.Contains(errs[0], want) {
					t.Errorf("the test's error %q does not name %q", errs[0], want)
				}
			}

			resp = e.app.Do(rec, http.MethodGet, "/test/authors/with", nil)
			if resp.Status != http.StatusOK || strings.Count(string(resp.Body), `"ada"`) != 5 {
				t.Errorf("With answered %d %s", resp.Status, resp.Body)
			}
			if errs := rec.Take(); errs != nil {
				t.Errorf("the handler with With would fail the test: %q", errs)
			}
			e.app.RequireNoConnInUse(rec)
		})
	}
}
