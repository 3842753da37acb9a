// Package repo holds FastTrack's repository building blocks and the errors
// repositories return.
//
// A Table is a model's precompiled mapping for one dialect — table name,
// columns, and the text of every statement — built once by NewTable and kept
// as a singleton. Table.On gives a Base, the generic repository, over any
// db.Querier: the pool, a transaction, or the request's lazy *db.Tx.
//
//	type User struct {
//		ID    int64  `db:"id"`
//		Email string `db:"email"`
//		Name  string // column "name"
//		repo.Timestamps
//	}
//
//	users, err := repo.NewTable[User](db.Postgres)
//	...
//	u := &User{Email: "ada@example.com", Name: "Ada"}
//	err = users.On(tx).Create(ctx, u) // u.ID, u.CreatedAt, u.UpdatedAt are set
//
// Custom repositories embed Base and add their own sqlx queries through its
// Querier:
//
//	type UserRepo struct{ repo.Base[User] }
//
//	func (r UserRepo) ByDomain(ctx context.Context, domain string) ([]User, error) {
//		var out []User
//		q := "SELECT " + r.Table.SelectList() + " FROM " + r.Table.QuotedName() + " WHERE email LIKE ?"
//		return out, r.Q.SelectContext(ctx, &out, r.Q.Rebind(q), "%@"+domain)
//	}
//
// Identifiers are always quoted and values always bound: sort and filter
// columns are accepted only when they are columns of the model, and
// operators only from a fixed list, so a query string can drive All without
// reaching the SQL text. Embedding Timestamps, SoftDelete or Versioned adds
// managed timestamps, soft delete and optimistic locking; a model may react
// to its events by implementing BeforeCreator, AfterUpdater, and the others.
package repo
