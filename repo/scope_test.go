package repo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
)

func TestQueryScopesApplyInOrder(t *testing.T) {
	g := mustTable[Gadget](t, db.Postgres)
	c := gadgetColumns(g)
	veg := func(q repo.Query[Gadget]) repo.Query[Gadget] { return q.Where(c.kind.Eq("veg")) }
	cheap := func(q repo.Query[Gadget]) repo.Query[Gadget] { return q.Where(c.price.Lt(2)).OrderBy(c.price.Asc()) }
	byName := func(q repo.Query[Gadget]) repo.Query[Gadget] { return q.OrderBy(c.name.Desc()) }
	base := g.Query().Where(c.qty.Gt(0))
	got, args, err := base.Scopes(veg, cheap, byName).ToSQL()
	must(t, err)
	want := ` WHERE "deleted_at" IS NULL AND "qty" > $1 AND "kind" = $2 AND "price" < $3 ORDER BY "price" ASC, "name" DESC, "id" ASC`
	if !strings.HasSuffix(got, want) || fmt.Sprint(args) != "[0 veg 2]" {
		t.Fatalf("got %s %v, want ...%s", got, args, want)
	}
	got2, _, err := base.Scopes(byName, cheap, veg).ToSQL()
	must(t, err)
	if want := ` WHERE "deleted_at" IS NULL AND "qty" > $1 AND "price" < $2 AND "kind" = $3 ORDER BY "name" DESC, "price" ASC, "id" ASC`; !strings.HasSuffix(got2, want) {
		t.Fatalf("reversed: got %s, want ...%s", got2, want)
	}
	if s, _, _ := base.ToSQL(); strings.Contains(s, `"kind" =`) {
		t.Fatalf("Scopes changed its receiver: %s", s)
	}
	if _, _, err := base.Scopes(veg, nil).ToSQL(); err == nil {
		t.Fatal("a nil scope gave no error")
	}
}

