package repo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/jmoiron/sqlx"
)

// Base is a repository of T over a Querier: the pool, a transaction or the
// request's lazy *db.Tx. It is a small value, made by Table.On; custom
// repositories embed it and add their own sqlx queries through Q (with
// Table.SelectList and Table.QuotedName for the SELECT).
//
// Base's reads (Find, FindOrFail, FindBy, FirstBy, Exists, Count, All,
// Keyset, Query) apply the table's global scopes (Table.AddScope); its writes
// by id (Update, Delete, ForceDelete, Restore) and Upsert do not.
//
// Every method takes the context first. Errors start with "repo: " and wrap
// their cause: ErrNotFound, ErrConflict (with db.ErrUniqueViolation for a
// unique key), ErrInvalidQuery, ErrBadCursor, or the database's error,
// classified by db.Dialect.Classify.
type Base[T any] struct {
	// Q runs the statements.
	Q db.Querier
	// Table is T's mapping; it must be of Q's dialect.
	Table *Table[T]

	withTrashed bool
}

// WithTrashed returns a copy of b whose reads (Find, FindBy, All, Keyset,
// Count, Exists) and Update include soft-deleted rows. Without SoftDelete it
// changes nothing.
func (b Base[T]) WithTrashed() Base[T] {
	b.withTrashed = true
	return b
}

// prep checks b and returns its table and statements.
func (b Base[T]) prep(op string) (*Table[T], *statements, error) {
	t := b.Table
	if t == nil || b.Q == nil {
		return nil, nil, fmt.Errorf("repo: %s: Base needs a Table and a Querier (use Table.On)", op)
	}
	if d := db.DialectOf(b.Q); d != t.d {
		return nil, nil, fmt.Errorf("repo: %s %s: table built for %s, used on a %s querier", op, t.name, t.d, d)
	}
	if b.withTrashed {
		return t, &t.st[1], nil
	}
	return t, &t.st[0], nil
}

// scoped reports whether t has global scopes, which Base's reads then
// render for each call instead of using the prebuilt statements.
func (t *Table[T]) scoped() bool { return len(t.scopes()) > 0 }

// where writes the soft-delete condition (unless b is WithTrashed) and
// the table's global scopes, and returns args with their values.
func (b Base[T]) where(s *sqlBuf, args []any) ([]any, error) {
	w := predWriter{s: s, cols: b.Table.cols, args: args}
	err := b.Query().writeWhere(&w, b.withTrashed)
	return w.args, err
}

// byValue returns the condition "column = value" of FindBy and FirstBy:
// IS NULL for a nil value.
func (t *Table[T]) byValue(i int, value any) Predicate[T] {
	if value == nil {
		return Predicate[T]{pnode{kind: pNull, col: int32(i)}}
	}
	return Predicate[T]{pnode{kind: pCmp, col: int32(i), op: opEq, v: value}}
}

// wrap wraps a database error of op, classified; a unique violation also
// matches ErrConflict.
func (t *Table[T]) wrap(op string, err error) error {
	err = t.d.Classify(err)
	if errors.Is(err, db.ErrUniqueViolation) {
		return fmt.Errorf("repo: %s %s: %w: %w", op, t.name, ErrConflict, err)
	}
	return fmt.Errorf("repo: %s %s: %w", op, t.name, err)
}

// hookErr wraps the error of a model event.
func (t *Table[T]) hookErr(op, hook string, err error) error {
	return fmt.Errorf("repo: %s %s: %s: %w", op, t.name, hook, err)
}

