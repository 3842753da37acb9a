package repo_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

func titles(as []Article) string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Title
	}
	return strings.Join(out, ",")
}

func authorNames(as []Author) string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Name
	}
	return strings.Join(out, ",")
}

// byName indexes authors by name.
func byName(as []Author) map[string]*Author {
	m := map[string]*Author{}
	for i := range as {
		m[as[i].Name] = &as[i]
	}
	return m
}

// statements returns how many statements fn sent on r's pool.
func (r *rels) statements(t *testing.T, fn func()) int64 {
	t.Helper()
	before := r.n.Statements.Load()
	fn()
	return r.n.Statements.Load() - before
}

func TestRelationHoldersAreNotColumns(t *testing.T) {
	authors := mustTable[Author](t, db.SQLite)
	if got := strings.Join(authors.Columns(), ","); got != "id,name,deleted_at" {
		t.Fatalf("columns = %s, want id,name,deleted_at", got)
	}
	articles := mustTable[Article](t, db.SQLite)
	if got := strings.Join(articles.Columns(), ","); got != "id,author_id,title,rank,deleted_at" {
		t.Fatalf("columns = %s", got)
	}
	var a Author
	if _, err := a.Articles.Get(); !errors.Is(err, repo.ErrNotLoaded) {
		t.Errorf("Many.Get of an unloaded relation: %v, want ErrNotLoaded", err)
	}
	if _, err := a.Profile.Get(); !errors.Is(err, repo.ErrNotLoaded) {
		t.Errorf("One.Get of an unloaded relation: %v, want ErrNotLoaded", err)
	}
	if _, err := a.NArticle.Get(); !errors.Is(err, repo.ErrNotLoaded) {
		t.Errorf("Count.Get of an unloaded count: %v, want ErrNotLoaded", err)
	}
	b, err := json.Marshal(a)
	must(t, err)
	if !strings.Contains(string(b), `"Articles":null`) || !strings.Contains(string(b), `"NArticle":null`) {
		t.Errorf("unloaded holders in JSON: %s", b)
	}
	a.Articles.Set(nil)
	a.NArticle.Set(0)
	got, err := a.Articles.Get()
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("Many loaded empty: %v, %v; want an empty non-nil slice", got, err)
	}
	b, err = json.Marshal(a)
	must(t, err)
	if !strings.Contains(string(b), `"Articles":[]`) || !strings.Contains(string(b), `"NArticle":0`) {
		t.Errorf("loaded holders in JSON: %s", b)
	}
}

