package repo_test

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/jmoiron/sqlx"
)

// GadgetKind is a named string type, for columns whose Go type is not a
// plain string.
type GadgetKind string

// Dims is a plain embedded struct: its fields are columns of Gadget.
type Dims struct {
	Weight int `db:"weight"`
}

// Gadget is the query builder's test model: every value kind, an embedded
// struct, timestamps and soft delete.
type Gadget struct {
	ID     int64  `db:"id"`
	Name   string `db:"name"`
	Qty    int    `db:"qty"`
	Price  float64
	Note   *string
	Active bool
	Kind   GadgetKind
	Dims
	repo.Timestamps
	repo.SoftDelete
	Secret string `db:"-"`
	hidden string //nolint:unused // an unexported field is not a column
}

func (Gadget) TableName() string { return "gadgets" }

var gadgetCols = []string{
	"name VARCHAR(255) NOT NULL",
	"qty INT NOT NULL",
	"price DOUBLE PRECISION NOT NULL",
	"note VARCHAR(255) NULL",
	"active BOOLEAN NOT NULL",
	"kind VARCHAR(255) NOT NULL",
	"weight INT NOT NULL",
	"created_at {ts} NOT NULL",
	"updated_at {ts} NOT NULL",
	"deleted_at {ts} NULL",
}

// gcols are Gadget's typed columns.
type gcols struct {
	id      repo.Column[Gadget, int64]
	name    repo.Column[Gadget, string]
	qty     repo.Column[Gadget, int]
	price   repo.Column[Gadget, float64]
	note    repo.Column[Gadget, *string]
	active  repo.Column[Gadget, bool]
	kind    repo.Column[Gadget, GadgetKind]
	weight  repo.Column[Gadget, int]
	created repo.Column[Gadget, time.Time]
	updated repo.Column[Gadget, time.Time]
	deleted repo.Column[Gadget, *time.Time]
}

func gadgetColumns(t *repo.Table[Gadget]) gcols {
	return gcols{
		id:      repo.MustCol(t, func(g *Gadget) *int64 { return &g.ID }),
		name:    repo.MustCol(t, func(g *Gadget) *string { return &g.Name }),
		qty:     repo.MustCol(t, func(g *Gadget) *int { return &g.Qty }),
		price:   repo.MustCol(t, func(g *Gadget) *float64 { return &g.Price }),
		note:    repo.MustCol(t, func(g *Gadget) **string { return &g.Note }),
		active:  repo.MustCol(t, func(g *Gadget) *bool { return &g.Active }),
		kind:    repo.MustCol(t, func(g *Gadget) *GadgetKind { return &g.Kind }),
		weight:  repo.MustCol(t, func(g *Gadget) *int { return &g.Weight }),
		created: repo.MustCol(t, func(g *Gadget) *time.Time { return &g.CreatedAt }),
		updated: repo.MustCol(t, func(g *Gadget) *time.Time { return &g.UpdatedAt }),
		deleted: repo.MustCol(t, func(g *Gadget) **time.Time { return &g.DeletedAt }),
	}
}

// BoxExtra is embedded by pointer in Boxed.
type BoxExtra struct {
	Color string
	Size  sql.NullString
}

// Boxed has an embedded pointer, whose columns Col must resolve too.
type Boxed struct {
	ID    int64
	Label string
	*BoxExtra
}

func TestColResolves(t *testing.T) {
	g := mustTable[Gadget](t, db.SQLite)
	c := gadgetColumns(g)
	got := []string{c.id.Name(), c.name.Name(), c.qty.Name(), c.price.Name(), c.note.Name(), c.active.Name(),
		c.kind.Name(), c.weight.Name(), c.created.Name(), c.deleted.Name()}
	want := []string{"id", "name", "qty", "price", "note", "active", "kind", "weight", "created_at", "deleted_at"}
	if !slices.Equal(got, want) {
		t.Fatalf("names %q, want %q", got, want)
	}
	b := mustTable[Boxed](t, db.SQLite)
	color := repo.Col(b, func(x *Boxed) *string { return &x.Color })
	size := repo.Col(b, func(x *Boxed) *sql.NullString { return &x.Size })
	if color.Err() != nil || color.Name() != "color" || size.Err() != nil || size.Name() != "size" {
		t.Fatalf("embedded pointer: %q %v, %q %v", color.Name(), color.Err(), size.Name(), size.Err())
	}
}

