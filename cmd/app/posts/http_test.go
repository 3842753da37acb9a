package posts_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/fasttest"
)

// TestHTTPCreate: POST /posts answers 201 with the post, its tags (created
// when missing, normalised, each once) and its Location; the same names
// again reuse the tags; an unknown user and bad fields are 422 naming the
// field, before any statement for the fields.
func TestHTTPCreate(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		body := map[string]any{"user_id": e.ids["cyd"], "title": "Hello", "body": "World", "tags": []string{"Go", " rust ", "go", "new"}}
		resp := e.app.Do(t, http.MethodPost, "/posts", body)
		var p postOut
		wantJSON(t, resp, http.StatusCreated, &p)
		requireKeys(t, resp.Body, postKeys, "tags")
		if loc := resp.Header.Get("Location"); loc != fmt.Sprintf("/posts/%d", p.ID) {
			t.Errorf("Location %q for post %d", loc, p.ID)
		}
		if got := tagNames(p.Tags); !slices.Equal(got, []string{"go", "new", "rust"}) || p.UserID != e.ids["cyd"] || p.Title != "Hello" {
			t.Errorf("answered %+v, tags %v", p, got)
		}
		var goID int64
		if err := e.app.DB.Get(&goID, "SELECT id FROM tags WHERE name = 'go'"); err != nil || p.Tags[0].ID != goID {
			t.Errorf("tag go answered with id %d; the fixture's is %d (%v)", p.Tags[0].ID, goID, err)
		}

		// The same names again: no new tag, each pair once.
		var again postOut
		wantJSON(t, e.app.Do(t, http.MethodPost, "/posts", body), http.StatusCreated, &again)
		var ntags, npairs int
		if err := e.app.DB.Get(&ntags, "SELECT COUNT(*) FROM tags"); err != nil || ntags != 4 {
			t.Errorf("%d tags (%v), want go, sql, rust, new", ntags, err)
		}
		if err := e.app.DB.Get(&npairs, e.app.DB.Rebind("SELECT COUNT(*) FROM post_tags WHERE post_id = ?"), again.ID); err != nil || npairs != 3 {
			t.Errorf("%d pairs (%v), want 3", npairs, err)
		}
		var shown postOut
		wantJSON(t, e.app.Do(t, http.MethodGet, fmt.Sprintf("/posts/%d?include=tags", again.ID), nil), http.StatusOK, &shown)
		if !slices.Equal(tagNames(shown.Tags), tagNames(p.Tags)) {
			t.Errorf("stored tags %v", tagNames(shown.Tags))
		}

		r := e.app.Do(t, http.MethodPost, "/posts", map[string]any{"user_id": 999999, "title": "x"})
		if pr := wantProblem(t, r, http.StatusUnprocessableEntity); len(pr.Errors) != 1 || pr.Errors[0].Field != "user_id" {
			t.Errorf("unknown user: %+v", pr)
		}
		for _, tc := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"no title", map[string]any{"user_id": e.ids["ada"]}, "title"},
			{"no user", map[string]any{"title": "t"}, "user_id"},
			{"negative user", map[string]any{"user_id": -1, "title": "t"}, "user_id"},
			{"title of 201 characters", map[string]any{"user_id": e.ids["ada"], "title": strings.Repeat("é", 201)}, "title"},
			{"NUL in the body", map[string]any{"user_id": e.ids["ada"], "title": "t", "body": "a\x00b"}, "body"},
			{"empty tag", map[string]any{"user_id": e.ids["ada"], "title": "t", "tags": []string{"ok", "  "}}, "tags"},
			{"tag of 51 characters", map[string]any{"user_id": e.ids["ada"], "title": "t", "tags": []string{strings.Repeat("t", 51)}}, "tags"},
			{"11 tags", map[string]any{"user_id": e.ids["ada"], "title": "t", "tags": strings.Split("a,b,c,d,e,f,g,h,i,j,k", ",")}, "tags"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := untouched(t, e, func() fasttest.Response { return e.app.Do(t, http.MethodPost, "/posts", tc.body) })
				pr := wantProblem(t, r, http.StatusUnprocessableEntity)
				if len(pr.Errors) != 1 || pr.Errors[0].Field != tc.field {
					t.Errorf("errors %+v, want one on %s", pr.Errors, tc.field)
				}
			})
		}
		e.app.RequireNoConnInUse(t)
	})
}

