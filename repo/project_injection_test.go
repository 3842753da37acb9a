package repo_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
)

// hostile are strings that break a query that writes values into its text.
var hostile = []string{
	`'; DROP TABLE gadgets; --`,
	`Robert'); DROP TABLE reviews;--`,
	`" OR "1"="1`,
	"` OR 1=1 -- ",
	`\'; DELETE FROM gadgets; --`,
	`\`, `\\`, `\%`, `'`, `''`, `%`, `_`,
	`/* comment */ 1`, `-- comment`, `# comment`,
	`$1 ? :name @p1 %s ?? $$`,
	`) OR 1=1 --`, `')) OR EXISTS (SELECT 1) --`,
	`', '$[*]' COLUMNS (v INT PATH '$')) AS j) OR 1=1 --`,
	"x' OR 'x'='x",
	"ʼ OR ʼ1ʼ=ʼ1", // U+02BC, a confusable apostrophe
	"＇ OR ＇1＇=＇1", // fullwidth apostrophes
	"a\u00a0b\u200bc", "emoji 🦫",
	"nul\x00byte",
}

// TestInjectionNewPaths stores hostile strings in gadgets and reviews and
// finds each one, literally, through ILike, subqueries, Having, joins,
// projections, Pluck and aggregates.
func TestInjectionNewPaths(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x := openDB(t, u)
		createTable(t, x, d, "gadgets", gadgetCols...)
		createTable(t, x, d, "reviews", "gadget_id BIGINT NOT NULL", "stars INT NOT NULL", "body VARCHAR(255) NULL", "deleted_at {ts} NULL")
		g, rt := mustTable[Gadget](t, d), mustTable[Review](t, d)
		c, rc := gadgetColumns(g), reviewColumns(rt)
		q, reviews := g.On(x).Query(), rt.Query()
		stored := map[string]int64{}
		for i, s := range hostile {
			if d == db.Postgres && strings.ContainsRune(s, 0) {
				continue // PostgreSQL's text cannot hold NUL
			}
			m := &Gadget{Name: s, Note: ptr(s), Kind: GadgetKind(s), Qty: i}
			must(t, g.On(x).Create(bg, m))
			must(t, rt.On(x).Create(bg, &Review{GadgetID: m.ID, Stars: i, Body: ptr(s)}))
			stored[s] = m.ID
		}
		name := repo.To(func(r *gadgetReview) *string { return &r.Gadget }, c.name)
		body := repo.To(func(r *gadgetReview) **string { return &r.Body }, rc.body)
		top := repo.To(func(r *gadgetReview) **string { return &r.Body }, repo.MaxOf(c.note))
		for s, id := range stored {
			// Collations may equate look-alikes (MySQL's general_ci): the
			// stored row must be among the results, with its value intact.
			paths := map[string]func(context.Context) ([]Gadget, error){
				"ILike":        q.Where(c.name.ILike(s)).All,
				"ILikePattern": q.Where(c.kind.ILikePattern("%" + repo.EscapeLike(s) + "%")).All,
				"InQuery":      q.Where(repo.InQuery(c.id, reviews.Where(rc.body.Eq(&s)), rc.gadget)).All,
				"NotInQuery":   q.Where(repo.Not(repo.NotInQuery(c.note, reviews.Where(rc.body.In(&s)), rc.body))).All,
				"Exists":       q.Where(c.name.Eq(s), repo.Exists[Gadget](reviews.Where(rc.body.Like(s)))).All,
				"Join.All":     repo.Join(q, reviews.Where(rc.body.Eq(&s)), repo.On(c.id, rc.gadget)).All,
			}
			for path, run := range paths {
				got, err := run(bg)
				if err != nil || !slices.ContainsFunc(got, func(g Gadget) bool { return g.ID == id && g.Name == s }) {
					t.Errorf("%s %q: got [%q], %v", path, s, names(got), err)
				} else if d != db.MySQL && path != "ILikePattern" && len(got) != 1 {
					t.Errorf("%s %q: %d rows: %q", path, s, len(got), names(got))
				}
			}
			pj, err := repo.SelectJoin(repo.Join(q.Where(c.name.Eq(s)), reviews.Where(rc.body.Eq(&s)), repo.On(c.id, rc.gadget)),
				[]repo.Field[gadgetReview, Gadget]{name}, []repo.Field[gadgetReview, Review]{body}).All(bg)
			if err != nil || !slices.ContainsFunc(pj, func(r gadgetReview) bool { return r.Gadget == s && r.Body != nil && *r.Body == s }) {
				t.Errorf("SelectJoin %q: %+v, %v", s, pj, err)
			}
			grp, err := repo.SelectGroups(repo.GroupBy(q, c.name).Having(repo.MaxOf(c.note).Eq(&s)), name, top).All(bg)
			if err != nil || !slices.ContainsFunc(grp, func(r gadgetReview) bool { return r.Gadget == s && r.Body != nil && *r.Body == s }) {
				t.Errorf("Having %q: %+v, %v", s, grp, err)
			}
			pl, err := repo.Pluck(bg, q.Where(c.kind.Eq(GadgetKind(s))), c.note)
			if err != nil || !slices.ContainsFunc(pl, func(n *string) bool { return n != nil && *n == s }) {
				t.Errorf("Pluck %q: %v, %v", s, pl, err)
			}
			mx, err := repo.Max(bg, q.Where(c.id.Eq(id)), c.name)
			if err != nil || !mx.Valid || mx.V != s {
				t.Errorf("Max %q: %+v, %v", s, mx, err)
			}
		}
		if n := countRows(t, x, d, "gadgets"); n != len(stored) {
			t.Fatalf("%d gadgets, want %d", n, len(stored))
		}
		if n := countRows(t, x, d, "reviews"); n != len(stored) {
			t.Fatalf("%d reviews, want %d", n, len(stored))
		}
	})
}