func TestColErrors(t *testing.T) {
	g := mustTable[Gadget](t, db.SQLite)
	b := mustTable[Boxed](t, db.SQLite)
	var elsewhere string
	cases := map[string]error{
		"db:\"-\"":          repo.Col(g, func(x *Gadget) *string { return &x.Secret }).Err(),
		"unexported":        repo.Col(g, func(x *Gadget) *string { return &x.hidden }).Err(),
		"not a field":       repo.Col(g, func(*Gadget) *string { return &elsewhere }).Err(),
		"nil":               repo.Col(g, func(*Gadget) *string { return nil }).Err(),
		"panics":            repo.Col(g, func(*Gadget) *string { panic("boom") }).Err(),
		"nil accessor":      repo.Col[Gadget, string](g, nil).Err(),
		"nil table":         repo.Col(nil, func(x *Gadget) *string { return &x.Name }).Err(),
		"inner field":       repo.Col(b, func(x *Boxed) *string { return &x.Size.String }).Err(),
		"zero Column":       repo.Column[Gadget, string]{}.Err(),
		"struct not column": repo.Col(g, func(x *Gadget) *Dims { return &x.Dims }).Err(),
	}
	for name, err := range cases {
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if errors.Is(err, repo.ErrInvalidQuery) || !strings.HasPrefix(err.Error(), "repo: ") {
			t.Errorf("%s: %v: want a programming error starting with repo:", name, err)
		}
	}

	// The error follows the column into every query, which sends nothing.
	bad := repo.Col(g, func(x *Gadget) *string { return &x.Secret })
	rec := &recorder{driver: "sqlite"}
	qs := map[string]repo.Query[Gadget]{
		"predicate":  g.Query().Where(bad.Eq("x")),
		"nested":     g.Query().Where(repo.Or(repo.Not(repo.And(bad.In("a", "b"))))),
		"order":      g.Query().OrderBy(bad.Desc()),
		"zero pred":  g.Query().Where(repo.Predicate[Gadget]{}),
		"zero order": g.Query().OrderBy(repo.Ordering[Gadget]{}),
		"zero col":   g.Query().Where(repo.Column[Gadget, int]{}.Gt(1)),
	}
	for name, q := range qs {
		if _, _, err := q.ToSQL(); err == nil {
			t.Errorf("%s: ToSQL gave no error", name)
		}
		if _, err := q.On(rec).All(bg); err == nil {
			t.Errorf("%s: All gave no error", name)
		}
		if _, err := q.On(rec).Count(bg); err == nil {
			t.Errorf("%s: Count gave no error", name)
		}
	}
	if calls := rec.Calls(); len(calls) != 0 {
		t.Fatalf("sent %q", calls)
	}

	defer func() {
		if recover() == nil {
			t.Fatal("MustCol of an unmapped field did not panic")
		}
	}()
	repo.MustCol(g, func(x *Gadget) *string { return &x.Secret })
}

func TestQueryToSQL(t *testing.T) {
	sel := `SELECT "id", "name", "qty", "price", "note", "active", "kind", "weight", "created_at", "updated_at", "deleted_at" FROM "gadgets"`
	mysel := strings.ReplaceAll(sel, `"`, "`")
	type want struct{ sql, args string }
	cases := []struct {
		name  string
		build func(c gcols, q repo.Query[Gadget]) repo.Query[Gadget]
		want  map[db.Dialect]want
	}{{
		name:  "every row",
		build: func(c gcols, q repo.Query[Gadget]) repo.Query[Gadget] { return q },
		want: map[db.Dialect]want{
			db.Postgres: {sel + ` WHERE "deleted_at" IS NULL ORDER BY "id" ASC`, "[]"},
			db.MySQL:    {mysel + " WHERE `deleted_at` IS NULL ORDER BY `id` ASC", "[]"},
		},
	}, {
		name: "nesting and numbering",
		build: func(c gcols, q repo.Query[Gadget]) repo.Query[Gadget] {
			return q.Where(c.qty.Gt(1), repo.Or(c.name.Eq("a"), repo.And(c.price.Le(2.5), repo.Not(c.kind.Ne("veg"))))).
				Where(c.note.IsNull(), c.weight.Between(3, 4)).
				OrderBy(c.name.Desc(), c.qty.Asc()).Limit(10).Offset(20)
		},
		want: map[db.Dialect]want{
			db.Postgres: {sel + ` WHERE "deleted_at" IS NULL AND "qty" > $1 AND ("name" = $2 OR ("price" <= $3 AND NOT ("kind" <> $4))) AND "note" IS NULL AND "weight" BETWEEN $5 AND $6 ORDER BY "name" DESC, "qty" ASC, "id" ASC LIMIT $7 OFFSET $8`,
				"[1 a 2.5 veg 3 4 10 20]"},
			db.SQLite: {sel + ` WHERE "deleted_at" IS NULL AND "qty" > ? AND ("name" = ? OR ("price" <= ? AND NOT ("kind" <> ?))) AND "note" IS NULL AND "weight" BETWEEN ? AND ? ORDER BY "name" DESC, "qty" ASC, "id" ASC LIMIT ? OFFSET ?`,
				"[1 a 2.5 veg 3 4 10 20]"},
		},
	}, {
		name: "in, like, trashed, id order",
		build: func(c gcols, q repo.Query[Gadget]) repo.Query[Gadget] {
			return q.WithTrashed().Where(c.id.In(1, 2, 3), c.name.NotIn("x"), c.name.Contains("50%_off")).OrderBy(c.id.Desc())
		},
		want: map[db.Dialect]want{
			db.Postgres: {sel + ` WHERE "id" = ANY($1) AND "name" <> ALL($2) AND "name" LIKE $3 ESCAPE '\' ORDER BY "id" DESC`,
				`[[1 2 3] [x] %50\%\_off%]`},
			db.SQLite: {sel + ` WHERE "id" IN (SELECT value FROM json_each(?)) AND "name" NOT IN (SELECT value FROM json_each(?)) AND "name" LIKE ? ESCAPE '\' ORDER BY "id" DESC`,
				`[[1,2,3] ["x"] %50\%\_off%]`},
			db.MySQL: {mysel + " WHERE `id` IN (SELECT j.v FROM JSON_TABLE(?, '$[*]' COLUMNS (v BIGINT PATH '$')) AS j) AND `name` NOT IN (SELECT j.v FROM JSON_TABLE(?, '$[*]' COLUMNS (v LONGTEXT PATH '$')) AS j) AND `name` LIKE ? ESCAPE CHAR(92) ORDER BY `id` DESC",
				`[[1,2,3] ["x"] %50\%\_off%]`},
		},
	}, {
		name: "null values, empty lists and combinations",
		build: func(c gcols, q repo.Query[Gadget]) repo.Query[Gadget] {
			return q.Where(c.note.Eq(nil), c.note.Ne(nil), c.id.In(), c.id.NotIn(), repo.And[Gadget](), repo.Or[Gadget](), repo.Or(c.qty.Eq(1)))
		},
		want: map[db.Dialect]want{
			db.Postgres: {sel + ` WHERE "deleted_at" IS NULL AND "note" IS NULL AND "note" IS NOT NULL AND 1 = 0 AND 1 = 1 AND 1 = 1 AND 1 = 0 AND "qty" = $1 ORDER BY "id" ASC`, "[1]"},
		},
	}, {
		name: "offset without limit",
		build: func(c gcols, q repo.Query[Gadget]) repo.Query[Gadget] {
			return q.WithTrashed().Offset(5)
		},
		want: map[db.Dialect]want{
			db.Postgres: {sel + ` ORDER BY "id" ASC OFFSET $1`, "[5]"},
			db.SQLite:   {sel + ` ORDER BY "id" ASC LIMIT -1 OFFSET ?`, "[5]"},
			db.MySQL:    {mysel + " ORDER BY `id` ASC LIMIT 18446744073709551615 OFFSET ?", "[5]"},
		},
	}}
	for _, tc := range cases {
		for d, w := range tc.want {
			t.Run(tc.name+"/"+d.Name(), func(t *testing.T) {
				g := mustTable[Gadget](t, d)
				got, args, err := tc.build(gadgetColumns(g), g.Query()).ToSQL()
				must(t, err)
				if got != w.sql {
					t.Errorf("SQL\n got %s\nwant %s", got, w.sql)
				}
				if a := fmt.Sprint(args); a != w.args {
					t.Errorf("args %s, want %s", a, w.args)
				}
			})
		}
	}
}

