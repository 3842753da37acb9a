package repo_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/jmoiron/sqlx"
)

// Review is a second soft-deleting table, for subqueries and joins: each
// review belongs to a gadget.
type Review struct {
	ID       int64 `db:"id"`
	GadgetID int64 `db:"gadget_id"`
	Stars    int
	Body     *string
	repo.SoftDelete
}

func (Review) TableName() string { return "reviews" }

// rcols are Review's typed columns.
type rcols struct {
	id     repo.Column[Review, int64]
	gadget repo.Column[Review, int64]
	stars  repo.Column[Review, int]
	body   repo.Column[Review, *string]
}

func reviewColumns(t *repo.Table[Review]) rcols {
	return rcols{
		id:     repo.MustCol(t, func(r *Review) *int64 { return &r.ID }),
		gadget: repo.MustCol(t, func(r *Review) *int64 { return &r.GadgetID }),
		stars:  repo.MustCol(t, func(r *Review) *int { return &r.Stars }),
		body:   repo.MustCol(t, func(r *Review) **string { return &r.Body }),
	}
}

// seedReviews creates and fills the reviews table next to seedGadgets':
// apple 5 and 4 (and a deleted 1), banana 3, daikon only a deleted 2,
// eggplant 1, zombie (a deleted gadget) 5; carrot has none.
func seedReviews(t *testing.T, d db.Dialect, x *sqlx.DB, gs map[string]*Gadget) (*repo.Table[Review], rcols) {
	t.Helper()
	createTable(t, x, d, "reviews", "gadget_id BIGINT NOT NULL", "stars INT NOT NULL", "body VARCHAR(255) NULL", "deleted_at {ts} NULL")
	rt := mustTable[Review](t, d)
	r := rt.On(x)
	for _, v := range []struct {
		gadget  string
		stars   int
		body    *string
		deleted bool
	}{
		{"apple", 5, ptr("crisp"), false},
		{"apple", 4, nil, false},
		{"apple", 1, ptr("yellow"), true},
		{"banana", 3, ptr("yellow"), false},
		{"daikon", 2, ptr("long"), true},
		{"eggplant", 1, nil, false},
		{"zombie", 5, ptr("braaains"), false},
	} {
		m := &Review{GadgetID: gs[v.gadget].ID, Stars: v.stars, Body: v.body}
		must(t, r.Create(bg, m))
		if v.deleted {
			must(t, r.Delete(bg, m.ID))
		}
	}
	return rt, reviewColumns(rt)
}

func TestSubqueryToSQL(t *testing.T) {
	g := mustTable[Gadget](t, db.Postgres)
	rt := mustTable[Review](t, db.Postgres)
	c, rc := gadgetColumns(g), reviewColumns(rt)
	good := rt.Query().Where(rc.stars.Ge(4), rc.body.In(ptr("crisp")))
	inner := g.Query().Where(c.kind.Eq("fruit"), repo.InQuery(c.id, good, rc.gadget))
	q := g.Query().Where(c.qty.Gt(0),
		repo.InQuery(c.id, rt.Query().Where(rc.stars.Lt(9), repo.InQuery(rc.gadget, inner, c.id)), rc.gadget),
		repo.NotInQuery(c.note, rt.Query().WithTrashed(), rc.body),
		repo.Exists[Gadget](rt.Query().Where(rc.stars.Eq(5))),
		repo.NotExists[Gadget](g.Query().Where(c.qty.Eq(99)))).
		Limit(3)
	s, args, err := q.ToSQL()
	must(t, err)
	want := `SELECT "id", "name", "qty", "price", "note", "active", "kind", "weight", "created_at", "updated_at", "deleted_at" FROM "gadgets"` +
		` WHERE "deleted_at" IS NULL AND "qty" > $1` +
		` AND "id" IN (SELECT "gadget_id" FROM "reviews" WHERE "deleted_at" IS NULL AND "stars" < $2` +
		` AND "gadget_id" IN (SELECT "id" FROM "gadgets" WHERE "deleted_at" IS NULL AND "kind" = $3` +
		` AND "id" IN (SELECT "gadget_id" FROM "reviews" WHERE "deleted_at" IS NULL AND "stars" >= $4 AND "body" = ANY($5))))` +
		` AND ("note" IS NULL OR "note" NOT IN (SELECT "body" FROM "reviews" WHERE "body" IS NOT NULL))` +
		` AND EXISTS (SELECT 1 FROM "reviews" WHERE "deleted_at" IS NULL AND "stars" = $6)` +
		` AND NOT EXISTS (SELECT 1 FROM "gadgets" WHERE "deleted_at" IS NULL AND "qty" = $7)` +
		` ORDER BY "id" ASC LIMIT $8`
	if s != want {
		t.Fatalf("SQL\n got %s\nwant %s", s, want)
	}
	if a := fmt.Sprint(args); a != "[0 9 fruit 4 [crisp] 5 99 3]" {
		t.Fatalf("args %s", a)
	}

	// Errors in a subquery follow it out; nothing is sent.
	bad := repo.Col(rt, func(r *Review) *string { return nil })
	sl := mustTable[Review](t, db.SQLite)
	for name, p := range map[string]repo.Predicate[Gadget]{
		"bad column in sub":  repo.Exists[Gadget](rt.Query().Where(repo.Column[Review, int]{}.Eq(1))),
		"limit in sub":       repo.InQuery(c.id, rt.Query().Limit(1), rc.gadget),
		"offset in sub":      repo.Exists[Gadget](rt.Query().Offset(1)),
		"zero sub":           repo.Exists[Gadget](repo.Query[Review]{}),
		"bad sub column":     repo.InQuery(c.name, rt.Query(), bad),
		"other dialect":      repo.Exists[Gadget](sl.Query()),
		"aggregate in where": repo.CountAll[Gadget]().Gt(1),
	} {
		rec := &recorder{driver: "pgx"}
		if _, err := g.Query().Where(p).On(rec).All(bg); err == nil {
			t.Errorf("%s: no error", name)
		}
		if len(rec.Calls()) != 0 {
			t.Errorf("%s: sent %q", name, rec.Calls())
		}
	}
}