// TestHTTPList: GET /posts filters by user and by has_comments, both ways
// (repo.Has, repo.DoesntHave), never lists a deleted post, counts comments,
// pages by limit and offset, and answers 400 naming a bad parameter before
// any statement.
func TestHTTPList(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		type listOut struct {
			Posts  []postOut `json:"posts"`
			Total  int64     `json:"total"`
			Limit  int       `json:"limit"`
			Offset int       `json:"offset"`
		}
		for _, tc := range []struct {
			query  string
			want   []string
			total  int64
			counts []int64
		}{
			{"", []string{"p1", "p2", "p3"}, 3, []int64{2, 0, 1}},
			{"?has_comments=true", []string{"p1", "p3"}, 2, []int64{2, 1}},
			{"?has_comments=false", []string{"p2"}, 1, []int64{0}},
			{fmt.Sprintf("?user_id=%d", e.ids["ada"]), []string{"p1", "p2"}, 2, []int64{2, 0}},
			{fmt.Sprintf("?user_id=%d&has_comments=true", e.ids["ada"]), []string{"p1"}, 1, []int64{2}},
			{fmt.Sprintf("?user_id=%d", e.ids["cyd"]), []string{}, 0, nil},
			{"?limit=1&offset=1", []string{"p2"}, 3, []int64{0}},
			{"?offset=5", []string{}, 3, nil},
		} {
			t.Run(tc.query, func(t *testing.T) {
				var l listOut
				wantJSON(t, e.app.Do(t, http.MethodGet, "/posts"+tc.query, nil), http.StatusOK, &l)
				if got := titles(l.Posts); !slices.Equal(got, tc.want) || l.Total != tc.total {
					t.Fatalf("posts %v total %d, want %v total %d", got, l.Total, tc.want, tc.total)
				}
				for i, p := range l.Posts {
					if p.CommentsCount == nil || *p.CommentsCount != tc.counts[i] || p.Comments != nil || p.Tags != nil || p.Author != nil {
						t.Errorf("%s: comments_count %v (want %d), relations %v %v %v", p.Title, p.CommentsCount, tc.counts[i], p.Comments, p.Tags, p.Author)
					}
				}
			})
		}
		for _, q := range []string{"has_comments=yes", "has_comments=1", "user_id=0", "user_id=x", "user_id=1&user_id=2", "limit=0", "offset=-1", "limit=x"} {
			t.Run("400 "+q, func(t *testing.T) {
				pr := wantProblem(t, untouched(t, e, func() fasttest.Response { return e.app.Do(t, http.MethodGet, "/posts?"+q, nil) }), http.StatusBadRequest)
				name, _, _ := strings.Cut(q, "=")
				if len(pr.Errors) != 1 || pr.Errors[0].Field != name {
					t.Errorf("errors %+v, want one on %s", pr.Errors, name)
				}
			})
		}
		e.app.RequireNoConnInUse(t)
	})
}

// TestHTTPShow: GET /posts/:id includes what include names, and only
// that; a deleted post is 404, as is one that never was; an unknown
// include is 400 naming it, before any statement.
func TestHTTPShow(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		path := fmt.Sprintf("/posts/%d", e.ids["p1"])
		r := e.app.Do(t, http.MethodGet, path, nil)
		var p postOut
		wantJSON(t, r, http.StatusOK, &p)
		requireKeys(t, r.Body, postKeys)

		r = e.app.Do(t, http.MethodGet, path+"?include=comments,tags,author", nil)
		wantJSON(t, r, http.StatusOK, &p)
		requireKeys(t, r.Body, postKeys, "comments", "tags", "author")
		if p.Author == nil || p.Author.Name != "ada" || p.Author.Posts != nil || len(p.Comments) != 2 || !slices.Equal(tagNames(p.Tags), []string{"go", "sql"}) {
			t.Errorf("include=comments,tags,author: %s", r.Body)
		}
		r = e.app.Do(t, http.MethodGet, path+"?include=tags&include=%20comments%20", nil)
		wantJSON(t, r, http.StatusOK, &p)
		requireKeys(t, r.Body, postKeys, "comments", "tags")

		wantProblem(t, e.app.Do(t, http.MethodGet, fmt.Sprintf("/posts/%d?include=comments", e.ids["p4"]), nil), http.StatusNotFound)
		wantProblem(t, e.app.Do(t, http.MethodGet, "/posts/999999", nil), http.StatusNotFound)
		wantProblem(t, untouched(t, e, func() fasttest.Response { return e.app.Do(t, http.MethodGet, "/posts/abc", nil) }), http.StatusBadRequest)
		for _, inc := range []string{"nope", "tags,nope", "posts", "Tags"} {
			pr := wantProblem(t, untouched(t, e, func() fasttest.Response { return e.app.Do(t, http.MethodGet, path+"?include="+inc, nil) }), http.StatusBadRequest)
			bad := inc[strings.LastIndex(inc, ",")+1:]
			if !strings.Contains(pr.Detail, fmt.Sprintf("%q", bad)) || len(pr.Errors) != 1 || pr.Errors[0].Field != "include" {
				t.Errorf("include=%s: %+v, want the value %q named", inc, pr, bad)
			}
		}

		// DELETE soft-deletes: the post is gone from GET and from its author's posts.
		if r := e.app.Do(t, http.MethodDelete, fmt.Sprintf("/posts/%d", e.ids["p2"]), nil); r.Status != http.StatusNoContent {
			t.Fatalf("DELETE: %d %s", r.Status, r.Body)
		}
		wantProblem(t, e.app.Do(t, http.MethodGet, fmt.Sprintf("/posts/%d", e.ids["p2"]), nil), http.StatusNotFound)
		var a authorOut
		wantJSON(t, e.app.Do(t, http.MethodGet, fmt.Sprintf("/users/%d?include=posts", e.ids["ada"]), nil), http.StatusOK, &a)
		if got := titles(a.Posts); !slices.Equal(got, []string{"p1"}) {
			t.Errorf("ada's posts after deleting p2: %v", got)
		}
		e.app.RequireNoConnInUse(t)
	})
}