func TestQuerySameShapeSameText(t *testing.T) {
	for _, d := range testdb.Dialects() {
		g := mustTable[Gadget](t, d)
		c := gadgetColumns(g)
		build := func(n int, name string) string {
			ids := make([]int64, n)
			for i := range ids {
				ids[i] = int64(i * 7)
			}
			s, _, err := g.Query().Where(c.id.In(ids...), c.name.Contains(name), repo.Not(c.qty.Eq(n))).Limit(n).ToSQL()
			must(t, err)
			return s
		}
		a, b, c2 := build(1, "x"), build(1000, "%_\\"), build(100000, "")
		if a != b || b != c2 {
			t.Fatalf("%s: texts differ:\n%s\n%s\n%s", d, a, b, c2)
		}
	}
}

func TestQueryInvalidValues(t *testing.T) {
	g := mustTable[Gadget](t, db.SQLite)
	c := gadgetColumns(g)
	nan := math.NaN()
	cases := map[string]struct {
		q       repo.Query[Gadget]
		invalid bool // a value a client may send: ErrInvalidQuery
	}{
		"negative limit":   {g.Query().Limit(-1), true},
		"negative offset":  {g.Query().Offset(-1), true},
		"invalid UTF-8":    {g.Query().Where(c.name.In("ok", "\xff")), true},
		"NaN in IN":        {g.Query().Where(c.price.In(1, nan)), true},
		"nil in IN":        {g.Query().Where(c.note.In(ptr("a"), nil)), false},
		"time in IN":       {g.Query().Where(c.created.In(time.Now())), false},
		"nil Lt":           {g.Query().Where(c.note.Lt(nil)), false},
		"nil Between":      {g.Query().Where(c.deleted.Between(nil, ptr(time.Now()))), false},
		"LIKE on a number": {g.Query().Where(c.qty.Contains("1")), false},
	}
	for name, tc := range cases {
		_, _, err := tc.q.ToSQL()
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if errors.Is(err, repo.ErrInvalidQuery) != tc.invalid {
			t.Errorf("%s: %v: ErrInvalidQuery is %v, want %v", name, err, !tc.invalid, tc.invalid)
		}
	}
	// A time is fine in an IN list on PostgreSQL, which binds an array.
	pg := mustTable[Gadget](t, db.Postgres)
	if _, _, err := pg.Query().Where(gadgetColumns(pg).created.In(time.Now())).ToSQL(); err != nil {
		t.Fatal(err)
	}
}

