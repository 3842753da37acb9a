package posts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/cmd/app/posts"
	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"go.uber.org/fx"
)

var bg = context.Background()

// env is the reference app's users and posts features, started on one
// database, and the fixture fill wrote.
type env struct {
	app    *fasttest.App
	schema *posts.Schema
	ids    map[string]int64 // users and posts by name
}

// start starts the users and posts features with extra options on a
// throwaway database of d, reporting to t.
func start(t fasttest.TB, d db.Dialect, extra ...fx.Option) *env {
	t.Helper()
	e := &env{ids: map[string]int64{}}
	opts := append([]fx.Option{users.Module(), posts.Module(), fasttest.On(d), fx.Populate(&e.schema)}, extra...)
	e.app = fasttest.Start(t, migrations.FS, opts...)
	return e
}

// eachDB runs fn on each dialect with the app started and the fixture
// written.
func eachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, d := range fasttest.Dialects() {
		t.Run(d.Name(), func(t *testing.T) {
			e := start(t, d)
			e.fill(t)
			fn(t, e)
		})
	}
}

// inTx runs fn with the posts repository in a transaction on the app's pool.
func (e *env) inTx(t *testing.T, fn func(r *posts.Repository) error) {
	t.Helper()
	if err := db.WithTx(bg, e.app.DB, func(tx *db.Tx) error { return fn(posts.NewRepository(e.schema, tx)) }); err != nil {
		t.Fatal(err)
	}
}

// fill writes the fixture:
//
//	users:    ada, bob, cyd (no posts)
//	posts:    p1 (ada; tags go, sql; comments c1, c2), p2 (ada; tag go; no comment),
//	          p3 (bob; comment c3), p4 (ada; tag go; comment c4; deleted)
func (e *env) fill(t *testing.T) {
	t.Helper()
	e.inTx(t, func(r *posts.Repository) error {
		for _, n := range []string{"ada", "bob", "cyd"} {
			a := &posts.Author{User: users.User{Name: n, Email: n + "@example.com", IsActive: true}}
			if err := r.Authors.Create(bg, a); err != nil {
				return err
			}
			e.ids[n] = a.ID
		}
		for _, p := range []struct {
			name, user string
			tags       []string
			comments   int
		}{{"p1", "ada", []string{"go", "sql"}, 2}, {"p2", "ada", []string{"go"}, 0}, {"p3", "bob", nil, 1}, {"p4", "ada", []string{"go"}, 1}} {
			post := &posts.Post{UserID: e.ids[p.user], Title: p.name, Body: "body of " + p.name}
			if err := r.Create(bg, post, p.tags); err != nil {
				return err
			}
			e.ids[p.name] = post.ID
			for range p.comments {
				if err := r.Comments.Create(bg, &posts.Comment{PostID: post.ID, Body: "on " + p.name}); err != nil {
					return err
				}
			}
		}
		return r.Posts.Delete(bg, e.ids["p4"])
	})
}

// postOut is a post as the API answers it; relations are nil when left out.
type postOut struct {
	ID            int64        `json:"id"`
	UserID        int64        `json:"user_id"`
	Title         string       `json:"title"`
	Body          string       `json:"body"`
	CreatedAt     string       `json:"created_at"`
	UpdatedAt     string       `json:"updated_at"`
	Author        *authorOut   `json:"author"`
	Comments      []commentOut `json:"comments"`
	Tags          []posts.Tag  `json:"tags"`
	CommentsCount *int64       `json:"comments_count"`
}

type commentOut struct {
	ID        int64  `json:"id"`
	PostID    int64  `json:"post_id"`
	Body      string `json:"body"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

// authorOut is a user as the API answers it, with its posts when included.
type authorOut struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	IsActive  bool      `json:"is_active"`
	CreatedAt string    `json:"created_at"`
	UpdatedAt string    `json:"updated_at"`
	Posts     []postOut `json:"posts"`
}

var (
	postKeys = []string{"id", "user_id", "title", "body", "created_at", "updated_at"}
	userKeys = []string{"id", "name", "email", "is_active", "created_at", "updated_at"}
)

// wantJSON requires status and decodes the body strictly into v.
func wantJSON(t *testing.T, r fasttest.Response, status int, v any) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %s: %v", r.Body, err)
	}
}

// keysOf returns the sorted keys of the JSON object raw.
func keysOf(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return slices.Sorted(maps.Keys(m))
}

// requireKeys fails unless the JSON object raw has exactly want and extra.
func requireKeys(t *testing.T, raw []byte, want []string, extra ...string) {
	t.Helper()
	w := slices.Sorted(slices.Values(append(slices.Clone(want), extra...)))
	if got := keysOf(t, raw); !slices.Equal(got, w) {
		t.Fatalf("keys %v, want %v: %s", got, w, raw)
	}
}

// problem is an RFC 9457 body.
type problem struct {
	Type   string           `json:"type"`
	Title  string           `json:"title"`
	Status int              `json:"status"`
	Detail string           `json:"detail"`
	Errors []api.FieldError `json:"errors"`
}

// wantProblem requires a problem answer of status, sent without touching
// the database when untouched holds the counts from before the request.
func wantProblem(t *testing.T, r fasttest.Response, status int) problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); r.Status != status || ct != api.ProblemContentType {
		t.Fatalf("status %d (%s), want a %d problem: %s", r.Status, ct, status, r.Body)
	}
	var p problem
	wantJSON(t, r, status, &p)
	return p
}

// untouched runs do and fails unless the pool sent nothing meanwhile.
func untouched(t *testing.T, e *env, do func() fasttest.Response) fasttest.Response {
	t.Helper()
	b, s := e.app.Count.Begins.Load(), e.app.Count.Statements.Load()
	r := do()
	if db, ds := e.app.Count.Begins.Load()-b, e.app.Count.Statements.Load()-s; db != 0 || ds != 0 {
		t.Errorf("the rejected request sent %d BEGIN and %d statements (status %d %s)", db, ds, r.Status, r.Body)
	}
	return r
}

// statements returns how many statements the request sent.
func statements(t *testing.T, e *env, path string) (int64, fasttest.Response) {
	t.Helper()
	s := e.app.Count.Statements.Load()
	r := e.app.Do(t, http.MethodGet, path, nil)
	return e.app.Count.Statements.Load() - s, r
}

func titles(ps []postOut) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Title)
	}
	return out
}

func tagNames(ts []posts.Tag) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}
