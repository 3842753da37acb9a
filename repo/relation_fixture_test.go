package repo_test

import (
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/sqlcount"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/jmoiron/sqlx"
)

// Author has every kind of relation: many articles, one profile, many teams
// through a pivot, and a count of articles.
type Author struct {
	ID       int64
	Name     string
	Articles repo.Many[Article]
	Profile  repo.One[Profile]
	Teams    repo.Many[Team]
	NArticle repo.Count
	repo.SoftDelete
}

func (Author) TableName() string { return "authors" }

// Article belongs to an Author (or to none) and has many Comments.
type Article struct {
	ID       int64
	AuthorID *int64
	Title    string
	Rank     int
	Author   repo.One[Author]
	Comments repo.Many[Comment]
	repo.SoftDelete
}

func (Article) TableName() string { return "articles" }

// Comment belongs to an Article.
type Comment struct {
	ID        int64
	ArticleID int64
	Body      string
	repo.SoftDelete
}

func (Comment) TableName() string { return "comments" }

// Profile belongs to an Author, who has one.
type Profile struct {
	ID       int64
	AuthorID int64
	Bio      string
	repo.SoftDelete
}

func (Profile) TableName() string { return "profiles" }

// Team is paired with Authors by team_members.
type Team struct {
	ID   int64
	Name string
	repo.SoftDelete
}

func (Team) TableName() string { return "teams" }

// rels holds the tables, columns and relations of the fixture.
type rels struct {
	x        *sqlx.DB
	n        *sqlcount.Counter
	d        db.Dialect
	authors  *repo.Table[Author]
	articles *repo.Table[Article]
	comments *repo.Table[Comment]
	profiles *repo.Table[Profile]
	teams    *repo.Table[Team]

	artRank    repo.Column[Article, int]
	artTitle   repo.Column[Article, string]
	comBody    repo.Column[Comment, string]
	teamName   repo.Column[Team, string]
	authorName repo.Column[Author, string]

	authorArticles repo.Relation[Author, Article]
	authorProfile  repo.Relation[Author, Profile]
	authorTeams    repo.Relation[Author, Team]
	articleAuthor  repo.Relation[Article, Author]
	articleComms   repo.Relation[Article, Comment]

	ids map[string]int64
}

// declare builds the tables and relations of the fixture for d.
func declare(t testing.TB, d db.Dialect) *rels {
	r := &rels{d: d, ids: map[string]int64{}}
	r.authors = mustTable[Author](t, d)
	r.articles = mustTable[Article](t, d)
	r.comments = mustTable[Comment](t, d)
	r.profiles = mustTable[Profile](t, d)
	r.teams = mustTable[Team](t, d)
	r.artRank = repo.MustCol(r.articles, func(a *Article) *int { return &a.Rank })
	r.artTitle = repo.MustCol(r.articles, func(a *Article) *string { return &a.Title })
	r.comBody = repo.MustCol(r.comments, func(c *Comment) *string { return &c.Body })
	r.teamName = repo.MustCol(r.teams, func(m *Team) *string { return &m.Name })
	r.authorName = repo.MustCol(r.authors, func(a *Author) *string { return &a.Name })
	artAuthor := repo.MustCol(r.articles, func(a *Article) **int64 { return &a.AuthorID })
	r.authorArticles = repo.HasMany(r.authors, r.articles, artAuthor, func(a *Author) *repo.Many[Article] { return &a.Articles }).
		CountInto(func(a *Author) *repo.Count { return &a.NArticle })
	r.authorProfile = repo.HasOne(r.authors, r.profiles, repo.MustCol(r.profiles, func(p *Profile) *int64 { return &p.AuthorID }),
		func(a *Author) *repo.One[Profile] { return &a.Profile })
	r.authorTeams = repo.ManyToMany(r.authors, r.teams, repo.Pivot{Table: "team_members", Key: "author_id", RelatedKey: "team_id", Columns: []string{"role"}},
		func(a *Author) *repo.Many[Team] { return &a.Teams })
	r.articleAuthor = repo.BelongsTo(r.articles, r.authors, artAuthor, func(a *Article) *repo.One[Author] { return &a.Author })
	r.articleComms = repo.HasMany(r.articles, r.comments, repo.MustCol(r.comments, func(c *Comment) *int64 { return &c.ArticleID }),
		func(a *Article) *repo.Many[Comment] { return &a.Comments })
	for _, err := range []error{r.authorArticles.Err(), r.authorProfile.Err(), r.authorTeams.Err(), r.articleAuthor.Err(), r.articleComms.Err()} {
		must(t, err)
	}
	return r
}

