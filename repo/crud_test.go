package repo_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/dburl"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/go-sql-driver/mysql"
)

// crud runs every single-row method on q and checks each against plain SQL
// on x.
func crud(t *testing.T, d db.Dialect, users *repo.Table[User], q db.Querier) {
	t.Helper()
	r := users.On(q)
	u := &User{Email: "ada@example.com", Name: "Ada", Age: 36, Nick: ptr("countess")}
	must(t, r.Create(bg, u))
	if u.ID <= 0 {
		t.Fatalf("Create set id %d", u.ID)
	}
	v := &User{Email: "grace@example.com", Name: "Grace", Age: 85}
	must(t, r.Create(bg, v))
	if v.ID == u.ID || v.ID <= 0 {
		t.Fatalf("second id %d, first %d", v.ID, u.ID)
	}

	got, err := r.FindOrFail(bg, u.ID)
	must(t, err)
	if !sameUser(*got, *u) {
		t.Fatalf("FindOrFail = %+v, want %+v", got, u)
	}
	if f, err := r.Find(bg, u.ID); err != nil || f == nil || f.Email != u.Email {
		t.Fatalf("Find = %+v, %v", f, err)
	}
	if f, err := r.Find(bg, 999999); f != nil || err != nil {
		t.Fatalf("Find of a missing id = %+v, %v; want nil, nil", f, err)
	}
	if _, err := r.FindOrFail(bg, 999999); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("FindOrFail of a missing id: %v", err)
	}
	if ok, err := r.Exists(bg, u.ID); !ok || err != nil {
		t.Fatalf("Exists = %v, %v", ok, err)
	}
	if ok, err := r.Exists(bg, 999999); ok || err != nil {
		t.Fatalf("Exists(missing) = %v, %v", ok, err)
	}
	if n, err := r.Count(bg); n != 2 || err != nil {
		t.Fatalf("Count = %d, %v", n, err)
	}
	if n, err := r.Count(bg, repo.Filter{Column: "age", Op: ">", Value: 50}); n != 1 || err != nil {
		t.Fatalf("Count(age > 50) = %d, %v", n, err)
	}

	byName, err := r.FindBy(bg, "name", "Grace")
	must(t, err)
	if len(byName) != 1 || byName[0].ID != v.ID {
		t.Fatalf("FindBy(name, Grace) = %+v", byName)
	}
	none, err := r.FindBy(bg, "name", "Nobody")
	if err != nil || none == nil || len(none) != 0 {
		t.Fatalf("FindBy with no match = %#v, %v; want an empty, non-nil slice", none, err)
	}
	nullNick, err := r.FindBy(bg, "nick", nil)
	must(t, err)
	if len(nullNick) != 1 || nullNick[0].ID != v.ID {
		t.Fatalf("FindBy(nick, nil) = %+v", nullNick)
	}
	first, err := r.FirstBy(bg, "email", "ada@example.com")
	must(t, err)
	if first == nil || first.ID != u.ID {
		t.Fatalf("FirstBy = %+v", first)
	}
	if f, err := r.FirstBy(bg, "email", "nobody@example.com"); f != nil || err != nil {
		t.Fatalf("FirstBy with no match = %+v, %v", f, err)
	}

	u.Name, u.Age, u.Nick = "Ada Lovelace", 37, nil
	must(t, r.Update(bg, u))
	var row struct {
		Name string
		Nick *string
	}
	must(t, q.GetContext(bg, &row, d.Rebind("SELECT name, nick FROM users WHERE id = ?"), u.ID))
	if row.Name != "Ada Lovelace" || row.Nick != nil {
		t.Fatalf("after Update the row holds %+v", row)
	}
	// An update that changes nothing still finds the row (MySQL counts
	// changed rows unless clientFoundRows).
	same := *got
	same.Name, same.Age, same.Nick, same.UpdatedAt = u.Name, u.Age, u.Nick, u.UpdatedAt
	must(t, r.Update(bg, &same))
	if err := r.Update(bg, &User{ID: 999999, Email: "x@example.com"}); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("Update of a missing row: %v", err)
	}

	must(t, r.Delete(bg, v.ID))
	if f, err := r.Find(bg, v.ID); f != nil || err != nil {
		t.Fatalf("Find after Delete = %+v, %v", f, err)
	}
	if err := r.Delete(bg, v.ID); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
	if err := r.ForceDelete(bg, u.ID); err != nil {
		t.Fatalf("ForceDelete without SoftDelete: %v", err)
	}
	if err := r.Restore(bg, u.ID); err == nil {
		t.Fatal("Restore without SoftDelete: no error")
	}
}

