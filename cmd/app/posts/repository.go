package posts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

// MaxTags is how many tags a post takes at most.
const MaxTags = 10

// ErrNoAuthor is returned (wrapped) by Repository.Create when the post's
// user does not exist.
var ErrNoAuthor = errors.New("posts: the author does not exist")

// Repository is the posts repository, on one querier (the request's
// transaction): the generic operations of each table and the feature's own
// queries.
type Repository struct {
	Posts    repo.Base[Post]
	Comments repo.Base[Comment]
	Tags     repo.Base[Tag]
	Authors  repo.Base[Author]
	s        *Schema
}

// NewRepository builds the repository on the request's querier. Register it
// with fxmodules.Scoped.
func NewRepository(s *Schema, q db.Querier) *Repository {
	return &Repository{Posts: s.Posts.On(q), Comments: s.Comments.On(q), Tags: s.Tags.On(q), Authors: s.Authors.On(q), s: s}
}

// NormalizeTag returns a tag name as the tags table stores it: without the
// white space around it, lower-cased.
func NormalizeTag(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// Create inserts p for its user (ErrNoAuthor when there is none) and
// attaches the tags named by tagNames, creating those that do not exist
// yet; names are normalised (NormalizeTag) and duplicates count once. p's
// Tags are set to the post's tags, by name. At most MaxTags distinct names.
func (r *Repository) Create(ctx context.Context, p *Post, tagNames []string) error {
	ok, err := r.Authors.Exists(ctx, p.UserID)
	if err != nil {
		return fmt.Errorf("posts: create: %w", err)
	}
	if !ok {
		return fmt.Errorf("posts: create: user %d: %w", p.UserID, ErrNoAuthor)
	}
	if err := r.Posts.Create(ctx, p); err != nil {
		return fmt.Errorf("posts: create: %w", err)
	}
	tags, err := r.EnsureTags(ctx, tagNames)
	if err != nil {
		return err
	}
	ids := make([]int64, len(tags))
	for i, t := range tags {
		ids[i] = t.ID
	}
	if err := r.s.PostTags.Attach(ctx, r.Posts.Q, p.ID, ids...); err != nil {
		return fmt.Errorf("posts: create: %w", err)
	}
	p.Tags.Set(tags)
	return nil
}

// EnsureTags returns the tags named by names, by name, creating those that
// do not exist yet. Names are normalised (NormalizeTag), duplicates count
// once, and at most MaxTags distinct names are taken. Two transactions
// creating the same tag at the same time make one row, and no error: each
// missing tag is inserted by an upsert on its unique name.
func (r *Repository) EnsureTags(ctx context.Context, names []string) ([]Tag, error) {
	want := make([]string, 0, len(names))
	for _, n := range names {
		want = append(want, NormalizeTag(n))
	}
	slices.Sort(want)
	want = slices.Compact(want)
	if len(want) == 0 {
		return []Tag{}, nil
	}
	if len(want) > MaxTags {
		return nil, fmt.Errorf("posts: tags: %d names, more than %d", len(want), MaxTags)
	}
	tags, err := r.Tags.Query().Where(r.s.TagName.In(want...)).OrderBy(r.s.TagName.Asc()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("posts: tags: %w", err)
	}
	for _, n := range want {
		if slices.ContainsFunc(tags, func(t Tag) bool { return t.Name == n }) {
			continue
		}
		t := Tag{Name: n}
		if err := r.Tags.Upsert(ctx, &t, r.s.TagName); err != nil {
			return nil, fmt.Errorf("posts: tag %q: %w", n, err)
		}
		tags = append(tags, t)
	}
	slices.SortFunc(tags, func(a, b Tag) int { return strings.Compare(a.Name, b.Name) })
	return tags, nil
}

// Filter selects posts for a list. A zero field is no condition.
type Filter struct {
	// UserID keeps the posts of this user.
	UserID int64
	// HasComments keeps the posts with at least one comment when true,
	// those with none when false.
	HasComments *bool
}

// List returns a page of the posts matching f, by id, each with its
// CommentsCount, and how many match in all. Limit follows repo.PageLimit;
// a negative offset is a *repo.QueryError and nothing is sent.
func (r *Repository) List(ctx context.Context, f Filter, limit, offset int) ([]Post, int64, error) {
	limit, err := repo.PageLimit(limit)
	if err != nil {
		return nil, 0, err
	}
	if offset < 0 {
		return nil, 0, &repo.QueryError{Op: "page", Table: r.s.Posts.Name(), Detail: "the offset must not be negative, got " + strconv.Itoa(offset)}
	}
	q := r.Posts.Query()
	if f.UserID != 0 {
		q = q.Where(r.s.PostUserID.Eq(f.UserID))
	}
	if f.HasComments != nil {
		if *f.HasComments {
			q = q.Where(repo.Has(r.s.PostComments))
		} else {
			q = q.Where(repo.DoesntHave(r.s.PostComments))
		}
	}
	total, err := q.Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("posts: list: %w", err)
	}
	if total <= int64(offset) {
		return []Post{}, total, nil
	}
	list, err := q.OrderBy(r.s.PostID.Asc()).Limit(limit).Offset(offset).WithCount(r.s.PostComments).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("posts: list: %w", err)
	}
	return list, total, nil
}

// Show returns the post with id with the relations inc names, or an error
// wrapping repo.ErrNotFound (a deleted post is not found).
func (r *Repository) Show(ctx context.Context, id int64, inc PostIncludes) (*Post, error) {
	p, err := r.Posts.Query().Where(r.s.PostID.Eq(id)).With(r.s.postLoaders(inc)...).First(ctx)
	if err != nil {
		return nil, fmt.Errorf("posts: show %d: %w", id, err)
	}
	return p, nil
}

// Author returns the user with id with the relations inc names: with
// inc.Posts, the user's posts (deleted ones left out), each with the
// relations of inc.Post; one statement per level. The error wraps
// repo.ErrNotFound when there is no such user.
func (r *Repository) Author(ctx context.Context, id int64, inc UserIncludes) (*Author, error) {
	q := r.Authors.Query().Where(r.s.AuthorID.Eq(id))
	if inc.Posts {
		q = q.With(r.s.AuthorPosts.With(r.s.postLoaders(inc.Post)...))
	}
	a, err := q.First(ctx)
	if err != nil {
		return nil, fmt.Errorf("posts: user %d: %w", id, err)
	}
	return a, nil
}
