package posts

import (
	"errors"
	"fmt"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

// Schema holds the feature's tables, the typed columns its queries use and
// its relations, built once for the database's dialect (NewSchema) and
// shared by every request: a singleton, read-only after NewSchema.
type Schema struct {
	Posts    *repo.Table[Post]
	Comments *repo.Table[Comment]
	Tags     *repo.Table[Tag]
	Authors  *repo.Table[Author]

	AuthorID   repo.Column[Author, int64]
	PostID     repo.Column[Post, int64]
	PostUserID repo.Column[Post, int64]
	PostTitle  repo.Column[Post, string]
	TagName    repo.Column[Tag, string]

	// PostAuthor is the user who wrote a post.
	PostAuthor repo.Relation[Post, Author]
	// PostComments are a post's comments, oldest first; their count fills
	// Post.CommentsCount.
	PostComments repo.Relation[Post, Comment]
	// PostTags are a post's tags, by name.
	PostTags repo.Relation[Post, Tag]
	// AuthorPosts are a user's posts, oldest first.
	AuthorPosts repo.Relation[Author, Post]
}

// NewSchema builds the tables, columns and relations for d. It fails when a
// model does not map to a table, or a column or relation does not resolve.
func NewSchema(d db.Dialect) (*Schema, error) {
	s := &Schema{}
	var errs [4]error
	s.Posts, errs[0] = repo.NewTable[Post](d)
	s.Comments, errs[1] = repo.NewTable[Comment](d)
	s.Tags, errs[2] = repo.NewTable[Tag](d)
	s.Authors, errs[3] = repo.NewTable[Author](d)
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("posts: schema: %w", err)
	}
	s.AuthorID = repo.Col(s.Authors, func(a *Author) *int64 { return &a.ID })
	s.PostID = repo.Col(s.Posts, func(p *Post) *int64 { return &p.ID })
	s.PostUserID = repo.Col(s.Posts, func(p *Post) *int64 { return &p.UserID })
	s.PostTitle = repo.Col(s.Posts, func(p *Post) *string { return &p.Title })
	s.TagName = repo.Col(s.Tags, func(t *Tag) *string { return &t.Name })
	commentPostID := repo.Col(s.Comments, func(c *Comment) *int64 { return &c.PostID })
	commentID := repo.Col(s.Comments, func(c *Comment) *int64 { return &c.ID })

	s.PostAuthor = repo.BelongsTo(s.Posts, s.Authors, s.PostUserID, func(p *Post) *repo.One[Author] { return &p.Author })
	s.PostComments = repo.HasMany(s.Posts, s.Comments, commentPostID, func(p *Post) *repo.Many[Comment] { return &p.Comments }).
		OrderBy(commentID.Asc()).
		CountInto(func(p *Post) *repo.Count { return &p.CommentsCount })
	s.PostTags = repo.ManyToMany(s.Posts, s.Tags, repo.Pivot{Table: "post_tags", Key: "post_id", RelatedKey: "tag_id"}, func(p *Post) *repo.Many[Tag] { return &p.Tags }).
		OrderBy(s.TagName.Asc())
	s.AuthorPosts = repo.HasMany(s.Authors, s.Posts, s.PostUserID, func(a *Author) *repo.Many[Post] { return &a.Posts }).
		OrderBy(s.PostID.Asc())
	if err := errors.Join(s.AuthorID.Err(), s.PostID.Err(), s.PostUserID.Err(), s.PostTitle.Err(), s.TagName.Err(), commentPostID.Err(), commentID.Err(),
		s.PostAuthor.Err(), s.PostComments.Err(), s.PostTags.Err(), s.AuthorPosts.Err()); err != nil {
		return nil, fmt.Errorf("posts: schema: %w", err)
	}
	return s, nil
}

// postLoaders returns the relations of posts that inc names.
func (s *Schema) postLoaders(inc PostIncludes) []repo.Loader[Post] {
	var out []repo.Loader[Post]
	if inc.Author {
		out = append(out, s.PostAuthor)
	}
	if inc.Comments {
		out = append(out, s.PostComments)
	}
	if inc.Tags {
		out = append(out, s.PostTags)
	}
	return out
}