func TestSubqueries(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, rows := seedGadgets(t, d, u)
		rt, rc := seedReviews(t, d, x, rows)
		q := g.On(x).Query()
		reviews := rt.Query()
		for _, tc := range []struct {
			name string
			q    repo.Query[Gadget]
			want string
		}{
			// Deleted reviews (daikon's) and deleted gadgets (zombie) stay out.
			{"InQuery", q.Where(repo.InQuery(c.id, reviews, rc.gadget)), "apple,banana,eggplant"},
			{"InQuery with conditions", q.Where(repo.InQuery(c.id, reviews.Where(rc.stars.Ge(3)), rc.gadget)), "apple,banana"},
			{"InQuery trashed sub", q.Where(repo.InQuery(c.id, reviews.WithTrashed(), rc.gadget)), "apple,banana,daikon,eggplant"},
			{"InQuery both trashed", q.WithTrashed().Where(repo.InQuery(c.id, reviews.Where(rc.stars.Eq(5)), rc.gadget)), "apple,zombie"},
			{"NotInQuery", q.Where(repo.NotInQuery(c.id, reviews, rc.gadget)), "carrot,daikon"},
			{"Not of InQuery", q.Where(repo.Not(repo.InQuery(c.id, reviews, rc.gadget))), "carrot,daikon"},
			// Review bodies: crisp, yellow (apple's deleted one is out), NULLs.
			// A NULL body in the sub does not make NotInQuery unknown, and a
			// NULL note matches it.
			{"NotInQuery NULL-safe", q.Where(repo.NotInQuery(c.note, reviews, rc.body)), "apple,carrot,daikon,eggplant"},
			{"InQuery NULL matches nothing", q.Where(repo.InQuery(c.note, reviews, rc.body)), "banana"},
			{"Exists", q.Where(repo.Exists[Gadget](reviews.Where(rc.stars.Eq(3)))), "apple,banana,carrot,daikon,eggplant"},
			{"Exists of deleted only", q.Where(repo.Exists[Gadget](reviews.Where(rc.stars.Eq(2)))), ""},
			{"NotExists", q.Where(repo.NotExists[Gadget](reviews.Where(rc.stars.Eq(2))), c.qty.Le(2)), "apple,banana"},
			{"nested", q.Where(repo.InQuery(c.id, reviews.Where(repo.InQuery(rc.gadget, g.Query().Where(c.kind.Eq("veg")), c.id)), rc.gadget)), "eggplant"},
			{"self", q.Where(repo.InQuery(c.qty, g.Query().WithTrashed().Where(c.name.Eq("zombie")), c.qty)), "carrot"},
			{"in an Or", q.Where(repo.Or(c.name.Eq("carrot"), repo.InQuery(c.id, reviews.Where(rc.stars.Eq(1)), rc.gadget))), "carrot,eggplant"},
		} {
			got, err := tc.q.All(bg)
			if err != nil || names(got) != tc.want {
				s, args, _ := tc.q.ToSQL()
				t.Errorf("%s: got [%s], %v; want [%s]\n%s %v", tc.name, names(got), err, tc.want, s, args)
			}
			n, err := tc.q.Count(bg)
			if want := len(strings.FieldsFunc(tc.want, func(r rune) bool { return r == ',' })); err != nil || n != int64(want) {
				t.Errorf("%s: Count = %d, %v", tc.name, n, err)
			}
		}
		// A bulk write through a subquery: its parameters are numbered after the SET's.
		n, err := q.Where(repo.InQuery(c.id, reviews.Where(rc.stars.Eq(4)), rc.gadget)).Update(bg, c.weight.Set(11))
		if err != nil || n != 1 {
			t.Fatalf("Update = %d, %v", n, err)
		}
		if got, err := q.Where(c.weight.Eq(11)).All(bg); err != nil || names(got) != "apple" {
			t.Fatalf("after Update: [%s], %v", names(got), err)
		}
		// A bulk write through a subquery of its own table (MariaDB allows it;
		// MySQL rejects it with error 1093).
		n, err = q.Where(repo.InQuery(c.qty, g.Query().WithTrashed().Where(c.name.Eq("zombie")), c.qty)).Update(bg, c.weight.Set(7))
		if err != nil || n != 1 {
			t.Fatalf("Update through its own table = %d, %v", n, err)
		}
		n, err = q.Where(c.kind.Eq("fruit"), repo.NotExists[Gadget](g.Query().Where(c.weight.Eq(7), c.name.Ne("carrot")))).Delete(bg)
		if err != nil || n != 2 {
			t.Fatalf("Delete through its own table = %d, %v", n, err)
		}
		if got, err := q.All(bg); err != nil || names(got) != "carrot,daikon,eggplant" {
			t.Fatalf("after Delete: [%s], %v", names(got), err)
		}
	})
}

