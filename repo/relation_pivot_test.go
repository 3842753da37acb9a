package repo_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
)

// pairs returns the pivot rows of author, as "team:role" in team id order.
func (r *rels) pairs(t *testing.T, author string) string {
	t.Helper()
	var rows []struct {
		Team int64          `db:"team_id"`
		Role sql.NullString `db:"role"`
	}
	must(t, r.x.SelectContext(bg, &rows, r.x.Rebind("SELECT team_id, role FROM team_members WHERE author_id = ? ORDER BY team_id"), r.ids[author]))
	names := map[int64]string{}
	for _, n := range []string{"red", "blue", "gone"} {
		names[r.ids[n]] = n
	}
	var out []string
	for _, p := range rows {
		out = append(out, names[p.Team]+":"+p.Role.String)
	}
	return strings.Join(out, ",")
}

func TestAttachDetachSync(t *testing.T) {
	eachRels(t, func(t *testing.T, r *rels) {
		cyd, red, blue, gone := r.ids["cyd"], r.ids["red"], r.ids["blue"], r.ids["gone"]
		must(t, inTx(bg, r.x, func(tx *db.Tx) error {
			return r.authorTeams.Attach(bg, tx, cyd, red, blue, red)
		}))
		if got := r.pairs(t, "cyd"); got != "red:,blue:" {
			t.Fatalf("after Attach: %s", got)
		}
		// Attaching again is a no-op, and keeps the pivot columns.
		must(t, r.authorTeams.AttachWith(bg, r.x, cyd, repo.PivotValues{"role": "owner"}, red))
		must(t, r.authorTeams.Attach(bg, r.x, cyd, red, blue))
		if got := r.pairs(t, "cyd"); got != "red:owner,blue:" {
			t.Fatalf("after AttachWith and Attach again: %s", got)
		}
		n, err := r.authorTeams.Detach(bg, r.x, cyd, blue, gone)
		must(t, err)
		if got := r.pairs(t, "cyd"); n != 1 || got != "red:owner" {
			t.Fatalf("after Detach: %d removed, %s", n, got)
		}
		must(t, r.authorTeams.Sync(bg, r.x, cyd, blue, red))
		if got := r.pairs(t, "cyd"); got != "red:owner,blue:" {
			t.Fatalf("after Sync: %s", got)
		}
		must(t, r.authorTeams.SyncWith(bg, r.x, cyd, map[int64]repo.PivotValues{gone: {"role": "x"}, blue: {"role": "lead"}}))
		if got := r.pairs(t, "cyd"); got != "blue:lead,gone:x" {
			t.Fatalf("after SyncWith: %s", got)
		}
		must(t, r.authorTeams.Sync(bg, r.x, cyd))
		if got := r.pairs(t, "cyd"); got != "" {
			t.Fatalf("after Sync of none: %s", got)
		}
		if got := r.pairs(t, "ada"); got != "red:owner,blue:member" {
			t.Fatalf("another author's pairs changed: %s", got)
		}
		// Errors: an undeclared pivot column, a relation that is not many-to-many.
		if err := r.authorTeams.AttachWith(bg, r.x, cyd, repo.PivotValues{"evil": 1}, red); err == nil {
			t.Error("AttachWith of an undeclared column: no error")
		}
		if err := r.authorArticles.Attach(bg, r.x, cyd, 1); err == nil {
			t.Error("Attach on a has-many relation: no error")
		}
		if got := r.pairs(t, "cyd"); got != "" {
			t.Fatalf("after errors: %s", got)
		}
	})
}

// TestAttachConcurrent attaches the same pair in two transactions at once:
// the second insert waits for the first transaction's row, which exists
// once it commits; the result is one row and no error.
func TestAttachConcurrent(t *testing.T) {
	for _, d := range []db.Dialect{db.Postgres, db.MySQL} {
		t.Run(d.Name(), func(t *testing.T) {
			r := seedRels(t, d, testdb.New(t, d))
			cyd, red := r.ids["cyd"], r.ids["red"]
			tx1, err := r.x.BeginTxx(bg, nil)
			must(t, err)
			defer tx1.Rollback()
			must(t, r.authorTeams.Attach(bg, tx1, cyd, red))
			tx2, err := r.x.BeginTxx(bg, nil)
			must(t, err)
			defer tx2.Rollback()
			done := make(chan error, 1)
			go func() {
				done <- r.authorTeams.AttachWith(context.Background(), tx2, cyd, repo.PivotValues{"role": "b"}, red)
			}()
			must(t, tx1.Commit())
			if err := <-done; err != nil {
				t.Fatalf("second transaction's Attach: %v", err)
			}
			must(t, tx2.Commit())
			if got := r.pairs(t, "cyd"); got != "red:b" {
				t.Errorf("pairs = %s, want one row, red:b", got)
			}
		})
	}
}

// TestWithManyParents loads a relation of 100,000 rows on every dialect,
// in one statement whose keys are one parameter.
func TestWithManyParents(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const n = 100_000
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		r := openRels(t, d, u)
		authors := make([]*Author, n)
		for i := range authors {
			authors[i] = &Author{Name: "a"}
		}
		must(t, r.authors.On(r.x).CreateMany(bg, authors))
		var arts []*Article
		for i := 0; i < n; i += 1000 {
			arts = append(arts, &Article{AuthorID: ptr(authors[i].ID), Title: "t"})
		}
		must(t, r.articles.On(r.x).CreateMany(bg, arts))
		var list []Author
		stmts := r.statements(t, func() {
			var err error
			list, err = r.authors.On(r.x).Query().With(r.authorArticles).WithCount(r.authorArticles).All(bg)
			must(t, err)
		})
		if stmts != 3 || len(list) != n {
			t.Fatalf("%d statements, %d authors; want 3, %d", stmts, len(list), n)
		}
		total := 0
		for _, a := range list {
			as, err := a.Articles.Get()
			must(t, err)
			c, err := a.NArticle.Get()
			must(t, err)
			if int64(len(as)) != c {
				t.Fatalf("author %d: %d articles, count %d", a.ID, len(as), c)
			}
			total += len(as)
		}
		if total != len(arts) {
			t.Errorf("%d articles loaded, want %d", total, len(arts))
		}
		al, err := r.articles.On(r.x).Query().With(r.articleAuthor).All(bg)
		must(t, err)
		for _, a := range al {
			if au, err := a.Author.Get(); err != nil || au == nil || au.ID != *a.AuthorID {
				t.Fatalf("article %d: author %v, %v", a.ID, au, err)
			}
		}

		must(t, err)
		with, err := r.authors.On(r.x).Query().Where(repo.Has(r.authorArticles)).Count(bg)
		must(t, err)
		if with != int64(len(arts)) {
			t.Errorf("Has: %d, want %d", with, len(arts))
		}
	})
}
