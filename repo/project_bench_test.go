package repo_test

import (
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

// BenchmarkNewPathsBuild builds and renders, on PostgreSQL, a query with an
// InQuery subquery, a grouped projection with Having, and a join
// projection.
func BenchmarkNewPathsBuild(b *testing.B) {
	g, rt := mustTable[Gadget](b, db.Postgres), mustTable[Review](b, db.Postgres)
	c, rc := gadgetColumns(g), reviewColumns(rt)
	f := joinFieldsOf(c, rc)
	kind, _, n, total, _, _, _ := kindFields(c)
	left, right := []repo.Field[gadgetReview, Gadget]{f.gadget}, []repo.Field[gadgetReview, Review]{f.stars, f.body}
	b.Run("InQuery", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			sub := rt.Query().Where(rc.stars.Ge(i % 5))
			if _, _, err := g.Query().Where(c.kind.Eq("veg"), repo.InQuery(c.id, sub, rc.gadget)).Limit(10).ToSQL(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SelectGroups", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			gq := repo.GroupBy(g.Query().Where(c.qty.Gt(i)), c.kind).Having(repo.CountAll[Gadget]().Gt(2))
			if _, _, err := repo.SelectGroups(gq, kind, n, total).ToSQL(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SelectJoin", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			j := repo.LeftJoin(g.Query().Where(c.qty.Gt(i)).Limit(20), rt.Query().Where(rc.stars.Ge(4)), repo.On(c.id, rc.gadget))
			if _, _, err := repo.SelectJoin(j, left, right).ToSQL(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
