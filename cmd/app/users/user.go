// Package users is the reference app's users feature: the model, its
// repository (a request-scoped service on the request's transaction), and
// the HTTP handlers of /users.
package users

import (
	"context"
	"strings"

	"github.com/fasttrack-go/fasttrack/repo"
)

// User is a row of the users table. Its email is stored normalised (see
// NormalizeEmail): the repository's Create, CreateMany and Update normalise
// it through the BeforeCreate and BeforeUpdate events, and the database
// keeps emails unique whatever their case.
type User struct {
	ID       int64  `db:"id" json:"id"`
	Name     string `db:"name" json:"name"`
	Email    string `db:"email" json:"email"`
	IsActive bool   `db:"is_active" json:"is_active"`
	repo.Timestamps
}

// TableName names User's table.
func (User) TableName() string { return "users" }

// BeforeCreate normalises the email before the INSERT.
func (u *User) BeforeCreate(context.Context) error {
	u.Email = NormalizeEmail(u.Email)
	return nil
}

// BeforeUpdate normalises the email before the UPDATE.
func (u *User) BeforeUpdate(context.Context) error {
	u.Email = NormalizeEmail(u.Email)
	return nil
}

// NormalizeEmail returns email as the users table stores it: without the
// white space around it, lower-cased. Two addresses that differ only in
// case are one user.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}