// Create inserts m, every column but id, and sets m's id from the
// database (RETURNING on PostgreSQL and SQLite, LastInsertId on MySQL).
// With Timestamps it sets CreatedAt and UpdatedAt to now; with Versioned it
// sets Version to 1. A unique violation is ErrConflict (and
// db.ErrUniqueViolation); on any error m is left as it was.
func (b Base[T]) Create(ctx context.Context, m *T) error {
	t, _, err := b.prep("create")
	if err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("repo: create %s: nil model", t.name)
	}
	if t.hooks.beforeCreate {
		if err := any(m).(BeforeCreator).BeforeCreate(ctx); err != nil {
			return t.hookErr("create", "BeforeCreate", err)
		}
	}
	v := reflect.ValueOf(m).Elem()
	saved := t.stampCreate(v, now())
	args := t.appendArgs(make([]any, 0, len(t.insert)), v, t.insert)
	if t.d.SupportsReturning() {
		// Scanned straight into the id field; a failed scan leaves it.
		err = b.Q.GetContext(ctx, t.idDest(v), t.insertOne, args...)
	} else {
		var res sql.Result
		var id int64
		if res, err = b.Q.ExecContext(ctx, t.insertOne, args...); err == nil {
			if id, err = res.LastInsertId(); err == nil {
				t.setID(v, id)
			}
		}
	}
	if err != nil {
		t.unstamp(v, saved)
		return t.wrap("create", err)
	}
	if t.hooks.afterCreate {
		if err := any(m).(AfterCreator).AfterCreate(ctx); err != nil {
			return t.hookErr("create", "AfterCreate", err)
		}
	}
	return nil
}

// stamped is what stampCreate or stampUpdate overwrote.
type stamped struct {
	created, updated time.Time
	version          int64
}

// stampCreate fills the timestamps and the version of a new row.
func (t *Table[T]) stampCreate(v reflect.Value, at time.Time) (old stamped) {
	if t.ts.ok {
		ts := embedded[Timestamps](v, t.ts, true)
		old.created, old.updated = ts.CreatedAt, ts.UpdatedAt
		ts.CreatedAt, ts.UpdatedAt = at, at
	}
	if t.vr.ok {
		vr := embedded[Versioned](v, t.vr, true)
		old.version = vr.Version
		vr.Version = 1
	}
	return old
}

// unstamp restores what stampCreate or stampUpdate overwrote.
func (t *Table[T]) unstamp(v reflect.Value, old stamped) {
	if t.ts.ok {
		ts := embedded[Timestamps](v, t.ts, true)
		ts.CreatedAt, ts.UpdatedAt = old.created, old.updated
	}
	if t.vr.ok {
		embedded[Versioned](v, t.vr, true).Version = old.version
	}
}

// CreateMany inserts ms with multi-row INSERTs of at most 500 rows (and
// 30000 values) each, and sets every id: on PostgreSQL and SQLite from
// RETURNING (the ids of a batch, sorted, in the order of the rows); on MySQL
// from LastInsertId, the first id of the batch, the others following it
// one by one (InnoDB gives a multi-row INSERT consecutive ids, with
// auto_increment_increment = 1). Timestamps, Version and the model events
// are handled as by Create: every BeforeCreate runs before the first
// INSERT, every AfterCreate after the last. An empty ms is a no-op.
//
// On a *sqlx.DB, several batches run in one transaction; on a transaction
// they are part of it. On error no id is set.
func (b Base[T]) CreateMany(ctx context.Context, ms []*T) error {
	t, _, err := b.prep("create many")
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		return nil
	}
	for i, m := range ms {
		if m == nil {
			return fmt.Errorf("repo: create many %s: model %d is nil", t.name, i)
		}
	}
	if t.hooks.beforeCreate {
		for _, m := range ms {
			if err := any(m).(BeforeCreator).BeforeCreate(ctx); err != nil {
				return t.hookErr("create many", "BeforeCreate", err)
			}
		}
	}
	at := now()
	for _, m := range ms {
		t.stampCreate(reflect.ValueOf(m).Elem(), at)
	}
	if x, ok := b.Q.(*sqlx.DB); ok && len(ms) > t.batchRows {
		return db.WithTx(ctx, x, func(tx *db.Tx) error {
			return Base[T]{Q: tx, Table: t}.createMany(ctx, t, ms)
		})
	}
	return b.createMany(ctx, t, ms)
}

// createMany sends the batches of CreateMany, sets the ids and runs the
// after-create events.
func (b Base[T]) createMany(ctx context.Context, t *Table[T], ms []*T) error {
	ids := make([]int64, len(ms))
	bctx := db.Batched(ctx) // one text per batch of rows: a batch, not an N+1
	args := make([]any, 0, min(len(ms), t.batchRows)*len(t.insert))
	for start := 0; start < len(ms); start += t.batchRows {
		end := min(start+t.batchRows, len(ms))
		k := end - start
		args = args[:0]
		for _, m := range ms[start:end] {
			args = t.appendArgs(args, reflect.ValueOf(m).Elem(), t.insert)
		}
		query := t.many
		if k < t.batchRows {
			query = t.manyRows[:t.manyEnds[k-1]] + t.manySuffix
		}
		if err := b.insertBatch(bctx, t, query, args, ids[start:end:end]); err != nil {
			return err
		}
	}
	for i, m := range ms {
		t.setID(reflect.ValueOf(m).Elem(), ids[i])
	}
	if t.hooks.afterCreate {
		for _, m := range ms {
			if err := any(m).(AfterCreator).AfterCreate(ctx); err != nil {
				return t.hookErr("create many", "AfterCreate", err)
			}
		}
	}
	return nil
}