func TestCRUDOnPool(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, users := setup(t, d, u)
		crud(t, d, users, x)
		if n := countRows(t, x, d, "users"); n != 0 {
			t.Fatalf("%d rows left", n)
		}
	})
}

func TestCRUDInLazyTx(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, users := setup(t, d, u)
		var began bool
		must(t, inTx(bg, x, func(tx *db.Tx) error {
			crud(t, d, users, tx)
			began = tx.Begun()
			return nil
		}))
		if !began {
			t.Fatal("the statements did not run in the transaction")
		}

		// A rolled-back transaction leaves nothing.
		errStop := errors.New("stop")
		err := inTx(bg, x, func(tx *db.Tx) error {
			r := users.On(tx)
			u := newUser(1)
			must(t, r.Create(bg, u))
			got, err := r.FindOrFail(bg, u.ID)
			must(t, err)
			got.Name = "changed"
			must(t, r.Update(bg, got))
			must(t, r.Create(bg, newUser(2)))
			must(t, r.Delete(bg, u.ID))
			return errStop
		})
		if !errors.Is(err, errStop) {
			t.Fatal(err)
		}
		if n := countRows(t, x, d, "users"); n != 0 {
			t.Fatalf("rollback left %d rows", n)
		}
		// A unique violation inside the transaction is ErrConflict too.
		err = inTx(bg, x, func(tx *db.Tx) error {
			r := users.On(tx)
			must(t, r.Create(bg, newUser(1)))
			return r.Create(bg, newUser(1))
		})
		if !errors.Is(err, repo.ErrConflict) || !errors.Is(err, db.ErrUniqueViolation) {
			t.Fatalf("duplicate in a Tx: %v", err)
		}
	})
}

func TestUniqueViolationIsConflict(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, users := setup(t, d, u)
		r := users.On(x)
		a := newUser(1)
		must(t, r.Create(bg, a))
		dup := newUser(1)
		err := r.Create(bg, dup)
		if !errors.Is(err, repo.ErrConflict) || !errors.Is(err, db.ErrUniqueViolation) {
			t.Fatalf("duplicate Create: %v", err)
		}
		if dup.ID != 0 || !dup.CreatedAt.IsZero() {
			t.Fatalf("failed Create changed the model: %+v", dup)
		}
		b := newUser(2)
		must(t, r.Create(bg, b))
		b.Email = a.Email
		if err := r.Update(bg, b); !errors.Is(err, repo.ErrConflict) || !errors.Is(err, db.ErrUniqueViolation) {
			t.Fatalf("Update to a duplicate: %v", err)
		}
		err = r.CreateMany(bg, []*User{newUser(3), newUser(2)})
		if !errors.Is(err, repo.ErrConflict) || !errors.Is(err, db.ErrUniqueViolation) {
			t.Fatalf("CreateMany with a duplicate: %v", err)
		}
		if n := countRows(t, x, d, "users"); n != 2 {
			t.Fatalf("%d rows, want 2", n)
		}
	})
}

// Order is a model whose table and columns are reserved words, and one
// column holds a '?', which a Rebind would take for a placeholder.
type Order struct {
	ID     int64  `db:"id"`
	Group  string `db:"group"`
	Select int    `db:"select"`
	Why    string `db:"why?"`
}

func (*Order) TableName() string { return "order" }

