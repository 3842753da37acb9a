package users_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/factory"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

// env is one database's running app, for the seed's tests.
type env struct {
	app   *fasttest.App
	table *repo.Table[users.User]
	cols  *users.Columns

	mu       sync.Mutex
	sessions []db.Querier // sessions the probe saw
}

// withRepo runs fn with a users repository in a transaction that commits
// when fn returns nil, as a CLI command or a job would.
func (e *env) withRepo(t *testing.T, fn func(ctx context.Context, r *users.Repository) error) {
	t.Helper()
	err := db.WithTx(context.Background(), e.app.DB, func(tx *db.Tx) error {
		return fn(context.Background(), users.NewRepository(e.table, e.cols, tx))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// people builds users with unique emails, for the cases that need several.
func people() *factory.Factory[users.User] {
	return factory.New(func(seq int) users.User {
		return users.User{Name: fmt.Sprintf("User %d", seq), Email: fmt.Sprintf("user%d@example.com", seq), IsActive: true}
	})
}

// createMany saves n users from people() in one transaction.
func (e *env) createMany(t *testing.T, n int) []users.User {
	t.Helper()
	var out []users.User
	err := db.WithTx(context.Background(), e.app.DB, func(tx *db.Tx) error {
		var err error
		out, err = people().Create(context.Background(), e.table, tx, n)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) create(t *testing.T, name, email string) users.User {
	t.Helper()
	u := users.User{Name: name, Email: email, IsActive: true}
	e.withRepo(t, func(ctx context.Context, r *users.Repository) error { return r.Create(ctx, &u) })
	return u
}

// startApp starts the reference app's users feature on databaseURL, with
// two probe routes for the injection tests.
func startApp(t *testing.T, databaseURL string) *env {
	t.Helper()
	e := &env{}
	e.app = fasttest.StartWith(t, fasttest.Config(databaseURL), migrations.FS,
		users.Module(),
		fx.Populate(&e.table, &e.cols),
		fx.Invoke(func(g *gin.Engine) {
			g.GET("/probe/injection", api.Handle(func(c *gin.Context, q db.Querier, tx *db.Tx, r *users.Repository) (gin.H, error) {
				return gin.H{"querier_is_tx": q == db.Querier(tx), "repo_on_tx": r.Q == q}, nil
			}))
			g.GET("/probe/session", api.Handle(func(c *gin.Context, q db.Querier) (gin.H, error) {
				again, err := api.Resolve[db.Querier](c)
				if err != nil {
					return nil, err
				}
				// Keep every session seen, so that no address is reused.
				e.mu.Lock()
				defer e.mu.Unlock()
				seen := slices.Contains(e.sessions, q)
				e.sessions = append(e.sessions, q)
				return gin.H{"same": again == q, "seen_before": seen}, nil
			}))
		}),
	)
	return e
}

// TestSeedSuite ports the Python seed's test list, one case per seed test,
// on SQLite, PostgreSQL and MySQL.
func TestSeedSuite(t *testing.T) {
	cases := []struct {
		seed string
		run  func(t *testing.T, e *env)
	}{
		{"test_create_user", func(t *testing.T, e *env) {
			u := e.create(t, "John Doe", "john@example.com")
			if u.ID == 0 || u.Name != "John Doe" || u.Email != "john@example.com" || !u.IsActive || u.CreatedAt.IsZero() {
				t.Fatalf("created %+v", u)
			}
		}},
		{"test_create_multiple_users", func(t *testing.T, e *env) {
			a := e.create(t, "User 1", "user1@example.com")
			b := e.create(t, "User 2", "user2@example.com")
			c := e.create(t, "User 3", "user3@example.com")
			if a.ID == b.ID || b.ID == c.ID || a.ID == c.ID {
				t.Fatalf("ids %d %d %d", a.ID, b.ID, c.ID)
			}
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				n, err := r.Count(ctx)
				if err == nil && n != 3 {
					t.Errorf("count %d, want 3", n)
				}
				return err
			})
		}},
		{"test_find_user_by_id", func(t *testing.T, e *env) {
			u := e.create(t, "Jane", "jane@example.com")
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				got, err := r.Find(ctx, u.ID)
				if err == nil && (got == nil || got.Email != "jane@example.com") {
					t.Errorf("Find = %+v", got)
				}
				return err
			})
		}},
		{"test_find_nonexistent_user_returns_none", func(t *testing.T, e *env) {
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				got, err := r.Find(ctx, 999999)
				if got != nil {
					t.Errorf("Find of a missing id = %+v", got)
				}
				return err
			})
		}},
		{"test_find_or_fail_returns_user", func(t *testing.T, e *env) {
			u := e.create(t, "Jane", "jane@example.com")
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				got, err := r.FindOrFail(ctx, u.ID)
				if err == nil && got.ID != u.ID {
					t.Errorf("FindOrFail = %+v", got)
				}
				return err
			})
		}},
		{"test_find_or_fail_raises_404", func(t *testing.T, e *env) {
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				if _, err := r.FindOrFail(ctx, 999999); !errors.Is(err, repo.ErrNotFound) {
					t.Errorf("FindOrFail of a missing id: %v, want repo.ErrNotFound", err)
				}
				return nil
			})
		}},
		{"test_all_returns_all_users", func(t *testing.T, e *env) {
			e.createMany(t, 5)
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				all, err := r.All(ctx, repo.Page{})
				if err == nil && len(all) != 5 {
					t.Errorf("All returned %d users, want 5", len(all))
				}
				return err
			})
		}},
		{"test_all_with_pagination", func(t *testing.T, e *env) {
			var ids []int64
			for _, u := range e.createMany(t, 10) {
				ids = append(ids, u.ID)
			}
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				page, err := r.All(ctx, repo.Page{Limit: 3, Offset: 2})
				if err != nil {
					return err
				}
				if len(page) != 3 || page[0].ID != ids[2] || page[2].ID != ids[4] {
					t.Errorf("page = %+v, want ids %v", page, ids[2:5])
				}
				return nil
			})
		}},
		{"test_update_user", func(t *testing.T, e *env) {
			u := e.create(t, "Old Name", "old@example.com")
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				u.Name = "New Name"
				return r.Update(ctx, &u)
			})
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				got, err := r.FindOrFail(ctx, u.ID)
				if err == nil && got.Name != "New Name" {
					t.Errorf("after update: %+v", got)
				}
				return err
			})
		}},
		{"test_update_multiple_fields", func(t *testing.T, e *env) {
			u := e.create(t, "Name", "a@example.com")
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				u.Name, u.Email, u.IsActive = "Other", "b@example.com", false
				return r.Update(ctx, &u)
			})
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				got, err := r.FindOrFail(ctx, u.ID)
				if err == nil && (got.Name != "Other" || got.Email != "b@example.com" || got.IsActive) {
					t.Errorf("after update: %+v", got)
				}
				return err
			})
		}},
		{"test_delete_user", func(t *testing.T, e *env) {
			u := e.create(t, "Doomed", "doomed@example.com")
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error { return r.Delete(ctx, u.ID) })
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				got, err := r.Find(ctx, u.ID)
				if got != nil {
					t.Errorf("deleted user still found: %+v", got)
				}
				return err
			})
		}},
		{"test_delete_does_not_affect_other_users", func(t *testing.T, e *env) {
			a := e.create(t, "A", "a@example.com")
			b := e.create(t, "B", "b@example.com")
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error { return r.Delete(ctx, a.ID) })
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				got, err := r.Find(ctx, b.ID)
				if err == nil && got == nil {
					t.Error("deleting A removed B")
				}
				return err
			})
		}},
		{"test_count_empty_table", func(t *testing.T, e *env) {
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				n, err := r.Count(ctx)
				if err == nil && n != 0 {
					t.Errorf("count %d on an empty table", n)
				}
				return err
			})
		}},
		{"test_count_with_records", func(t *testing.T, e *env) {
			e.createMany(t, 4)
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				n, err := r.Count(ctx)
				if err == nil && n != 4 {
					t.Errorf("count %d, want 4", n)
				}
				return err
			})
		}},
		{"test_count_after_delete", func(t *testing.T, e *env) {
			a := e.create(t, "A", "a@example.com")
			e.create(t, "B", "b@example.com")
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error { return r.Delete(ctx, a.ID) })
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				n, err := r.Count(ctx)
				if err == nil && n != 1 {
					t.Errorf("count %d after a delete, want 1", n)
				}
				return err
			})
		}},
		{"test_find_by_email", func(t *testing.T, e *env) {
			u := e.create(t, "Mail", "mail@example.com")
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				got, err := r.FindByEmail(ctx, "mail@example.com")
				if err == nil && (got == nil || got.ID != u.ID) {
					t.Errorf("FindByEmail = %+v", got)
				}
				return err
			})
		}},
		{"test_find_by_email_not_found", func(t *testing.T, e *env) {
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				got, err := r.FindByEmail(ctx, "nobody@example.com")
				if got != nil {
					t.Errorf("FindByEmail of an unknown email = %+v", got)
				}
				return err
			})
		}},
		{"test_database_session_injection", func(t *testing.T, e *env) {
			body := e.app.Do(t, http.MethodGet, "/probe/injection", nil).JSON(t)
			if body["querier_is_tx"] != true {
				t.Fatalf("the injected db.Querier is not the request's transaction: %v", body)
			}
		}},
		{"test_repository_injection", func(t *testing.T, e *env) {
			body := e.app.Do(t, http.MethodGet, "/probe/injection", nil).JSON(t)
			if body["repo_on_tx"] != true {
				t.Fatalf("the injected repository is not on the request's transaction: %v", body)
			}
		}},
		{"test_create_user_via_http", func(t *testing.T, e *env) {
			resp := e.app.Do(t, http.MethodPost, "/users", map[string]any{"name": "Http", "email": "http@example.com"})
			body := resp.JSON(t)
			if resp.Status != http.StatusCreated || body["email"] != "http@example.com" || body["id"] == nil {
				t.Fatalf("POST /users: %d %s", resp.Status, resp.Body)
			}
			if loc := resp.Header.Get("Location"); loc != fmt.Sprintf("/users/%v", body["id"]) {
				t.Fatalf("Location %q", loc)
			}
		}},
		{"test_read_user_via_http", func(t *testing.T, e *env) {
			u := e.create(t, "Read", "read@example.com")
			resp := e.app.Do(t, http.MethodGet, fmt.Sprintf("/users/%d", u.ID), nil)
			if resp.Status != http.StatusOK || resp.JSON(t)["name"] != "Read" {
				t.Fatalf("GET: %d %s", resp.Status, resp.Body)
			}
		}},
		{"test_update_user_via_http", func(t *testing.T, e *env) {
			u := e.create(t, "Before", "before@example.com")
			resp := e.app.Do(t, http.MethodPut, fmt.Sprintf("/users/%d", u.ID), map[string]any{"name": "After", "email": "after@example.com"})
			if resp.Status != http.StatusOK || resp.JSON(t)["name"] != "After" {
				t.Fatalf("PUT: %d %s", resp.Status, resp.Body)
			}
			if got := e.app.Do(t, http.MethodGet, fmt.Sprintf("/users/%d", u.ID), nil).JSON(t); got["email"] != "after@example.com" {
				t.Fatalf("after PUT: %v", got)
			}
		}},
		{"test_delete_user_via_http", func(t *testing.T, e *env) {
			u := e.create(t, "Gone", "gone@example.com")
			if resp := e.app.Do(t, http.MethodDelete, fmt.Sprintf("/users/%d", u.ID), nil); resp.Status != http.StatusNoContent || len(resp.Body) != 0 {
				t.Fatalf("DELETE: %d %q", resp.Status, resp.Body)
			}
			if resp := e.app.Do(t, http.MethodGet, fmt.Sprintf("/users/%d", u.ID), nil); resp.Status != http.StatusNotFound {
				t.Fatalf("GET after DELETE: %d", resp.Status)
			}
		}},
		{"test_scoped_session_same_within_request", func(t *testing.T, e *env) {
			if body := e.app.Do(t, http.MethodGet, "/probe/session", nil).JSON(t); body["same"] != true {
				t.Fatalf("two resolutions in one request differ: %v", body)
			}
		}},
		{"test_scoped_session_different_between_requests", func(t *testing.T, e *env) {
			for range 3 {
				if body := e.app.Do(t, http.MethodGet, "/probe/session", nil).JSON(t); body["seen_before"] != false {
					t.Fatalf("a request got an earlier request's session: %v", body)
				}
			}
		}},
		{"test_find_or_fail_returns_404", func(t *testing.T, e *env) {
			resp := e.app.Do(t, http.MethodGet, "/users/999999", nil)
			if resp.Status != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("GET missing: %d %s %s", resp.Status, resp.Header.Get("Content-Type"), resp.Body)
			}
		}},
	}
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		e := startApp(t, u)
		for _, tc := range cases {
			t.Run(tc.seed, func(t *testing.T) {
				if _, err := e.app.DB.Exec("DELETE FROM users"); err != nil {
					t.Fatal(err)
				}
				tc.run(t, e)
				e.app.RequireNoConnInUse(t)
			})
		}
	})
}
