package repo_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
)

// gadget loads the row named name, soft-deleted or not.
func gadget(t *testing.T, r repo.Base[Gadget], c gcols, name string) Gadget {
	t.Helper()
	g, err := r.WithTrashed().Query().Where(c.name.Eq(name)).First(bg)
	must(t, err)
	return *g
}

func TestQueryUpdate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, rows := seedGadgets(t, d, u)
		r := g.On(x)
		evil := `'; UPDATE gadgets SET qty = 0; --`
		veg := r.Query().Where(c.kind.Eq("veg"))
		n, err := veg.Update(bg, c.qty.Set(7), c.note.Set(ptr(evil)), c.active.Set(true))
		if err != nil || n != 3 {
			t.Fatalf("Update = %d, %v; want the 3 live veg rows", n, err)
		}
		for _, name := range []string{"carrot", "daikon", "eggplant"} {
			got, was := gadget(t, r, c, name), rows[name]
			if got.Qty != 7 || got.Note == nil || *got.Note != evil || !got.Active {
				t.Errorf("%s after Update: %+v", name, got)
			}
			if !got.CreatedAt.Equal(was.CreatedAt) || got.UpdatedAt.Before(was.UpdatedAt) {
				t.Errorf("%s: created %v→%v, updated %v→%v", name, was.CreatedAt, got.CreatedAt, was.UpdatedAt, got.UpdatedAt)
			}
		}
		if z := gadget(t, r, c, "zombie"); z.Qty != 3 || z.Note != nil || !z.UpdatedAt.Equal(rows["zombie"].UpdatedAt) {
			t.Errorf("the soft-deleted row was updated: %+v", z)
		}
		if a := gadget(t, r, c, "apple"); a.Qty != 1 || a.Note != nil || !a.UpdatedAt.Equal(rows["apple"].UpdatedAt) {
			t.Errorf("a row the query does not match was updated: %+v", a)
		}

		// An explicit updated_at wins; NULL through a nil pointer; WithTrashed.
		at := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
		n, err = veg.WithTrashed().Update(bg, c.note.Set(nil), c.updated.Set(at))
		if err != nil || n != 4 {
			t.Fatalf("WithTrashed Update = %d, %v", n, err)
		}
		if z := gadget(t, r, c, "zombie"); z.Note != nil || !z.UpdatedAt.Equal(at) {
			t.Errorf("zombie after WithTrashed Update: %+v", z)
		}
		// Without an explicit one, updated_at moves to now.
		if n, err := veg.Update(bg, c.qty.Set(8)); n != 3 || err != nil {
			t.Fatalf("Update = %d, %v", n, err)
		}
		if got := gadget(t, r, c, "carrot"); !got.UpdatedAt.After(at) || got.Qty != 8 {
			t.Errorf("carrot after Update: %+v", got)
		}
		if n, err := r.Query().Where(c.name.In("nothing")).Update(bg, c.qty.Set(1)); n != 0 || err != nil {
			t.Fatalf("Update of no row = %d, %v", n, err)
		}
	})
}

// Tick is a versioned model for bulk updates.
type Tick struct {
	ID   int64
	Name string
	repo.Versioned
}

func TestQueryUpdateBumpsVersion(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x := openDB(t, u)
		createTable(t, x, d, "tick", "name VARCHAR(100) NOT NULL", "version BIGINT NOT NULL")
		tk := mustTable[Tick](t, d)
		name := repo.MustCol(tk, func(k *Tick) *string { return &k.Name })
		r := tk.On(x)
		a := &Tick{Name: "a"}
		must(t, r.Create(bg, a))
		stale := *a
		if n, err := r.Query().Update(bg, name.Set("b")); n != 1 || err != nil {
			t.Fatalf("Update = %d, %v", n, err)
		}
		got, err := r.FindOrFail(bg, a.ID)
		must(t, err)
		if got.Version != 2 || got.Name != "b" {
			t.Fatalf("after Update: %+v", got)
		}
		stale.Name = "lost"
		if err := r.Update(bg, &stale); err == nil {
			t.Fatal("a copy loaded before the bulk Update was written")
		}
		version := repo.MustCol(tk, func(k *Tick) *int64 { return &k.Version })
		if _, err := r.Query().Update(bg, version.Set(9)); err == nil {
			t.Fatal("Update set the version")
		}
	})
}

