package repo_test

import (
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
)

// Embedded is flattened into gadgetRow, as a Table flattens embedded structs.
type Embedded struct {
	Weight int `db:"w"`
}

// gadgetRow is a projection of gadgets.
type gadgetRow struct {
	Name     string `db:"name"`
	Quantity int    `db:"q"`
	Note     *string
	Made     time.Time
	*Embedded
	Skipped string `db:"-"`
}

func TestSelectToSQL(t *testing.T) {
	g := mustTable[Gadget](t, db.MySQL)
	c := gadgetColumns(g)
	name := repo.To(func(r *gadgetRow) *string { return &r.Name }, c.name)
	w := repo.To(func(r *gadgetRow) *int { return &r.Weight }, c.weight)
	n := repo.To(func(r *gadgetRow) *int { return &r.Quantity }, repo.SumOf(c.qty))
	s, args, err := repo.Select(g.Query().Where(c.kind.Eq("veg")).OrderBy(c.qty.Desc()).Limit(2), name, w).ToSQL()
	must(t, err)
	if want := "SELECT `name` AS `name`, `weight` AS `w` FROM `gadgets` WHERE `deleted_at` IS NULL AND `kind` = ? ORDER BY `qty` DESC, `id` ASC LIMIT ?"; s != want || fmt.Sprint(args) != "[veg 2]" {
		t.Fatalf("SQL\n got %s %v\nwant %s", s, args, want)
	}
	s, _, err = repo.Select(g.Query().WithTrashed().OrderBy(c.name.Asc()), n).ToSQL()
	must(t, err)
	if want := "SELECT SUM(`qty`) AS `q` FROM `gadgets`"; s != want {
		t.Fatalf("SQL\n got %s\nwant %s", s, want)
	}
}

// TestSelect projects rows and totals into another struct on every
// database.
func TestSelect(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, rows := seedGadgets(t, d, u)
		q := g.On(x).Query()
		name := repo.To(func(r *gadgetRow) *string { return &r.Name }, c.name)
		qty := repo.To(func(r *gadgetRow) *int { return &r.Quantity }, c.qty)
		note := repo.To(func(r *gadgetRow) **string { return &r.Note }, c.note)
		made := repo.To(func(r *gadgetRow) *time.Time { return &r.Made }, c.created)
		weight := repo.To(func(r *gadgetRow) *int { return &r.Weight }, c.weight)
		got, err := repo.Select(q.Where(c.kind.Eq("veg")).OrderBy(c.qty.Desc()).Limit(2).Offset(0), name, qty, note, made, weight).All(bg)
		must(t, err)
		if len(got) != 2 || got[0].Name != "eggplant" || got[0].Quantity != 5 || got[0].Note == nil || *got[0].Note != "" ||
			!got[0].Made.Equal(rows["eggplant"].CreatedAt) || got[0].Embedded == nil || got[0].Weight != 50 ||
			got[1].Name != "daikon" || *got[1].Note != "long" || got[1].Weight != 40 {
			t.Fatalf("Select = %+v", got)
		}
		got, err = repo.Select(q.Where(c.note.IsNull()), name, note).All(bg)
		if err != nil || len(got) != 2 || got[0].Name != "apple" || got[0].Note != nil || got[0].Embedded != nil || got[1].Name != "carrot" {
			t.Fatalf("Select of NULL notes = %+v, %v", got, err)
		}
		// Totals: every field an aggregate gives one row.
		type totals struct {
			N   int64
			Sum sql.Null[int]
			Max sql.Null[string]
		}
		tf := []repo.Field[totals, Gadget]{
			repo.To(func(r *totals) *int64 { return &r.N }, repo.CountAll[Gadget]()),
			repo.ToNull(func(r *totals) *sql.Null[int] { return &r.Sum }, repo.SumOf(c.qty)),
			repo.ToNull(func(r *totals) *sql.Null[string] { return &r.Max }, repo.MaxOf(c.name)),
		}
		tot, err := repo.Select(q, tf...).All(bg)
		if want := []totals{{5, sql.Null[int]{V: 15, Valid: true}, sql.Null[string]{V: "eggplant", Valid: true}}}; err != nil || !reflect.DeepEqual(tot, want) {
			t.Fatalf("totals = %+v, %v", tot, err)
		}
		tot, err = repo.Select(q.Where(c.qty.Gt(99)), tf...).All(bg)
		if want := []totals{{}}; err != nil || !reflect.DeepEqual(tot, want) {
			t.Fatalf("totals of no row = %+v, %v", tot, err)
		}
		got, err = repo.Select(q.Where(c.qty.Gt(99)), name).All(bg)
		if err != nil || got == nil || len(got) != 0 {
			t.Fatalf("Select of no row = %#v, %v", got, err)
		}
	})
}

