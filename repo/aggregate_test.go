package repo_test

import (
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
)

// TestAggregates runs Sum, Avg, Min and Max on every database: soft-deleted
// rows (zombie) are left out unless lifted, and no row gives not Valid.
func TestAggregates(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, _ := seedGadgets(t, d, u)
		q := g.On(x).Query()
		none := q.Where(c.qty.Gt(100))
		check := func(name string, got any, err error, want any) {
			t.Helper()
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s = %+v, %v; want %+v", name, got, err, want)
			}
		}
		sumQty, err := repo.Sum(bg, q, c.qty)
		check("Sum(qty)", sumQty, err, sql.Null[int]{V: 15, Valid: true})
		sumQty, err = repo.Sum(bg, q.WithTrashed(), c.qty)
		check("Sum(qty) WithTrashed", sumQty, err, sql.Null[int]{V: 18, Valid: true})
		sumQty, err = repo.Sum(bg, q.Where(c.kind.Eq("fruit")).OrderBy(c.name.Desc()).Limit(1), c.qty)
		check("Sum(qty) of fruit ignores limit", sumQty, err, sql.Null[int]{V: 3, Valid: true})
		sumQty, err = repo.Sum(bg, none, c.qty)
		check("Sum(qty) of no row", sumQty, err, sql.Null[int]{})
		sumPrice, err := repo.Sum(bg, q, c.price)
		check("Sum(price)", sumPrice, err, sql.Null[float64]{V: 7.5, Valid: true})
		avg, err := repo.Avg(bg, q, c.qty)
		check("Avg(qty)", avg, err, sql.Null[float64]{V: 3, Valid: true})
		avg, err = repo.Avg(bg, q, c.price)
		check("Avg(price)", avg, err, sql.Null[float64]{V: 1.5, Valid: true})
		avg, err = repo.Avg(bg, none, c.price)
		check("Avg of no row", avg, err, sql.Null[float64]{})
		minName, err := repo.Min(bg, q, c.name)
		check("Min(name)", minName, err, sql.Null[string]{V: "apple", Valid: true})
		maxName, err := repo.Max(bg, q, c.name)
		check("Max(name)", maxName, err, sql.Null[string]{V: "eggplant", Valid: true})
		maxName, err = repo.Max(bg, q.WithTrashed(), c.name)
		check("Max(name) WithTrashed", maxName, err, sql.Null[string]{V: "zombie", Valid: true})
		maxKind, err := repo.Max(bg, q, c.kind)
		check("Max(kind)", maxKind, err, sql.Null[GadgetKind]{V: "veg", Valid: true})
		maxNote, err := repo.Max(bg, q, c.note)
		if err != nil || !maxNote.Valid || maxNote.V == nil || *maxNote.V != "yellow" {
			t.Errorf("Max(note) = %+v, %v", maxNote, err)
		}
		minNote, err := repo.Min(bg, q.Where(c.note.IsNull()), c.note)
		check("Min(note) of NULLs", minNote, err, sql.Null[*string]{})
		minQty, err := repo.Min(bg, none, c.qty)
		check("Min of no row", minQty, err, sql.Null[int]{})

		// Mistakes send nothing.
		rec := &recorder{driver: d.Name()}
		if d == db.Postgres {
			rec.driver = "pgx"
		}
		if _, err := repo.Sum(bg, g.Query().On(rec), c.name); err == nil {
			t.Error("Sum of a string column gave no error")
		}
		if _, err := repo.Avg(bg, g.Query().On(rec).Where(repo.Predicate[Gadget]{}), c.qty); err == nil {
			t.Error("Avg with a zero predicate gave no error")
		}
		if _, err := repo.Max(bg, g.Query().On(rec), repo.Column[Gadget, int]{}); err == nil {
			t.Error("Max of a zero column gave no error")
		}
		if calls := rec.Calls(); len(calls) != 0 {
			t.Errorf("sent %q", calls)
		}
	})
}

// kindStats is a grouped projection.
type kindStats struct {
	Kind     GadgetKind `db:"kind"`
	Active   bool
	N        int64 `db:"n"`
	Total    int   `db:"total"`
	AvgPrice float64
	Top      sql.Null[string] `db:"top"`
	Weighed  int64            `db:"weighed"`
}

