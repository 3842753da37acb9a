package users

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

// Repository is the users repository: the generic operations of repo.Base
// and the feature's own queries.
type Repository struct {
	repo.Base[User]
	cols *Columns
}

// NewRepository builds the repository on the request's querier, with the
// columns resolved once by NewColumns. Register it with fxmodules.Scoped.
func NewRepository(t *repo.Table[User], cols *Columns, q db.Querier) *Repository {
	return &Repository{Base: t.On(q), cols: cols}
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

// Query selects users for a list. Its conditions are ANDed; a zero field
// is no condition.
type Query struct {
	// Name keeps the users whose name contains it, ignoring case (see
	// repo.Column.ILike for which letters each database folds); its % and
	// _ are matched literally.
	Name string
	// Active keeps the users whose active flag is *Active.
	Active *bool
	// IDs, when not nil, keeps the users whose id is one of them (an empty,
	// non-nil IDs keeps none); duplicates are allowed.
	IDs []int64
	// CreatedAfter keeps the users created strictly after it.
	CreatedAfter time.Time
	// CreatedBefore keeps the users created strictly before it.
	CreatedBefore time.Time
	// EmailDomain keeps the users whose email ends with "@" followed by
	// it, compared in lower case (emails are stored lower-cased, see
	// NormalizeEmail); its % and _ are matched literally. An email of a
	// subdomain ("a@mail.example.com" for "example.com") does not match.
	EmailDomain string
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
	if err := r.Table.CheckSort(page.Sort); err != nil {
		return nil, 0, err
	}
	order := r.cols.orderings(page.Sort)
	limit, err := repo.PageLimit(page.Limit)
	if err != nil {
		return nil, 0, err
	}
	if page.Offset < 0 {
		return nil, 0, &repo.QueryError{Op: "page", Table: r.Table.Name(), Detail: "the offset must not be negative, got " + strconv.Itoa(page.Offset)}
	}
	matching := r.Query().Where(r.where(q)...)
	total, err := matching.Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("users: list: %w", err)
	}
	if total <= int64(page.Offset) {
		return []User{}, total, nil // the page is past the last match
	}
	users, err := matching.OrderBy(order...).Limit(limit).Offset(page.Offset).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("users: list: %w", err)
	}
	return users, total, nil
}

// where returns q's conditions.
func (r *Repository) where(q Query) []repo.Predicate[User] {
	c := r.cols
	var ps []repo.Predicate[User]
	if q.Name != "" {
		ps = append(ps, c.Name.ILikePattern("%"+repo.EscapeLike(q.Name)+"%"))
	}
	if q.Active != nil {
		ps = append(ps, c.IsActive.Eq(*q.Active))
	}
	if q.IDs != nil {
		ps = append(ps, c.ID.In(q.IDs...))
	}
	// The bounds are in UTC, as the times are stored (SQLite compares them
	// as text). Stored times have microseconds at most: rounding the bounds
	// to microseconds (down for after, up for before) keeps "strictly
	// after" and "strictly before" exact on every database, whatever a
	// driver does with nanoseconds.
	if !q.CreatedAfter.IsZero() {
		ps = append(ps, c.CreatedAt.Gt(q.CreatedAfter.UTC().Truncate(time.Microsecond)))
	}
	if !q.CreatedBefore.IsZero() {
		ps = append(ps, c.CreatedAt.Lt(ceilMicro(q.CreatedBefore.UTC())))
	}
	if q.EmailDomain != "" {
		ps = append(ps, c.Email.EndsWith("@"+strings.ToLower(q.EmailDomain)))
	}
	return ps
}

// ceilMicro rounds t up to a whole microsecond.
func ceilMicro(t time.Time) time.Time {
	if d := t.Truncate(time.Microsecond); !d.Equal(t) {
		return d.Add(time.Microsecond)
	}
	return t
}

// RecordWelcome records that the user with id is sent the welcome email,
// and reports whether it is the first time (false: already recorded).
func (r *Repository) RecordWelcome(ctx context.Context, id int64) (bool, error) {
	q := "INSERT INTO welcome_emails (user_id) VALUES (?) ON CONFLICT (user_id) DO NOTHING"
	if db.DialectOf(r.Q) == db.MySQL {
		q = "INSERT IGNORE INTO welcome_emails (user_id) VALUES (?)"
	}
	res, err := r.Q.ExecContext(ctx, r.Q.Rebind(q), id)
	if err != nil {
		return false, fmt.Errorf("users: record the welcome of user %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("users: record the welcome of user %d: %w", id, err)
	}
	return n == 1, nil
}
