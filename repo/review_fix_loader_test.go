package repo_test

import (
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

// TestRelationConstraintErrorsFailBeforeSending constrains relations with a
// zero Predicate or Ordering, at the first level and nested: the relation's
// Err reports it, and With, WithCount and LoadMissing fail before anything
// is sent.
func TestRelationConstraintErrorsFailBeforeSending(t *testing.T) {
	r := declare(t, db.SQLite)
	zeroWhere := r.authorArticles.Where(repo.Predicate[Article]{})
	zeroOrder := r.authorArticles.OrderBy(repo.Ordering[Article]{})
	nested := r.authorArticles.With(r.articleComms.Where(repo.Predicate[Comment]{}))
	rels := map[string]repo.Relation[Author, Article]{
		"zero predicate": zeroWhere, "zero ordering": zeroOrder, "nested": nested,
	}
	for name, rel := range rels {
		if rel.Err() == nil {
			t.Errorf("%s: Err is nil", name)
		}
		rec := &recorder{driver: "sqlite"}
		if _, err := r.authors.On(rec).Query().With(rel).All(bg); err == nil {
			t.Errorf("%s: With: no error", name)
		}
		if _, err := r.authors.On(rec).Query().WithCount(rel).All(bg); err == nil {
			t.Errorf("%s: WithCount: no error", name)
		}
		if err := repo.LoadMissing(bg, rec, []Author{{ID: 1}}, rel, rel.Counts()); err == nil {
			t.Errorf("%s: LoadMissing: no error", name)
		}
		if calls := rec.Calls(); len(calls) != 0 {
			t.Errorf("%s: sent %q", name, calls)
		}
	}
	nestedCount := r.articleAuthor.WithCount(r.authorArticles.Where(repo.Predicate[Article]{}))
	if nestedCount.Err() == nil {
		t.Error("nested count: Err is nil")
	}
	rec := &recorder{driver: "sqlite"}
	if _, err := r.articles.On(rec).Query().With(nestedCount).All(bg); err == nil {
		t.Error("nested count: With: no error")
	}
	if calls := rec.Calls(); len(calls) != 0 {
		t.Errorf("nested count: sent %q", calls)
	}
	if err := r.authorArticles.Where(r.artRank.Eq(1)).OrderBy(r.artRank.Desc()).Err(); err != nil {
		t.Errorf("a well constrained relation: %v", err)
	}
}

// TestCountIntoChecksTheAccessor declares counts whose accessor does not
// return a field of its argument, or panics: the relation carries the
// error, and WithCount fails before sending.
func TestCountIntoChecksTheAccessor(t *testing.T) {
	r := declare(t, db.SQLite)
	outside := new(repo.Count)
	cases := map[string]func(*Author) *repo.Count{
		"not a field": func(*Author) *repo.Count { return outside },
		"panics":      func(*Author) *repo.Count { panic("boom") },
	}
	for name, field := range cases {
		rel := r.authorArticles.CountInto(field)
		if rel.Err() == nil {
			t.Errorf("%s: Err is nil", name)
		}
		rec := &recorder{driver: "sqlite"}
		if _, err := r.authors.On(rec).Query().WithCount(rel).All(bg); err == nil {
			t.Errorf("%s: WithCount: no error", name)
		}
		if calls := rec.Calls(); len(calls) != 0 {
			t.Errorf("%s: sent %q", name, calls)
		}
	}
	if err := r.authorTeams.CountInto(func(a *Author) *repo.Count { return &a.NArticle }).Err(); err != nil {
		t.Errorf("a Count field: %v", err)
	}
}