func TestQueryDelete(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, g, c, rows := seedGadgets(t, d, u)
		r := g.On(x)
		fruit := r.Query().Where(c.kind.Eq("fruit"))
		if n, err := fruit.Delete(bg); n != 2 || err != nil {
			t.Fatalf("Delete = %d, %v", n, err)
		}
		if n := countRows(t, x, d, "gadgets"); n != 6 {
			t.Fatalf("a soft Delete removed rows: %d left", n)
		}
		if a := gadget(t, r, c, "apple"); a.DeletedAt == nil {
			t.Fatalf("apple not soft-deleted: %+v", a)
		}
		if n, err := r.Count(bg); n != 3 || err != nil {
			t.Fatalf("Count after Delete = %d, %v", n, err)
		}
		// Deleted rows are not deleted again, nor is the earlier deletion's
		// time changed, even WithTrashed.
		z := gadget(t, r, c, "zombie")
		if n, err := r.Query().WithTrashed().Where(c.kind.In("fruit", "veg"), c.qty.Eq(3)).Delete(bg); n != 1 || err != nil {
			t.Fatalf("second Delete = %d, %v; want only carrot", n, err)
		}
		if z2 := gadget(t, r, c, "zombie"); !z2.DeletedAt.Equal(*z.DeletedAt) {
			t.Fatalf("zombie's deleted_at moved from %v to %v", z.DeletedAt, z2.DeletedAt)
		}
		// ForceDelete removes live rows, and soft-deleted ones WithTrashed.
		if n, err := r.Query().Where(c.kind.Eq("veg")).ForceDelete(bg); n != 2 || err != nil {
			t.Fatalf("ForceDelete = %d, %v", n, err)
		}
		if n, err := r.Query().WithTrashed().Where(c.id.NotIn(rows["daikon"].ID)).ForceDelete(bg); n != 4 || err != nil {
			t.Fatalf("ForceDelete WithTrashed = %d, %v", n, err)
		}
		if n := countRows(t, x, d, "gadgets"); n != 0 {
			t.Fatalf("%d rows left", n)
		}

		// Without SoftDelete, Delete removes the rows.
		createTable(t, x, d, "users", userCols...)
		users := mustTable[User](t, d)
		age := repo.MustCol(users, func(u *User) *int { return &u.Age })
		ur := users.On(x)
		must(t, ur.CreateMany(bg, []*User{newUser(1), newUser(2), newUser(3)}))
		if n, err := ur.Query().Where(age.Ge(2)).Delete(bg); n != 2 || err != nil {
			t.Fatalf("hard Delete = %d, %v", n, err)
		}
		if n := countRows(t, x, d, "users"); n != 1 {
			t.Fatalf("%d users left", n)
		}
	})
}

func TestQueryWriteErrorsSendNothing(t *testing.T) {
	g := mustTable[Gadget](t, db.Postgres)
	c := gadgetColumns(g)
	rec := &recorder{driver: "pgx"}
	q := g.Query().On(rec)
	bad := repo.Col(g, func(x *Gadget) *string { return &x.Secret })
	for name, run := range map[string]func() (int64, error){
		"no assignment":   func() (int64, error) { return q.Update(bg) },
		"id":              func() (int64, error) { return q.Update(bg, c.id.Set(1)) },
		"twice":           func() (int64, error) { return q.Update(bg, c.qty.Set(1), c.qty.Set(2)) },
		"zero assignment": func() (int64, error) { return q.Update(bg, repo.Assignment[Gadget]{}) },
		"bad column":      func() (int64, error) { return q.Update(bg, bad.Set("x")) },
		"bad predicate":   func() (int64, error) { return q.Where(bad.Eq("x")).Update(bg, c.qty.Set(1)) },
		"update limit":    func() (int64, error) { return q.Limit(1).Update(bg, c.qty.Set(1)) },
		"delete offset":   func() (int64, error) { return q.Offset(1).Delete(bg) },
		"force limit":     func() (int64, error) { return q.Limit(5).ForceDelete(bg) },
		"delete no tx":    func() (int64, error) { return g.Query().Delete(bg) },
	} {
		if n, err := run(); err == nil || n != 0 || !strings.HasPrefix(err.Error(), "repo: ") {
			t.Errorf("%s: %d, %v", name, n, err)
		}
	}
	if calls := rec.Calls(); len(calls) != 0 {
		t.Fatalf("sent %q", calls)
	}
	// The text of each write, on PostgreSQL.
	_, _ = q.Where(c.qty.Gt(1)).Update(bg, c.name.Set("x"))
	_, _ = q.Where(c.qty.Gt(1)).Delete(bg)
	_, _ = q.Where(c.qty.Gt(1)).ForceDelete(bg)
	want := []string{
		`UPDATE "gadgets" SET "name" = $1, "updated_at" = $2 WHERE "deleted_at" IS NULL AND "qty" > $3`,
		`UPDATE "gadgets" SET "deleted_at" = $1 WHERE "deleted_at" IS NULL AND "qty" > $2`,
		`DELETE FROM "gadgets" WHERE "deleted_at" IS NULL AND "qty" > $1`,
	}
	if got := rec.Calls(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
