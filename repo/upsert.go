package repo

import (
	"context"
	"fmt"
	"reflect"

	"github.com/fasttrack-go/fasttrack/db"
)

// Upsert inserts m, or, when a row already has m's values in the unique key
// made of the key columns, updates that row instead, in one statement:
// INSERT ... ON CONFLICT (key) DO UPDATE on PostgreSQL and SQLite, INSERT
// ... ON DUPLICATE KEY UPDATE on MySQL. The update writes the columns Update
// writes (every column but id, created_at, deleted_at and version); with
// Timestamps, a new row gets created_at and updated_at of now and an
// updated row keeps its created_at and gets updated_at of now; with
// Versioned, a new row gets version 1 and an updated row's version is
// incremented (Upsert does not check m's version). An updated soft-deleted
// row stays deleted. On success m holds the row as stored: its id, on both
// paths, and the created_at and version of an updated row (on MySQL, read
// by a second statement on b.Q).
//
//	email := repo.MustCol(userTable, func(u *User) *string { return &u.Email })
//	err := userTable.On(tx).Upsert(ctx, u, email)
//
// key must name, in any order, the columns of a unique index or primary
// key of the table (PostgreSQL and SQLite require it); no column, a column
// given twice, id, or a column Col could not resolve is an error, and
// nothing is sent. On MySQL the statement updates the row whichever unique
// key conflicts, as ON DUPLICATE KEY does.
//
// Model events do not fire: Upsert does not know beforehand whether it
// inserts or updates.
func (b Base[T]) Upsert(ctx context.Context, m *T, key ...AnyColumn[T]) error {
	t, _, err := b.prep("upsert")
	if err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("repo: upsert %s: nil model", t.name)
	}
	query, err := t.upsertSQL(key)
	if err != nil {
		return err
	}
	v := reflect.ValueOf(m).Elem()
	row := reflect.New(v.Type()).Elem()
	row.Set(v)
	t.stampCreate(row, now())
	args := t.appendArgs(make([]any, 0, len(t.insert)), row, t.insert)
	got := new(T)
	if t.d.SupportsReturning() {
		if err := b.Q.GetContext(ctx, got, query, args...); err != nil {
			return t.wrap("upsert", err)
		}
	} else {
		res, err := b.Q.ExecContext(ctx, query, args...)
		var id int64
		if err == nil {
			id, err = res.LastInsertId()
		}
		if err != nil {
			return t.wrap("upsert", err)
		}
		if err := b.Q.GetContext(ctx, got, t.st[1].find, id); err != nil {
			return t.wrap("upsert", err)
		}
	}
	*m = *got
	return nil
}

// upsertSQL checks key and returns Upsert's statement.
func (t *Table[T]) upsertSQL(key []AnyColumn[T]) (string, error) {
	if len(key) == 0 {
		return "", fmt.Errorf("repo: upsert %s: no key column: name the columns of a unique key", t.name)
	}
	seen := make(map[int]bool, len(key))
	for _, c := range key {
		if c == nil {
			return "", fmt.Errorf("repo: upsert %s: a nil key column", t.name)
		}
		if err := c.Err(); err != nil {
			return "", fmt.Errorf("repo: upsert %s: %w", t.name, err)
		}
		i := c.colIndex()
		switch {
		case seen[i]:
			return "", fmt.Errorf("repo: upsert %s: key column %s is given twice", t.name, t.cols[i].name)
		case t.cols[i].name == idColumn:
			return "", fmt.Errorf("repo: upsert %s: id cannot be the key: Upsert inserts without an id", t.name)
		}
		seen[i] = true
	}
	s := t.newBuf()
	s.WriteString(t.insertOne[:len(t.insertOne)-len(t.manySuffix)])
	if t.d == db.MySQL {
		qid := t.q(idColumn)
		s.WriteString(" ON DUPLICATE KEY UPDATE ")
		s.WriteString(qid)
		s.WriteString(" = LAST_INSERT_ID(")
		s.WriteString(qid)
		s.WriteByte(')')
		for _, i := range t.update {
			s.WriteString(", ")
			s.WriteString(t.cols[i].quoted)
			s.WriteString(" = VALUES(")
			s.WriteString(t.cols[i].quoted)
			s.WriteByte(')')
		}
	} else {
		s.WriteString(" ON CONFLICT (")
		for n, c := range key {
			if n > 0 {
				s.WriteString(", ")
			}
			s.WriteString(t.cols[c.colIndex()].quoted)
		}
		s.WriteString(") DO UPDATE SET ")
		set := t.update
		if len(set) == 0 { // only managed columns besides id: a no-op update, for RETURNING
			set = []int{key[0].colIndex()}
		}
		for n, i := range set {
			if n > 0 {
				s.WriteString(", ")
			}
			s.WriteString(t.cols[i].quoted)
			s.WriteString(" = EXCLUDED.")
			s.WriteString(t.cols[i].quoted)
		}
	}
	if t.vr.ok {
		v := t.q("version")
		s.WriteString(", ")
		s.WriteString(v)
		s.WriteString(" = ")
		s.WriteString(t.qname)
		s.WriteByte('.')
		s.WriteString(v)
		s.WriteString(" + 1")
	}
	if t.d.SupportsReturning() {
		s.WriteString(" RETURNING ")
		s.WriteString(t.selectList)
	}
	return s.String(), nil
}
