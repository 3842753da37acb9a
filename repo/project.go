package repo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/fasttrack-go/fasttrack/db"
)

// Field is one selected value of a projection: an Expr of T's table and
// the field of P it is scanned into, made by To or ToNull. The column alias
// is the P field's name in the database's terms: its db tag, or the
// snake_case of its Go name, as a Table names columns; it must be a plain
// identifier (letters, digits, underscores) and is quoted. A Field is a
// small immutable value: build it once.
type Field[P, T any] struct {
	e     exprSpec
	index []int
	alias string
	err   error
}

// To selects e into the field of P that dst returns the address of: dst is
// called once, on a P allocated for the purpose, as Col calls its accessor.
// The field's type is e's type, so a wrong pairing does not compile; scan a
// value that may be NULL (a nullable column, an aggregate of one, the
// right side of a LeftJoin) with a pointer-typed column or with ToNull.
func To[P, T, V any](dst func(*P) *V, e Expr[T, V]) Field[P, T] {
	if e == nil {
		return newField[P, T](dst, exprSpec{}, true)
	}
	return newField[P, T](dst, e.exprOf(nil, nil), false)
}

// ToNull is To into a sql.Null[V] field, which is not Valid when the value
// is NULL.
func ToNull[P, T, V any](dst func(*P) *sql.Null[V], e Expr[T, V]) Field[P, T] {
	if e == nil {
		return newField[P, T](dst, exprSpec{}, true)
	}
	return newField[P, T](dst, e.exprOf(nil, nil), false)
}

func newField[P, T, F any](dst func(*P) *F, e exprSpec, nilExpr bool) Field[P, T] {
	if nilExpr {
		return Field[P, T]{err: fmt.Errorf("repo: field of %s: nil expression", reflect.TypeFor[P]())}
	}
	index, alias, err := fieldOf(dst)
	if err != nil {
		return Field[P, T]{err: err}
	}
	if e.err != nil {
		return Field[P, T]{err: e.err}
	}
	return Field[P, T]{e: e, index: index, alias: alias}
}

// fieldOf finds the field of P that dst returns the address of: its index
// path and its column name.
func fieldOf[P, F any](dst func(*P) *F) (index []int, name string, err error) {
	pt, ft := reflect.TypeFor[P](), reflect.TypeFor[F]()
	fail := func(detail string) error {
		return fmt.Errorf("repo: field of %s (%s): %s", pt, ft, detail)
	}
	if pt.Kind() != reflect.Struct {
		return nil, "", fail("the projection type must be a struct")
	}
	if dst == nil {
		return nil, "", fail("nil accessor")
	}
	probe := reflect.New(pt)
	type candidate struct {
		f   reflect.StructField
		at  unsafe.Pointer
		idx []int
	}
	var cands []candidate
	walkFields(probe.Elem(), nil, func(f reflect.StructField, v reflect.Value, idx []int) { // allocates embedded pointers first
		cands = append(cands, candidate{f, v.Addr().UnsafePointer(), idx})
	})
	var p *F
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fail(fmt.Sprintf("the accessor panicked: %v", r))
			}
		}()
		p = dst(probe.Interface().(*P))
	}()
	if err != nil {
		return nil, "", err
	}
	if p == nil {
		return nil, "", fail("the accessor returned nil; it must return the address of a field")
	}
	found := false
	for _, c := range cands {
		if c.f.Type != ft || c.at != unsafe.Pointer(p) {
			continue
		}
		found, index = true, c.idx
		name, _, _ = strings.Cut(c.f.Tag.Get("db"), ",")
		if name == "" {
			name = db.SnakeCase(c.f.Name)
		}
		break
	}
	if !found {
		return nil, "", fail("the accessor does not return the address of an exported field of its argument (fields tagged db:\"-\" are left out)")
	}
	if !isIdent(name) {
		return nil, "", fail(fmt.Sprintf("column alias %q is not an identifier (letters, digits and underscores, not starting with a digit, at most 63 bytes)", name))
	}
	return index, name, nil
}

// walkFields calls fn for every exported field of v, a struct, flattening
// embedded structs (allocating embedded pointers) as a Table does.
func walkFields(v reflect.Value, prefix []int, fn func(reflect.StructField, reflect.Value, []int)) {
	st := v.Type()
	for i := range st.NumField() {
		f := st.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("db"), ",")
		if name == "-" {
			continue
		}
		idx := append(prefix[:len(prefix):len(prefix)], i)
		fv := v.Field(i)
		if f.Anonymous && name == "" {
			inner := fv
			if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct && f.IsExported() {
				if inner.IsNil() {
					inner.Set(reflect.New(f.Type.Elem()))
				}
				inner = inner.Elem()
			}
			if inner.Kind() == reflect.Struct {
				walkFields(inner, idx, fn)
				continue
			}
		}
		if f.IsExported() {
			fn(f, fv, idx)
		}
	}
}