// openRels creates the fixture's tables on a fresh database of d, on a
// counting pool.
func openRels(t *testing.T, d db.Dialect, u string) *rels {
	t.Helper()
	r := declare(t, d)
	x, n, err := sqlcount.Open(u)
	must(t, err)
	t.Cleanup(func() { x.Close() })
	r.x, r.n = x, n
	createTable(t, x, d, "authors", "name VARCHAR(100) NOT NULL", "deleted_at {ts} NULL")
	createTable(t, x, d, "articles", "author_id BIGINT NULL", "title VARCHAR(100) NOT NULL", "rank INT NOT NULL", "deleted_at {ts} NULL")
	createTable(t, x, d, "comments", "article_id BIGINT NOT NULL", "body VARCHAR(100) NOT NULL", "deleted_at {ts} NULL")
	createTable(t, x, d, "profiles", "author_id BIGINT NOT NULL", "bio VARCHAR(100) NOT NULL", "deleted_at {ts} NULL")
	createTable(t, x, d, "teams", "name VARCHAR(100) NOT NULL", "deleted_at {ts} NULL")
	createTable(t, x, d, "team_members", "author_id BIGINT NOT NULL", "team_id BIGINT NOT NULL", "role VARCHAR(50) NULL")
	_, err = x.ExecContext(bg, "CREATE UNIQUE INDEX team_members_pair ON "+d.Quote("team_members")+" ("+d.Quote("author_id")+", "+d.Quote("team_id")+")")
	must(t, err)
	return r
}

// seedRels fills the fixture:
//
//	authors:  ada, bob, cyd (nothing), dan (only deleted things), eve (deleted)
//	articles: a1 (ada, rank 2), a2 (ada, rank 1), a3 (bob), a4 (dan, deleted), a5 (no author), a6 (eve)
//	comments: c1, c2 on a1, c3 on a3, c4 on a1 (deleted)
//	profiles: ada's; bob's (deleted)
//	teams:    red, blue, gone (deleted); ada in red (owner) and blue, bob in blue, dan in gone
func seedRels(t *testing.T, d db.Dialect, u string) *rels {
	t.Helper()
	r := openRels(t, d, u)
	for _, n := range []string{"ada", "bob", "cyd", "dan", "eve"} {
		a := &Author{Name: n}
		must(t, r.authors.On(r.x).Create(bg, a))
		r.ids[n] = a.ID
	}
	must(t, r.authors.On(r.x).Delete(bg, r.ids["eve"]))
	arts := []struct {
		name, author string
		rank         int
	}{{"a1", "ada", 2}, {"a2", "ada", 1}, {"a3", "bob", 1}, {"a4", "dan", 1}, {"a5", "", 1}, {"a6", "eve", 1}}
	for _, a := range arts {
		m := &Article{Title: a.name, Rank: a.rank}
		if a.author != "" {
			m.AuthorID = ptr(r.ids[a.author])
		}
		must(t, r.articles.On(r.x).Create(bg, m))
		r.ids[a.name] = m.ID
	}
	must(t, r.articles.On(r.x).Delete(bg, r.ids["a4"]))
	for _, c := range []struct{ name, art string }{{"c1", "a1"}, {"c2", "a1"}, {"c3", "a3"}, {"c4", "a1"}} {
		m := &Comment{ArticleID: r.ids[c.art], Body: c.name}
		must(t, r.comments.On(r.x).Create(bg, m))
		r.ids[c.name] = m.ID
	}
	must(t, r.comments.On(r.x).Delete(bg, r.ids["c4"]))
	for _, p := range []string{"ada", "bob"} {
		m := &Profile{AuthorID: r.ids[p], Bio: p + "'s bio"}
		must(t, r.profiles.On(r.x).Create(bg, m))
		r.ids["profile-"+p] = m.ID
	}
	must(t, r.profiles.On(r.x).Delete(bg, r.ids["profile-bob"]))
	for _, n := range []string{"red", "blue", "gone"} {
		m := &Team{Name: n}
		must(t, r.teams.On(r.x).Create(bg, m))
		r.ids[n] = m.ID
	}
	must(t, r.teams.On(r.x).Delete(bg, r.ids["gone"]))
	for _, m := range []struct{ author, team, role string }{{"ada", "red", "owner"}, {"ada", "blue", "member"}, {"bob", "blue", "member"}, {"dan", "gone", "member"}} {
		_, err := r.x.ExecContext(bg, r.x.Rebind("INSERT INTO team_members (author_id, team_id, role) VALUES (?, ?, ?)"), r.ids[m.author], r.ids[m.team], m.role)
		must(t, err)
	}
	return r
}

// eachRels runs fn on the seeded fixture of each dialect.
func eachRels(t *testing.T, fn func(t *testing.T, r *rels)) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) { fn(t, seedRels(t, d, u)) })
}