// TestHTTPUserIncludes: GET /users/:id answers the user alone as before;
// include=posts adds the user's posts (never a deleted one), posts.tags
// and posts.comments the next level (and imply posts); the statements are
// one for the user and one per level; an unknown name is 400 naming it,
// before any statement.
func TestHTTPUserIncludes(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		path := fmt.Sprintf("/users/%d", e.ids["ada"])
		base, r := statements(t, e, path)
		var a authorOut
		wantJSON(t, r, http.StatusOK, &a)
		requireKeys(t, r.Body, userKeys)
		if base != 1 {
			t.Errorf("GET /users/:id sent %d statements, want 1", base)
		}

		n, r := statements(t, e, path+"?include=posts")
		wantJSON(t, r, http.StatusOK, &a)
		requireKeys(t, r.Body, userKeys, "posts")
		if got := titles(a.Posts); !slices.Equal(got, []string{"p1", "p2"}) || n != 2 {
			t.Errorf("include=posts: %v in %d statements, want p1, p2 in 2", got, n)
		}
		for i, p := range a.Posts {
			if p.Tags != nil || p.Comments != nil || p.CommentsCount != nil {
				t.Errorf("post %d holds relations not asked for: %+v", i, p)
			}
		}

		n, r = statements(t, e, path+"?include=posts,posts.tags")
		wantJSON(t, r, http.StatusOK, &a)
		if got := titles(a.Posts); !slices.Equal(got, []string{"p1", "p2"}) || n != 3 {
			t.Fatalf("include=posts,posts.tags: %v in %d statements, want p1, p2 in 3 (1 + one per level)", got, n)
		}
		if !slices.Equal(tagNames(a.Posts[0].Tags), []string{"go", "sql"}) || !slices.Equal(tagNames(a.Posts[1].Tags), []string{"go"}) || a.Posts[0].Comments != nil {
			t.Errorf("tags %s", r.Body)
		}

		n, r = statements(t, e, path+"?include=posts.comments,posts.tags")
		wantJSON(t, r, http.StatusOK, &a)
		if n != 4 || len(a.Posts) != 2 || len(a.Posts[0].Comments) != 2 || len(a.Posts[1].Comments) != 0 || a.Posts[1].Comments == nil || a.Posts[0].Tags == nil {
			t.Errorf("include=posts.comments,posts.tags in %d statements: %s", n, r.Body)
		}

		var b authorOut
		wantJSON(t, e.app.Do(t, http.MethodGet, fmt.Sprintf("/users/%d?include=posts", e.ids["cyd"]), nil), http.StatusOK, &b)
		if b.Posts == nil || len(b.Posts) != 0 {
			t.Errorf("cyd's posts %v, want an empty list", b.Posts)
		}
		wantProblem(t, e.app.Do(t, http.MethodGet, "/users/999999?include=posts", nil), http.StatusNotFound)
		for _, inc := range []string{"tags", "posts,comments", "posts.nope"} {
			pr := wantProblem(t, untouched(t, e, func() fasttest.Response { return e.app.Do(t, http.MethodGet, path+"?include="+inc, nil) }), http.StatusBadRequest)
			bad := inc[strings.LastIndex(inc, ",")+1:]
			if !strings.Contains(pr.Detail, fmt.Sprintf("%q", bad)) {
				t.Errorf("include=%s: %+v, want the value %q named", inc, pr, bad)
			}
		}

		// Deleting a user deletes their posts (ON DELETE CASCADE).
		if r := e.app.Do(t, http.MethodDelete, fmt.Sprintf("/users/%d", e.ids["bob"]), nil); r.Status != http.StatusNoContent {
			t.Fatalf("DELETE /users/:id: %d %s", r.Status, r.Body)
		}
		wantProblem(t, e.app.Do(t, http.MethodGet, fmt.Sprintf("/posts/%d", e.ids["p3"]), nil), http.StatusNotFound)
		e.app.RequireNoConnInUse(t)
	})
}