func TestReservedWordsAreQuoted(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x := openDB(t, u)
		createTable(t, x, d, "order", "group VARCHAR(50) NOT NULL", "select INT NOT NULL", "why? VARCHAR(50) NOT NULL")
		orders := mustTable[Order](t, d)
		if orders.Name() != "order" {
			t.Fatalf("Name() = %q", orders.Name())
		}
		r := orders.On(x)
		o := &Order{Group: "g1", Select: 1, Why: "because?"}
		must(t, r.Create(bg, o))
		must(t, r.CreateMany(bg, []*Order{{Group: "g2", Select: 2, Why: "?"}, {Group: "g1", Select: 3, Why: "$1"}}))
		got, err := r.FindOrFail(bg, o.ID)
		must(t, err)
		if *got != *o {
			t.Fatalf("FindOrFail = %+v, want %+v", got, o)
		}
		o.Select = 10
		must(t, r.Update(bg, o))
		list, err := r.All(bg, repo.Page{Sort: []repo.Order{{Column: "select", Desc: true}}, Filters: []repo.Filter{{Column: "group", Value: "g1"}}})
		must(t, err)
		if len(list) != 2 || list[0].Select != 10 || list[1].Why != "$1" {
			t.Fatalf("All = %+v", list)
		}
		byWhy, err := r.FindBy(bg, "why?", "?")
		must(t, err)
		if len(byWhy) != 1 || byWhy[0].Group != "g2" {
			t.Fatalf("FindBy(why?) = %+v", byWhy)
		}
		if n, err := r.Count(bg, repo.Filter{Column: "group", Op: "<>", Value: "g1"}); n != 1 || err != nil {
			t.Fatalf("Count = %d, %v", n, err)
		}
		ks := repo.KeysetPage{Limit: 2, Filters: []repo.Filter{{Column: "select", Op: ">=", Value: 2}}}
		page, next, err := r.Keyset(bg, ks)
		must(t, err)
		if len(page) != 2 || next == "" {
			t.Fatalf("Keyset = %+v, %q", page, next)
		}
		ks.After = next
		page, next, err = r.Keyset(bg, ks)
		must(t, err)
		if len(page) != 1 || page[0].Select != 3 || next != "" {
			t.Fatalf("second Keyset page = %+v, %q", page, next)
		}
		must(t, r.Delete(bg, o.ID))
		if n := countRows(t, x, d, "order"); n != 2 {
			t.Fatalf("%d rows, want 2", n)
		}
	})
}

// TestUpdateOfAnUnchangedRow: an UPDATE that changes nothing still finds
// its row, also on a MySQL pool without clientFoundRows (where the server
// counts changed rows only).
func TestUpdateOfAnUnchangedRow(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x := openDB(t, u)
		createTable(t, x, d, "order", "group VARCHAR(50) NOT NULL", "select INT NOT NULL", "why? VARCHAR(50) NOT NULL")
		orders := mustTable[Order](t, d)
		o := &Order{Group: "g", Select: 1, Why: "w"}
		must(t, orders.On(x).Create(bg, o))
		must(t, orders.On(x).Update(bg, o))
		if d != db.MySQL {
			return
		}
		target, err := dburl.Parse(u)
		must(t, err)
		cfg, err := mysql.ParseDSN(target.DSN)
		must(t, err)
		cfg.ClientFoundRows = false
		conn, err := mysql.NewConnector(cfg)
		must(t, err)
		plain := db.Wrap(sql.OpenDB(conn), "mysql")
		defer plain.Close()
		res, err := plain.ExecContext(bg, "UPDATE `order` SET `select` = 1 WHERE id = ?", o.ID)
		must(t, err)
		if n, _ := res.RowsAffected(); n != 0 {
			t.Fatalf("the pool counts found rows (%d): the test needs one that does not", n)
		}
		must(t, orders.On(plain).Update(bg, o))
		if err := orders.On(plain).Update(bg, &Order{ID: o.ID + 1}); !errors.Is(err, repo.ErrNotFound) {
			t.Fatalf("Update of a missing row: %v", err)
		}
	})
}

func TestInjectionValuesAreStoredLiterally(t *testing.T) {
	evil := []string{
		`'; DROP TABLE users; --`,
		`Robert'); DROP TABLE users;--`,
		`" OR "1"="1`,
		"` OR 1=1 -- ",
		`\'; DELETE FROM users; --`,
		`$1 ? :name @p1 %s`,
		"x' OR 'x'='x",
	}
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, users := setup(t, d, u)
		r := users.On(x)
		for i, s := range evil {
			m := &User{Email: s, Name: s, Age: i}
			must(t, r.Create(bg, m))
			got, err := r.FindOrFail(bg, m.ID)
			must(t, err)
			if got.Email != s || got.Name != s {
				t.Fatalf("stored %q as %q", s, got.Name)
			}
			byName, err := r.FindBy(bg, "name", s)
			must(t, err)
			if len(byName) != 1 || byName[0].ID != m.ID {
				t.Fatalf("FindBy(%q) = %+v", s, byName)
			}
			n, err := r.Count(bg, repo.Filter{Column: "email", Value: s})
			if n != 1 || err != nil {
				t.Fatalf("Count(email = %q) = %d, %v", s, n, err)
			}
		}
		if n := countRows(t, x, d, "users"); n != len(evil) {
			t.Fatalf("%d rows, want %d", n, len(evil))
		}
		var names []string
		must(t, x.SelectContext(bg, &names, "SELECT name FROM users ORDER BY id"))
		if !slices.Equal(names, evil) {
			t.Fatalf("stored %q, want %q", names, evil)
		}
	})
}