func TestRelationDeclarationErrors(t *testing.T) {
	r := declare(t, db.SQLite)
	fk := repo.Col(r.articles, func(a *Article) **int64 { return &a.AuthorID })
	outside := &repo.Many[Article]{}
	pgAuthors := mustTable[Author](t, db.Postgres)
	cases := map[string]error{
		"nil field":   repo.HasMany(r.authors, r.articles, fk, nil).Err(),
		"not a field": repo.HasMany(r.authors, r.articles, fk, func(*Author) *repo.Many[Article] { return outside }).Err(),
		"bad column": repo.HasMany(r.authors, r.articles, repo.Column[Article, *int64]{},
			func(a *Author) *repo.Many[Article] { return &a.Articles }).Err(),
		"non-integer key": repo.HasMany(r.authors, r.articles, r.artTitle, func(a *Author) *repo.Many[Article] { return &a.Articles }).Err(),
		"two dialects":    repo.HasMany(pgAuthors, r.articles, fk, func(a *Author) *repo.Many[Article] { return &a.Articles }).Err(),
		"pivot without keys": repo.ManyToMany(r.authors, r.teams, repo.Pivot{Table: "team_members"},
			func(a *Author) *repo.Many[Team] { return &a.Teams }).Err(),
		"limit 0":   r.authorArticles.Limit(0).Err(),
		"zero":      repo.Relation[Author, Article]{}.Err(),
		"no counts": repo.LoadMissing(bg, &recorder{driver: "sqlite"}, []Author{{}}, r.authorProfile.Counts()),
	}
	for name, err := range cases {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	rec := &recorder{driver: "sqlite"}
	bad := repo.HasMany(r.authors, r.articles, fk, nil)
	if _, err := r.authors.On(rec).Query().With(bad).All(bg); err == nil {
		t.Error("With of a bad relation: no error")
	}
	if _, err := r.authors.On(rec).Query().WithCount(r.authorProfile).All(bg); err == nil {
		t.Error("WithCount of a relation without a Count field: no error")
	}
	if calls := rec.Calls(); len(calls) != 0 {
		t.Errorf("sent %q", calls)
	}
}

func TestWithEachKind(t *testing.T) {
	eachRels(t, func(t *testing.T, r *rels) {
		var list []Author
		n := r.statements(t, func() {
			var err error
			list, err = r.authors.On(r.x).Query().With(r.authorArticles, r.authorProfile, r.authorTeams).All(bg)
			must(t, err)
		})
		if n != 4 {
			t.Errorf("%d statements, want 4 (authors, then one per relation)", n)
		}
		if got := authorNames(list); got != "ada,bob,cyd,dan" {
			t.Fatalf("authors = %s", got)
		}
		wantArts := map[string]string{"ada": "a1,a2", "bob": "a3", "cyd": "", "dan": ""}
		wantTeams := map[string]string{"ada": "red,blue", "bob": "blue", "cyd": "", "dan": ""}
		wantBio := map[string]string{"ada": "ada's bio"}
		for _, a := range list {
			arts, err := a.Articles.Get()
			must(t, err)
			if arts == nil || titles(arts) != wantArts[a.Name] {
				t.Errorf("%s's articles = %q (nil %v), want %q", a.Name, titles(arts), arts == nil, wantArts[a.Name])
			}
			teams, err := a.Teams.Get()
			must(t, err)
			var tn []string
			for _, m := range teams {
				tn = append(tn, m.Name)
			}
			if strings.Join(tn, ",") != wantTeams[a.Name] {
				t.Errorf("%s's teams = %v, want %s", a.Name, tn, wantTeams[a.Name])
			}
			p, err := a.Profile.Get()
			must(t, err)
			if (p == nil) != (wantBio[a.Name] == "") || (p != nil && p.Bio != wantBio[a.Name]) {
				t.Errorf("%s's profile = %+v, want %q", a.Name, p, wantBio[a.Name])
			}
			if _, err := a.NArticle.Get(); !errors.Is(err, repo.ErrNotLoaded) {
				t.Errorf("%s's count was not asked for: %v", a.Name, err)
			}
		}

		arts, err := r.articles.On(r.x).Query().With(r.articleAuthor).All(bg)
		must(t, err)
		want := map[string]string{"a1": "ada", "a2": "ada", "a3": "bob", "a5": "", "a6": ""}
		if titles(arts) != "a1,a2,a3,a5,a6" {
			t.Fatalf("articles = %s", titles(arts))
		}
		for _, a := range arts {
			au, err := a.Author.Get()
			must(t, err)
			if (au == nil) != (want[a.Title] == "") || (au != nil && au.Name != want[a.Title]) {
				t.Errorf("%s's author = %+v, want %q", a.Title, au, want[a.Title])
			}
			if _, err := a.Comments.Get(); !errors.Is(err, repo.ErrNotLoaded) {
				t.Errorf("%s's comments were not asked for: %v", a.Title, err)
			}
		}
	})
}

func TestWithLiftsScopes(t *testing.T) {
	eachRels(t, func(t *testing.T, r *rels) {
		list, err := r.authors.On(r.x).Query().
			With(r.authorArticles.WithTrashed(), r.authorProfile.WithTrashed(), r.authorTeams.WithTrashed()).All(bg)
		must(t, err)
		m := byName(list)
		if arts, _ := m["dan"].Articles.Get(); titles(arts) != "a4" {
			t.Errorf("dan's articles with trashed = %s, want a4", titles(arts))
		}
		if p, _ := m["bob"].Profile.Get(); p == nil {
			t.Error("bob's trashed profile is not loaded")
		}
		if teams, _ := m["dan"].Teams.Get(); len(teams) != 1 || teams[0].Name != "gone" {
			t.Errorf("dan's teams with trashed = %+v", teams)
		}
		arts, err := r.articles.On(r.x).Query().Where(r.artTitle.Eq("a6")).With(r.articleAuthor.WithTrashed()).All(bg)
		must(t, err)
		if au, _ := arts[0].Author.Get(); au == nil || au.Name != "eve" {
			t.Errorf("a6's trashed author = %+v, want eve", au)
		}
	})
}

func TestWithNested(t *testing.T) {
	eachRels(t, func(t *testing.T, r *rels) {
		var list []Author
		n := r.statements(t, func() {
			var err error
			list, err = r.authors.On(r.x).Query().With(r.authorArticles.With(r.articleComms)).All(bg)
			must(t, err)
		})
		if n != 3 {
			t.Errorf("%d statements, want 3 (one per level)", n)
		}
		want := map[string]string{"a1": "c1,c2", "a2": "", "a3": "c3"}
		for _, a := range list {
			arts, err := a.Articles.Get()
			must(t, err)
			for _, art := range arts {
				cs, err := art.Comments.Get()
				must(t, err)
				var bodies []string
				for _, c := range cs {
					bodies = append(bodies, c.Body)
				}
				if strings.Join(bodies, ",") != want[art.Title] {
					t.Errorf("%s's comments = %v, want %s", art.Title, bodies, want[art.Title])
				}
			}
		}
		arts, err := r.articles.On(r.x).Query().Where(r.artTitle.Eq("a1")).
			With(r.articleAuthor.With(r.authorTeams).WithCount(r.authorArticles)).All(bg)
		must(t, err)
		au, err := arts[0].Author.Get()
		must(t, err)
		teams, err := au.Teams.Get()
		must(t, err)
		cnt, err := au.NArticle.Get()
		must(t, err)
		if len(teams) != 2 || cnt != 2 {
			t.Errorf("a1's author: %d teams, %d articles; want 2, 2", len(teams), cnt)
		}
	})
}

func TestWithConstraints(t *testing.T) {
	eachRels(t, func(t *testing.T, r *rels) {
		for _, tc := range []struct {
			name string
			rel  repo.Relation[Author, Article]
			ada  string
			bob  string
		}{
			{"OrderBy", r.authorArticles.OrderBy(r.artRank.Asc()), "a2,a1", "a3"},
			{"Where", r.authorArticles.Where(r.artTitle.Ne("a1")), "a2", "a3"},
			{"Limit per author", r.authorArticles.OrderBy(r.artRank.Asc()).Limit(1), "a2", "a3"},
			{"Limit desc", r.authorArticles.OrderBy(r.artRank.Desc()).Limit(1), "a1", "a3"},
			{"Limit 2", r.authorArticles.Limit(2), "a1,a2", "a3"},
			{"Limit with trashed", r.authorArticles.WithTrashed().Where(r.artRank.Eq(1)).Limit(5), "a2", "a3"},
		} {
			list, err := r.authors.On(r.x).Query().With(tc.rel).All(bg)
			must(t, err)
			m := byName(list)
			ada, _ := m["ada"].Articles.Get()
			bob, _ := m["bob"].Articles.Get()
			cyd, err := m["cyd"].Articles.Get()
			if titles(ada) != tc.ada || titles(bob) != tc.bob || err != nil || cyd == nil {
				t.Errorf("%s: ada %q, bob %q, cyd %v %v; want %q, %q", tc.name, titles(ada), titles(bob), cyd, err, tc.ada, tc.bob)
			}
		}
		list, err := r.authors.On(r.x).Query().With(r.authorTeams.OrderBy(r.teamName.Desc()).Limit(1)).All(bg)
		must(t, err)
		if teams, _ := byName(list)["ada"].Teams.Get(); len(teams) != 1 || teams[0].Name != "red" {
			t.Errorf("ada's first team by name desc = %+v, want red", teams)
		}
	})
}

func TestWithCount(t *testing.T) {
	eachRels(t, func(t *testing.T, r *rels) {
		var list []Author
		n := r.statements(t, func() {
			var err error
			list, err = r.authors.On(r.x).Query().WithCount(r.authorArticles, r.authorArticles.Where(r.artRank.Eq(2)).CountInto(
				func(a *Author) *repo.Count { return &a.NArticle })).All(bg)
			must(t, err)
		})
		if n != 3 {
			t.Errorf("%d statements, want 3", n)
		}
		// The second count (rank 2) overwrites the first.
		want := map[string]int64{"ada": 1, "bob": 0, "cyd": 0, "dan": 0}
		for _, a := range list {
			if got, err := a.NArticle.Get(); err != nil || got != want[a.Name] {
				t.Errorf("%s: count %d, %v; want %d", a.Name, got, err, want[a.Name])
			}
		}
		list, err := r.authors.On(r.x).Query().WithCount(r.authorArticles).All(bg)
		must(t, err)
		want = map[string]int64{"ada": 2, "bob": 1, "cyd": 0, "dan": 0}
		for _, a := range list {
			if got, err := a.NArticle.Get(); err != nil || got != want[a.Name] {
				t.Errorf("%s: count %d, %v; want %d (soft-deleted articles left out)", a.Name, got, err, want[a.Name])
			}
		}
		teamCount := r.authorTeams.CountInto(func(a *Author) *repo.Count { return &a.NArticle })
		list, err = r.authors.On(r.x).Query().WithCount(teamCount).All(bg)
		must(t, err)
		want = map[string]int64{"ada": 2, "bob": 1, "cyd": 0, "dan": 0}
		for _, a := range list {
			if got, _ := a.NArticle.Get(); got != want[a.Name] {
				t.Errorf("%s: %d teams; want %d (soft-deleted team left out)", a.Name, got, want[a.Name])
			}
		}
		list, err = r.authors.On(r.x).Query().WithCount(teamCount.WithTrashed()).All(bg)
		must(t, err)
		if got, _ := byName(list)["dan"].NArticle.Get(); got != 1 {
			t.Errorf("dan's teams with trashed: %d, want 1", got)
		}
	})
}

func TestHasPredicates(t *testing.T) {
	eachRels(t, func(t *testing.T, r *rels) {
		for _, tc := range []struct {
			name string
			p    repo.Predicate[Author]
			want string
		}{
			{"Has has-many", repo.Has(r.authorArticles), "ada,bob"},
			{"Has has-many with trashed", repo.Has(r.authorArticles.WithTrashed()), "ada,bob,dan"},
			{"DoesntHave has-many", repo.DoesntHave(r.authorArticles), "cyd,dan"},
			{"WhereHas has-many", repo.WhereHas(r.authorArticles, r.artTitle.Eq("a2")), "ada"},
			{"WhereHas relation's condition", repo.Has(r.authorArticles.Where(r.artRank.Eq(2))), "ada"},
			{"DoesntHave with condition", repo.DoesntHave(r.authorArticles, r.artRank.Eq(2)), "bob,cyd,dan"},
			{"Has has-one", repo.Has(r.authorProfile), "ada"},
			{"DoesntHave has-one", repo.DoesntHave(r.authorProfile), "bob,cyd,dan"},
			{"Has many-to-many", repo.Has(r.authorTeams), "ada,bob"},
			{"WhereHas many-to-many", repo.WhereHas(r.authorTeams, r.teamName.Eq("red")), "ada"},
			{"DoesntHave many-to-many", repo.DoesntHave(r.authorTeams), "cyd,dan"},
			{"Has many-to-many with trashed", repo.Has(r.authorTeams.WithTrashed()), "ada,bob,dan"},
		} {
			list, err := r.authors.On(r.x).Query().Where(tc.p).All(bg)
			must(t, err)
			if got := authorNames(list); got != tc.want {
				t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
			}
			if n, err := r.authors.On(r.x).Query().Where(tc.p).Count(bg); err != nil || n != int64(strings.Count(tc.want, ",")+1) {
				t.Errorf("%s: Count %d, %v", tc.name, n, err)
			}
		}
		for _, tc := range []struct {
			name string
			p    repo.Predicate[Article]
			want string
		}{
			{"Has belongs-to", repo.Has(r.articleAuthor), "a1,a2,a3"},
			{"DoesntHave belongs-to", repo.DoesntHave(r.articleAuthor), "a5,a6"},
			{"WhereHas belongs-to", repo.WhereHas(r.articleAuthor, r.authorName.Eq("bob")), "a3"},
			{"Has belongs-to with trashed", repo.Has(r.articleAuthor.WithTrashed()), "a1,a2,a3,a6"},
		} {
			list, err := r.articles.On(r.x).Query().Where(tc.p).All(bg)
			must(t, err)
			if got := titles(list); got != tc.want {
				t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
			}
		}
	})
}

func TestLoadMissing(t *testing.T) {
	eachRels(t, func(t *testing.T, r *rels) {
		list, err := r.authors.On(r.x).Query().All(bg)
		must(t, err)
		m := byName(list)
		m["ada"].Articles.Set([]Article{{Title: "kept"}})
		m["bob"].NArticle.Set(42)
		n := r.statements(t, func() {
			must(t, repo.LoadMissing(bg, r.x, list, r.authorArticles, r.authorArticles.Counts()))
		})
		if n != 2 {
			t.Errorf("%d statements, want 2", n)
		}
		wantArts := map[string]string{"ada": "kept", "bob": "a3", "cyd": "", "dan": ""}
		wantCount := map[string]int64{"ada": 2, "bob": 42, "cyd": 0, "dan": 0}
		for _, a := range list {
			arts, err := a.Articles.Get()
			must(t, err)
			if titles(arts) != wantArts[a.Name] {
				t.Errorf("%s's articles = %s, want %s", a.Name, titles(arts), wantArts[a.Name])
			}
			if c, _ := a.NArticle.Get(); c != wantCount[a.Name] {
				t.Errorf("%s's count = %d, want %d", a.Name, c, wantCount[a.Name])
			}
		}
		n = r.statements(t, func() {
			must(t, repo.LoadMissing(bg, r.x, list, r.authorArticles, r.authorArticles.Counts()))
		})
		if n != 0 {
			t.Errorf("LoadMissing of loaded relations sent %d statements", n)
		}
		// Rows made in memory: a belongs-to with a null key loads as none, without a statement.
		arts := []Article{{Title: "new"}}
		n = r.statements(t, func() { must(t, repo.LoadMissing(bg, r.x, arts, r.articleAuthor)) })
		if au, err := arts[0].Author.Get(); n != 0 || au != nil || err != nil {
			t.Errorf("null key: %d statements, %v, %v", n, au, err)
		}
		arts = []Article{{Title: "new", AuthorID: ptr(r.ids["bob"])}}
		must(t, repo.LoadMissing(bg, r.x, arts, r.articleAuthor))
		if au, err := arts[0].Author.Get(); err != nil || au == nil || au.Name != "bob" {
			t.Errorf("in-memory article's author = %v, %v", au, err)
		}
	})
}

func TestWithFirstOneChunksPage(t *testing.T) {
	eachRels(t, func(t *testing.T, r *rels) {
		q := r.authors.On(r.x).Query().With(r.authorArticles)
		a, err := q.Where(r.authorName.Eq("ada")).First(bg)
		must(t, err)
		if arts, err := a.Articles.Get(); err != nil || titles(arts) != "a1,a2" {
			t.Errorf("First: %s, %v", titles(arts), err)
		}
		a, err = q.Where(r.authorName.Eq("bob")).One(bg)
		must(t, err)
		if arts, err := a.Articles.Get(); err != nil || titles(arts) != "a3" {
			t.Errorf("One: %s, %v", titles(arts), err)
		}
		var seen []string
		for chunk, err := range q.Chunks(bg, 3) {
			must(t, err)
			for _, a := range chunk {
				arts, err := a.Articles.Get()
				must(t, err)
				seen = append(seen, a.Name+":"+titles(arts))
			}
		}
		if got := strings.Join(seen, " "); got != "ada:a1,a2 bob:a3 cyd: dan:" {
			t.Errorf("Chunks: %s", got)
		}
		page, err := q.Page(bg, repo.Page{Limit: 1, Offset: 1})
		must(t, err)
		if arts, err := page[0].Articles.Get(); err != nil || titles(arts) != "a3" {
			t.Errorf("Page: %s, %v", titles(arts), err)
		}
		// Without With, nothing is loaded and nothing is queried.
		plain, err := r.authors.On(r.x).Query().All(bg)
		must(t, err)
		if _, err := plain[0].Articles.Get(); !errors.Is(err, repo.ErrNotLoaded) {
			t.Errorf("plain query: %v, want ErrNotLoaded", err)
		}
	})
}