func TestAddScopeErrors(t *testing.T) {
	g := mustTable[Gadget](t, db.SQLite)
	c := gadgetColumns(g)
	bad := repo.Col(g, func(x *Gadget) *string { return &x.Secret })
	must(t, g.AddScope("active", c.active.Eq(true)))
	for name, err := range map[string]error{
		"empty name":       g.AddScope("", c.qty.Gt(1)),
		"duplicate":        g.AddScope("active", c.qty.Gt(1)),
		"soft_delete":      g.AddScope(repo.SoftDeleteScope, c.deleted.IsNull()),
		"zero predicate":   g.AddScope("zero", repo.Predicate[Gadget]{}),
		"failed predicate": g.AddScope("failed", bad.Eq("x")),
		"nested failure":   g.AddScope("nested", repo.Or(c.qty.Gt(1), bad.Eq("x"))),
	} {
		if err == nil || !strings.HasPrefix(err.Error(), "repo: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got := strings.Join(g.Scopes(), ","); got != "soft_delete,active" {
		t.Fatalf("Scopes() = %s", got)
	}
	if got := strings.Join(mustTable[User](t, db.SQLite).Scopes(), ","); got != "" {
		t.Fatalf("a table without SoftDelete has scopes %s", got)
	}
}

// TestGlobalScopes registers a scope and checks that every read, count,
// exists and bulk write of the query builder, and Base's reads, apply it
// and the soft-delete scope, and that Without and WithTrashed lift them.
func TestGlobalScopes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, rows := seedGadgets(t, d, u)
		must(t, g.AddScope("active", c.active.Eq(true)))
		r := g.On(x)
		q := r.Query()
		// Live and active: apple, banana, eggplant. Inactive: carrot,
		// daikon. Soft-deleted and inactive: zombie.
		all, err := q.All(bg)
		if err != nil || names(all) != "apple,banana,eggplant" {
			t.Fatalf("All = [%s], %v", names(all), err)
		}
		check := func(what string, got any, err error, want any) {
			t.Helper()
			if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s = %v, %v; want %v", what, got, err, want)
			}
		}
		n, err := q.Count(bg)
		check("Count", n, err, 3)
		ok, err := q.Where(c.name.Eq("carrot")).Exists(bg)
		check("Exists(carrot)", ok, err, false)
		if _, err := q.Where(c.name.Eq("daikon")).First(bg); !errors.Is(err, repo.ErrNotFound) {
			t.Errorf("First(daikon): %v", err)
		}
		if _, err := q.Where(c.qty.Ge(3)).One(bg); err != nil {
			t.Errorf("One(qty >= 3): %v; only eggplant is in scope", err)
		}
		page, err := q.Page(bg, repo.Page{Sort: []repo.Order{{Column: "name", Desc: true}}})
		check("Page", names(page), err, "eggplant,banana,apple")
		ks, _, err := q.Keyset(bg, repo.KeysetPage{})
		check("Keyset", names(ks), err, "apple,banana,eggplant")
		var chunked []string
		for ch, err := range q.Chunks(bg, 2) {
			must(t, err)
			chunked = append(chunked, names(ch))
		}
		check("Chunks", strings.Join(chunked, "|"), nil, "apple,banana|eggplant")

		// Lifting.
		got, err := q.Without("active").All(bg)
		check("Without(active)", names(got), err, "apple,banana,carrot,daikon,eggplant")
		got, err = q.Without(repo.SoftDeleteScope).All(bg)
		check("Without(soft_delete)", names(got), err, "apple,banana,eggplant")
		got, err = q.WithTrashed().Without("active").All(bg)
		check("WithTrashed().Without(active)", names(got), err, "apple,banana,carrot,daikon,eggplant,zombie")
		got, err = q.Without("active", repo.SoftDeleteScope).Where(c.qty.Eq(3)).All(bg)
		check("Without(both)", names(got), err, "carrot,zombie")

		// Base's reads.
		if m, err := r.Find(bg, rows["carrot"].ID); m != nil || err != nil {
			t.Errorf("Find(carrot) = %v, %v", m, err)
		}
		if m, err := r.Find(bg, rows["apple"].ID); m == nil || err != nil {
			t.Errorf("Find(apple) = %v, %v", m, err)
		}
		if _, err := r.FindOrFail(bg, rows["daikon"].ID); !errors.Is(err, repo.ErrNotFound) {
			t.Errorf("FindOrFail(daikon): %v", err)
		}
		ok, err = r.Exists(bg, rows["daikon"].ID)
		check("Base.Exists(daikon)", ok, err, false)
		by, err := r.FindBy(bg, "kind", "veg")
		check("FindBy(kind=veg)", names(by), err, "eggplant")
		by, err = r.FindBy(bg, "note", nil)
		check("FindBy(note IS NULL)", names(by), err, "apple")
		m, err := r.FirstBy(bg, "qty", 3)
		check("FirstBy(qty=3)", m, err, (*Gadget)(nil))
		n, err = r.Count(bg)
		check("Base.Count", n, err, 3)
		n, err = r.Count(bg, repo.Filter{Column: "kind", Value: "veg"})
		check("Base.Count(veg)", n, err, 1)
		got, err = r.All(bg, repo.Page{})
		check("Base.All", names(got), err, "apple,banana,eggplant")
		got, err = r.All(bg, repo.Page{Filters: []repo.Filter{{Column: "qty", Op: ">", Value: 1}}})
		check("Base.All(filtered)", names(got), err, "banana,eggplant")
		got, _, err = r.Keyset(bg, repo.KeysetPage{Desc: true})
		check("Base.Keyset", names(got), err, "eggplant,banana,apple")
		got, err = r.WithTrashed().All(bg, repo.Page{})
		check("Base.WithTrashed().All", names(got), err, "apple,banana,eggplant")

		// Bulk writes leave the rows out of scope alone.
		n, err = q.Update(bg, c.weight.Set(99))
		check("Update", n, err, 3)
		for _, name := range []string{"carrot", "daikon", "zombie"} {
			m, err := q.WithTrashed().Without("active").Where(c.name.Eq(name)).First(bg)
			if err != nil || m.Weight == 99 {
				t.Errorf("Update wrote %s, which is out of scope: %+v, %v", name, m, err)
			}
		}
		n, err = q.Where(c.kind.Eq("veg")).Delete(bg)
		check("Delete(veg)", n, err, 1) // eggplant
		n, err = q.WithTrashed().Where(c.kind.Eq("veg")).ForceDelete(bg)
		check("ForceDelete(veg, trashed)", n, err, 1) // eggplant again; carrot, daikon, zombie are inactive
		n, err = q.Without("active").WithTrashed().Where(c.kind.Eq("veg")).ForceDelete(bg)
		check("ForceDelete(veg, unscoped)", n, err, 3)
		if n := countRows(t, x, d, "gadgets"); n != 2 {
			t.Fatalf("%d rows left, want apple and banana", n)
		}
	})
}