func TestUnknownColumnsSendNothing(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d.Name(), func(t *testing.T) {
			rec := &recorder{driver: map[db.Dialect]string{db.SQLite: "sqlite", db.Postgres: "pgx", db.MySQL: "mysql"}[d]}
			r := mustTable[User](t, d).On(rec)
			wantInvalid := func(name string, err error) {
				t.Helper()
				if !errors.Is(err, repo.ErrInvalidQuery) {
					t.Errorf("%s: %v is not ErrInvalidQuery", name, err)
				}
			}
			_, err := r.FindBy(bg, "password; --", 1)
			wantInvalid("FindBy", err)
			_, err = r.FirstBy(bg, "Email", "a") // the field name is not the column
			wantInvalid("FirstBy", err)
			_, err = r.All(bg, repo.Page{Sort: []repo.Order{{Column: "name"}, {Column: "id; DROP TABLE users"}}})
			wantInvalid("All sort", err)
			_, err = r.All(bg, repo.Page{Filters: []repo.Filter{{Column: "secret", Value: 1}}})
			wantInvalid("All filter column", err)
			_, err = r.All(bg, repo.Page{Filters: []repo.Filter{{Column: "name", Op: "= 1 OR 1=1 --", Value: 1}}})
			wantInvalid("All filter op", err)
			_, err = r.All(bg, repo.Page{Filters: []repo.Filter{{Column: "name", Op: "<", Value: nil}}})
			wantInvalid("All filter nil <", err)
			_, err = r.All(bg, repo.Page{Limit: -1})
			wantInvalid("All negative limit", err)
			_, err = r.All(bg, repo.Page{Offset: -5})
			wantInvalid("All negative offset", err)
			_, err = r.Count(bg, repo.Filter{Column: "nope", Value: 1})
			wantInvalid("Count filter", err)
			_, _, err = r.Keyset(bg, repo.KeysetPage{Filters: []repo.Filter{{Column: "nope", Value: 1}}})
			wantInvalid("Keyset filter", err)
			_, _, err = r.Keyset(bg, repo.KeysetPage{Limit: -1})
			wantInvalid("Keyset limit", err)
			if _, _, err = r.Keyset(bg, repo.KeysetPage{After: "garbage"}); !errors.Is(err, repo.ErrBadCursor) {
				t.Errorf("Keyset bad cursor: %v", err)
			}
			if calls := rec.Calls(); len(calls) != 0 {
				t.Fatalf("statements sent: %q", calls)
			}

			// A table of another dialect is refused before any SQL.
			other := db.SQLite
			if d == db.SQLite {
				other = db.Postgres
			}
			if _, err := mustTable[User](t, other).On(rec).Find(bg, 1); err == nil {
				t.Error("a table of another dialect was accepted")
			}
			if calls := rec.Calls(); len(calls) != 0 {
				t.Fatalf("statements sent: %q", calls)
			}
			// And the recorder does see statements when they are valid.
			_, _ = r.FindBy(bg, "email", "a")
			if calls := rec.Calls(); len(calls) != 1 {
				t.Fatalf("a valid FindBy sent %q", calls)
			}
		})
	}
}

