package users_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/fasttrack-go/fasttrack/seed"
	"github.com/jmoiron/sqlx"
)

// migratedDB opens the fresh database at url and applies the app's
// migrations.
func migratedDB(t *testing.T, url string) (*sqlx.DB, *repo.Table[users.User]) {
	t.Helper()
	x, d := testdb.Open(t, url)
	m, err := db.NewMigrator(x, d, migrations.FS, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	table, err := repo.NewTable[users.User](d)
	if err != nil {
		t.Fatal(err)
	}
	return x, table
}

// seedUsers runs the users seeder in a transaction of its own.
func seedUsers(t *testing.T, x *sqlx.DB, table *repo.Table[users.User]) {
	t.Helper()
	err := db.WithTx(context.Background(), x, func(tx *db.Tx) error {
		return users.NewSeeder(table, mustColumns(t, table)).Seed(context.Background(), tx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// allUsers reads the table, by id.
func allUsers(t *testing.T, x *sqlx.DB, table *repo.Table[users.User]) []users.User {
	t.Helper()
	all, err := table.On(x).All(context.Background(), repo.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// TestSeeder: the users seeder inserts the examples, and running it again,
// or on a table that already holds one of them, adds and changes nothing.
func TestSeeder(t *testing.T) {
	var _ seed.Seeder = users.NewSeeder(nil, nil)
	if n := users.NewSeeder(nil, nil).Name(); n != "users" {
		t.Errorf("Name() = %q, want users", n)
	}
	testdb.Each(t, func(t *testing.T, _ db.Dialect, url string) {
		x, table := migratedDB(t, url)
		t.Run("inserts the examples", func(t *testing.T) {
			seedUsers(t, x, table)
			got := allUsers(t, x, table)
			want := users.Examples()
			if len(got) != len(want) {
				t.Fatalf("%d users after seeding, want %d: %+v", len(got), len(want), got)
			}
			for i, w := range want {
				g := got[i]
				if g.ID == 0 || g.Name != w.Name || g.Email != w.Email || g.IsActive != w.IsActive || g.CreatedAt.IsZero() {
					t.Errorf("user %d = %+v, want %+v", i, g, w)
				}
			}
			if !slices.ContainsFunc(got, func(u users.User) bool { return !u.IsActive }) {
				t.Error("no inactive example: is_active=false was not stored")
			}
		})
		t.Run("twice adds nothing", func(t *testing.T) {
			before := allUsers(t, x, table)
			seedUsers(t, x, table)
			seedUsers(t, x, table)
			after := allUsers(t, x, table)
			if len(after) != len(before) {
				t.Fatalf("%d users after seeding again, want %d", len(after), len(before))
			}
			for i := range before {
				if a, b := after[i], before[i]; a.ID != b.ID || a.Name != b.Name || !a.UpdatedAt.Equal(b.UpdatedAt) {
					t.Errorf("seeding again changed %+v into %+v", b, a)
				}
			}
		})
		t.Run("an existing email is left alone", func(t *testing.T) {
			if _, err := x.Exec("DELETE FROM users"); err != nil {
				t.Fatal(err)
			}
			mine := users.User{Name: "Ada, edited", Email: users.Examples()[0].Email, IsActive: false}
			if err := table.On(x).Create(context.Background(), &mine); err != nil {
				t.Fatal(err)
			}
			seedUsers(t, x, table)
			got := allUsers(t, x, table)
			if len(got) != len(users.Examples()) {
				t.Fatalf("%d users, want %d", len(got), len(users.Examples()))
			}
			if got[0].ID != mine.ID || got[0].Name != mine.Name || got[0].IsActive {
				t.Errorf("the existing user became %+v, want %+v", got[0], mine)
			}
		})
	})
}
