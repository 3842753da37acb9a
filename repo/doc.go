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
// # Queries
//
// Table.Query and Base.Query start a Query: an immutable SELECT built from
// typed columns and predicate values. Col (or MustCol, which panics) resolves
// a column once from an accessor that returns the field's address, so a
// renamed field or a value of the wrong type does not compile:
//
//	name := repo.MustCol(users, func(u *User) *string { return &u.Name })
//	email := repo.MustCol(users, func(u *User) *string { return &u.Email })
//	id := repo.MustCol(users, func(u *User) *int64 { return &u.ID })
//
//	list, err := users.On(tx).Query().
//		Where(email.EndsWith("@example.com"), repo.Or(name.StartsWith("A"), id.In(ids...))).
//		OrderBy(name.Asc()).
//		Limit(20).
//		All(ctx)
//
// Every method returns a new Query, so a base query can be shared and
// extended by many goroutines; Where always ANDs. Predicates (Eq, Ne, Lt,
// Le, Gt, Ge, Between, IsNull, NotNull, In, NotIn, Like, Contains,
// StartsWith, EndsWith, LikePattern, And, Or, Not) bind every value; In
// binds the whole list as one parameter, so 100,000 keys work on every
// database and the SQL text does not change with the list's length. The
// LIKE family escapes the caller's % and _ except in LikePattern. All,
// First (ErrNotFound), Count and Exists run the query; ToSQL shows it.
// Update(col.Set(v), ...), Delete and ForceDelete write every matching row
// in one statement (timestamps, version and soft delete honoured; model
// events do not fire) and return how many rows they matched.
//
// Scopes applies reusable query functions in order:
// q.Scopes(Adults, InCountry("FR")). Table.AddScope registers a global
// scope, a predicate that every query of the table applies (reads, counts,
// aggregates, subqueries, both sides of a join, bulk writes) and so do
// Base's reads (Find, FindBy, FirstBy, Exists, Count, All, Keyset); soft
// delete is the global scope SoftDeleteScope. WithTrashed and Without(name)
// lift them; Base's writes by id and Upsert do not apply them.
//
// One returns the only row (ErrNotFound, ErrMultipleRows); Chunks(ctx, n)
// ranges over the rows in slices, paging by id, never by offset; Page and
// Keyset take the Page and KeysetPage of Base.All and Base.Keyset, so a
// client's filters and cursors compose with a query. ForUpdate and
// SkipLocked lock the selected rows on PostgreSQL and MySQL/MariaDB (an
// error on SQLite). Base.Upsert inserts or updates on a unique key named by
// typed columns (ON CONFLICT, ON DUPLICATE KEY UPDATE) and sets the model
// from the stored row; like the bulk writes, it fires no model events.
//
// ILike and ILikePattern match ignoring case, by each database's rules
// (SQLite folds only ASCII letters). Exists, NotExists, InQuery and
// NotInQuery put a query of another table (or the same one) inside a
// predicate; its conditions, soft delete and global scopes apply, and its
// parameters are numbered in the outer statement. NotInQuery is true when no
// row of the subquery has an equal value, so a NULL in the subquery never
// makes it unknown.
//
// Pluck returns one column of a query in its order. Sum, Avg, Min and Max
// return a sql.Null that is not Valid when no row matches. GroupBy groups a
// query by columns; Having filters groups by aggregates
// (CountAll[T]().Gt(5), SumOf(qty).Ge(10)) and by grouping keys. Select,
// SelectGroups and SelectJoin scan columns and aggregates into another
// struct: To(func(p *P) *V { return &p.Field }, expr) pairs each expression
// with a field, whose db tag is the column alias.
//
// Join and LeftJoin join two queries on On(colOfT, colOfU). Each side keeps
// its own conditions, soft delete and global scopes (a LeftJoin keeps every
// row of its left side), and a table may be joined with itself. Joined.All
// returns each matching row of the left side once; SelectJoin returns one row
// per joined pair.
//
// A query's SQL text is rendered once per shape (its predicates, columns and
// operators, not its values) and kept on its Table, so the same shape always
// gives the same text, and the prepared-statement caches hit.
//
// # Relations
//
// BelongsTo, HasOne, HasMany and ManyToMany declare a relation once, next to
// the tables, with the foreign key as a typed Column and the field that
// holds the related rows: a Many, One or Count, which NewTable does not map
// to a column.
//
//	userPosts := repo.HasMany(userTable, postTable, postUserID, func(u *User) *repo.Many[Post] { return &u.Posts })
//
//	users, err := userTable.On(tx).Query().
//		With(userPosts.Where(published.Eq(true)).OrderBy(postAt.Desc()).Limit(3).With(postTags)).
//		All(ctx)
//	posts, err := users[0].Posts.Get() // ErrNotLoaded without With
//
// With loads each relation with one statement per level, after the rows:
// the keys are deduplicated and bound as one parameter, so 100,000 rows
// load on every database. A relation's Where, OrderBy and Limit (per row,
// by ROW_NUMBER) constrain the loaded side, and the related table's soft
// delete and global scopes apply unless the relation lifts them
// (WithTrashed, Without). A holder that was not loaded returns ErrNotLoaded;
// it never queries. LoadMissing loads relations into rows already in
// memory, where they are not loaded yet. WithCount fills a Count field
// (CountInto) with one grouped COUNT per relation; Has, WhereHas and
// DoesntHave are predicates on the related rows. Attach, Detach, Sync and
// their With forms write a many-to-many pivot in the caller's Querier;
// attaching a pair twice, even from two transactions at once, leaves one row.
//
// # Identifiers and values
//
// Identifiers are always quoted and values always bound: sort and filter
// columns are accepted only when they are columns of the model, and
// operators only from a fixed list, so a query string can drive All without
// reaching the SQL text. Embedding Timestamps, SoftDelete or Versioned adds
// managed timestamps, soft delete and optimistic locking; a model may react
// to its events by implementing BeforeCreator, AfterUpdater, and the others.
package repo