func TestTimestamps(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, users := setup(t, d, u)
		r := users.On(x)
		before := time.Now().Add(-time.Second)
		m := newUser(1)
		must(t, r.Create(bg, m))
		if m.CreatedAt.IsZero() || !m.CreatedAt.Equal(m.UpdatedAt) || m.CreatedAt.Before(before) {
			t.Fatalf("after Create: created %v, updated %v", m.CreatedAt, m.UpdatedAt)
		}
		if m.CreatedAt.Location() != time.UTC || m.CreatedAt.Nanosecond()%1000 != 0 {
			t.Fatalf("created_at %v is not UTC to the microsecond", m.CreatedAt)
		}
		got, err := r.FindOrFail(bg, m.ID)
		must(t, err)
		if !got.CreatedAt.Equal(m.CreatedAt) || !got.UpdatedAt.Equal(m.UpdatedAt) {
			t.Fatalf("stored %v / %v, Go holds %v / %v", got.CreatedAt, got.UpdatedAt, m.CreatedAt, m.UpdatedAt)
		}
		created := m.CreatedAt
		time.Sleep(5 * time.Millisecond)
		m.Name = "renamed"
		m.CreatedAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // Update must not write it
		must(t, r.Update(bg, m))
		if !m.UpdatedAt.After(created) {
			t.Fatalf("updated_at %v not after %v", m.UpdatedAt, created)
		}
		got, err = r.FindOrFail(bg, m.ID)
		must(t, err)
		if !got.CreatedAt.Equal(created) {
			t.Fatalf("created_at changed by Update: %v, was %v", got.CreatedAt, created)
		}
		if !got.UpdatedAt.Equal(m.UpdatedAt) || !got.UpdatedAt.After(created) {
			t.Fatalf("stored updated_at %v, Go holds %v", got.UpdatedAt, m.UpdatedAt)
		}
		// CreateMany stamps every row.
		ms := []*User{newUser(2), newUser(3)}
		must(t, r.CreateMany(bg, ms))
		for _, m := range ms {
			if m.CreatedAt.IsZero() || !m.UpdatedAt.Equal(m.CreatedAt) {
				t.Fatalf("CreateMany: %+v", m)
			}
		}
	})
}

// Doc has soft delete.
type Doc struct {
	ID    int64
	Title string
	repo.SoftDelete
}

func TestSoftDelete(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x := openDB(t, u)
		createTable(t, x, d, "doc", "title VARCHAR(100) NOT NULL", "deleted_at {ts} NULL")
		docs := mustTable[Doc](t, d)
		r := docs.On(x)
		a, b := &Doc{Title: "a"}, &Doc{Title: "b"}
		must(t, r.Create(bg, a))
		must(t, r.Create(bg, b))
		must(t, r.Delete(bg, a.ID))

		if n := countRows(t, x, d, "doc"); n != 2 {
			t.Fatalf("soft delete removed the row: %d rows", n)
		}
		if f, err := r.Find(bg, a.ID); f != nil || err != nil {
			t.Fatalf("Find of a deleted row = %+v, %v", f, err)
		}
		if _, err := r.FindOrFail(bg, a.ID); !errors.Is(err, repo.ErrNotFound) {
			t.Fatalf("FindOrFail of a deleted row: %v", err)
		}
		if ok, _ := r.Exists(bg, a.ID); ok {
			t.Fatal("Exists of a deleted row")
		}
		if n, _ := r.Count(bg); n != 1 {
			t.Fatalf("Count = %d, want 1", n)
		}
		if n, _ := r.Count(bg, repo.Filter{Column: "title", Value: "a"}); n != 0 {
			t.Fatalf("Count(title=a) = %d, want 0", n)
		}
		if l, _ := r.All(bg, repo.Page{}); len(l) != 1 || l[0].ID != b.ID {
			t.Fatalf("All = %+v", l)
		}
		if l, _ := r.All(bg, repo.Page{Sort: []repo.Order{{Column: "title"}}}); len(l) != 1 {
			t.Fatalf("sorted All = %+v", l)
		}
		if l, _ := r.FindBy(bg, "title", "a"); len(l) != 0 {
			t.Fatalf("FindBy = %+v", l)
		}
		if f, _ := r.FirstBy(bg, "title", "a"); f != nil {
			t.Fatalf("FirstBy = %+v", f)
		}
		if l, _, _ := r.Keyset(bg, repo.KeysetPage{}); len(l) != 1 {
			t.Fatalf("Keyset = %+v", l)
		}
		if err := r.Delete(bg, a.ID); !errors.Is(err, repo.ErrNotFound) {
			t.Fatalf("Delete of a deleted row: %v", err)
		}
		if err := r.Update(bg, a); !errors.Is(err, repo.ErrNotFound) {
			t.Fatalf("Update of a deleted row: %v", err)
		}

		tr := r.WithTrashed()
		got, err := tr.FindOrFail(bg, a.ID)
		must(t, err)
		if got.DeletedAt == nil || time.Since(*got.DeletedAt) > time.Minute {
			t.Fatalf("deleted row: %+v", got)
		}
		if n, _ := tr.Count(bg); n != 2 {
			t.Fatalf("WithTrashed Count = %d", n)
		}
		if l, _ := tr.All(bg, repo.Page{}); len(l) != 2 {
			t.Fatalf("WithTrashed All = %+v", l)
		}
		if l, _ := tr.FindBy(bg, "title", "a"); len(l) != 1 {
			t.Fatalf("WithTrashed FindBy = %+v", l)
		}
		if ok, _ := tr.Exists(bg, a.ID); !ok {
			t.Fatal("WithTrashed Exists")
		}
		if l, _, _ := tr.Keyset(bg, repo.KeysetPage{}); len(l) != 2 {
			t.Fatalf("WithTrashed Keyset = %+v", l)
		}

		must(t, r.Restore(bg, a.ID))
		if f, err := r.FindOrFail(bg, a.ID); err != nil || f.DeletedAt != nil {
			t.Fatalf("after Restore: %+v, %v", f, err)
		}
		if err := r.Restore(bg, a.ID); !errors.Is(err, repo.ErrNotFound) {
			t.Fatalf("Restore of a live row: %v", err)
		}
		if err := r.Restore(bg, 999999); !errors.Is(err, repo.ErrNotFound) {
			t.Fatalf("Restore of a missing row: %v", err)
		}

		// ForceDelete removes live and soft-deleted rows for good.
		must(t, r.ForceDelete(bg, a.ID))
		must(t, r.Delete(bg, b.ID))
		must(t, r.ForceDelete(bg, b.ID))
		if n := countRows(t, x, d, "doc"); n != 0 {
			t.Fatalf("%d rows after ForceDelete", n)
		}
		if f, _ := tr.Find(bg, a.ID); f != nil {
			t.Fatal("WithTrashed finds a force-deleted row")
		}
		if err := r.ForceDelete(bg, a.ID); !errors.Is(err, repo.ErrNotFound) {
			t.Fatalf("ForceDelete of a missing row: %v", err)
		}
	})
}

