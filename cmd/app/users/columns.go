package users

import (
	"errors"
	"fmt"
	"time"

	"github.com/fasttrack-go/fasttrack/repo"
)

// Columns are the typed columns of the users table that the repository's
// queries use, resolved once from User (NewColumns) and shared by every
// request: a singleton, read-only after NewColumns.
type Columns struct {
	ID        repo.Column[User, int64]
	Name      repo.Column[User, string]
	Email     repo.Column[User, string]
	IsActive  repo.Column[User, bool]
	CreatedAt repo.Column[User, time.Time]
	UpdatedAt repo.Column[User, time.Time]

	// sort holds each column's sort keys by name: ascending, descending.
	sort map[string][2]repo.Ordering[User]
}

// NewColumns resolves the columns of t. It fails when a field is not a
// column of t, or when t has a column that Columns lacks (every column is
// sortable, so each needs its sort keys).
func NewColumns(t *repo.Table[User]) (*Columns, error) {
	c := &Columns{
		ID:        repo.Col(t, func(u *User) *int64 { return &u.ID }),
		Name:      repo.Col(t, func(u *User) *string { return &u.Name }),
		Email:     repo.Col(t, func(u *User) *string { return &u.Email }),
		IsActive:  repo.Col(t, func(u *User) *bool { return &u.IsActive }),
		CreatedAt: repo.Col(t, func(u *User) *time.Time { return &u.CreatedAt }),
		UpdatedAt: repo.Col(t, func(u *User) *time.Time { return &u.UpdatedAt }),
	}
	if err := errors.Join(c.ID.Err(), c.Name.Err(), c.Email.Err(), c.IsActive.Err(), c.CreatedAt.Err(), c.UpdatedAt.Err()); err != nil {
		return nil, fmt.Errorf("users: columns: %w", err)
	}
	c.sort = map[string][2]repo.Ordering[User]{}
	add := func(name string, asc, desc repo.Ordering[User]) { c.sort[name] = [2]repo.Ordering[User]{asc, desc} }
	add(c.ID.Name(), c.ID.Asc(), c.ID.Desc())
	add(c.Name.Name(), c.Name.Asc(), c.Name.Desc())
	add(c.Email.Name(), c.Email.Asc(), c.Email.Desc())
	add(c.IsActive.Name(), c.IsActive.Asc(), c.IsActive.Desc())
	add(c.CreatedAt.Name(), c.CreatedAt.Asc(), c.CreatedAt.Desc())
	add(c.UpdatedAt.Name(), c.UpdatedAt.Asc(), c.UpdatedAt.Desc())
	for _, name := range t.Columns() {
		if _, ok := c.sort[name]; !ok {
			return nil, fmt.Errorf("users: columns: table %s has column %q, which Columns lacks", t.Name(), name)
		}
	}
	return c, nil
}

// orderings returns the sort keys of sort, whose columns Table.CheckSort
// accepted (NewColumns made sure that each has its keys).
func (c *Columns) orderings(sort []repo.Order) []repo.Ordering[User] {
	out := make([]repo.Ordering[User], 0, len(sort))
	for _, o := range sort {
		keys := c.sort[o.Column]
		if o.Desc {
			out = append(out, keys[1])
		} else {
			out = append(out, keys[0])
		}
	}
	return out
}
