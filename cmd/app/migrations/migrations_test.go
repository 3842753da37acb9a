package migrations_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/jmoiron/sqlx"
)

// emailMigration is the version of the migration that normalises emails
// and makes them unique whatever their case.
const emailMigration = 2

// insert adds a user with plain SQL, bypassing the application.
func insert(ctx context.Context, x *sqlx.DB, name, email string) error {
	_, err := x.ExecContext(ctx, x.Rebind("INSERT INTO users (name, email) VALUES (?, ?)"), name, email)
	return err
}

// emails returns the stored emails, by id.
func emails(t *testing.T, ctx context.Context, x *sqlx.DB) []string {
	t.Helper()
	var out []string
	if err := x.SelectContext(ctx, &out, "SELECT email FROM users ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEmailMigration: on each database, the email migration normalises the
// emails already stored (trimmed, lower-cased) and from then on the
// database itself refuses a second email that differs only in case; its
// Down lifts that rule again; its Up fails, leaving the rows as they were,
// when two stored emails differ only in case.
func TestEmailMigration(t *testing.T) {
	ctx := context.Background()
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, _ := testdb.Open(t, u)
		m, err := db.NewMigrator(x, d, migrations.FS, nil)
		if err != nil {
			t.Fatal(err)
		}
		up := func(t *testing.T) {
			t.Helper()
			if _, err := m.Up(ctx); err != nil {
				t.Fatalf("up: %v", err)
			}
		}
		// down rolls back the email migration and every later one, the
		// email migration last.
		down := func(t *testing.T) {
			t.Helper()
			if _, v, err := m.To(ctx, emailMigration-1); err != nil || len(v) == 0 || v[len(v)-1] != emailMigration {
				t.Fatalf("down: rolled back %v, %v; want %d last", v, err, emailMigration)
			}
		}
		wantRefused := func(t *testing.T, email string) {
			t.Helper()
			err := insert(ctx, x, "Dup", email)
			if !errors.Is(d.Classify(err), db.ErrUniqueViolation) {
				t.Fatalf("INSERT of %q: %v, want a unique violation", email, err)
			}
		}
		empty := func(t *testing.T) {
			t.Helper()
			if _, err := x.ExecContext(ctx, "DELETE FROM users"); err != nil {
				t.Fatal(err)
			}
		}

		up(t)
		st, err := m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(st, func(s db.MigrationStatus) bool { return s.Version == emailMigration }); i < 0 ||
			!st[i].Applied || st[i].Name != "users_email_case_insensitive" {
			t.Fatalf("status %+v: want users_email_case_insensitive applied as version %d", st, emailMigration)
		}

		t.Run("the database refuses a case-insensitive duplicate", func(t *testing.T) {
			empty(t)
			if err := insert(ctx, x, "Ada", "ada@example.com"); err != nil {
				t.Fatal(err)
			}
			for _, dup := range []string{"ADA@example.com", "Ada@Example.Com", "ada@EXAMPLE.COM"} {
				wantRefused(t, dup)
			}
			// An UPDATE that would make a duplicate is refused too.
			if err := insert(ctx, x, "Bob", "bob@example.com"); err != nil {
				t.Fatal(err)
			}
			_, err := x.ExecContext(ctx, x.Rebind("UPDATE users SET email = ? WHERE email = ?"), "Ada@EXAMPLE.com", "bob@example.com")
			if !errors.Is(d.Classify(err), db.ErrUniqueViolation) {
				t.Fatalf("UPDATE to a duplicate: %v, want a unique violation", err)
			}
			if got := emails(t, ctx, x); !slices.Equal(got, []string{"ada@example.com", "bob@example.com"}) {
				t.Fatalf("emails %q", got)
			}
			// Different addresses are still told apart.
			if err := insert(ctx, x, "Ada 2", "ada2@example.com"); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("up normalises the stored emails; down lifts the rule", func(t *testing.T) {
			empty(t)
			down(t)
			// "dave@example.com  " differs only by trailing spaces, which
			// MySQL's PAD SPACE collations ignore in comparisons.
			for _, e := range []string{" Ada@Example.com ", "BOB@EXAMPLE.COM", "carol@example.com", "dave@example.com  "} {
				if err := insert(ctx, x, "N", e); err != nil {
					t.Fatalf("insert %q after down: %v", e, err)
				}
			}
			up(t)
			want := []string{"ada@example.com", "bob@example.com", "carol@example.com", "dave@example.com"}
			if got := emails(t, ctx, x); !slices.Equal(got, want) {
				t.Fatalf("emails after up %q, want %q", got, want)
			}
			wantRefused(t, "CAROL@example.com")

			down(t)
			if err := insert(ctx, x, "Carol again", "CAROL@example.com"); err != nil {
				t.Fatalf("after down, a duplicate in another case: %v; want it accepted", err)
			}
			// The exact duplicate stays refused by the first migration.
			wantRefused(t, "carol@example.com")
			empty(t)
			up(t)
		})

		t.Run("up fails on stored duplicates and changes nothing", func(t *testing.T) {
			empty(t)
			down(t)
			for _, e := range []string{"Dave@Example.com", "dave@example.com", "Erin@Example.com"} {
				if err := insert(ctx, x, "N", e); err != nil {
					t.Fatalf("insert %q after down: %v", e, err)
				}
			}
			if applied, err := m.Up(ctx); err == nil || len(applied) != 0 {
				t.Fatalf("up with two emails differing in case: applied %v, %v; want an error", applied, err)
			}
			want := []string{"Dave@Example.com", "dave@example.com", "Erin@Example.com"}
			if got := emails(t, ctx, x); !slices.Equal(got, want) {
				t.Fatalf("emails after the failed up %q, want them unchanged %q", got, want)
			}
			empty(t)
			up(t)
			if err := insert(ctx, x, "Dave", "dave@example.com"); err != nil {
				t.Fatal(err)
			}
			wantRefused(t, "DAVE@example.com")
		})
	})
}
