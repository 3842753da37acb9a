package repo_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
)

// gadgetReview is a projection of gadgets joined with reviews.
type gadgetReview struct {
	Gadget string        `db:"gadget"`
	Stars  sql.Null[int] `db:"stars"`
	Body   *string
	Other  string
}

func (r gadgetReview) String() string {
	s := r.Gadget + ":"
	if r.Stars.Valid {
		s += fmt.Sprint(r.Stars.V)
	} else {
		s += "-"
	}
	return s
}

func pairs(rs []gadgetReview) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return strings.Join(out, ",")
}

type joinFields struct {
	gadget, other repo.Field[gadgetReview, Gadget]
	stars, body   repo.Field[gadgetReview, Review]
}

func joinFieldsOf(c gcols, rc rcols) joinFields {
	return joinFields{
		gadget: repo.To(func(r *gadgetReview) *string { return &r.Gadget }, c.name),
		other:  repo.To(func(r *gadgetReview) *string { return &r.Other }, c.name),
		stars:  repo.ToNull(func(r *gadgetReview) *sql.Null[int] { return &r.Stars }, rc.stars),
		body:   repo.To(func(r *gadgetReview) **string { return &r.Body }, rc.body),
	}
}

func TestJoinToSQL(t *testing.T) {
	g := mustTable[Gadget](t, db.Postgres)
	rt := mustTable[Review](t, db.Postgres)
	c, rc := gadgetColumns(g), reviewColumns(rt)
	f := joinFieldsOf(c, rc)
	j := repo.LeftJoin(g.Query().Where(c.qty.Gt(1)).OrderBy(c.name.Desc()).Limit(5),
		rt.Query().Where(rc.stars.Ge(4)).OrderBy(rc.stars.Asc()), repo.On(c.id, rc.gadget))
	s, args, err := repo.SelectJoin(j, []repo.Field[gadgetReview, Gadget]{f.gadget}, []repo.Field[gadgetReview, Review]{f.stars, f.body}).ToSQL()
	must(t, err)
	want := `SELECT "t0"."name" AS "gadget", "t1"."stars" AS "stars", "t1"."body" AS "body"` +
		` FROM (SELECT "id", "name", "qty", "price", "note", "active", "kind", "weight", "created_at", "updated_at", "deleted_at" FROM "gadgets" WHERE "deleted_at" IS NULL AND "qty" > $1) AS "t0"` +
		` LEFT JOIN (SELECT "id", "gadget_id", "stars", "body", "deleted_at" FROM "reviews" WHERE "deleted_at" IS NULL AND "stars" >= $2) AS "t1"` +
		` ON "t0"."id" = "t1"."gadget_id" ORDER BY "t0"."name" DESC, "t0"."id" ASC, "t1"."id" ASC LIMIT $3`
	if s != want || fmt.Sprint(args) != "[1 4 5]" {
		t.Fatalf("SQL\n got %s %v\nwant %s", s, args, want)
	}
}

