package repo_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
)

// TestInKeepsACopy changes the caller's slice after In and checks that
// the predicate still holds the values it was given.
func TestInKeepsACopy(t *testing.T) {
	for _, d := range testdb.Dialects() {
		g := mustTable[Gadget](t, d)
		c := gadgetColumns(g)
		ids := []int64{1, 2, 3}
		kinds := []GadgetKind{"a", "b"}
		q := g.Query().Where(c.id.In(ids...), c.kind.In(kinds...))
		ids[0], kinds[0] = 99, "z"
		_, args, err := q.ToSQL()
		must(t, err)
		want := []any{[]int64{1, 2, 3}, []string{"a", "b"}}
		if d != db.Postgres {
			want = []any{"[1,2,3]", `["a","b"]`}
		}
		if !reflect.DeepEqual(args, want) {
			t.Errorf("%s: args %#v, want %#v", d, args, want)
		}
	}
}

// TestLikePatternLengths checks the pattern of every LIKE method for
// strings of each length up to 39 (short patterns are small allocations of
// their own size), with and without characters to escape.
func TestLikePatternLengths(t *testing.T) {
	g := mustTable[Gadget](t, db.SQLite)
	c := gadgetColumns(g)
	for n := range 40 {
		for _, s := range []string{strings.Repeat("a", n), strings.Repeat(`%_\`, n)[:n]} {
			e := repo.EscapeLike(s)
			for name, tc := range map[string]struct {
				p    repo.Predicate[Gadget]
				want string
			}{
				"Like":         {c.name.Like(s), e},
				"Contains":     {c.name.Contains(s), "%" + e + "%"},
				"StartsWith":   {c.name.StartsWith(s), e + "%"},
				"EndsWith":     {c.name.EndsWith(s), "%" + e},
				"LikePattern":  {c.name.LikePattern(s), s},
				"ILike":        {c.name.ILike(s), e},
				"ILikePattern": {c.name.ILikePattern(s), s},
			} {
				_, args, err := g.Query().Where(tc.p).ToSQL()
				must(t, err)
				if len(args) != 1 || args[0] != tc.want {
					t.Errorf("%s(%q): args %q, want [%q]", name, s, args, tc.want)
				}
			}
		}
	}
}

// TestOrderByOneKeyShared extends a query ordered by one key (whose list
// is shared with the Column) in several ways and checks that none changes
// another.
func TestOrderByOneKeyShared(t *testing.T) {
	g := mustTable[Gadget](t, db.Postgres)
	c := gadgetColumns(g)
	one := g.Query().OrderBy(c.name.Asc())
	other := g.Query().OrderBy(c.name.Asc()) // the same shared list
	a := one.OrderBy(c.qty.Desc())
	b := one.OrderBy(c.kind.Asc())
	text := func(q repo.Query[Gadget]) string {
		s, _, err := q.ToSQL()
		must(t, err)
		return s[strings.Index(s, "ORDER BY"):]
	}
	for q, want := range map[*repo.Query[Gadget]]string{
		&one:   `ORDER BY "name" ASC, "id" ASC`,
		&other: `ORDER BY "name" ASC, "id" ASC`,
		&a:     `ORDER BY "name" ASC, "qty" DESC, "id" ASC`,
		&b:     `ORDER BY "name" ASC, "kind" ASC, "id" ASC`,
	} {
		if got := text(*q); got != want {
			t.Errorf("%s, want %s", got, want)
		}
	}
}

// TestQueryBuildAllocs checks how many allocations BenchmarkQueryBuild's
// query takes, built and rendered, once its shape is cached: at most 10.
func TestQueryBuildAllocs(t *testing.T) {
	for _, d := range testdb.Dialects() {
		g := mustTable[Gadget](t, d)
		c := gadgetColumns(g)
		ids := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
		build := func() {
			_, _, err := g.Query().Where(c.qty.Gt(1), c.kind.Eq("veg"), c.name.StartsWith("a"), c.id.In(ids...)).
				OrderBy(c.name.Asc()).Limit(20).ToSQL()
			must(t, err)
		}
		if n := testing.AllocsPerRun(50, build); n > 10 {
			t.Errorf("%s: %v allocations", d, n)
		}
	}
}