func TestEscapeLike(t *testing.T) {
	for in, want := range map[string]string{"": "", "plain": "plain", "50%": `50\%`, "a_b": `a\_b`, `c:\dir`: `c:\\dir`, `%_\`: `\%\_\\`} {
		if got := repo.EscapeLike(in); got != want {
			t.Errorf("EscapeLike(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestQueryImmutable extends one base query in many ways, from several
// goroutines at once (run it with -race), and checks that every query is
// the one it was built as.
func TestQueryImmutable(t *testing.T) {
	g := mustTable[Gadget](t, db.Postgres)
	c := gadgetColumns(g)
	// Spare capacity in the base's slices would let two appends share it.
	base := g.Query().Where(c.qty.Gt(0), c.qty.Lt(100)).Where(c.active.Eq(true)).OrderBy(c.name.Asc(), c.qty.Desc()).OrderBy(c.kind.Asc())
	baseSQL, _, err := base.ToSQL()
	must(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				name := fmt.Sprintf("w%d-%d", w, i)
				q := base.Where(c.name.Eq(name)).OrderBy(c.weight.Desc())
				if w%2 == 0 {
					q = base.Where(c.kind.Eq(GadgetKind(name))).OrderBy(c.price.Asc())
				}
				s, args, err := q.ToSQL()
				if err != nil {
					errs <- err
					return
				}
				var wantCol, wantOrder string
				if w%2 == 0 {
					wantCol, wantOrder = `"kind" = $4`, `"kind" ASC, "price" ASC, "id" ASC`
				} else {
					wantCol, wantOrder = `"name" = $4`, `"kind" ASC, "weight" DESC, "id" ASC`
				}
				if !strings.Contains(s, `"active" = $3 AND `+wantCol+` ORDER BY "name" ASC, "qty" DESC, `+wantOrder) ||
					len(args) != 4 || fmt.Sprint(args[3]) != name {
					errs <- fmt.Errorf("worker %d built %s %v", w, s, args)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s, _, _ := base.ToSQL(); s != baseSQL {
		t.Fatalf("the base query changed:\n%s\n%s", baseSQL, s)
	}
}

// seedGadgets creates the gadgets table on databaseURL and fills it.
func seedGadgets(t *testing.T, d db.Dialect, databaseURL string) (*sqlx.DB, *repo.Table[Gadget], gcols, map[string]*Gadget) {
	t.Helper()
	x := openDB(t, databaseURL)
	createTable(t, x, d, "gadgets", gadgetCols...)
	g := mustTable[Gadget](t, d)
	r := g.On(x)
	rows := []*Gadget{
		{Name: "apple", Qty: 1, Price: 0.5, Active: true, Kind: "fruit", Dims: Dims{10}},
		{Name: "banana", Qty: 2, Price: 0.25, Note: ptr("yellow"), Active: true, Kind: "fruit", Dims: Dims{20}},
		{Name: "carrot", Qty: 3, Price: 1.5, Kind: "veg", Dims: Dims{30}},
		{Name: "daikon", Qty: 4, Price: 2, Note: ptr("long"), Kind: "veg", Dims: Dims{40}},
		{Name: "eggplant", Qty: 5, Price: 3.25, Note: ptr(""), Active: true, Kind: "veg", Dims: Dims{50}},
		{Name: "zombie", Qty: 3, Price: 1.5, Kind: "veg", Dims: Dims{30}},
	}
	must(t, r.CreateMany(bg, rows))
	must(t, r.Delete(bg, rows[5].ID))
	byName := map[string]*Gadget{}
	for _, m := range rows {
		byName[m.Name] = m
	}
	return x, g, gadgetColumns(g), byName
}

func names(gs []Gadget) string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.Name
	}
	return strings.Join(out, ",")
}

func TestQueryPredicates(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, rows := seedGadgets(t, d, u)
		r := g.On(x)
		created := rows["carrot"].CreatedAt
		cases := []struct {
			name string
			p    repo.Predicate[Gadget]
			want string // names in id order
		}{
			{"Eq", c.name.Eq("banana"), "banana"},
			{"Eq named type", c.kind.Eq("fruit"), "apple,banana"},
			{"Eq bool", c.active.Eq(false), "carrot,daikon"},
			{"Eq pointer", c.note.Eq(ptr("long")), "daikon"},
			{"Eq nil is IS NULL", c.note.Eq(nil), "apple,carrot"},
			{"Ne", c.kind.Ne("veg"), "apple,banana"},
			{"Ne nil is NOT NULL", c.note.Ne(nil), "banana,daikon,eggplant"},
			{"Ne leaves NULL out", c.note.Ne(ptr("long")), "banana,eggplant"},
			{"Lt", c.qty.Lt(3), "apple,banana"},
			{"Le", c.qty.Le(3), "apple,banana,carrot"},
			{"Gt float", c.price.Gt(1.5), "daikon,eggplant"},
			{"Ge", c.price.Ge(1.5), "carrot,daikon,eggplant"},
			{"Ge embedded", c.weight.Ge(40), "daikon,eggplant"},
			{"Between", c.qty.Between(2, 4), "banana,carrot,daikon"},
			{"Between times", c.created.Between(created, created), "apple,banana,carrot,daikon,eggplant"},
			{"IsNull", c.note.IsNull(), "apple,carrot"},
			{"NotNull", c.note.NotNull(), "banana,daikon,eggplant"},
			{"In none", c.id.In(), ""},
			{"In one", c.name.In("carrot"), "carrot"},
			{"In many", c.qty.In(5, 1, 3, 99), "apple,carrot,eggplant"},
			{"In named type", c.kind.In("fruit", "nut"), "apple,banana"},
			{"In floats", c.price.In(0.25, 3.25), "banana,eggplant"},
			{"In bools", c.active.In(true), "apple,banana,eggplant"},
			{"In pointers", c.note.In(ptr("yellow"), ptr("")), "banana,eggplant"},
			{"NotIn none", c.id.NotIn(), "apple,banana,carrot,daikon,eggplant"},
			{"NotIn", c.name.NotIn("apple", "daikon"), "banana,carrot,eggplant"},
			{"NotIn leaves NULL out", c.note.NotIn(ptr("x")), "banana,daikon,eggplant"},
			{"Like is literal", c.name.Like("carrot"), "carrot"},
			{"Contains", c.name.Contains("an"), "banana,eggplant"},
			{"StartsWith", c.name.StartsWith("da"), "daikon"},
			{"EndsWith", c.name.EndsWith("t"), "carrot,eggplant"},
			{"LikePattern", c.name.LikePattern("_a%"), "banana,carrot,daikon"},
			{"Contains on *string", c.note.Contains("l"), "banana,daikon"},
			{"And", repo.And(c.kind.Eq("veg"), c.active.Eq(true)), "eggplant"},
			{"Or", repo.Or(c.qty.Eq(1), c.qty.Eq(5)), "apple,eggplant"},
			{"Not", repo.Not(c.kind.Eq("veg")), "apple,banana"},
			{"nested", repo.Or(repo.And(c.kind.Eq("fruit"), repo.Not(c.qty.Eq(1))), repo.And(c.price.Gt(1), c.note.IsNull())), "banana,carrot"},
			// carrot's NULL note makes the Or NULL, and NOT NULL is not true.
			{"Not of Or", repo.Not(repo.Or(c.qty.Lt(2), c.qty.Gt(4), c.note.In(ptr("long")))), "banana"},
			{"Not of Or, NULL handled", repo.Not(repo.Or(c.qty.Lt(2), c.qty.Gt(4), repo.And(c.note.NotNull(), c.note.In(ptr("long"))))), "banana,carrot"},
			{"empty And", repo.And[Gadget](), "apple,banana,carrot,daikon,eggplant"},
			{"empty Or", repo.Or[Gadget](), ""},
		}
		for _, tc := range cases {
			q := r.Query().Where(tc.p)
			got, err := q.All(bg)
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			if names(got) != tc.want {
				s, args, _ := q.ToSQL()
				t.Errorf("%s: got [%s], want [%s]\n%s %v", tc.name, names(got), tc.want, s, args)
			}
			n, err := q.Count(bg)
			if want := len(strings.Split(tc.want, ",")); err != nil || tc.want != "" && n != int64(want) || tc.want == "" && n != 0 {
				t.Errorf("%s: Count = %d, %v", tc.name, n, err)
			}
			ok, err := q.Exists(bg)
			if err != nil || ok != (tc.want != "") {
				t.Errorf("%s: Exists = %v, %v", tc.name, ok, err)
			}
			first, err := q.First(bg)
			if tc.want == "" {
				if !errors.Is(err, repo.ErrNotFound) {
					t.Errorf("%s: First = %v, %v; want ErrNotFound", tc.name, first, err)
				}
			} else if err != nil || first.Name != strings.Split(tc.want, ",")[0] {
				t.Errorf("%s: First = %+v, %v", tc.name, first, err)
			}
		}
	})
}

func TestQueryOrderLimitOffset(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, rows := seedGadgets(t, d, u)
		q := g.On(x).Query()
		for _, tc := range []struct {
			q    repo.Query[Gadget]
			want string
		}{
			{q, "apple,banana,carrot,daikon,eggplant"},
			{q.OrderBy(c.name.Desc()), "eggplant,daikon,carrot,banana,apple"},
			{q.OrderBy(c.kind.Desc(), c.price.Desc()), "eggplant,daikon,carrot,apple,banana"},
			{q.OrderBy(c.kind.Asc()).OrderBy(c.id.Desc()), "banana,apple,eggplant,daikon,carrot"},
			{q.Limit(2), "apple,banana"},
			{q.Limit(0), ""},
			{q.Offset(3), "daikon,eggplant"},
			{q.OrderBy(c.qty.Desc()).Limit(2).Offset(1), "daikon,carrot"},
			{q.WithTrashed().OrderBy(c.qty.Desc(), c.name.Desc()).Limit(3), "eggplant,daikon,zombie"},
		} {
			got, err := tc.q.All(bg)
			must(t, err)
			if names(got) != tc.want {
				s, _, _ := tc.q.ToSQL()
				t.Errorf("got [%s], want [%s]: %s", names(got), tc.want, s)
			}
		}
		// First follows the order and the offset, and fills every field.
		f, err := q.OrderBy(c.price.Desc()).Offset(1).First(bg)
		must(t, err)
		if want := rows["daikon"]; f.ID != want.ID || f.Weight != 40 || f.Note == nil || *f.Note != "long" || !f.CreatedAt.Equal(want.CreatedAt) {
			t.Fatalf("First = %+v", f)
		}
		// Count and Exists ignore order, limit and offset.
		if n, err := q.Where(c.qty.Gt(1)).OrderBy(c.name.Asc()).Limit(1).Offset(10).Count(bg); n != 4 || err != nil {
			t.Fatalf("Count = %d, %v", n, err)
		}
		if ok, err := q.Limit(0).Offset(10).Exists(bg); !ok || err != nil {
			t.Fatalf("Exists = %v, %v", ok, err)
		}
	})
}

func TestQuerySoftDelete(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, rows := seedGadgets(t, d, u)
		zombie := c.name.Eq("zombie")
		for name, q := range map[string]repo.Query[Gadget]{
			"Base.Query":   g.On(x).Query().Where(zombie),
			"Table.Query":  g.Query().On(x).Where(zombie),
			"deleted_at":   g.On(x).Query().Where(c.deleted.NotNull()),
			"in an Or":     g.On(x).Query().Where(repo.Or(zombie, c.id.Eq(rows["zombie"].ID))),
			"through Not":  g.On(x).Query().Where(repo.Not(c.name.Ne("zombie"))),
			"after a page": g.On(x).Query().Where(zombie).Limit(5).Offset(0),
		} {
			got, err := q.All(bg)
			if err != nil || len(got) != 0 {
				t.Errorf("%s: All = [%s], %v", name, names(got), err)
			}
			if n, err := q.Count(bg); n != 0 || err != nil {
				t.Errorf("%s: Count = %d, %v", name, n, err)
			}
			if ok, err := q.Exists(bg); ok || err != nil {
				t.Errorf("%s: Exists = %v, %v", name, ok, err)
			}
			if _, err := q.First(bg); !errors.Is(err, repo.ErrNotFound) {
				t.Errorf("%s: First: %v", name, err)
			}
			got, err = q.WithTrashed().All(bg)
			if err != nil || names(got) != "zombie" {
				t.Errorf("%s: WithTrashed All = [%s], %v", name, names(got), err)
			}
		}
		got, err := g.On(x).WithTrashed().Query().Where(c.qty.Eq(3)).All(bg)
		if err != nil || names(got) != "carrot,zombie" {
			t.Errorf("Base.WithTrashed().Query() = [%s], %v", names(got), err)
		}
	})
}

func TestQueryLikeEscaping(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x := openDB(t, u)
		createTable(t, x, d, "gadgets", gadgetCols...)
		g := mustTable[Gadget](t, d)
		c := gadgetColumns(g)
		r := g.On(x)
		for _, n := range []string{"50%", "50x", "a_b", "axb", `back\slash`, "back_slash", "backXslash", `c:\%`, `c:\x`} {
			must(t, r.Create(bg, &Gadget{Name: n, Kind: "k"}))
		}
		for _, tc := range []struct {
			p    repo.Predicate[Gadget]
			want string
		}{
			{c.name.Contains("%"), "50%,c:\\%"},
			{c.name.Like("50%"), "50%"},
			{c.name.Like("a_b"), "a_b"},
			{c.name.StartsWith("a_"), "a_b"},
			{c.name.EndsWith("_b"), "a_b"},
			{c.name.Contains(`\`), `back\slash,c:\%,c:\x`},
			{c.name.Contains(`k\s`), `back\slash`},
			{c.name.EndsWith(`\%`), `c:\%`},
			{c.name.Contains("_"), "a_b,back_slash"},
			{c.name.LikePattern("a_b"), "a_b,axb"},
			{c.name.LikePattern(`back\_slash`), "back_slash"},
			{c.name.LikePattern(`50\%`), "50%"},
			{c.name.LikePattern(`c:\\%`), `c:\%,c:\x`},
		} {
			got, err := r.Query().Where(tc.p).All(bg)
			if err != nil || names(got) != tc.want {
				s, args, _ := r.Query().Where(tc.p).ToSQL()
				t.Errorf("got [%s], %v; want [%s]: %s %q", names(got), err, tc.want, s, args)
			}
		}
	})
}

// TestQueryInjectionCorpus stores hostile strings and finds each one, and
// only it, through every value path of the builder.
func TestQueryInjectionCorpus(t *testing.T) {
	corpus := []string{
		`'; DROP TABLE gadgets; --`,
		`Robert'); DROP TABLE gadgets;--`,
		`" OR "1"="1`,
		"` OR 1=1 -- ",
		`\'; DELETE FROM gadgets; --`,
		`\`, `\\`, `\%`, `'`, `''`,
		`/* comment */ 1`, `-- comment`, `# comment`,
		`$1 ? :name @p1 %s ?? $$`,
		`', '$[*]' COLUMNS (v INT PATH '$')) AS j) OR 1=1 --`,
		`"]) OR 1=1 --`, `["a","b"]`, `{"a":1}`,
		"x' OR 'x'='x",
		"ʼ OR ʼ1ʼ=ʼ1", // U+02BC, a confusable apostrophe
		"＇ OR ＇1＇=＇1", // fullwidth apostrophes
		"a\u00a0b\u200bc", "e\u0301", "emoji 🦫",
		"nul\x00byte",
	}
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x := openDB(t, u)
		createTable(t, x, d, "gadgets", gadgetCols...)
		g := mustTable[Gadget](t, d)
		c := gadgetColumns(g)
		r := g.On(x)
		stored := map[string]int64{}
		for i, s := range corpus {
			m := &Gadget{Name: s, Note: ptr(s), Kind: GadgetKind(s), Qty: i}
			err := r.Create(bg, m)
			if d == db.Postgres && strings.ContainsRune(s, 0) {
				if err == nil {
					t.Fatalf("PostgreSQL stored a NUL byte")
				}
				continue // PostgreSQL's text cannot hold NUL
			}
			must(t, err)
			stored[s] = m.ID
		}
		for s, id := range stored {
			for name, p := range map[string]repo.Predicate[Gadget]{
				"Eq":          c.name.Eq(s),
				"Eq pointer":  c.note.Eq(ptr(s)),
				"Eq named":    c.kind.Eq(GadgetKind(s)),
				"In":          c.name.In(s),
				"In named":    c.kind.In(GadgetKind(s), "\x01none"),
				"In pointers": c.note.In(ptr(s)),
				"NotIn":       repo.Not(c.name.NotIn(s)),
				"Like":        c.name.Like(s),
				"Contains":    repo.And(c.name.Contains(s), c.note.StartsWith(s), c.kind.EndsWith(string(s))),
				"Between":     c.name.Between(s, s),
				"Ge and Le":   repo.And(c.name.Ge(s), c.name.Le(s)),
				"Or":          repo.Or(c.name.Eq(s), c.name.Eq(s+"\x01")),
			} {
				got, err := r.Query().Where(p).All(bg)
				if err != nil {
					t.Errorf("%s %q: %v", name, s, err)
					continue
				}
				// Collations may equate look-alikes (MySQL's general_ci);
				// the stored row must be found, and none that differs in
				// bytes unless the database's comparison equates them.
				found := slices.ContainsFunc(got, func(g Gadget) bool { return g.ID == id && g.Name == s })
				if !found {
					t.Errorf("%s %q: row %d not found, got %q", name, s, id, names(got))
				}
				if d != db.MySQL && len(got) != 1 && name != "Contains" {
					t.Errorf("%s %q: %d rows: %q", name, s, len(got), names(got))
				}
			}
		}
		if n := countRows(t, x, d, "gadgets"); n != len(stored) {
			t.Fatalf("%d rows, want %d", n, len(stored))
		}
		var back []string
		must(t, x.SelectContext(bg, &back, "SELECT name FROM gadgets ORDER BY id"))
		want := slices.DeleteFunc(slices.Clone(corpus), func(s string) bool { _, ok := stored[s]; return !ok })
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("stored %q, want %q", back, want)
		}
	})
}