// TestJoin joins two soft-deleting tables, inner and left, and a table
// with itself, on every database.
func TestJoin(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, rows := seedGadgets(t, d, u)
		rt, rc := seedReviews(t, d, x, rows)
		f := joinFieldsOf(c, rc)
		q := g.On(x).Query()
		reviews := rt.Query()
		on := repo.On(c.id, rc.gadget)
		left := []repo.Field[gadgetReview, Gadget]{f.gadget}
		right := []repo.Field[gadgetReview, Review]{f.stars, f.body}
		for _, tc := range []struct {
			name string
			j    repo.Joined[Gadget, Review]
			want string
		}{
			// zombie (deleted) and daikon's review (deleted) stay out.
			{"inner", repo.Join(q, reviews, on), "apple:5,apple:4,banana:3,eggplant:1"},
			{"inner, conditions on both", repo.Join(q.Where(c.kind.Eq("fruit")), reviews.Where(rc.stars.Lt(5)), on), "apple:4,banana:3"},
			{"inner, order, limit, offset", repo.Join(q.OrderBy(c.name.Desc()).Limit(2).Offset(1), reviews, on), "banana:3,apple:5"},
			{"inner, reviews trashed", repo.Join(q, reviews.WithTrashed(), on), "apple:5,apple:4,apple:1,banana:3,daikon:2,eggplant:1"},
			{"inner, gadgets trashed", repo.Join(q.WithTrashed(), reviews.Where(rc.stars.Eq(5)), on), "apple:5,zombie:5"},
			{"left", repo.LeftJoin(q, reviews, on), "apple:5,apple:4,banana:3,carrot:-,daikon:-,eggplant:1"},
			// A condition on the joined side keeps the left rows it does not match.
			{"left, condition on the right", repo.LeftJoin(q, reviews.Where(rc.stars.Ge(4)), on), "apple:5,apple:4,banana:-,carrot:-,daikon:-,eggplant:-"},
			{"left, condition on the left", repo.LeftJoin(q.Where(c.kind.Eq("veg")), reviews, on), "carrot:-,daikon:-,eggplant:1"},
		} {
			p := repo.SelectJoin(tc.j, left, right)
			got, err := p.All(bg)
			if err != nil || pairs(got) != tc.want {
				s, args, _ := p.ToSQL()
				t.Errorf("%s: got [%s], %v; want [%s]\n%s %v", tc.name, pairs(got), err, tc.want, s, args)
			}
		}
		got, err := repo.SelectJoin(repo.LeftJoin(q.Where(c.name.Eq("apple")), reviews, on), left, right).All(bg)
		if err != nil || len(got) != 2 || got[0].Body == nil || *got[0].Body != "crisp" || got[1].Body != nil {
			t.Errorf("bodies: %+v, %v", got, err)
		}

		// Rows of T through a join: each once, however many rows match.
		all, err := repo.Join(q.OrderBy(c.name.Desc()), reviews, on).All(bg)
		if err != nil || names(all) != "eggplant,banana,apple" {
			t.Errorf("Join.All = [%s], %v", names(all), err)
		}
		all, err = repo.LeftJoin(q, reviews.Where(rc.stars.Eq(5)), on).All(bg)
		if err != nil || names(all) != "apple,banana,carrot,daikon,eggplant" {
			t.Errorf("LeftJoin.All = [%s], %v", names(all), err)
		}

		// A self-join: each side has its own alias and its own soft delete.
		self := repo.SelectJoin(repo.Join(q.Where(c.qty.Eq(3)), g.Query().WithTrashed(), repo.On(c.weight, c.weight)),
			left, []repo.Field[gadgetReview, Gadget]{f.other})
		sg, err := self.All(bg)
		if err != nil || len(sg) != 2 || sg[0].Gadget != "carrot" || sg[0].Other != "carrot" || sg[1].Other != "zombie" {
			s, _, _ := self.ToSQL()
			t.Errorf("self-join = %+v, %v\n%s", sg, err, s)
		}
	})
}

func TestJoinErrors(t *testing.T) {
	g := mustTable[Gadget](t, db.SQLite)
	rt := mustTable[Review](t, db.SQLite)
	c, rc := gadgetColumns(g), reviewColumns(rt)
	f := joinFieldsOf(c, rc)
	rec := &recorder{driver: "sqlite"}
	q := g.Query().On(rec)
	on := repo.On(c.id, rc.gadget)
	left := []repo.Field[gadgetReview, Gadget]{f.gadget}
	right := []repo.Field[gadgetReview, Review]{f.stars}
	pg := mustTable[Review](t, db.Postgres)
	for name, j := range map[string]repo.Joined[Gadget, Review]{
		"limit on the joined": repo.Join(q, rt.Query().Limit(1), on),
		"zero on":             repo.Join(q, rt.Query(), repo.JoinOn[Gadget, Review]{}),
		"bad on column":       repo.Join(q, rt.Query(), repo.On(c.id, repo.Column[Review, int64]{})),
		"other dialect":       repo.Join(q, pg.Query(), repo.On(c.id, reviewColumns(pg).gadget)),
		"bad joined where":    repo.LeftJoin(q, rt.Query().Where(repo.Predicate[Review]{}), on),
	} {
		if _, _, err := repo.SelectJoin(j, left, right).ToSQL(); err == nil {
			t.Errorf("%s: SelectJoin gave no error", name)
		}
		if _, err := j.All(bg); err == nil {
			t.Errorf("%s: All gave no error", name)
		}
	}
	for name, p := range map[string]repo.Projection[gadgetReview]{
		"aggregate": repo.SelectJoin(repo.Join(q, rt.Query(), on), left,
			[]repo.Field[gadgetReview, Review]{repo.ToNull(func(r *gadgetReview) *sql.Null[int] { return &r.Stars }, repo.MaxOf(rc.stars))}),
		"same alias across sides": repo.SelectJoin(repo.Join(q, rt.Query(), on),
			[]repo.Field[gadgetReview, Gadget]{repo.To(func(r *gadgetReview) **string { return &r.Body }, c.note)},
			[]repo.Field[gadgetReview, Review]{f.body}),
		"same alias on the right": repo.SelectJoin(repo.Join(q, rt.Query(), on), left, []repo.Field[gadgetReview, Review]{f.stars, f.stars}),
	} {
		if _, err := p.All(bg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if calls := rec.Calls(); len(calls) != 0 {
		t.Errorf("sent %q", calls)
	}
}
