package users

import (
	"context"
	"fmt"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

// SeederName is the users seeder's name on the command line: `app seed users`.
const SeederName = "users"

// Seeder inserts a few example users (see Examples). It is idempotent: a
// user whose email is already in the table is left as it is, so running it
// again adds nothing and changes nothing. Register it with seed.Provide.
type Seeder struct {
	table *repo.Table[User]
	cols  *Columns
}

// NewSeeder builds the users seeder on the users table mapping and its
// columns.
func NewSeeder(t *repo.Table[User], cols *Columns) *Seeder { return &Seeder{table: t, cols: cols} }

// Name returns "users".
func (*Seeder) Name() string { return SeederName }

// Seed inserts, through the users Repository on q, each example user whose
// email is not in the table yet.
func (s *Seeder) Seed(ctx context.Context, q db.Querier) error {
	r := NewRepository(s.table, s.cols, q)
	for _, u := range Examples() {
		got, err := r.FindByEmail(ctx, u.Email)
		if err != nil {
			return fmt.Errorf("users: looking up %s: %w", u.Email, err)
		}
		if got != nil {
			continue
		}
		if err := r.Create(ctx, &u); err != nil {
			return fmt.Errorf("users: creating %s: %w", u.Email, err)
		}
	}
	return nil
}

// Examples returns the users the seeder inserts, each new on every call.
func Examples() []User {
	return []User{
		{Name: "Ada Lovelace", Email: "ada@example.com", IsActive: true},
		{Name: "Grace Hopper", Email: "grace@example.com", IsActive: true},
		{Name: "Alan Turing", Email: "alan@example.com", IsActive: false},
	}
}