// isIdent reports whether s is a plain SQL identifier.
func isIdent(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Projection is a SELECT of chosen columns and aggregates scanned into P's
// fields, made by Select, SelectGroups or SelectJoin. Like a Query it is an
// immutable value; a mistake in its making is returned by ToSQL and All,
// and nothing is sent.
type Projection[P any] struct {
	q      db.Querier
	d      db.Dialect
	name   string
	fields [][]int
	render func() (string, []any, error)
	err    error
}

// ToSQL returns the SELECT that All runs and its arguments; the same shape
// gives the same text.
func (p Projection[P]) ToSQL() (string, []any, error) {
	if p.err != nil {
		return "", nil, p.err
	}
	return p.render()
}

// All runs the projection and returns its rows, each a P with the selected
// fields set (the others zero); an empty, non-nil slice when there is none.
func (p Projection[P]) All(ctx context.Context) ([]P, error) {
	if p.err != nil {
		return nil, p.err
	}
	if p.q == nil {
		return nil, fmt.Errorf("repo: select %s: query has no Querier (use Query.On or Base.Query)", p.name)
	}
	if d := db.DialectOf(p.q); d != p.d {
		return nil, fmt.Errorf("repo: select %s: table built for %s, used on a %s querier", p.name, p.d, d)
	}
	query, args, err := p.render()
	if err != nil {
		return nil, err
	}
	rows, err := p.q.QueryxContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("repo: select %s: %w", p.name, p.d.Classify(err))
	}
	defer rows.Close()
	out := []P{}
	dests := make([]any, len(p.fields))
	for rows.Next() {
		var m P
		v := reflect.ValueOf(&m).Elem()
		for i, idx := range p.fields {
			f, _ := fieldAt(v, idx, true)
			dests[i] = f.Addr().Interface()
		}
		if err := rows.Scan(dests...); err != nil {
			return nil, fmt.Errorf("repo: select %s: %w", p.name, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("repo: select %s: %w", p.name, p.d.Classify(err))
	}
	return out, nil
}

// projection starts a Projection of q's table with fields' P indexes,
// checking the fields (none, an error, the same P field twice).
func projection[P, T any](q Query[T], fields ...[]Field[P, T]) Projection[P] {
	p := Projection[P]{q: q.q}
	if q.t == nil {
		p.err = errors.New("repo: select: query has no Table (use Table.Query or Base.Query)")
		return p
	}
	p.d, p.name = q.t.d, q.t.name
	seen := map[string]bool{}
	for _, fs := range fields {
		for _, f := range fs {
			switch {
			case f.err != nil:
				p.err = fmt.Errorf("repo: select %s: %w", q.t.name, f.err)
			case f.index == nil:
				p.err = fmt.Errorf("repo: select %s: a zero Field (not made by To or ToNull) is used", q.t.name)
			case seen[f.alias]:
				p.err = fmt.Errorf("repo: select %s: column alias %s is selected twice", q.t.name, f.alias)
			}
			if p.err != nil {
				return p
			}
			seen[f.alias] = true
			p.fields = append(p.fields, f.index)
		}
	}
	return p
}

// noLock returns an error when q has a row lock (ForUpdate, SkipLocked),
// which what (an aggregate, a group, a join, a subquery) cannot take.
func noLock[T any](q Query[T], what string) error {
	if q.lock != lockNone {
		return fmt.Errorf("repo: %s of %s cannot lock rows (ForUpdate, SkipLocked)", what, q.t.name)
	}
	return nil
}

// noFields is the error of a projection without a field.
func noFields(table string) error { return fmt.Errorf("repo: select %s: no field", table) }

// writeFields writes "e AS alias, ..." for fs, columns qualified by qual.
func writeFields[P, T any](s *sqlBuf, qual string, t *Table[T], fs []Field[P, T], first bool) {
	for i, f := range fs {
		if i > 0 || !first {
			s.WriteString(", ")
		}
		writeExpr(s, qual, t.cols, f.e)
		s.WriteString(" AS ")
		s.WriteString(t.d.Quote(f.alias))
	}
}

// Select returns the projection of q's rows onto fields: one P per row, in
// q's order, with its Limit and Offset. When every field is an aggregate
// (CountAll, SumOf, ...) it is instead one row over all the rows q matches
// (q's order ignored; a Limit or Offset is then an error); mixing columns
// and aggregates needs GroupBy. Soft-deleted rows are left out unless q is
// WithTrashed. A row lock on q (ForUpdate, SkipLocked) is taken by a
// projection of columns and is an error with aggregates.
func Select[P, T any](q Query[T], fields ...Field[P, T]) Projection[P] {
	p := projection(q, fields)
	if p.err == nil && len(fields) == 0 {
		p.err = noFields(q.t.name)
	}
	if p.err != nil {
		return p
	}
	aggs := 0
	for _, f := range fields {
		if f.e.agg != aggNone {
			aggs++
		}
	}
	switch {
	case aggs > 0 && aggs < len(fields):
		p.err = fmt.Errorf("repo: select %s: columns and aggregates together need GroupBy", q.t.name)
		return p
	case aggs > 0 && (q.limit >= 0 || q.offset > 0):
		p.err = fmt.Errorf("repo: select %s: a Limit or Offset does not apply to aggregates without GroupBy", q.t.name)
		return p
	}
	p.render = func() (string, []any, error) {
		if err := q.check(); err != nil {
			return "", nil, err
		}
		if aggs > 0 {
			if err := noLock(q, "an aggregate"); err != nil {
				return "", nil, err
			}
		} else if err := q.checkLock(stmtSelect); err != nil {
			return "", nil, err
		}
		t := q.t
		s := t.newBuf()
		w := predWriter{s: s, cols: t.cols}
		s.WriteString("SELECT ")
		writeFields(s, "", t, fields, true)
		s.WriteString(" FROM ")
		s.WriteString(t.qname)
		if err := q.writeWhere(&w, q.trashed); err != nil {
			return "", nil, err
		}
		if aggs == 0 {
			writeOrderBy(&w, q, "")
			writeLimit(&w, q)
			q.writeLock(s)
		}
		return s.String(), w.args, nil
	}
	return p
}

// writeOrderBy writes q's ORDER BY, its keys then id ascending (unless a key
// is on id), qualified by qual.
func writeOrderBy[T any](w *predWriter, q Query[T], qual string) {
	w.s.WriteString(" ORDER BY ")
	writeOrder(w.s, qual, q)
}

// writeLimit writes q's LIMIT and OFFSET as Query.ToSQL does.
func writeLimit[T any](w *predWriter, q Query[T]) {
	s, d := w.s, q.t.d
	switch {
	case q.limit >= 0:
		s.WriteString(" LIMIT ")
		w.bind(q.limit)
	case q.offset > 0 && d == db.SQLite:
		s.WriteString(" LIMIT -1")
	case q.offset > 0 && d == db.MySQL:
		s.WriteString(" LIMIT 18446744073709551615")
	}
	if q.offset > 0 {
		s.WriteString(" OFFSET ")
		w.bind(q.offset)
	}
}

// Pluck returns column c of the rows q matches, in q's order, with its
// Limit, Offset and row lock; an empty, non-nil slice when none does.
func Pluck[T, V any](ctx context.Context, q Query[T], c Column[T, V]) ([]V, error) {
	if err := q.prepRun("query pluck"); err != nil {
		return nil, err
	}
	if err := c.Err(); err != nil {
		return nil, fmt.Errorf("repo: query pluck %s: %w", q.t.name, err)
	}
	if err := q.check(); err != nil {
		return nil, err
	}
	if err := q.checkLock(stmtSelect); err != nil {
		return nil, err
	}
	t := q.t
	s := t.newBuf()
	w := predWriter{s: s, cols: t.cols}
	s.WriteString("SELECT ")
	s.WriteString(t.cols[c.i].quoted)
	s.WriteString(" FROM ")
	s.WriteString(t.qname)
	if err := q.writeWhere(&w, q.trashed); err != nil {
		return nil, err
	}
	writeOrderBy(&w, q, "")
	writeLimit(&w, q)
	q.writeLock(s)
	rows, err := q.reader(ctx).QueryxContext(ctx, s.String(), w.args...)
	if err != nil {
		return nil, t.wrap("query pluck", err)
	}
	defer rows.Close()
	out := []V{}
	for rows.Next() {
		var v V
		if err := rows.Scan(&v); err != nil {
			return nil, t.wrap("query pluck", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, t.wrap("query pluck", err)
	}
	return out, nil
}