// insertBatch runs one multi-row INSERT and fills ids with the new ids in
// the order of its rows.
func (b Base[T]) insertBatch(ctx context.Context, t *Table[T], query string, args []any, ids []int64) error {
	if !t.d.SupportsReturning() {
		res, err := b.Q.ExecContext(ctx, query, args...)
		if err != nil {
			return t.wrap("create many", err)
		}
		first, err := res.LastInsertId()
		if err != nil {
			return t.wrap("create many", err)
		}
		if n, err := res.RowsAffected(); err == nil && n != int64(len(ids)) {
			return fmt.Errorf("repo: create many %s: %d rows inserted, want %d", t.name, n, len(ids))
		}
		for i := range ids {
			ids[i] = first + int64(i)
		}
		return nil
	}
	rows, err := b.Q.QueryxContext(ctx, query, args...)
	if err != nil {
		return t.wrap("create many", err)
	}
	defer rows.Close()
	got := ids[:0]
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return t.wrap("create many", err)
		}
		if len(got) == len(ids) {
			return fmt.Errorf("repo: create many %s: more ids returned than rows inserted", t.name)
		}
		got = append(got, id)
	}
	if err := rows.Err(); err != nil {
		return t.wrap("create many", err)
	}
	if len(got) != len(ids) {
		return fmt.Errorf("repo: create many %s: %d ids returned for %d rows", t.name, len(got), len(ids))
	}
	slices.Sort(ids)
	return nil
}

// Find returns the row with id, or nil, nil when there is none (or it is
// soft-deleted, unless b is WithTrashed).
func (b Base[T]) Find(ctx context.Context, id int64) (*T, error) {
	t, st, err := b.prep("find")
	if err != nil {
		return nil, err
	}
	if t.scoped() {
		return noRow(b.Query().Where(t.byValue(t.idCol(), id)).First(ctx))
	}
	return b.find(ctx, t, st, id)
}

// find is Find without the global scopes, for the writes by id.
func (b Base[T]) find(ctx context.Context, t *Table[T], st *statements, id int64) (*T, error) {
	m := new(T)
	if err := b.Q.GetContext(ctx, m, st.find, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, t.wrap("find", err)
	}
	return m, nil
}

// FindOrFail is Find with ErrNotFound for a missing row.
func (b Base[T]) FindOrFail(ctx context.Context, id int64) (*T, error) {
	m, err := b.Find(ctx, id)
	if err == nil && m == nil {
		return nil, fmt.Errorf("repo: find %s id %d: %w", b.Table.name, id, ErrNotFound)
	}
	return m, err
}

// column returns the index of a column of T, or an ErrInvalidQuery.
func (t *Table[T]) column(op, name string) (int, error) {
	i, ok := t.byName[name]
	if !ok {
		return 0, unknownColumn(op, t.name, "", "columns", name, t.Columns())
	}
	return i, nil
}

// FindBy returns every row whose column equals value (IS NULL for a nil
// value), ordered by id; an empty, non-nil slice when none does. column must
// be one of T's columns: otherwise ErrInvalidQuery, and nothing is sent.
// It has no limit: use All with a Filter for pages.
func (b Base[T]) FindBy(ctx context.Context, column string, value any) ([]T, error) {
	t, st, err := b.prep("find by")
	if err != nil {
		return nil, err
	}
	i, err := t.column("find by", column)
	if err != nil {
		return nil, err
	}
	if t.scoped() {
		return b.Query().Where(t.byValue(i, value)).All(ctx)
	}
	query, args, err := b.byColumn(t, st.findBy[i], column, value, "")
	if err != nil {
		return nil, err
	}
	out := []T{}
	if err := b.Q.SelectContext(ctx, &out, query, args...); err != nil {
		return nil, t.wrap("find by", err)
	}
	return out, nil
}

