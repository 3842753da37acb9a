package repo_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
)

func TestQueryOne(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, rows := seedGadgets(t, d, u)
		q := g.On(x).Query()
		m, err := q.Where(c.name.Eq("daikon")).One(bg)
		if err != nil || m.ID != rows["daikon"].ID || m.Weight != 40 {
			t.Fatalf("One(daikon) = %+v, %v", m, err)
		}
		if _, err := q.Where(c.name.Eq("zombie")).One(bg); !errors.Is(err, repo.ErrNotFound) {
			t.Fatalf("One(zombie): %v, want ErrNotFound", err)
		}
		for name, many := range map[string]repo.Query[Gadget]{
			"two fruits":      q.Where(c.kind.Eq("fruit")),
			"despite Limit 1": q.Where(c.kind.Eq("veg")).Limit(1),
		} {
			if m, err := many.One(bg); !errors.Is(err, repo.ErrMultipleRows) || m != nil || errors.Is(err, repo.ErrNotFound) {
				t.Errorf("%s: One = %v, %v; want ErrMultipleRows", name, m, err)
			}
		}
		// The offset applies: the third veg by name is the last one.
		m, err = q.Where(c.kind.Eq("veg")).OrderBy(c.name.Asc()).Offset(2).One(bg)
		if err != nil || m.Name != "eggplant" {
			t.Fatalf("One with Offset = %+v, %v", m, err)
		}
	})
}

func TestQueryChunks(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, _ := seedGadgets(t, d, u)
		q := g.On(x).Query()
		collect := func(q repo.Query[Gadget], n int) (string, error) {
			var out []string
			for ch, err := range q.Chunks(bg, n) {
				if err != nil {
					return strings.Join(out, "|"), err
				}
				out = append(out, names(ch))
			}
			return strings.Join(out, "|"), nil
		}
		for _, tc := range []struct {
			q    repo.Query[Gadget]
			n    int
			want string
		}{
			{q, 2, "apple,banana|carrot,daikon|eggplant"},
			{q, 5, "apple,banana,carrot,daikon,eggplant"},
			{q, 100, "apple,banana,carrot,daikon,eggplant"},
			{q.Where(c.qty.Ge(2)), 1, "banana|carrot|daikon|eggplant"},
			{q.OrderBy(c.id.Desc()), 2, "eggplant,daikon|carrot,banana|apple"},
			{q.OrderBy(c.id.Asc()).Limit(3), 2, "apple,banana|carrot"},
			{q.WithTrashed().Where(c.kind.Eq("veg")).Limit(10), 3, "carrot,daikon,eggplant|zombie"},
			{q.Limit(0), 2, ""},
			{q.Where(c.name.Eq("none")), 2, ""},
		} {
			got, err := collect(tc.q, tc.n)
			if err != nil || got != tc.want {
				s, _, _ := tc.q.ToSQL()
				t.Errorf("Chunks(%d) of %s = %s, %v; want %s", tc.n, s, got, err, tc.want)
			}
		}

		// Paged by key: deleting the rows already read does not make the
		// next chunk skip any (an OFFSET would skip carrot and daikon).
		var got []string
		for ch, err := range q.Chunks(bg, 2) {
			must(t, err)
			got = append(got, names(ch))
			ids := make([]int64, len(ch))
			for i, m := range ch {
				ids[i] = m.ID
			}
			if _, err := q.Where(c.id.In(ids...)).ForceDelete(bg); err != nil {
				t.Fatal(err)
			}
		}
		if s := strings.Join(got, "|"); s != "apple,banana|carrot,daikon|eggplant" {
			t.Fatalf("chunks while deleting = %s", s)
		}

		// Bad queries yield one error and nothing else.
		for name, run := range map[string]func() (string, error){
			"n = 0":         func() (string, error) { return collect(q, 0) },
			"n < 0":         func() (string, error) { return collect(q, -1) },
			"order by name": func() (string, error) { return collect(q.OrderBy(c.name.Asc()), 2) },
			"id then name":  func() (string, error) { return collect(q.OrderBy(c.id.Asc(), c.name.Asc()), 2) },
			"offset":        func() (string, error) { return collect(q.Offset(1), 2) },
			"no querier":    func() (string, error) { return collect(g.Query(), 2) },
			"bad predicate": func() (string, error) { return collect(q.Where(repo.Predicate[Gadget]{}), 2) },
		} {
			if got, err := run(); err == nil || got != "" {
				t.Errorf("%s: %q, %v", name, got, err)
			}
		}
	})
}

// TestQueryChunksBreakReleases stops a Chunks loop early and checks that no
// connection is left in use.
func TestQueryChunksBreakReleases(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, _, _ := seedGadgets(t, d, u)
		before := x.Stats().InUse
		seen := 0
		for ch, err := range g.On(x).Query().Chunks(bg, 2) {
			must(t, err)
			seen += len(ch)
			if in := x.Stats().InUse; in != before {
				t.Fatalf("%d connections in use while the caller holds a chunk, %d before", in, before)
			}
			break
		}
		if seen != 2 {
			t.Fatalf("saw %d rows", seen)
		}
		if in := x.Stats().InUse; in != before {
			t.Fatalf("%d connections in use after break, %d before", in, before)
		}
	})
}

func TestQueryPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, _ := seedGadgets(t, d, u)
		veg := g.On(x).Query().Where(c.kind.Eq("veg"))
		for _, tc := range []struct {
			q    repo.Query[Gadget]
			p    repo.Page
			want string
		}{
			{veg, repo.Page{}, "carrot,daikon,eggplant"},
			{veg, repo.Page{Limit: 2}, "carrot,daikon"},
			{veg, repo.Page{Limit: 2, Offset: 2}, "eggplant"},
			{veg, repo.Page{Sort: []repo.Order{{Column: "name", Desc: true}}}, "eggplant,daikon,carrot"},
			{veg, repo.Page{Filters: []repo.Filter{{Column: "qty", Op: ">", Value: 3}}}, "daikon,eggplant"},
			{veg, repo.Page{Filters: []repo.Filter{{Column: "note", Value: nil}}}, "carrot"},
			{veg.OrderBy(c.active.Desc()), repo.Page{Sort: []repo.Order{{Column: "qty", Desc: true}}}, "eggplant,daikon,carrot"},
			{veg.WithTrashed(), repo.Page{Filters: []repo.Filter{{Column: "qty", Value: 3}}}, "carrot,zombie"},
		} {
			got, err := tc.q.Page(bg, tc.p)
			if err != nil || names(got) != tc.want {
				t.Errorf("Page(%+v) = [%s], %v; want [%s]", tc.p, names(got), err, tc.want)
			}
		}
		rec := &recorder{driver: x.DriverName()}
		for name, tc := range map[string]struct {
			q       repo.Query[Gadget]
			p       repo.Page
			invalid bool
		}{
			"unknown filter":  {veg, repo.Page{Filters: []repo.Filter{{Column: "secret", Value: 1}}}, true},
			"unknown op":      {veg, repo.Page{Filters: []repo.Filter{{Column: "qty", Op: "; --", Value: 1}}}, true},
			"unknown sort":    {veg, repo.Page{Sort: []repo.Order{{Column: "nope"}}}, true},
			"negative limit":  {veg, repo.Page{Limit: -1}, true},
			"negative offset": {veg, repo.Page{Offset: -1}, true},
			"query limit":     {veg.Limit(5), repo.Page{}, false},
			"query offset":    {veg.Offset(5), repo.Page{}, false},
		} {
			_, err := tc.q.On(rec).Page(bg, tc.p)
			if err == nil || errors.Is(err, repo.ErrInvalidQuery) != tc.invalid {
				t.Errorf("%s: %v (ErrInvalidQuery wanted: %v)", name, err, tc.invalid)
			}
		}
		if calls := rec.Calls(); len(calls) != 0 {
			t.Fatalf("sent %q", calls)
		}
	})
}

func TestQueryKeyset(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, _ := seedGadgets(t, d, u)
		r := g.On(x)
		for _, name := range []string{"fig", "grape", "kale", "leek"} {
			kind := GadgetKind("fruit")
			if name == "kale" || name == "leek" {
				kind = "veg"
			}
			must(t, r.Create(bg, &Gadget{Name: name, Kind: kind, Qty: 9}))
		}
		walk := func(q repo.Query[Gadget], p repo.KeysetPage) string {
			t.Helper()
			var pages []string
			for {
				got, next, err := q.Keyset(bg, p)
				must(t, err)
				pages = append(pages, names(got))
				if next == "" {
					return strings.Join(pages, "|")
				}
				p.After = next
			}
		}
		veg := r.Query().Where(c.kind.Eq("veg"))
		if got := walk(veg, repo.KeysetPage{Limit: 2}); got != "carrot,daikon|eggplant,kale|leek" {
			t.Errorf("veg pages: %s", got)
		}
		if got := walk(veg, repo.KeysetPage{Limit: 2, Desc: true}); got != "leek,kale|eggplant,daikon|carrot" {
			t.Errorf("veg pages, descending: %s", got)
		}
		if got := walk(veg, repo.KeysetPage{Limit: 2, Filters: []repo.Filter{{Column: "qty", Op: ">=", Value: 4}}}); got != "daikon,eggplant|kale,leek" {
			t.Errorf("veg pages, filtered: %s", got)
		}
		// A cursor continues the query it came from, and is Base.Keyset's.
		fruit := r.Query().Where(c.kind.Eq("fruit"))
		first, next, err := fruit.Keyset(bg, repo.KeysetPage{Limit: 2})
		if err != nil || names(first) != "apple,banana" || next == "" {
			t.Fatalf("first fruit page: [%s] %q %v", names(first), next, err)
		}
		rest, _, err := fruit.Keyset(bg, repo.KeysetPage{After: next, Limit: 10})
		if err != nil || names(rest) != "fig,grape" {
			t.Fatalf("next fruit page: [%s], %v", names(rest), err)
		}
		all, _, err := r.Keyset(bg, repo.KeysetPage{After: next, Limit: 10})
		if err != nil || names(all) != "carrot,daikon,eggplant,fig,grape,kale,leek" {
			t.Fatalf("Base.Keyset after the query's cursor: [%s], %v", names(all), err)
		}

		rec := &recorder{driver: x.DriverName()}
		for name, run := range map[string]func() error{
			"bad cursor":   func() error { _, _, err := veg.On(rec).Keyset(bg, repo.KeysetPage{After: "x"}); return err },
			"sorted query": func() error { _, _, err := veg.On(rec).OrderBy(c.name.Asc()).Keyset(bg, repo.KeysetPage{}); return err },
			"query limit":  func() error { _, _, err := veg.On(rec).Limit(1).Keyset(bg, repo.KeysetPage{}); return err },
			"bad filter": func() error {
				_, _, err := veg.On(rec).Keyset(bg, repo.KeysetPage{Filters: []repo.Filter{{Column: "x"}}})
				return err
			},
			"negative size": func() error { _, _, err := veg.On(rec).Keyset(bg, repo.KeysetPage{Limit: -1}); return err },
		} {
			if err := run(); err == nil {
				t.Errorf("%s: no error", name)
			} else if name == "bad cursor" && !errors.Is(err, repo.ErrBadCursor) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if calls := rec.Calls(); len(calls) != 0 {
			t.Fatalf("sent %q", calls)
		}
	})
}
