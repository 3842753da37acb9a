package posts

import (
	"context"
	"fmt"

	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

// SeederName is the posts seeder's name on the command line: `app seed posts`.
const SeederName = "posts"

// Seeder inserts the example posts (see Examples), with their comments and
// tags, for the example users, which it seeds first (users.Seeder). It is
// idempotent: a post whose author already has a post of that title is left
// as it is, so running it again adds nothing. Register it with
// seed.Provide.
type Seeder struct {
	s     *Schema
	users *users.Seeder
	cols  *users.Columns
	table *repo.Table[users.User]
}

// NewSeeder builds the posts seeder on the schema and the users feature's
// table and columns.
func NewSeeder(s *Schema, t *repo.Table[users.User], cols *users.Columns) *Seeder {
	return &Seeder{s: s, users: users.NewSeeder(t, cols), cols: cols, table: t}
}

// Name returns "posts".
func (*Seeder) Name() string { return SeederName }

// Example is a post the seeder writes: its author's email, title, body,
// tags and comments.
type Example struct {
	Email, Title, Body string
	Tags               []string
	Comments           []string
}

// Examples returns the posts the seeder writes, each new on every call.
func Examples() []Example {
	return []Example{
		{Email: "ada@example.com", Title: "Notes on the Analytical Engine", Body: "The engine weaves algebraic patterns.",
			Tags: []string{"history", "computing"}, Comments: []string{"A classic.", "Note G is the first program."}},
		{Email: "ada@example.com", Title: "On Bernoulli numbers", Body: "A table of the steps.",
			Tags: []string{"mathematics"}},
		{Email: "grace@example.com", Title: "The first bug", Body: "A moth in relay 70.",
			Tags: []string{"history", "debugging"}, Comments: []string{"Taped into the log book."}},
	}
}

// Seed seeds the example users, then inserts through the posts Repository
// on q each example post that its author does not have yet, with its tags
// and comments.
func (s *Seeder) Seed(ctx context.Context, q db.Querier) error {
	if err := s.users.Seed(ctx, q); err != nil {
		return fmt.Errorf("posts: seeding the users: %w", err)
	}
	ur := users.NewRepository(s.table, s.cols, q)
	r := NewRepository(s.s, q)
	for _, ex := range Examples() {
		u, err := ur.FindByEmail(ctx, ex.Email)
		if err != nil {
			return fmt.Errorf("posts: author %s: %w", ex.Email, err)
		}
		if u == nil {
			return fmt.Errorf("posts: author %s: %w", ex.Email, ErrNoAuthor)
		}
		n, err := r.Posts.Query().Where(s.s.PostUserID.Eq(u.ID), s.s.PostTitle.Eq(ex.Title)).Count(ctx)
		if err != nil {
			return fmt.Errorf("posts: looking up %q: %w", ex.Title, err)
		}
		if n > 0 {
			continue
		}
		p := &Post{UserID: u.ID, Title: ex.Title, Body: ex.Body}
		if err := r.Create(ctx, p, ex.Tags); err != nil {
			return fmt.Errorf("posts: creating %q: %w", ex.Title, err)
		}
		if len(ex.Comments) == 0 {
			continue
		}
		cs := make([]*Comment, len(ex.Comments))
		for i, body := range ex.Comments {
			cs[i] = &Comment{PostID: p.ID, Body: body}
		}
		if err := r.Comments.CreateMany(ctx, cs); err != nil {
			return fmt.Errorf("posts: comments of %q: %w", ex.Title, err)
		}
	}
	return nil
}