// TestNewPathsSameShapeSameText renders subqueries, groups and joins whose
// values (and In lists' lengths) differ and checks the texts are equal.
func TestNewPathsSameShapeSameText(t *testing.T) {
	for _, d := range testdb.Dialects() {
		g, rt := mustTable[Gadget](t, d), mustTable[Review](t, d)
		c, rc := gadgetColumns(g), reviewColumns(rt)
		f := joinFieldsOf(c, rc)
		kind, _, n, _, _, _, _ := kindFields(c)
		build := func(k int, s string) []string {
			ids := make([]int64, k)
			for i := range ids {
				ids[i] = int64(i)
			}
			sub := rt.Query().Where(rc.gadget.In(ids...), rc.body.Eq(&s))
			base := g.Query().Where(c.name.ILike(s), repo.InQuery(c.id, sub, rc.gadget), repo.NotExists[Gadget](sub))
			q := base.Limit(k)
			var out []string
			for _, render := range []func() (string, []any, error){
				q.ToSQL,
				repo.SelectGroups(repo.GroupBy(base.Where(c.qty.In(k, k+1)), c.kind).Having(repo.SumOf(c.qty).Gt(k)), kind, n).ToSQL,
				repo.SelectJoin(repo.Join(q, sub, repo.On(c.id, rc.gadget)), []repo.Field[gadgetReview, Gadget]{f.gadget}, []repo.Field[gadgetReview, Review]{f.stars}).ToSQL,
			} {
				text, _, err := render()
				must(t, err)
				out = append(out, text)
			}
			return out
		}
		a, b := build(1, "x"), build(5000, "%_'\\")
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("%s: texts differ:\n%q\n%q", d, a, b)
		}
	}
}

// TestSubqueryScopeCycle: a global scope whose subquery is of its own table
// would nest without end; it is an error, and nothing is sent.
func TestSubqueryScopeCycle(t *testing.T) {
	g := mustTable[Gadget](t, db.Postgres)
	c := gadgetColumns(g)
	must(t, g.AddScope("self", repo.InQuery(c.id, g.Query().Where(c.qty.Gt(0)), c.id)))
	rec := &recorder{driver: "pgx"}
	if _, err := g.Query().On(rec).All(bg); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Fatalf("All = %v, want the nesting error", err)
	}
	if _, err := repo.Pluck(bg, g.Query().On(rec), c.name); err == nil {
		t.Fatal("Pluck gave no error")
	}
	if len(rec.Calls()) != 0 {
		t.Fatalf("sent %q", rec.Calls())
	}
	// Lifted inside the subquery, the scope renders once.
	g2 := mustTable[Gadget](t, db.Postgres)
	must(t, g2.AddScope("self", repo.InQuery(c.id, g2.Query().Without("self").Where(c.qty.Gt(0)), c.id)))
	s, _, err := g2.Query().ToSQL()
	must(t, err)
	if !strings.Contains(s, `WHERE "deleted_at" IS NULL AND "id" IN (SELECT "id" FROM "gadgets" WHERE "deleted_at" IS NULL AND "qty" > $1) ORDER BY`) {
		t.Fatalf("SQL %s", s)
	}
}