// Item has optimistic locking.
type Item struct {
	ID   int64
	Name string
	repo.Versioned
}

func TestVersioned(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x := openDB(t, u)
		createTable(t, x, d, "item", "name VARCHAR(100) NOT NULL", "version BIGINT NOT NULL")
		r := mustTable[Item](t, d).On(x)
		it := &Item{Name: "a", Versioned: repo.Versioned{Version: 42}}
		must(t, r.Create(bg, it))
		if it.Version != 1 {
			t.Fatalf("Create set version %d", it.Version)
		}
		stale, err := r.FindOrFail(bg, it.ID)
		must(t, err)
		it.Name = "b"
		must(t, r.Update(bg, it))
		if it.Version != 2 {
			t.Fatalf("Update set version %d", it.Version)
		}
		it.Name = "c"
		must(t, r.Update(bg, it))
		got, err := r.FindOrFail(bg, it.ID)
		must(t, err)
		if got.Version != 3 || got.Name != "c" {
			t.Fatalf("stored %+v", got)
		}

		stale.Name = "lost update"
		err = r.Update(bg, stale)
		if !errors.Is(err, repo.ErrConflict) || errors.Is(err, repo.ErrNotFound) {
			t.Fatalf("stale Update: %v", err)
		}
		if stale.Version != 1 {
			t.Fatalf("stale Update changed the model's version to %d", stale.Version)
		}
		got, _ = r.FindOrFail(bg, it.ID)
		if got.Version != 3 || got.Name != "c" {
			t.Fatalf("stale Update wrote: %+v", got)
		}
		if err := r.Update(bg, &Item{ID: 999999, Name: "x", Versioned: repo.Versioned{Version: 1}}); !errors.Is(err, repo.ErrNotFound) {
			t.Fatalf("Update of a missing row: %v", err)
		}
	})
}

// Event records its model events in the log its context carries, so that
// rows loaded by the repository (for Delete) record too.
type Event struct {
	ID   int64
	Name string
	repo.Timestamps
}

type logKey struct{}

// eventLog is a log of model events; the hook named fail returns an error.
type eventLog struct {
	entries []string
	fail    string
}

func (e *Event) hook(ctx context.Context, name string) error {
	l := ctx.Value(logKey{}).(*eventLog)
	l.entries = append(l.entries, name+":"+e.Name)
	if l.fail == name {
		return errors.New("refused by " + name)
	}
	return nil
}