// FirstBy returns the row with the lowest id whose column equals value, or
// nil, nil when none does. column is checked as by FindBy.
func (b Base[T]) FirstBy(ctx context.Context, column string, value any) (*T, error) {
	t, st, err := b.prep("first by")
	if err != nil {
		return nil, err
	}
	i, err := t.column("first by", column)
	if err != nil {
		return nil, err
	}
	if t.scoped() {
		return noRow(b.Query().Where(t.byValue(i, value)).First(ctx))
	}
	query, args, err := b.byColumn(t, st.firstBy[i], column, value, " LIMIT 1")
	if err != nil {
		return nil, err
	}
	m := new(T)
	if err := b.Q.GetContext(ctx, m, query, args...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, t.wrap("first by", err)
	}
	return m, nil
}

// byColumn returns the prebuilt statement of FindBy or FirstBy, or for a nil
// value the IS NULL variant.
func (b Base[T]) byColumn(t *Table[T], prebuilt, column string, value any, tail string) (string, []any, error) {
	if value != nil {
		return prebuilt, []any{value}, nil
	}
	s := t.newBuf()
	t.selectFrom(s)
	if _, err := t.filters(s, nil, []Filter{{Column: column}}); err != nil {
		return "", nil, err
	}
	// The global scopes registered since FindBy checked for none bind
	// their values here.
	args, err := b.where(s, nil)
	if err != nil {
		return "", nil, err
	}
	s.WriteString(" ORDER BY ")
	s.WriteString(t.q(idColumn))
	s.WriteString(tail)
	return s.String(), args, nil
}

// Exists reports whether the row with id exists (and is not soft-deleted,
// unless b is WithTrashed).
func (b Base[T]) Exists(ctx context.Context, id int64) (bool, error) {
	t, st, err := b.prep("exists")
	if err != nil {
		return false, err
	}
	if t.scoped() {
		return b.Query().Where(t.byValue(t.idCol(), id)).Exists(ctx)
	}
	return b.exists(ctx, t, st, id)
}

// exists is Exists without the global scopes, for the writes by id.
func (b Base[T]) exists(ctx context.Context, t *Table[T], st *statements, id int64) (bool, error) {
	var one int
	if err := b.Q.GetContext(ctx, &one, st.exists, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return false, t.wrap("exists", err)
	}
	return true, nil
}

// Count counts the rows that pass every filter (and are not soft-deleted,
// unless b is WithTrashed). An unknown column or operator is
// ErrInvalidQuery, and nothing is sent.
func (b Base[T]) Count(ctx context.Context, filters ...Filter) (int64, error) {
	t, st, err := b.prep("count")
	if err != nil {
		return 0, err
	}
	query := st.count
	var args []any
	if len(filters) > 0 || t.scoped() {
		s := t.newBuf()
		s.WriteString("SELECT COUNT(*) FROM ")
		s.WriteString(t.qname)
		if args, err = b.where(s, make([]any, 0, len(filters))); err != nil {
			return 0, err
		}
		if args, err = t.filters(s, args, filters); err != nil {
			return 0, err
		}
		query = s.String()
	}
	var n int64
	if err := b.Q.GetContext(ctx, &n, query, args...); err != nil {
		return 0, t.wrap("count", err)
	}
	return n, nil
}

// All returns one page of rows by offset: p.Filters ANDed, sorted by p.Sort
// then id (id ASC by default), at most p.Limit rows (DefaultLimit when 0,
// lowered to MaxLimit when larger) after p.Offset. Soft-deleted rows are
// skipped unless b is WithTrashed. An unknown column or operator, or a
// negative limit or offset, is ErrInvalidQuery, and nothing is sent.
func (b Base[T]) All(ctx context.Context, p Page) ([]T, error) {
	t, st, err := b.prep("all")
	if err != nil {
		return nil, err
	}
	limit, err := PageLimit(p.Limit)
	if err != nil {
		return nil, err
	}
	if p.Offset < 0 {
		return nil, &QueryError{Op: "page", Table: t.name, Detail: "the offset must not be negative, got " + strconv.Itoa(p.Offset)}
	}
	query := st.all
	var args []any
	if len(p.Sort) == 0 && len(p.Filters) == 0 && !t.scoped() {
		args = []any{limit, p.Offset}
	} else {
		s := t.newBuf()
		t.selectFrom(s)
		if args, err = b.where(s, make([]any, 0, len(p.Filters)+2)); err != nil {
			return nil, err
		}
		if args, err = t.filters(s, args, p.Filters); err != nil {
			return nil, err
		}
		if err := t.orderBy(s, p.Sort); err != nil {
			return nil, err
		}
		s.WriteString(" LIMIT ")
		s.bind()
		s.WriteString(" OFFSET ")
		s.bind()
		args = append(args, limit, p.Offset)
		query = s.String()
	}
	out := make([]T, 0, limit)
	if err := b.Q.SelectContext(ctx, &out, query, args...); err != nil {
		return nil, t.wrap("all", err)
	}
	return out, nil
}