// TestQueryInLarge binds 100,000 keys in one IN, past every database's
// parameter limit, and finds the one that matches.
func TestQueryInLarge(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, rows := seedGadgets(t, d, u)
		r := g.On(x)
		const n = 100_000
		ids := make([]int64, 0, n)
		strs := make([]string, 0, n)
		for i := range n - 1 {
			ids = append(ids, int64(1_000_000+i))
			strs = append(strs, fmt.Sprintf("no-such-gadget-%d", i))
		}
		ids = append(ids, rows["carrot"].ID)
		strs = append(strs, "daikon")
		got, err := r.Query().Where(c.id.In(ids...)).All(bg)
		if err != nil || names(got) != "carrot" {
			t.Fatalf("In(100,000 ids) = [%s], %v", names(got), err)
		}
		got, err = r.Query().Where(c.name.In(strs...)).All(bg)
		if err != nil || names(got) != "daikon" {
			t.Fatalf("In(100,000 names) = [%s], %v", names(got), err)
		}
		cnt, err := r.Query().Where(c.id.NotIn(ids...)).Count(bg)
		if err != nil || cnt != 4 {
			t.Fatalf("NotIn(100,000 ids) counts %d, %v", cnt, err)
		}
	})
}

// TestQueryRunsInTx runs a query on the request's lazy transaction.
func TestQueryRunsInTx(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, _ := seedGadgets(t, d, u)
		base := g.Query().Where(c.kind.Eq("fruit")) // built once, without a Querier
		if _, err := base.All(bg); err == nil {
			t.Fatal("a query without a Querier ran")
		}
		errStop := errors.New("roll back")
		err := inTx(bg, x, func(tx *db.Tx) error {
			must(t, g.On(tx).Create(bg, &Gadget{Name: "fig", Kind: "fruit"}))
			got, err := base.On(tx).All(bg)
			if err != nil || names(got) != "apple,banana,fig" {
				t.Errorf("in the transaction: [%s], %v", names(got), err)
			}
			return errStop
		})
		if !errors.Is(err, errStop) {
			t.Fatal(err)
		}
		if got, err := base.On(x).All(bg); err != nil || names(got) != "apple,banana" {
			t.Fatalf("after the rollback: [%s], %v", names(got), err)
		}
	})
}