func (e *Event) BeforeCreate(ctx context.Context) error {
	if e.ID != 0 || !e.CreatedAt.IsZero() {
		return errors.New("BeforeCreate saw an id or a timestamp")
	}
	e.Name += "!" // a Before hook may change what is written
	return e.hook(ctx, "BeforeCreate")
}

func (e *Event) AfterCreate(ctx context.Context) error {
	if e.ID == 0 || e.CreatedAt.IsZero() {
		return errors.New("AfterCreate without an id or a timestamp")
	}
	return e.hook(ctx, "AfterCreate")
}
func (e *Event) BeforeUpdate(ctx context.Context) error { return e.hook(ctx, "BeforeUpdate") }
func (e *Event) AfterUpdate(ctx context.Context) error  { return e.hook(ctx, "AfterUpdate") }
func (e *Event) BeforeDelete(ctx context.Context) error { return e.hook(ctx, "BeforeDelete") }
func (e *Event) AfterDelete(ctx context.Context) error  { return e.hook(ctx, "AfterDelete") }

func TestModelEvents(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x := openDB(t, u)
		createTable(t, x, d, "event", "name VARCHAR(100) NOT NULL", "created_at {ts} NOT NULL", "updated_at {ts} NOT NULL")
		r := mustTable[Event](t, d).On(x)
		l := &eventLog{}
		ctx := context.WithValue(bg, logKey{}, l)

		// A failing Before hook writes nothing.
		l.fail = "BeforeCreate"
		e := &Event{Name: "e"}
		if err := r.Create(ctx, e); err == nil || e.ID != 0 {
			t.Fatalf("Create with a failing BeforeCreate: %v, id %d", err, e.ID)
		}
		if err := r.CreateMany(ctx, []*Event{{Name: "m1"}, {Name: "m2"}}); err == nil {
			t.Fatal("CreateMany with a failing BeforeCreate: no error")
		}
		if n := countRows(t, x, d, "event"); n != 0 {
			t.Fatalf("a failing BeforeCreate wrote %d rows", n)
		}

		*l = eventLog{}
		e = &Event{Name: "e"}
		must(t, r.Create(ctx, e))
		if got, _ := r.FindOrFail(ctx, e.ID); got.Name != "e!" {
			t.Fatalf("stored name %q: the BeforeCreate change was not written", got.Name)
		}
		e.Name = "f"
		must(t, r.Update(ctx, e))

		l.fail = "BeforeUpdate"
		e.Name = "g"
		if err := r.Update(ctx, e); err == nil {
			t.Fatal("Update with a failing BeforeUpdate: no error")
		}
		l.fail = "BeforeDelete"
		if err := r.Delete(ctx, e.ID); err == nil {
			t.Fatal("Delete with a failing BeforeDelete: no error")
		}
		if got, _ := r.FindOrFail(ctx, e.ID); got == nil || got.Name != "f" {
			t.Fatalf("after failing Before hooks the row is %+v", got)
		}

		l.fail = ""
		must(t, r.Delete(ctx, e.ID))
		if err := r.Delete(ctx, e.ID); !errors.Is(err, repo.ErrNotFound) {
			t.Fatalf("Delete of a missing row: %v", err)
		}
		ms := []*Event{{Name: "m1"}, {Name: "m2"}}
		must(t, r.CreateMany(ctx, ms))
		must(t, r.ForceDelete(ctx, ms[0].ID))
		want := []string{
			"BeforeCreate:e!", "AfterCreate:e!",
			"BeforeUpdate:f", "AfterUpdate:f",
			"BeforeUpdate:g",
			"BeforeDelete:f",
			"BeforeDelete:f", "AfterDelete:f",
			"BeforeCreate:m1!", "BeforeCreate:m2!", "AfterCreate:m1!", "AfterCreate:m2!",
			"BeforeDelete:m1!", "AfterDelete:m1!",
		}
		if !slices.Equal(l.entries, want) {
			t.Fatalf("events\n got %q\nwant %q", l.entries, want)
		}

		// An After hook's error is returned (and undoes the write when the
		// operation runs in a transaction).
		l.fail = "AfterCreate"
		err := inTx(ctx, x, func(tx *db.Tx) error { return r.Table.On(tx).Create(ctx, &Event{Name: "h"}) })
		if err == nil {
			t.Fatal("failing AfterCreate: no error")
		}
		if n := countRows(t, x, d, "event"); n != 1 {
			t.Fatalf("%d rows, want 1", n)
		}
	})
}
