package repo_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
)

func TestUpsert(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, users := setup(t, d, u)
		email := repo.MustCol(users, func(u *User) *string { return &u.Email })
		r := users.On(x)
		must(t, r.Create(bg, newUser(1)))

		// Insert path.
		a := newUser(2)
		must(t, r.Upsert(bg, a, email))
		if a.ID == 0 || a.CreatedAt.IsZero() || !a.CreatedAt.Equal(a.UpdatedAt) {
			t.Fatalf("after insert: %+v", a)
		}
		stored, err := r.FindOrFail(bg, a.ID)
		must(t, err)
		if !sameUser(*stored, *a) {
			t.Fatalf("stored %+v, m %+v", stored, a)
		}

		// Update path: same email, the same id back, created_at kept.
		b := newUser(2)
		b.Name, b.Age, b.Nick = "renamed", 77, ptr("nick")
		b.CreatedAt = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC) // not written on update
		must(t, r.Upsert(bg, b, email))
		if b.ID != a.ID || b.Name != "renamed" || b.Age != 77 || !b.CreatedAt.Equal(a.CreatedAt) || b.UpdatedAt.Before(a.UpdatedAt) {
			t.Fatalf("after update: %+v, first %+v", b, a)
		}
		stored, err = r.FindOrFail(bg, a.ID)
		must(t, err)
		if !sameUser(*stored, *b) {
			t.Fatalf("stored %+v, m %+v", stored, b)
		}
		// An unchanged row gives its id too (on MySQL, no row changes).
		c := *b
		c.ID = 0
		must(t, r.Upsert(bg, &c, email))
		if c.ID != a.ID {
			t.Fatalf("unchanged upsert: id %d, want %d", c.ID, a.ID)
		}
		if n, err := r.Count(bg); n != 2 || err != nil {
			t.Fatalf("Count = %d, %v", n, err)
		}
		// Another id on an existing row's email: still that row.
		e := newUser(1)
		e.ID = 12345
		must(t, r.Upsert(bg, e, email))
		if one, _ := r.FirstBy(bg, "email", newUser(1).Email); one == nil || e.ID != one.ID {
			t.Fatalf("upsert of user 1 gave id %d, row %+v", e.ID, one)
		}
	})
}

// Slot is a versioned model with a composite unique key and soft delete.
type Slot struct {
	ID    int64
	Day   string
	Room  string
	Label string
	repo.Versioned
	repo.SoftDelete
}

func TestUpsertCompositeKeyVersionSoftDelete(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x := openDB(t, u)
		createTable(t, x, d, "slot", "day VARCHAR(20) NOT NULL", "room VARCHAR(20) NOT NULL", "label VARCHAR(50) NOT NULL",
			"version BIGINT NOT NULL", "deleted_at {ts} NULL")
		if _, err := x.ExecContext(bg, "CREATE UNIQUE INDEX slot_day_room ON slot (day, room)"); err != nil {
			t.Fatal(err)
		}
		slots := mustTable[Slot](t, d)
		day := repo.MustCol(slots, func(s *Slot) *string { return &s.Day })
		room := repo.MustCol(slots, func(s *Slot) *string { return &s.Room })
		r := slots.On(x)
		a := &Slot{Day: "mon", Room: "a", Label: "first"}
		must(t, r.Upsert(bg, a, day, room))
		b := &Slot{Day: "mon", Room: "b", Label: "other room"}
		must(t, r.Upsert(bg, b, room, day))
		if a.ID == b.ID || a.Version != 1 || b.Version != 1 {
			t.Fatalf("two inserts: %+v %+v", a, b)
		}
		again := &Slot{Day: "mon", Room: "a", Label: "second"}
		must(t, r.Upsert(bg, again, day, room))
		if again.ID != a.ID || again.Version != 2 || again.Label != "second" {
			t.Fatalf("update: %+v", again)
		}
		// A soft-deleted row is updated and stays deleted.
		must(t, r.Delete(bg, a.ID))
		third := &Slot{Day: "mon", Room: "a", Label: "third"}
		must(t, r.Upsert(bg, third, day, room))
		if third.ID != a.ID || third.DeletedAt == nil || third.Label != "third" || third.Version != 3 {
			t.Fatalf("update of a deleted row: %+v", third)
		}
		if m, _ := r.Find(bg, a.ID); m != nil {
			t.Fatalf("the row came back: %+v", m)
		}
		if n := countRows(t, x, d, "slot"); n != 2 {
			t.Fatalf("%d rows", n)
		}
	})
}

func TestUpsertErrorsSendNothing(t *testing.T) {
	users := mustTable[User](t, db.Postgres)
	email := repo.MustCol(users, func(u *User) *string { return &u.Email })
	id := repo.MustCol(users, func(u *User) *int64 { return &u.ID })
	bad := repo.Col(users, func(u *User) *string { return ptr("") })
	rec := &recorder{driver: "pgx"}
	r := users.On(rec)
	for name, err := range map[string]error{
		"no key":     r.Upsert(bg, newUser(1)),
		"twice":      r.Upsert(bg, newUser(1), email, email),
		"id":         r.Upsert(bg, newUser(1), id),
		"bad column": r.Upsert(bg, newUser(1), bad),
		"zero":       r.Upsert(bg, newUser(1), repo.Column[User, string]{}),
		"nil column": r.Upsert(bg, newUser(1), nil),
		"nil model":  r.Upsert(bg, nil, email),
	} {
		if err == nil || !strings.HasPrefix(err.Error(), "repo: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if calls := rec.Calls(); len(calls) != 0 {
		t.Fatalf("sent %q", calls)
	}
	// The statements.
	m := newUser(1)
	_ = r.Upsert(bg, m, email)
	mr := mustTable[User](t, db.MySQL).On(&recorder{driver: "mysql"})
	_ = mr.Upsert(bg, m, repo.MustCol(mr.Table, func(u *User) *string { return &u.Email }))
	got := append(rec.Calls(), mr.Q.(*recorder).Calls()...)
	want := []string{
		`INSERT INTO "users" ("email", "name", "age", "nick", "created_at", "updated_at") VALUES ($1, $2, $3, $4, $5, $6)` +
			` ON CONFLICT ("email") DO UPDATE SET "email" = EXCLUDED."email", "name" = EXCLUDED."name", "age" = EXCLUDED."age", "nick" = EXCLUDED."nick", "updated_at" = EXCLUDED."updated_at"` +
			` RETURNING "id", "email", "name", "age", "nick", "created_at", "updated_at"`,
		"INSERT INTO `users` (`email`, `name`, `age`, `nick`, `created_at`, `updated_at`) VALUES (?, ?, ?, ?, ?, ?)" +
			" ON DUPLICATE KEY UPDATE `id` = LAST_INSERT_ID(`id`), `email` = VALUES(`email`), `name` = VALUES(`name`), `age` = VALUES(`age`), `nick` = VALUES(`nick`), `updated_at` = VALUES(`updated_at`)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if m.ID != 0 || !m.CreatedAt.IsZero() {
		t.Fatalf("a failed Upsert changed m: %+v", m)
	}
}