// TestPluck returns one column in the query's order on every database.
func TestPluck(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, rows := seedGadgets(t, d, u)
		q := g.On(x).Query()
		ns, err := repo.Pluck(bg, q.Where(c.kind.Eq("veg")).OrderBy(c.name.Desc()), c.name)
		if err != nil || fmt.Sprint(ns) != "[eggplant daikon carrot]" {
			t.Fatalf("Pluck(name) = %q, %v", ns, err)
		}
		ns, err = repo.Pluck(bg, q.WithTrashed().OrderBy(c.qty.Desc(), c.name.Desc()).Limit(2).Offset(1), c.name)
		if err != nil || fmt.Sprint(ns) != "[daikon zombie]" {
			t.Fatalf("Pluck with trashed, limit and offset = %q, %v", ns, err)
		}
		ids, err := repo.Pluck(bg, q.Where(c.kind.Eq("fruit")), c.id)
		if err != nil || !reflect.DeepEqual(ids, []int64{rows["apple"].ID, rows["banana"].ID}) {
			t.Fatalf("Pluck(id) = %v, %v", ids, err)
		}
		notes, err := repo.Pluck(bg, q.Where(c.qty.Le(2)), c.note)
		if err != nil || len(notes) != 2 || notes[0] != nil || *notes[1] != "yellow" {
			t.Fatalf("Pluck(note) = %v, %v", notes, err)
		}
		kinds, err := repo.Pluck(bg, q.Where(c.qty.Gt(99)), c.kind)
		if err != nil || kinds == nil || len(kinds) != 0 {
			t.Fatalf("Pluck of no row = %#v, %v", kinds, err)
		}
		times, err := repo.Pluck(bg, q.Where(c.name.Eq("carrot")), c.created)
		if err != nil || len(times) != 1 || !times[0].Equal(rows["carrot"].CreatedAt) {
			t.Fatalf("Pluck(created_at) = %v, %v", times, err)
		}
	})
}

// aliasRow has fields whose aliases cannot be identifiers.
type aliasRow struct {
	Dash    string `db:"bad-name"`
	Quote   string `db:"x\"; DROP TABLE gadgets; --"`
	Digit   string `db:"1st"`
	Space   string `db:"a b"`
	Fine    string `db:"fine"`
	Fine2   string `db:"fine"`
	Skipped string `db:"-"`
	private string //nolint:unused // an unexported field cannot be a destination
}

func TestProjectionErrors(t *testing.T) {
	g := mustTable[Gadget](t, db.SQLite)
	c := gadgetColumns(g)
	rec := &recorder{driver: "sqlite"}
	q := g.Query().On(rec)
	fine := repo.To(func(r *aliasRow) *string { return &r.Fine }, c.name)
	var elsewhere string
	cases := map[string]repo.Projection[aliasRow]{
		"dash":           repo.Select(q, repo.To(func(r *aliasRow) *string { return &r.Dash }, c.name)),
		"quote":          repo.Select(q, repo.To(func(r *aliasRow) *string { return &r.Quote }, c.name)),
		"digit":          repo.Select(q, repo.To(func(r *aliasRow) *string { return &r.Digit }, c.name)),
		"space":          repo.Select(q, repo.To(func(r *aliasRow) *string { return &r.Space }, c.name)),
		"same alias":     repo.Select(q, fine, repo.To(func(r *aliasRow) *string { return &r.Fine2 }, c.name)),
		"db:-":           repo.Select(q, repo.To(func(r *aliasRow) *string { return &r.Skipped }, c.name)),
		"unexported":     repo.Select(q, repo.To(func(r *aliasRow) *string { return &r.private }, c.name)),
		"not a field":    repo.Select(q, repo.To(func(*aliasRow) *string { return &elsewhere }, c.name)),
		"nil":            repo.Select(q, repo.To(func(*aliasRow) *string { return nil }, c.name)),
		"panics":         repo.Select(q, repo.To(func(*aliasRow) *string { panic("boom") }, c.name)),
		"nil accessor":   repo.Select(q, repo.To[aliasRow, Gadget, string](nil, c.name)),
		"nil expression": repo.Select(q, repo.To[aliasRow, Gadget, string](func(r *aliasRow) *string { return &r.Fine }, nil)),
		"zero field":     repo.Select(q, repo.Field[aliasRow, Gadget]{}),
		"zero column":    repo.Select(q, repo.To(func(r *aliasRow) *string { return &r.Fine }, repo.Column[Gadget, string]{})),
		"no field":       repo.Select[aliasRow](q),
		"mixed":          repo.Select(q, fine, repo.To(func(r *aliasRow) *string { return &r.Dash }, repo.MaxOf(c.name))),
		"agg with limit": repo.Select(q.Limit(1), repo.To(func(r *aliasRow) *string { return &r.Fine }, repo.MaxOf(c.name))),
		"zero query":     repo.Select(repo.Query[Gadget]{}, fine),
		"bad where":      repo.Select(q.Where(c.qty.ILike("x")), fine),
		"zero join":      repo.SelectJoin(repo.Join(q, repo.Query[Review]{}, repo.JoinOn[Gadget, Review]{}), []repo.Field[aliasRow, Gadget]{fine}, nil),
		"join no field":  repo.SelectJoin[aliasRow](repo.Join(q, mustTable[Review](t, db.SQLite).Query(), repo.JoinOn[Gadget, Review]{}), nil, nil),
	}
	for name, p := range cases {
		if _, _, err := p.ToSQL(); err == nil {
			t.Errorf("%s: ToSQL gave no error", name)
		}
		if _, err := p.All(bg); err == nil {
			t.Errorf("%s: All gave no error", name)
		}
	}
	if _, _, err := repo.Select(q, repo.To(func(p *int) *int { return p }, c.qty)).ToSQL(); err == nil {
		t.Error("a projection into a non-struct gave no error")
	}
	if _, err := repo.Pluck(bg, q, repo.Column[Gadget, int]{}); err == nil {
		t.Error("Pluck of a zero column gave no error")
	}
	if _, err := repo.Pluck(bg, g.Query(), c.qty); err == nil {
		t.Error("Pluck without a Querier gave no error")
	}
	if _, err := repo.Select(g.Query(), fine).All(bg); err == nil {
		t.Error("Select without a Querier gave no error")
	}
	if _, err := repo.Select(g.Query().On(&recorder{driver: "pgx"}), fine).All(bg); err == nil {
		t.Error("Select on another dialect's Querier gave no error")
	}
	if calls := rec.Calls(); len(calls) != 0 {
		t.Errorf("sent %q", calls)
	}
}