// Keyset returns one page of rows ordered by id (descending with p.Desc)
// after the cursor p.After, and the cursor of the next page, "" after the
// last one. A cursor this package did not make is ErrBadCursor; an unknown
// filter column or operator, or a negative limit, is ErrInvalidQuery;
// nothing is sent then. Soft-deleted rows are skipped unless b is
// WithTrashed.
func (b Base[T]) Keyset(ctx context.Context, p KeysetPage) ([]T, string, error) {
	t, _, err := b.prep("keyset")
	if err != nil {
		return nil, "", err
	}
	limit, err := PageLimit(p.Limit)
	if err != nil {
		return nil, "", err
	}
	var after int64
	if p.After != "" {
		if after, err = decodeCursor(p.After); err != nil {
			return nil, "", fmt.Errorf("repo: keyset %s: %w", t.name, err)
		}
	}
	s := t.newBuf()
	t.selectFrom(s)
	args, err := b.where(s, make([]any, 0, len(p.Filters)+2))
	if err != nil {
		return nil, "", err
	}
	if args, err = t.filters(s, args, p.Filters); err != nil {
		return nil, "", err
	}
	qid := t.q(idColumn)
	if p.After != "" {
		s.cond()
		s.WriteString(qid)
		if p.Desc {
			s.WriteString(" < ")
		} else {
			s.WriteString(" > ")
		}
		s.bind()
		args = append(args, after)
	}
	s.WriteString(" ORDER BY ")
	s.WriteString(qid)
	if p.Desc {
		s.WriteString(" DESC LIMIT ")
	} else {
		s.WriteString(" ASC LIMIT ")
	}
	s.bind()
	args = append(args, limit+1) // one more row tells whether a next page exists
	out := make([]T, 0, limit+1)
	if err := b.Q.SelectContext(ctx, &out, s.String(), args...); err != nil {
		return nil, "", t.wrap("keyset", err)
	}
	if len(out) <= limit {
		return out, "", nil
	}
	out = out[:limit]
	return out, encodeCursor(t.idOf(reflect.ValueOf(&out[limit-1]).Elem())), nil
}

// Update writes every column of m but id (and created_at, deleted_at,
// version) to the row with m's id, which must exist (and not be
// soft-deleted, unless b is WithTrashed): otherwise ErrNotFound. With
// Timestamps it sets UpdatedAt to now. With Versioned it writes only if the
// row still has m.Version, and increments both; a stale m is ErrConflict,
// and nothing is written. A unique violation is ErrConflict (and
// db.ErrUniqueViolation). On any error m is left as it was.
func (b Base[T]) Update(ctx context.Context, m *T) error {
	t, st, err := b.prep("update")
	if err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("repo: update %s: nil model", t.name)
	}
	if t.hooks.beforeUpdate {
		if err := any(m).(BeforeUpdater).BeforeUpdate(ctx); err != nil {
			return t.hookErr("update", "BeforeUpdate", err)
		}
	}
	v := reflect.ValueOf(m).Elem()
	var old stamped
	if t.ts.ok {
		ts := embedded[Timestamps](v, t.ts, true)
		old.created, old.updated = ts.CreatedAt, ts.UpdatedAt
		ts.UpdatedAt = now()
	}
	id := t.idOf(v)
	args := t.appendArgs(make([]any, 0, len(t.update)+2), v, t.update)
	args = append(args, id)
	var vr *Versioned
	if t.vr.ok {
		vr = embedded[Versioned](v, t.vr, true)
		old.version = vr.Version
		args = append(args, vr.Version)
	}
	res, err := b.Q.ExecContext(ctx, st.update, args...)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err != nil {
		t.unstamp(v, old)
		return t.wrap("update", err)
	}
	if n == 0 {
		// No row matched: missing, soft-deleted, or of another version.
		// (On MySQL without clientFoundRows, an unchanged row also counts
		// 0: it exists and was written.)
		found, err := b.exists(ctx, t, st, id)
		switch {
		case err != nil:
			t.unstamp(v, old)
			return err
		case !found:
			t.unstamp(v, old)
			return fmt.Errorf("repo: update %s id %d: %w", t.name, id, ErrNotFound)
		case vr != nil:
			t.unstamp(v, old)
			return fmt.Errorf("repo: update %s id %d: version %d is stale: %w", t.name, id, old.version, ErrConflict)
		}
	}
	if vr != nil {
		vr.Version++
	}
	if t.hooks.afterUpdate {
		if err := any(m).(AfterUpdater).AfterUpdate(ctx); err != nil {
			return t.hookErr("update", "AfterUpdate", err)
		}
	}
	return nil
}