// BenchmarkQueryBuild builds and renders a select with three predicates, an
// IN of 10, an order and a limit.
func BenchmarkQueryBuild(b *testing.B) {
	for _, d := range testdb.Dialects() {
		b.Run(d.Name(), func(b *testing.B) {
			g := mustTable[Gadget](b, d)
			c := gadgetColumns(g)
			ids := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
			b.ReportAllocs()
			for b.Loop() {
				_, _, err := g.Query().Where(c.qty.Gt(1), c.kind.Eq("veg"), c.name.StartsWith("a"), c.id.In(ids...)).
					OrderBy(c.name.Asc()).Limit(20).ToSQL()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestQueryShapeCache renders queries of many shapes twice with different
// values, on a table that has cached the shape and on a fresh one, and
// checks that both give the same text and arguments.
func TestQueryShapeCache(t *testing.T) {
	type build func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget]
	shapes := map[string]build{
		"plain": func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] { return q },
		"bench": func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] {
			ids := make([]int64, v+1)
			for i := range ids {
				ids[i] = int64(i * v)
			}
			return q.Where(c.qty.Gt(v), c.kind.Eq(GadgetKind(fmt.Sprint(v))), c.name.StartsWith(fmt.Sprint(v)), c.id.In(ids...)).
				OrderBy(c.name.Asc()).Limit(v)
		},
		"nested": func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] {
			return q.Where(repo.Or(c.name.Eq("a"), repo.And(c.price.Le(float64(v)), repo.Not(c.kind.Ne("veg")))), c.weight.Between(v, v+1)).
				OrderBy(c.qty.Desc(), c.id.Desc()).Limit(v).Offset(v + 1)
		},
		"one kid": func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] { return q.Where(repo.Or(c.qty.Eq(v))) },
		"two kids": func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] {
			return q.Where(repo.Or(c.qty.Eq(v), c.qty.Eq(v)))
		},
		"null eq": func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] { return q.Where(c.note.Eq(nil)) },
		"pointer eq": func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] {
			return q.Where(c.note.Eq(ptr(fmt.Sprint(v))))
		},
		"ne nil":       func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] { return q.Where(c.note.Ne(nil)) },
		"empty in":     func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] { return q.Where(c.qty.In()) },
		"empty not in": func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] { return q.Where(c.qty.NotIn()) },
		"in":           func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] { return q.Where(c.qty.In(v)) },
		"not in":       func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] { return q.Where(c.qty.NotIn(v)) },
		"in strings": func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] {
			return q.Where(c.name.In(fmt.Sprint(v)))
		},
		"in floats": func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] { return q.Where(c.price.In(float64(v))) },
		"like": func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] {
			return q.Where(c.name.Contains(fmt.Sprint(v)))
		},
		"ilike": func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] {
			return q.Where(c.name.ILike(fmt.Sprint(v)))
		},
		"trashed": func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] {
			return q.WithTrashed().Where(c.qty.Eq(v))
		},
		"offset only": func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] { return q.Offset(v + 1) },
		"limit 0":     func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] { return q.Limit(0) },
		"without": func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] {
			return q.Without("big").Where(c.qty.Eq(v))
		},
		"lock": func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] { return q.Where(c.qty.Eq(v)).ForUpdate() },
		"skip locked": func(c gcols, q repo.Query[Gadget], v int) repo.Query[Gadget] {
			return q.Where(c.qty.Eq(v)).SkipLocked()
		},
	}
	for _, d := range testdb.Dialects() {
		cached := mustTable[Gadget](t, d)
		cc := gadgetColumns(cached)
		must(t, cached.AddScope("big", cc.weight.Gt(100)))
		type rendered struct {
			text string
			args []any
			err  string
		}
		render := func(g *repo.Table[Gadget], b build, v int) rendered {
			t.Helper()
			s, args, err := b(gadgetColumns(g), g.Query(), v).ToSQL()
			if err != nil {
				return rendered{err: err.Error()}
			}
			return rendered{s, args, ""}
		}
		for name, b := range shapes {
			first := render(cached, b, 1)
			hit := render(cached, b, 7)
			fresh := mustTable[Gadget](t, d)
			must(t, fresh.AddScope("big", gadgetColumns(fresh).weight.Gt(100)))
			if want := render(fresh, b, 7); !reflect.DeepEqual(hit, want) {
				t.Errorf("%s/%s: the second rendering\n%+v\nwant\n%+v\n(first: %+v)", d, name, hit, want, first)
			}
		}
		// A cached shape only collects its arguments: one allocation.
		q := cached.Query().Where(cc.qty.Gt(1), repo.Or(cc.name.Eq("a"), cc.note.IsNull())).OrderBy(cc.name.Desc()).Limit(5)
		if allocs := testing.AllocsPerRun(20, func() { _, _, _ = q.ToSQL() }); allocs > 1 {
			t.Errorf("%s: ToSQL of a cached shape makes %v allocations", d, allocs)
		}
		// A value that an In list cannot hold is still an error on a hit.
		if _, _, err := cached.Query().Where(cc.price.In(1)).ToSQL(); err != nil {
			t.Fatal(err)
		}
		if _, _, err := cached.Query().Where(cc.price.In(math.Inf(1))).ToSQL(); d != db.Postgres && !errors.Is(err, repo.ErrInvalidQuery) {
			t.Errorf("%s: an infinite In value on a cached shape: %v", d, err)
		}
		// A scope registered after a shape is cached applies to it.
		q = cached.Query().Where(cc.qty.Eq(1))
		before, _, err := q.ToSQL()
		must(t, err)
		must(t, cached.AddScope("fruit", cc.kind.Eq("fruit")))
		after, args, err := q.ToSQL()
		must(t, err)
		if before == after || !strings.Contains(after, "kind") || len(args) != 3 {
			t.Errorf("%s: after AddScope: %s %v", d, after, args)
		}
	}
}

// BenchmarkQueryRender renders a query built once (BenchmarkQueryBuild's),
// so that only ToSQL is measured: for a shape seen before, the arguments
// are collected and the text comes from the table's cache.
func BenchmarkQueryRender(b *testing.B) {
	for _, d := range testdb.Dialects() {
		b.Run(d.Name(), func(b *testing.B) {
			g := mustTable[Gadget](b, d)
			c := gadgetColumns(g)
			q := g.Query().Where(c.qty.Gt(1), c.kind.Eq("veg"), c.name.StartsWith("a"), c.id.In(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)).
				OrderBy(c.name.Asc()).Limit(20)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := q.ToSQL(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