func kindFields(c gcols) (kind, active, n, total, avgPrice, top, weighed repo.Field[kindStats, Gadget]) {
	return repo.To(func(s *kindStats) *GadgetKind { return &s.Kind }, c.kind),
		repo.To(func(s *kindStats) *bool { return &s.Active }, c.active),
		repo.To(func(s *kindStats) *int64 { return &s.N }, repo.CountAll[Gadget]()),
		repo.To(func(s *kindStats) *int { return &s.Total }, repo.SumOf(c.qty)),
		repo.To(func(s *kindStats) *float64 { return &s.AvgPrice }, repo.AvgOf(c.price)),
		repo.ToNull(func(s *kindStats) *sql.Null[string] { return &s.Top }, repo.MaxOf(c.name)),
		repo.To(func(s *kindStats) *int64 { return &s.Weighed }, repo.CountOf(c.note))
}

func TestGroupByToSQL(t *testing.T) {
	g := mustTable[Gadget](t, db.Postgres)
	c := gadgetColumns(g)
	kind, _, n, total, _, _, _ := kindFields(c)
	gq := repo.GroupBy(g.Query().Where(c.weight.Gt(1)).OrderBy(c.name.Desc()), c.kind).
		Having(repo.CountAll[Gadget]().Gt(2)).
		Having(repo.Or(repo.SumOf(c.qty).Between(3, 4), repo.Not(c.kind.Eq("nut")), repo.AvgOf(c.price).Le(1.5)))
	s, args, err := repo.SelectGroups(gq, kind, n, total).ToSQL()
	must(t, err)
	want := `SELECT "kind" AS "kind", COUNT(*) AS "n", SUM("qty") AS "total" FROM "gadgets" WHERE "deleted_at" IS NULL AND "weight" > $1` +
		` GROUP BY "kind" HAVING COUNT(*) > $2 AND (SUM("qty") BETWEEN $3 AND $4 OR NOT ("kind" = $5) OR AVG("price") <= $6) ORDER BY "kind"`
	if s != want || fmt.Sprint(args) != "[1 2 3 4 nut 1.5]" {
		t.Fatalf("SQL\n got %s %v\nwant %s", s, args, want)
	}
}

// TestGroupBy groups on every database, with Having on aggregates and keys.
func TestGroupBy(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, _ := seedGadgets(t, d, u)
		q := g.On(x).Query()
		kind, active, n, total, avgPrice, top, weighed := kindFields(c)
		byKind := repo.GroupBy(q, c.kind)
		for _, tc := range []struct {
			name string
			p    repo.Projection[kindStats]
			want []kindStats
		}{{
			"by kind",
			repo.SelectGroups(byKind, kind, n, total, avgPrice, top, weighed),
			[]kindStats{
				{Kind: "fruit", N: 2, Total: 3, AvgPrice: 0.375, Top: sql.Null[string]{V: "banana", Valid: true}, Weighed: 1},
				{Kind: "veg", N: 3, Total: 12, AvgPrice: 2.25, Top: sql.Null[string]{V: "eggplant", Valid: true}, Weighed: 2},
			},
		}, {
			"trashed",
			repo.SelectGroups(repo.GroupBy(q.WithTrashed(), c.kind), kind, n),
			[]kindStats{{Kind: "fruit", N: 2}, {Kind: "veg", N: 4}},
		}, {
			"having count",
			repo.SelectGroups(byKind.Having(repo.CountAll[Gadget]().Gt(2)), kind, n),
			[]kindStats{{Kind: "veg", N: 3}},
		}, {
			"having sum and key",
			repo.SelectGroups(byKind.Having(repo.SumOf(c.qty).Ge(3), c.kind.Ne("veg")), kind, total),
			[]kindStats{{Kind: "fruit", Total: 3}},
		}, {
			"having or",
			repo.SelectGroups(byKind.Having(repo.Or(repo.AvgOf(c.price).Lt(0.4), repo.MaxOf(c.name).Eq("zombie"))), kind),
			[]kindStats{{Kind: "fruit"}},
		}, {
			"two keys, where",
			repo.SelectGroups(repo.GroupBy(q.Where(c.qty.Gt(1)), c.kind, c.active), kind, active, n),
			[]kindStats{{Kind: "fruit", Active: true, N: 1}, {Kind: "veg", N: 2}, {Kind: "veg", Active: true, N: 1}},
		}, {
			"having a subquery",
			repo.SelectGroups(byKind.Having(repo.Exists[Gadget](g.Query().Where(c.name.Eq("apple"))), repo.InQuery(c.kind, g.Query().Where(c.qty.Eq(2)), c.kind)), kind, n),
			[]kindStats{{Kind: "fruit", N: 2}},
		}, {
			"no group",
			repo.SelectGroups(byKind.Having(repo.CountAll[Gadget]().Gt(10)), kind),
			[]kindStats{},
		}} {
			got, err := tc.p.All(bg)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				s, args, _ := tc.p.ToSQL()
				t.Errorf("%s: got %+v, %v; want %+v\n%s %v", tc.name, got, err, tc.want, s, args)
			}
		}
	})
}