// TestProjectionLocks: a projection of columns and Pluck take q's row lock;
// aggregates, groups, joins and subqueries refuse one, and nothing is sent.
func TestProjectionLocks(t *testing.T) {
	pg := mustTable[Gadget](t, db.Postgres)
	c := gadgetColumns(pg)
	name := repo.To(func(r *gadgetRow) *string { return &r.Name }, c.name)
	s, _, err := repo.Select(pg.Query().Limit(1).SkipLocked(), name).ToSQL()
	must(t, err)
	if want := `SELECT "name" AS "name" FROM "gadgets" WHERE "deleted_at" IS NULL ORDER BY "id" ASC LIMIT $1 FOR UPDATE SKIP LOCKED`; s != want {
		t.Fatalf("SQL\n got %s\nwant %s", s, want)
	}
	rt := mustTable[Review](t, db.Postgres)
	rc := reviewColumns(rt)
	rec := &recorder{driver: "pgx"}
	q := pg.Query().On(rec)
	total := repo.To(func(r *gadgetRow) *int { return &r.Quantity }, repo.SumOf(c.qty))
	for label, run := range map[string]func() error{
		"Sum":          func() error { _, err := repo.Sum(bg, q.ForUpdate(), c.qty); return err },
		"Select total": func() error { _, err := repo.Select(q.ForUpdate(), total).All(bg); return err },
		"GroupBy": func() error {
			_, err := repo.SelectGroups(repo.GroupBy(q.ForUpdate(), c.name), name).All(bg)
			return err
		},
		"SelectJoin": func() error {
			_, err := repo.SelectJoin(repo.Join(q.ForUpdate(), rt.Query(), repo.On(c.id, rc.gadget)), []repo.Field[gadgetRow, Gadget]{name}, nil).All(bg)
			return err
		},
		"joined side": func() error {
			_, err := repo.Join(q, rt.Query().ForUpdate(), repo.On(c.id, rc.gadget)).All(bg)
			return err
		},
		"subquery": func() error { _, err := q.Where(repo.Exists[Gadget](rt.Query().ForUpdate())).All(bg); return err },
	} {
		if err := run(); err == nil || !strings.Contains(err.Error(), "lock") {
			t.Errorf("%s: %v, want a lock error", label, err)
		}
	}
	if calls := rec.Calls(); len(calls) != 0 {
		t.Errorf("sent %q", calls)
	}
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, _ := seedGadgets(t, d, u)
		err := inTx(bg, x, func(tx *db.Tx) error {
			ns, err := repo.Pluck(bg, g.On(tx).Query().Where(c.kind.Eq("fruit")).ForUpdate(), c.name)
			if d == db.SQLite {
				if err == nil {
					t.Error("Pluck with a lock ran on SQLite")
				}
				return nil
			}
			if err != nil || fmt.Sprint(ns) != "[apple banana]" {
				t.Errorf("Pluck ForUpdate = %v, %v", ns, err)
			}
			return nil
		})
		must(t, err)
	})
}
