// Package posts is the reference app's posts feature, built on relations: a
// post belongs to a user (its author), has many comments and many tags
// (through the post_tags pivot). Its repository loads relations eagerly,
// one statement per level, and its handlers serve /posts and the include
// parameter of GET /users/:id.
package posts

import (
	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/repo"
)

// Post is a row of the posts table. Deleting a post soft-deletes it: it
// stays in the table with deleted_at set, and no query of the feature
// returns it, relations included. Author, Comments, Tags and CommentsCount
// are relations: loaded only when a query asks for them (repo.Query.With,
// WithCount), left out of the JSON otherwise.
type Post struct {
	ID     int64  `db:"id" json:"id"`
	UserID int64  `db:"user_id" json:"user_id"`
	Title  string `db:"title" json:"title"`
	Body   string `db:"body" json:"body"`
	repo.Timestamps
	repo.SoftDelete

	Author        repo.One[Author]   `json:"author,omitzero"`
	Comments      repo.Many[Comment] `json:"comments,omitzero"`
	Tags          repo.Many[Tag]     `json:"tags,omitzero"`
	CommentsCount repo.Count         `json:"comments_count,omitzero"`
}

// TableName names Post's table.
func (Post) TableName() string { return "posts" }

// Comment is a row of the comments table: a comment on a post.
type Comment struct {
	ID     int64  `db:"id" json:"id"`
	PostID int64  `db:"post_id" json:"post_id"`
	Body   string `db:"body" json:"body"`
	repo.Timestamps
}

// TableName names Comment's table.
func (Comment) TableName() string { return "comments" }

// Tag is a row of the tags table. Names are unique, stored trimmed and
// lower-cased (see NormalizeTag).
type Tag struct {
	ID   int64  `db:"id" json:"id"`
	Name string `db:"name" json:"name"`
}

// TableName names Tag's table.
func (Tag) TableName() string { return "tags" }

// Author is a row of the users table seen from the posts feature: the
// users.User, and its posts as a relation. Its JSON is the user's, with
// "posts" when they were loaded.
type Author struct {
	users.User
	Posts repo.Many[Post] `json:"posts,omitzero"`
}
