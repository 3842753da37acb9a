package users_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/db"
)

// storedEmails reads every email straight from the table, by id.
func storedEmails(t *testing.T, e *env) []string {
	t.Helper()
	var out []string
	if err := e.app.DB.Select(&out, "SELECT email FROM users ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	return out
}

// insertRaw inserts a user with plain SQL on the pool, past the
// application's normalisation, and returns the database's error,
// classified.
func insertRaw(e *env, name, email string) error {
	_, err := e.app.DB.Exec(e.app.DB.Rebind("INSERT INTO users (name, email, is_active) VALUES (?, ?, ?)"), name, email, true)
	return e.app.Dialect.Classify(err)
}

// wantTaken requires the 409 of an email in use.
func wantTaken(t *testing.T, e *env, method, path, email string) {
	t.Helper()
	resp := e.app.Do(t, method, path, map[string]any{"name": "Other", "email": email})
	p := wantProblem(t, resp, http.StatusConflict)
	if got := fieldsOf(t, p); !maps.Equal(got, map[string]string{"email": "is already taken"}) {
		t.Errorf("%s %s %q: errors %v, want the field email", method, path, email, got)
	}
	noGoText(t, resp.Body)
}

// TestHTTPEmailNormalised: POST and PUT store the email trimmed and
// lower-cased, and an email that differs from one in use only in case or
// in the spaces around it is 409, on every database.
func TestHTTPEmailNormalised(t *testing.T) {
	emailOf := func(n int) string { // local@domain of exactly n characters
		return strings.Repeat("a", 60) + "@" + strings.Repeat("b", n-65) + ".com"
	}
	stored := []struct {
		name, sent, want string
	}{
		{"spaces and capitals", " Ada@Example.com ", "ada@example.com"},
		{"all capitals", "GRACE@EXAMPLE.COM", "grace@example.com"},
		{"tabs and newlines", "\talan@example.com\n", "alan@example.com"},
		{"no-break spaces", "\u00a0alan@example.com\u00a0", "alan@example.com"},
		{"non-ASCII capitals", "ÉMILE@EXÄMPLE.COM", "émile@exämple.com"},
		{"100 characters inside spaces", "  " + strings.ToUpper(emailOf(100)) + "  ", emailOf(100)},
		{"already normalised", "zoe@example.com", "zoe@example.com"},
	}
	eachDB(t, func(t *testing.T, e *env) {
		for _, tc := range stored {
			step(t, e, "POST stores "+tc.name, func(t *testing.T) {
				u := wantUser(t, e.app.Do(t, http.MethodPost, "/users", map[string]any{"name": "N", "email": tc.sent}), http.StatusCreated)
				if u.Email != tc.want {
					t.Errorf("answered email %q, want %q", u.Email, tc.want)
				}
				if got := storedEmails(t, e); len(got) != 1 || got[0] != tc.want {
					t.Errorf("stored %q, want %q", got, tc.want)
				}
			})
			step(t, e, "PUT stores "+tc.name, func(t *testing.T) {
				a := postUser(t, e, "A", "first@example.com")
				u := wantUser(t, e.app.Do(t, http.MethodPut, userPath(a.ID), map[string]any{"name": "A", "email": tc.sent}), http.StatusOK)
				if u.Email != tc.want {
					t.Errorf("answered email %q, want %q", u.Email, tc.want)
				}
				if got := storedEmails(t, e); len(got) != 1 || got[0] != tc.want {
					t.Errorf("stored %q, want %q", got, tc.want)
				}
			})
		}

		for _, dup := range []string{"ADA@example.com", "Ada@Example.Com", " ada@example.com", "ada@example.com\t", "\u00a0ADA@EXAMPLE.COM "} {
			step(t, e, "POST "+dup+" after ada@example.com is 409", func(t *testing.T) {
				a := postUser(t, e, "Ada", "ada@example.com")
				wantTaken(t, e, http.MethodPost, "/users", dup)
				if got, ok := loadUser(t, e, a.ID); !ok || !sameUser(got, a) || countUsers(t, e) != 1 {
					t.Errorf("rows changed: %+v, %d rows", got, countUsers(t, e))
				}
			})
		}
		step(t, e, "POST ÉMILE@example.com after émile@example.com is 409", func(t *testing.T) {
			postUser(t, e, "Émile", "émile@example.com")
			wantTaken(t, e, http.MethodPost, "/users", "ÉMILE@example.com")
		})
		step(t, e, "POST ada@example.com after ADA@example.com is 409", func(t *testing.T) {
			postUser(t, e, "Ada", "ADA@example.com")
			wantTaken(t, e, http.MethodPost, "/users", "ada@example.com")
		})
		step(t, e, "PUT another user's email in another case is 409", func(t *testing.T) {
			a := postUser(t, e, "Alice", "alice@example.com")
			b := postUser(t, e, "Bob", "bob@example.com")
			wantTaken(t, e, http.MethodPut, userPath(b.ID), " ALICE@Example.com")
			for _, u := range []users.User{a, b} {
				if got, ok := loadUser(t, e, u.ID); !ok || !sameUser(got, u) {
					t.Errorf("row changed: %+v, was %+v", got, u)
				}
			}
		})
		step(t, e, "PUT keeping its own email in another case is no conflict", func(t *testing.T) {
			a := postUser(t, e, "Alice", "alice@example.com")
			u := wantUser(t, e.app.Do(t, http.MethodPut, userPath(a.ID), map[string]any{"name": "Alice B", "email": "ALICE@EXAMPLE.COM "}), http.StatusOK)
			if u.Email != "alice@example.com" || u.Name != "Alice B" {
				t.Errorf("answered %+v", u)
			}
		})
		step(t, e, "an email that is only spaces is required", func(t *testing.T) {
			resp := e.app.Do(t, http.MethodPost, "/users", map[string]any{"name": "N", "email": "   "})
			if got := fieldsOf(t, wantProblem(t, resp, http.StatusUnprocessableEntity)); !maps.Equal(got, map[string]string{"email": "is required"}) {
				t.Errorf("errors %v", got)
			}
		})
	})
}

// TestEmailNormalisedByTheRepository: the users repository normalises the
// email on Create, CreateMany and Update (CLI commands, jobs and the
// seeder write through it), and FindByEmail finds a user whatever the case
// asked.
func TestEmailNormalisedByTheRepository(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		step(t, e, "Create, CreateMany, Update, FindByEmail", func(t *testing.T) {
			u := addUser(t, e, "Mixed", " MiXeD@Example.COM ", true)
			if u.Email != "mixed@example.com" {
				t.Errorf("Create left the model's email %q", u.Email)
			}
			many := []*users.User{{Name: "One", Email: "ONE@example.com"}, {Name: "Two", Email: " Two@Example.com"}}
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error { return r.CreateMany(ctx, many) })
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				u.Email = "Renamed@Example.com"
				return r.Update(ctx, &u)
			})
			want := []string{"renamed@example.com", "one@example.com", "two@example.com"}
			if got := storedEmails(t, e); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("stored %q, want %q", got, want)
			}
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				got, err := r.FindByEmail(ctx, "  RENAMED@example.COM ")
				if err != nil || got == nil || got.ID != u.ID {
					t.Errorf("FindByEmail: %+v, %v; want user %d", got, err, u.ID)
				}
				return nil
			})
			err := db.WithTx(context.Background(), e.app.DB, func(tx *db.Tx) error {
				return users.NewRepository(e.table, e.cols, tx).Create(context.Background(), &users.User{Name: "Dup", Email: "ONE@EXAMPLE.COM"})
			})
			if !errors.Is(err, db.ErrUniqueViolation) {
				t.Errorf("Create of a duplicate in another case: %v, want a unique violation", err)
			}
		})
	})
}