// Delete deletes the row with id: with SoftDelete it sets deleted_at,
// otherwise it removes the row. A missing row, or one already soft-deleted,
// is ErrNotFound (use ForceDelete to remove a soft-deleted row).
func (b Base[T]) Delete(ctx context.Context, id int64) error {
	if _, _, err := b.prep("delete"); err != nil {
		return err
	}
	return b.delete(ctx, "delete", id, b.Table.sd.ok)
}

// ForceDelete removes the row with id for good, soft-deleted or not. A
// missing row is ErrNotFound. Without SoftDelete it is Delete.
func (b Base[T]) ForceDelete(ctx context.Context, id int64) error {
	if _, _, err := b.prep("force delete"); err != nil {
		return err
	}
	return b.WithTrashed().delete(ctx, "force delete", id, false)
}

// delete runs Delete or ForceDelete with the delete events.
func (b Base[T]) delete(ctx context.Context, op string, id int64, soft bool) error {
	t := b.Table
	var m *T
	if t.hooks.beforeDelete || t.hooks.afterDelete {
		var err error
		_, st, _ := b.prep(op)
		if m, err = b.find(ctx, t, st, id); err != nil {
			return err
		}
		if m == nil {
			return fmt.Errorf("repo: %s %s id %d: %w", op, t.name, id, ErrNotFound)
		}
		if t.hooks.beforeDelete {
			if err := any(m).(BeforeDeleter).BeforeDelete(ctx); err != nil {
				return t.hookErr(op, "BeforeDelete", err)
			}
		}
	}
	var res sql.Result
	var err error
	var at time.Time
	if soft {
		at = now()
		res, err = b.Q.ExecContext(ctx, t.softDel, at, id)
	} else {
		res, err = b.Q.ExecContext(ctx, t.hardDel, id)
	}
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err != nil {
		return t.wrap(op, err)
	}
	if n == 0 {
		return fmt.Errorf("repo: %s %s id %d: %w", op, t.name, id, ErrNotFound)
	}
	if m != nil && t.hooks.afterDelete {
		if soft {
			embedded[SoftDelete](reflect.ValueOf(m).Elem(), t.sd, true).DeletedAt = &at
		}
		if err := any(m).(AfterDeleter).AfterDelete(ctx); err != nil {
			return t.hookErr(op, "AfterDelete", err)
		}
	}
	return nil
}

// Restore undoes the soft delete of the row with id. A missing row, or one
// not deleted, is ErrNotFound. Without SoftDelete it is an error.
func (b Base[T]) Restore(ctx context.Context, id int64) error {
	t, _, err := b.prep("restore")
	if err != nil {
		return err
	}
	if !t.sd.ok {
		return fmt.Errorf("repo: restore %s: the model does not embed repo.SoftDelete", t.name)
	}
	res, err := b.Q.ExecContext(ctx, t.restore, id)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err != nil {
		return t.wrap("restore", err)
	}
	if n == 0 {
		return fmt.Errorf("repo: restore %s id %d: %w", t.name, id, ErrNotFound)
	}
	return nil
}

// noRow turns First's ErrNotFound into Find's nil, nil.
func noRow[T any](m *T, err error) (*T, error) {
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return m, err
}