func TestGlobalScopeUnknownWithout(t *testing.T) {
	g := mustTable[Gadget](t, db.Postgres)
	c := gadgetColumns(g)
	rec := &recorder{driver: "pgx"}
	q := g.Query().On(rec).Without("tenant")
	if _, _, err := q.ToSQL(); err == nil || !strings.Contains(err.Error(), `"tenant"`) {
		t.Fatalf("ToSQL: %v", err)
	}
	if _, err := q.All(bg); err == nil {
		t.Fatal("All ran")
	}
	if _, err := q.Count(bg); err == nil {
		t.Fatal("Count ran")
	}
	if _, err := q.Update(bg, c.qty.Set(1)); err == nil {
		t.Fatal("Update ran")
	}
	if _, err := q.Delete(bg); err == nil {
		t.Fatal("Delete ran")
	}
	if calls := rec.Calls(); len(calls) != 0 {
		t.Fatalf("sent %q", calls)
	}
	// Once registered, the name is known; soft_delete always is.
	must(t, g.AddScope("tenant", c.kind.Eq("fruit")))
	s, _, err := q.Without(repo.SoftDeleteScope).ToSQL()
	must(t, err)
	if strings.Contains(s, "WHERE") {
		t.Fatalf("both scopes lifted, yet %s", s)
	}
	if _, _, err := mustTable[User](t, db.Postgres).Query().Without(repo.SoftDeleteScope).ToSQL(); err != nil {
		t.Fatalf("Without(soft_delete) on a table without SoftDelete: %v", err)
	}
}

// TestAddScopeWhileQuerying registers scopes while other goroutines render
// queries (run it with -race): each query sees a prefix of the scopes, in
// order, never a torn set.
func TestAddScopeWhileQuerying(t *testing.T) {
	g := mustTable[Gadget](t, db.Postgres)
	c := gadgetColumns(g)
	const scopes = 20
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	done := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				s, args, err := g.Query().Where(c.name.Eq("x")).ToSQL()
				if err != nil {
					errs <- err
					return
				}
				// args: the scopes' values 0..k-1, then "x".
				for i, a := range args[:len(args)-1] {
					if a != i {
						errs <- fmt.Errorf("args %v of %s", args, s)
						return
					}
				}
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	for i := range scopes {
		must(t, g.AddScope(fmt.Sprint("s", i), c.qty.Ne(i)))
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	_, args, err := g.Query().ToSQL()
	if err != nil || len(args) != scopes {
		t.Fatalf("after: %v, %v", args, err)
	}
}

// TestGlobalScopesLeaveWritesByID checks that Base's writes by id act on
// a row out of a global scope, with or without the delete events (which
// load the row first).
func TestGlobalScopesLeaveWritesByID(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x := openDB(t, u)
		createTable(t, x, d, "event", "name VARCHAR(100) NOT NULL", "created_at {ts} NOT NULL", "updated_at {ts} NOT NULL")
		events := mustTable[Event](t, d)
		name := repo.MustCol(events, func(e *Event) *string { return &e.Name })
		l := &eventLog{}
		ctx := context.WithValue(bg, logKey{}, l)
		r := events.On(x)
		a, b := &Event{Name: "a"}, &Event{Name: "b"}
		must(t, r.CreateMany(ctx, []*Event{a, b}))
		must(t, events.AddScope("not b", name.Ne("b!")))
		if m, err := r.Find(ctx, b.ID); m != nil || err != nil {
			t.Fatalf("Find(b) = %v, %v: b is out of scope", m, err)
		}
		b.Name = "b!"
		if err := r.Update(ctx, b); err != nil {
			t.Fatalf("Update(b): %v", err)
		}
		*l = eventLog{}
		if err := r.Delete(ctx, b.ID); err != nil {
			t.Fatalf("Delete(b): %v", err)
		}
		if got := strings.Join(l.entries, ","); got != "BeforeDelete:b!,AfterDelete:b!" {
			t.Fatalf("events %s", got)
		}
		if n := countRows(t, x, d, "event"); n != 1 {
			t.Fatalf("%d rows", n)
		}
	})
}