// TestEmailUniqueInTheDatabase: the database itself, not only the
// application, refuses an email that differs from a stored one only in
// case: a plain SQL INSERT or UPDATE is refused on every database. SQLite's
// lower() folds ASCII letters only, so there a non-ASCII capital gets past
// plain SQL (the application still folds it).
func TestEmailUniqueInTheDatabase(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		step(t, e, "INSERT", func(t *testing.T) {
			postUser(t, e, "Ada", "ada@example.com")
			for _, dup := range []string{"ADA@example.com", "Ada@Example.Com", "ada@EXAMPLE.COM"} {
				if err := insertRaw(e, "Dup", dup); !errors.Is(err, db.ErrUniqueViolation) {
					t.Errorf("INSERT of %q: %v, want a unique violation", dup, err)
				}
			}
			if err := insertRaw(e, "Other", "ada2@example.com"); err != nil {
				t.Errorf("INSERT of another address: %v", err)
			}
			if got := storedEmails(t, e); strings.Join(got, " ") != "ada@example.com ada2@example.com" {
				t.Errorf("stored %q", got)
			}
		})
		step(t, e, "UPDATE", func(t *testing.T) {
			postUser(t, e, "Ada", "ada@example.com")
			b := postUser(t, e, "Bob", "bob@example.com")
			_, err := e.app.DB.Exec(e.app.DB.Rebind("UPDATE users SET email = ? WHERE id = ?"), "ADA@EXAMPLE.COM", b.ID)
			if !errors.Is(e.app.Dialect.Classify(err), db.ErrUniqueViolation) {
				t.Errorf("UPDATE to a duplicate in another case: %v, want a unique violation", err)
			}
		})
		step(t, e, "INSERT of a non-ASCII capital", func(t *testing.T) {
			postUser(t, e, "Émile", "émile@example.com")
			err := insertRaw(e, "Dup", "ÉMILE@example.com")
			if e.app.Dialect == db.SQLite {
				if err != nil {
					t.Errorf("SQLite: INSERT of ÉMILE: %v; SQLite's lower() was expected to keep É", err)
				}
				return
			}
			if !errors.Is(err, db.ErrUniqueViolation) {
				t.Errorf("INSERT of ÉMILE@example.com: %v, want a unique violation", err)
			}
		})
	})
}