func TestGroupByErrors(t *testing.T) {
	g := mustTable[Gadget](t, db.SQLite)
	c := gadgetColumns(g)
	kind, _, n, _, _, _, _ := kindFields(c)
	name := repo.To(func(s *kindStats) *string { return &s.Top.V }, c.name)
	rec := &recorder{driver: "sqlite"}
	q := g.Query().On(rec)
	for label, p := range map[string]repo.Projection[kindStats]{
		"no key":              repo.SelectGroups(repo.GroupBy(q), n),
		"no field":            repo.SelectGroups[kindStats](repo.GroupBy(q, c.kind)),
		"zero key column":     repo.SelectGroups(repo.GroupBy(q, repo.Column[Gadget, int]{}), n),
		"nil key":             repo.SelectGroups(repo.GroupBy(q, nil), n),
		"limit":               repo.SelectGroups(repo.GroupBy(q.Limit(3), c.kind), n),
		"ungrouped field":     repo.SelectGroups(repo.GroupBy(q, c.kind), kind, name),
		"having ungrouped":    repo.SelectGroups(repo.GroupBy(q, c.kind).Having(repo.Not(c.qty.Gt(1))), kind),
		"zero having":         repo.SelectGroups(repo.GroupBy(q, c.kind).Having(repo.Predicate[Gadget]{}), kind),
		"sum of a string":     repo.SelectGroups(repo.GroupBy(q, c.kind), repo.To(func(s *kindStats) *string { return &s.Top.V }, repo.SumOf(c.name))),
		"having nil":          repo.SelectGroups(repo.GroupBy(q, c.note).Having(repo.MaxOf(c.note).Eq(nil)), n),
		"aggregate in where":  repo.SelectGroups(repo.GroupBy(q.Where(repo.CountAll[Gadget]().Gt(1)), c.kind), kind),
		"having ungrouped in": repo.SelectGroups(repo.GroupBy(q, c.kind).Having(repo.InQuery(c.name, g.Query(), c.name)), kind),
	} {
		if _, _, err := p.ToSQL(); err == nil {
			t.Errorf("%s: ToSQL gave no error", label)
		}
		if _, err := p.All(bg); err == nil {
			t.Errorf("%s: All gave no error", label)
		}
	}
	if calls := rec.Calls(); len(calls) != 0 {
		t.Errorf("sent %q", calls)
	}
}

// TestGroupedImmutable extends one grouped query differently from several
// goroutines (run it with -race): each gets its own Having.
func TestGroupedImmutable(t *testing.T) {
	g := mustTable[Gadget](t, db.Postgres)
	c := gadgetColumns(g)
	kind, _, n, _, _, _, _ := kindFields(c)
	base := repo.GroupBy(g.Query(), c.kind).Having(repo.CountAll[Gadget]().Gt(1)).Having(repo.SumOf(c.qty).Lt(100))
	baseSQL, _, err := repo.SelectGroups(base, kind, n).ToSQL()
	must(t, err)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 100 {
				v := int64(w*1000 + i)
				s, args, err := repo.SelectGroups(base.Having(repo.CountAll[Gadget]().Ne(v)), kind, n).ToSQL()
				if err != nil || !strings.HasSuffix(s, `HAVING COUNT(*) > $1 AND SUM("qty") < $2 AND COUNT(*) <> $3 ORDER BY "kind"`) || args[2] != v {
					t.Errorf("worker %d: %s %v %v", w, s, args, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if s, _, _ := repo.SelectGroups(base, kind, n).ToSQL(); s != baseSQL {
		t.Fatalf("the base changed:\n%s\n%s", baseSQL, s)
	}
}
