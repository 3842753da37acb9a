// Package users is the reference app's users feature: the model, its
// repository (a request-scoped service on the request's transaction), and
// the HTTP handlers of /users.
package users

import "github.com/fasttrack-go/fasttrack/repo"

// User is a row of the users table.
type User struct {
	ID       int64  `db:"id" json:"id"`
	Name     string `db:"name" json:"name"`
	Email    string `db:"email" json:"email"`
	IsActive bool   `db:"is_active" json:"is_active"`
	repo.Timestamps
}

// TableName names User's table.
func (User) TableName() string { return "users" }
