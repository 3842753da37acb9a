package users

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

// Repository is the users repository: the generic operations of repo.Base
// and the feature's own queries.
type Repository struct {
	repo.Base[User]
}

// NewRepository builds the repository on the request's querier. Register it
// with fxmodules.Scoped.
func NewRepository(t *repo.Table[User], q db.Querier) *Repository {
	return &Repository{Base: t.On(q)}
}

// FindByEmail returns the user with email, in any case and with spaces
// around it (see NormalizeEmail), or nil when there is none.
func (r *Repository) FindByEmail(ctx context.Context, email string) (*User, error) {
	return r.FirstBy(ctx, "email", NormalizeEmail(email))
}

// ActiveUsers returns a page of the active users.
func (r *Repository) ActiveUsers(ctx context.Context, page repo.Page) ([]User, error) {
	page.Filters = append(page.Filters, repo.Filter{Column: "is_active", Op: "=", Value: true})
	return r.All(ctx, page)
}

// Query selects users for a list: a case-insensitive substring of the name,
// and optionally the active flag.
type Query struct {
	Name   string
	Active *bool
}

// SearchByName returns a page of the users whose name contains name,
// ignoring case.
func (r *Repository) SearchByName(ctx context.Context, name string, page repo.Page) ([]User, error) {
	users, _, err := r.List(ctx, Query{Name: name}, page)
	return users, err
}

// List returns a page of the users matching q, in the page's order, and how
// many match in all. The page's limit follows repo.Page (repo.PageLimit):
// 0 means DefaultLimit, more than MaxLimit means MaxLimit; a negative limit or
// offset, or a sort that Table.CheckSort rejects, is a *repo.QueryError and
// nothing is sent. page.Filters are not applied: q selects the users.
func (r *Repository) List(ctx context.Context, q Query, page repo.Page) ([]User, int64, error) {
	order, err := r.orderBy(page.Sort)
	if err != nil {
		return nil, 0, err
	}
	limit, err := repo.PageLimit(page.Limit)
	if err != nil {
		return nil, 0, err
	}
	if page.Offset < 0 {
		return nil, 0, &repo.QueryError{Op: "page", Table: r.Table.Name(), Detail: "the offset must not be negative, got " + strconv.Itoa(page.Offset)}
	}
	var where []string
	var args []any
	if q.Name != "" {
		// '!' escapes LIKE's metacharacters on all three databases.
		esc := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(r.lower(q.Name))
		where = append(where, "LOWER(name) LIKE ? ESCAPE '!'")
		args = append(args, "%"+esc+"%")
	}
	if q.Active != nil {
		where = append(where, "is_active = ?")
		args = append(args, *q.Active)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int64
	if err := r.Q.GetContext(ctx, &total, r.Q.Rebind("SELECT COUNT(*) FROM users"+cond), args...); err != nil {
		return nil, 0, fmt.Errorf("users: count: %w", err)
	}
	users := []User{}
	query := r.Q.Rebind(fmt.Sprintf("SELECT * FROM users%s ORDER BY %s LIMIT %d OFFSET %d", cond, order, limit, page.Offset))
	if err := r.Q.SelectContext(ctx, &users, query, args...); err != nil {
		return nil, 0, fmt.Errorf("users: list: %w", err)
	}
	return users, total, nil
}

// orderBy renders a sort that Table.CheckSort accepts, by id when empty;
// the id breaks ties.
func (r *Repository) orderBy(sort []repo.Order) (string, error) {
	if err := r.Table.CheckSort(sort); err != nil {
		return "", err
	}
	d := r.Table.Dialect()
	parts := make([]string, 0, len(sort)+1)
	for _, o := range sort {
		dir := " ASC"
		if o.Desc {
			dir = " DESC"
		}
		parts = append(parts, d.Quote(o.Column)+dir)
	}
	return strings.Join(append(parts, d.Quote("id")+" ASC"), ", "), nil
}

// lower folds s as the database's LOWER() folds the column: SQLite folds
// only ASCII letters, so a non-ASCII letter matches in its own case only.
func (r *Repository) lower(s string) string {
	if r.Table.Dialect() != db.SQLite {
		return strings.ToLower(s)
	}
	return strings.Map(func(c rune) rune {
		if 'A' <= c && c <= 'Z' {
			return c + ('a' - 'A')
		}
		return c
	}, s)
}
