package repo_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
)

// TestGlobalScopesThroughNewPaths registers a global scope on each table and
// checks that Pluck, aggregates, projections, groups, subqueries and both
// sides of a join apply it, and that Without lifts it.
func TestGlobalScopesThroughNewPaths(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, rows := seedGadgets(t, d, u)
		rt, rc := seedReviews(t, d, x, rows)
		must(t, g.AddScope("not_banana", c.weight.Ne(20)))
		must(t, rt.AddScope("two_stars", rc.stars.Ge(2)))
		q, reviews := g.On(x).Query(), rt.Query()
		on := repo.On(c.id, rc.gadget)

		ns, err := repo.Pluck(bg, q, c.name)
		if err != nil || fmt.Sprint(ns) != "[apple carrot daikon eggplant]" {
			t.Errorf("Pluck = %v, %v", ns, err)
		}
		ns, err = repo.Pluck(bg, q.Without("not_banana"), c.name)
		if err != nil || fmt.Sprint(ns) != "[apple banana carrot daikon eggplant]" {
			t.Errorf("Pluck Without = %v, %v", ns, err)
		}
		if sum, err := repo.Sum(bg, q, c.qty); err != nil || sum.V != 13 {
			t.Errorf("Sum = %+v, %v", sum, err)
		}
		if mn, err := repo.Min(bg, reviews.On(x), rc.stars); err != nil || mn.V != 3 {
			t.Errorf("Min(stars) = %+v, %v", mn, err)
		}
		name := repo.To(func(r *gadgetRow) *string { return &r.Name }, c.name)
		sel, err := repo.Select(q.Where(c.kind.Eq("fruit")), name).All(bg)
		if err != nil || len(sel) != 1 || sel[0].Name != "apple" {
			t.Errorf("Select = %+v, %v", sel, err)
		}
		kind, _, n, _, _, _, _ := kindFields(c)
		grp, err := repo.SelectGroups(repo.GroupBy(q, c.kind), kind, n).All(bg)
		if want := []kindStats{{Kind: "fruit", N: 1}, {Kind: "veg", N: 3}}; err != nil || !reflect.DeepEqual(grp, want) {
			t.Errorf("SelectGroups = %+v, %v", grp, err)
		}
		// eggplant's only review has one star; banana is scoped out.
		in, err := q.Where(repo.InQuery(c.id, reviews, rc.gadget)).All(bg)
		if err != nil || names(in) != "apple" {
			t.Errorf("InQuery = [%s], %v", names(in), err)
		}
		in, err = q.Where(repo.InQuery(c.id, reviews.Without("two_stars"), rc.gadget)).All(bg)
		if err != nil || names(in) != "apple,eggplant" {
			t.Errorf("InQuery Without = [%s], %v", names(in), err)
		}
		f := joinFieldsOf(c, rc)
		left := []repo.Field[gadgetReview, Gadget]{f.gadget}
		right := []repo.Field[gadgetReview, Review]{f.stars}
		for _, tc := range []struct {
			j    repo.Joined[Gadget, Review]
			want string
		}{
			{repo.Join(q, reviews, on), "apple:5,apple:4"},
			{repo.LeftJoin(q, reviews, on), "apple:5,apple:4,carrot:-,daikon:-,eggplant:-"},
			{repo.Join(q.Without("not_banana"), reviews.Without("two_stars"), on), "apple:5,apple:4,banana:3,eggplant:1"},
		} {
			p := repo.SelectJoin(tc.j, left, right)
			got, err := p.All(bg)
			if err != nil || pairs(got) != tc.want {
				s, _, _ := p.ToSQL()
				t.Errorf("join = [%s], %v; want [%s]\n%s", pairs(got), err, tc.want, s)
			}
		}
	})
}
