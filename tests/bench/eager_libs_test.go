package bench

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/jmoiron/sqlx"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// FastTrack's models: relation holders, no tags.
type (
	ftUser struct {
		ID    int64
		Name  string
		Email string
		Posts repo.Many[ftPost]
	}
	ftPost struct {
		ID     int64
		UserID int64
		Title  string
		Tags   repo.Many[ftTag]
	}
	ftTag struct {
		ID   int64
		Name string
	}
)

func (ftUser) TableName() string { return "users" }
func (ftPost) TableName() string { return "posts" }
func (ftTag) TableName() string  { return "tags" }

// ftSide loads through Query.With of users' posts with the posts' tags.
func ftSide(b *testing.B, x *sqlx.DB, d db.Dialect) eagerSide {
	b.Helper()
	users, err := repo.NewTable[ftUser](d)
	if err != nil {
		b.Fatal(err)
	}
	posts, err := repo.NewTable[ftPost](d)
	if err != nil {
		b.Fatal(err)
	}
	tags, err := repo.NewTable[ftTag](d)
	if err != nil {
		b.Fatal(err)
	}
	userPosts := repo.HasMany(users, posts, repo.MustCol(posts, func(p *ftPost) *int64 { return &p.UserID }),
		func(u *ftUser) *repo.Many[ftPost] { return &u.Posts })
	postTags := repo.ManyToMany(posts, tags, repo.Pivot{Table: "post_tags", Key: "post_id", RelatedKey: "tag_id"},
		func(p *ftPost) *repo.Many[ftTag] { return &p.Tags })
	for _, err := range []error{userPosts.Err(), postTags.Err()} {
		if err != nil {
			b.Fatal(err)
		}
	}
	rel := userPosts.With(postTags)
	load := func(ctx context.Context) ([]ftUser, error) {
		return users.Query().On(x).With(rel).All(ctx)
	}
	conv := func(rows []ftUser) ([]eagerUser, error) {
		out := make([]eagerUser, len(rows))
		for i, u := range rows {
			out[i] = eagerUser{ID: u.ID, Name: u.Name, Email: u.Email}
			ps, err := u.Posts.Get()
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				ts, err := p.Tags.Get()
				if err != nil {
					return nil, err
				}
				ep := eagerPost{ID: p.ID, UserID: p.UserID, Title: p.Title}
				for _, t := range ts {
					ep.Tags = append(ep.Tags, eagerTag(t))
				}
				out[i].Posts = append(out[i].Posts, ep)
			}
		}
		return out, nil
	}
	count := func(rows []ftUser) (int, error) {
		n := 0
		for _, u := range rows {
			ps, err := u.Posts.Get()
			if err != nil {
				return 0, err
			}
			n += len(ps)
		}
		return n, nil
	}
	return newSide("fasttrack", load, conv, count)
}

// The hand-written models: plain structs with sqlx tags.
type (
	handUser struct {
		ID    int64  `db:"id"`
		Name  string `db:"name"`
		Email string `db:"email"`
		Posts []handPost
	}
	handPost struct {
		ID     int64  `db:"id"`
		UserID int64  `db:"user_id"`
		Title  string `db:"title"`
		Tags   []handTag
	}
	handTag struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	handPostTag struct {
		PostID int64 `db:"post_id"`
		handTag
	}
)

// handSide loads with three sqlx statements, the posts and the tags bound
// to their parents' ids as one parameter (an array on PostgreSQL, a JSON
// array read by json_each on SQLite), and stitches the rows by maps.
func handSide(x *sqlx.DB, d db.Dialect) eagerSide {
	in := "IN (SELECT value FROM json_each(?))"
	arg := func(ids []int64) any {
		buf := make([]byte, 0, len(ids)*5+2)
		buf = append(buf, '[')
		for i, id := range ids {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendInt(buf, id, 10)
		}
		return string(append(buf, ']'))
	}
	if d == db.Postgres {
		in = "= ANY($1)"
		arg = func(ids []int64) any { return ids }
	}
	usersSQL := "SELECT id, name, email FROM users ORDER BY id"
	postsSQL := "SELECT id, user_id, title FROM posts WHERE user_id " + in + " ORDER BY id"
	tagsSQL := "SELECT pt.post_id, t.id, t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id " + in + " ORDER BY t.id"
	load := func(ctx context.Context) ([]handUser, error) {
		var users []handUser
		if err := x.SelectContext(ctx, &users, usersSQL); err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		ids := make([]int64, len(users))
		userAt := make(map[int64]int, len(users))
		for i, u := range users {
			ids[i], userAt[u.ID] = u.ID, i
		}
		var posts []handPost
		if err := x.SelectContext(ctx, &posts, postsSQL, arg(ids)); err != nil {
			return nil, fmt.Errorf("posts: %w", err)
		}
		ids = make([]int64, len(posts))
		postAt := make(map[int64]int, len(posts))
		for i, p := range posts {
			ids[i], postAt[p.ID] = p.ID, i
		}
		var links []handPostTag
		if err := x.SelectContext(ctx, &links, tagsSQL, arg(ids)); err != nil {
			return nil, fmt.Errorf("tags: %w", err)
		}
		for _, l := range links {
			p := &posts[postAt[l.PostID]]
			p.Tags = append(p.Tags, l.handTag)
		}
		for _, p := range posts {
			u := &users[userAt[p.UserID]]
			u.Posts = append(u.Posts, p)
		}
		return users, nil
	}
	conv := func(rows []handUser) ([]eagerUser, error) {
		out := make([]eagerUser, len(rows))
		for i, u := range rows {
			out[i] = eagerUser{ID: u.ID, Name: u.Name, Email: u.Email}
			for _, p := range u.Posts {
				ep := eagerPost{ID: p.ID, UserID: p.UserID, Title: p.Title}
				for _, t := range p.Tags {
					ep.Tags = append(ep.Tags, eagerTag(t))
				}
				out[i].Posts = append(out[i].Posts, ep)
			}
		}
		return out, nil
	}
	count := func(rows []handUser) (int, error) {
		n := 0
		for _, u := range rows {
			n += len(u.Posts)
		}
		return n, nil
	}
	return newSide("handwritten", load, conv, count)
}

// gorm's models.
type (
	gormUser struct {
		ID    int64
		Name  string
		Email string
		Posts []gormPost `gorm:"foreignKey:UserID"`
	}
	gormPost struct {
		ID     int64
		UserID int64
		Title  string
		Tags   []gormTag `gorm:"many2many:post_tags;joinForeignKey:PostID;joinReferences:TagID"`
	}
	gormTag struct {
		ID   int64
		Name string
	}
)

func (gormUser) TableName() string { return "users" }
func (gormPost) TableName() string { return "posts" }
func (gormTag) TableName() string  { return "tags" }

// gormSide loads with gorm's Preload("Posts.Tags"), on the pool x (gorm's
// sqlite and postgres dialectors over an existing *sql.DB), without
// logging or default transactions.
func gormSide(b *testing.B, x *sqlx.DB, d db.Dialect) eagerSide {
	b.Helper()
	var dialector gorm.Dialector = sqlite.New(sqlite.Config{Conn: x.DB})
	if d == db.Postgres {
		dialector = postgres.New(postgres.Config{Conn: x.DB})
	}
	g, err := gorm.Open(dialector, &gorm.Config{SkipDefaultTransaction: true, Logger: logger.Discard})
	if err != nil {
		b.Fatal(err)
	}
	load := func(ctx context.Context) ([]gormUser, error) {
		var users []gormUser
		err := g.WithContext(ctx).Preload("Posts.Tags").Order("id").Find(&users).Error
		return users, err
	}
	conv := func(rows []gormUser) ([]eagerUser, error) {
		out := make([]eagerUser, len(rows))
		for i, u := range rows {
			out[i] = eagerUser{ID: u.ID, Name: u.Name, Email: u.Email}
			for _, p := range u.Posts {
				ep := eagerPost{ID: p.ID, UserID: p.UserID, Title: p.Title}
				for _, t := range p.Tags {
					ep.Tags = append(ep.Tags, eagerTag(t))
				}
				out[i].Posts = append(out[i].Posts, ep)
			}
		}
		return out, nil
	}
	count := func(rows []gormUser) (int, error) {
		n := 0
		for _, u := range rows {
			n += len(u.Posts)
		}
		return n, nil
	}
	return newSide("gorm", load, conv, count)
}

// bun's models, with the pivot model its m2m relation needs.
type (
	bunUser struct {
		bun.BaseModel `bun:"table:users,alias:u"`
		ID            int64 `bun:"id,pk"`
		Name          string
		Email         string
		Posts         []bunPost `bun:"rel:has-many,join:id=user_id"`
	}
	bunPost struct {
		bun.BaseModel `bun:"table:posts,alias:p"`
		ID            int64 `bun:"id,pk"`
		UserID        int64
		Title         string
		Tags          []bunTag `bun:"m2m:post_tags,join:Post=Tag"`
	}
	bunTag struct {
		bun.BaseModel `bun:"table:tags,alias:t"`
		ID            int64 `bun:"id,pk"`
		Name          string
	}
	bunPostTag struct {
		bun.BaseModel `bun:"table:post_tags,alias:pt"`
		PostID        int64    `bun:",pk"`
		Post          *bunPost `bun:"rel:belongs-to,join:post_id=id"`
		TagID         int64    `bun:",pk"`
		Tag           *bunTag  `bun:"rel:belongs-to,join:tag_id=id"`
	}
)

// bunSide loads with bun's Relation("Posts").Relation("Posts.Tags"), on
// the pool x.
func bunSide(x *sqlx.DB, d db.Dialect) eagerSide {
	var bd *bun.DB
	if d == db.Postgres {
		bd = bun.NewDB(x.DB, pgdialect.New())
	} else {
		bd = bun.NewDB(x.DB, sqlitedialect.New())
	}
	bd.RegisterModel((*bunPostTag)(nil))
	load := func(ctx context.Context) ([]bunUser, error) {
		var users []bunUser
		err := bd.NewSelect().Model(&users).Relation("Posts").Relation("Posts.Tags").Order("u.id").Scan(ctx)
		return users, err
	}
	conv := func(rows []bunUser) ([]eagerUser, error) {
		out := make([]eagerUser, len(rows))
		for i, u := range rows {
			out[i] = eagerUser{ID: u.ID, Name: u.Name, Email: u.Email}
			for _, p := range u.Posts {
				ep := eagerPost{ID: p.ID, UserID: p.UserID, Title: p.Title}
				for _, t := range p.Tags {
					ep.Tags = append(ep.Tags, eagerTag{ID: t.ID, Name: t.Name})
				}
				out[i].Posts = append(out[i].Posts, ep)
			}
		}
		return out, nil
	}
	count := func(rows []bunUser) (int, error) {
		n := 0
		for _, u := range rows {
			n += len(u.Posts)
		}
		return n, nil
	}
	return newSide("bun", load, conv, count)
}
