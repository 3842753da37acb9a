package repo

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"unsafe"

	"github.com/fasttrack-go/fasttrack/db"
)

// relKeyAlias is the alias of the key column a relation's statement adds
// to the related rows' columns; relRowNum numbers them per key (Limit).
const (
	relKeyAlias = "ft_key"
	relRowNum   = "ft_rn"
)

func (r Relation[T, R]) load(ctx context.Context, q db.Querier, rows []T) error {
	return r.loadRows(ctx, q, rows, false)
}

func (r Relation[T, R]) loadMissing(ctx context.Context, q db.Querier, rows []T) error {
	return r.loadRows(ctx, q, rows, true)
}

// loaded reports whether the relation's holder in p is loaded.
func (r Relation[T, R]) loaded(p *T) bool {
	if r.one != nil {
		return r.one(p).loaded
	}
	return r.many(p).loaded
}

// rowKey returns the key that relates p to the related rows: its foreign
// key for BelongsTo, else its id; ok is false when it is null.
func (r Relation[T, R]) rowKey(p *T) (int64, bool) {
	v := reflect.ValueOf(p).Elem()
	if r.kind == relBelongsTo {
		f, ok := fieldAt(v, r.from.cols[r.fk].index, false)
		if !ok {
			return 0, false
		}
		return keyOf(f)
	}
	return r.from.idOf(v), true
}

// rowSet is the rows of T a statement of a relation is for, and their
// distinct keys.
type rowSet struct {
	rows  []rowSlot     // the rows, in order
	keys  []int64       // the distinct keys, in order of first appearance
	slots map[int64]int // the index in keys of each key
}

// rowSlot is a row of a rowSet: its index in the rows given, and the
// index of its key in the set's keys.
type rowSlot struct{ row, slot int }

// collect returns the rows to load (all, or those where skip is false);
// none is called on those whose key is null.
func (r Relation[T, R]) collect(rows []T, skip func(*T) bool, none func(*T)) rowSet {
	s := rowSet{
		rows:  make([]rowSlot, 0, len(rows)),
		keys:  make([]int64, 0, len(rows)),
		slots: make(map[int64]int, len(rows)),
	}
	for i := range rows {
		p := &rows[i]
		if skip != nil && skip(p) {
			continue
		}
		k, ok := r.rowKey(p)
		if !ok {
			none(p)
			continue
		}
		slot, seen := s.slots[k]
		if !seen {
			slot = len(s.keys)
			s.slots[k] = slot
			s.keys = append(s.keys, k)
		}
		s.rows = append(s.rows, rowSlot{row: i, slot: slot})
	}
	return s
}

// loadRows loads the relation into rows (only where it is not loaded when
// missing is set) with one statement.
func (r Relation[T, R]) loadRows(ctx context.Context, q db.Querier, rows []T, missing bool) error {
	if err := r.Err(); err != nil {
		return err
	}
	var skip func(*T) bool
	if missing {
		skip = r.loaded
	}
	set := r.collect(rows, skip, func(p *T) { r.one(p).Set(nil) })
	if len(set.rows) == 0 {
		return nil
	}
	related, slots, err := r.fetch(ctx, q, set)
	if err != nil {
		return err
	}
	if r.one != nil {
		r.stitchOne(rows, set, related, slots)
	} else {
		r.stitchMany(rows, set, related, slots)
	}
	return nil
}

// stitchOne gives each row of set the first of related whose slot (the
// index of its key in set.keys) is its key's, or nil. Rows of T with the
// same key point to the same related row.
func (r Relation[T, R]) stitchOne(rows []T, set rowSet, related []R, slots []int) {
	first := make([]int, len(set.keys)) // 1 + the index in related of each key's first row; 0: none
	for j := len(slots) - 1; j >= 0; j-- {
		if s := slots[j]; s >= 0 {
			first[s] = j + 1
		}
	}
	for _, rs := range set.rows {
		if j := first[rs.slot]; j > 0 {
			r.one(&rows[rs.row]).Set(&related[j-1])
		} else {
			r.one(&rows[rs.row]).Set(nil)
		}
	}
}

// stitchMany gives each row of set the related rows of its key, in their
// order. related is reordered in place (a stable counting sort on slots,
// which it overwrites) so that each key's rows are together, and each row
// of T holds its key's range, its capacity cut to its length: appending to
// it copies, and never reaches another key's rows. When rows of T share a
// key, the first holds the range and the others a copy, so that no two
// holders share the related rows.
func (r Relation[T, R]) stitchMany(rows []T, set rowSet, related []R, slots []int) {
	n := len(set.keys)
	// bounds[s]..bounds[s+1] will be the range of slot s; slot n collects
	// the rows of no key of set. Counted in bounds[s+2], summed, then
	// bounds[s+1] is the next free place of slot s.
	bounds := make([]int, n+3)
	for j, s := range slots {
		if s < 0 {
			s = n
			slots[j] = n
		}
		bounds[s+2]++
	}
	for i := 2; i < len(bounds); i++ {
		bounds[i] += bounds[i-1]
	}
	for j, s := range slots {
		slots[j] = bounds[s+1] // the place of row j
		bounds[s+1]++
	}
	for i := range related {
		for d := slots[i]; d != i; d = slots[i] {
			related[i], related[d] = related[d], related[i]
			slots[i], slots[d] = slots[d], d
		}
	}
	var held []bool
	if len(set.rows) > n {
		held = make([]bool, n)
	}
	for _, rs := range set.rows {
		lo, hi := bounds[rs.slot], bounds[rs.slot+1]
		g := related[lo:hi:hi]
		if held != nil {
			if held[rs.slot] {
				g = slices.Clone(g)
			}
			held[rs.slot] = true
		}
		r.many(&rows[rs.row]).Set(g)
	}
}

// fetch runs the relation's statement for set's keys and returns the
// related rows, with their own relations loaded, and the slot of each:
// the index in set.keys of the key it relates to, -1 for none.
func (r Relation[T, R]) fetch(ctx context.Context, q db.Querier, set rowSet) ([]R, []int, error) {
	text, args, err := r.loadSQL(set.keys, false)
	if err != nil {
		return nil, nil, err
	}
	t := r.to
	rs, err := q.QueryxContext(ctx, text, args...)
	if err != nil {
		return nil, nil, t.wrap("load "+r.name()+":", err)
	}
	defer rs.Close()
	related := make([]R, 0, len(set.keys))
	slots := make([]int, 0, len(set.keys))
	plan := scanPlanOf[R](t.cols)
	dests := make([]any, len(t.cols)+1)
	var key int64
	dests[len(t.cols)] = &key
	for rs.Next() {
		related = append(related, *new(R))
		plan.dests(dests, &related[len(related)-1], t.cols)
		if err := rs.Scan(dests...); err != nil {
			return nil, nil, t.wrap("load "+r.name()+":", err)
		}
		slot, ok := set.slots[key]
		if !ok {
			slot = -1
		}
		slots = append(slots, slot)
	}
	if err := rs.Err(); err != nil {
		return nil, nil, t.wrap("load "+r.name()+":", err)
	}
	if err := rs.Close(); err != nil {
		return nil, nil, t.wrap("load "+r.name()+":", err)
	}
	if err := r.q.On(q).loadWith(ctx, related); err != nil {
		return nil, nil, err
	}
	return related, slots, nil
}

// scanPlan locates the fields of the columns of R's table in an R, to
// scan a row into: per column, the field's offset and type, or a nil type
// when an embedded pointer leads to it (fieldAt finds it, allocating the
// pointer).
type scanPlan []struct {
	off uintptr
	typ reflect.Type
}

// scanPlanOf returns the scan plan of cols, columns of R.
func scanPlanOf[R any](cols []column) scanPlan {
	p := make(scanPlan, len(cols))
	rt := reflect.TypeFor[R]()
	for i := range cols {
		if cols[i].viaPtr {
			continue
		}
		t, off := rt, uintptr(0)
		for _, x := range cols[i].index {
			f := t.Field(x)
			t, off = f.Type, off+f.Offset
		}
		p[i].off, p[i].typ = off, t
	}
	return p
}

// dests sets dests[i] to the address of the field of cols[i] in row.
func (p scanPlan) dests(dests []any, row any, cols []column) {
	v := reflect.ValueOf(row)
	base := v.UnsafePointer()
	for i := range p {
		if p[i].typ != nil {
			dests[i] = reflect.NewAt(p[i].typ, unsafe.Add(base, p[i].off)).Interface()
			continue
		}
		f, _ := fieldAt(v.Elem(), cols[i].index, true)
		dests[i] = f.Addr().Interface()
	}
}

// keyExpr returns the expression of the key that relates a related row,
// aliased c (and its pivot row, p), to a row of T.
func (r Relation[T, R]) keyExpr() string {
	switch r.kind {
	case relBelongsTo:
		return "c." + r.to.q(idColumn)
	case relManyToMany:
		return "p." + r.pivot.key
	}
	return "c." + r.to.cols[r.fk].quoted
}

// loadSQL renders the statement of the related rows of keys, with their
// key aliased ft_key, or (count) the number of related rows of each key.
//
//	SELECT c.<cols>, <key> AS ft_key
//	FROM (SELECT <cols> FROM <related> WHERE <scopes, conditions>) AS c
//	[INNER JOIN <pivot> AS p ON p.<related key> = c.id]
//	WHERE <key> IN (<keys, one parameter>) ORDER BY <order>, c.id
//
// With a Limit, the rows are numbered per key by ROW_NUMBER() in a derived
// table w, and only those numbered up to the limit are kept.
func (r Relation[T, R]) loadSQL(keys []int64, count bool) (string, []any, error) {
	rq := r.q
	if err := rq.check(); err != nil {
		return "", nil, fmt.Errorf("repo: %s: %w", r.name(), err)
	}
	t := r.to
	s := t.newBuf()
	key := r.keyExpr()
	from := func() ([]any, error) {
		s.WriteString(" FROM (SELECT ")
		s.WriteString(t.selectList)
		s.WriteString(" FROM ")
		s.WriteString(t.qname)
		w := predWriter{s: s, cols: t.cols}
		if err := rq.writeWhere(&w, rq.trashed); err != nil {
			return nil, fmt.Errorf("repo: %s: %w", r.name(), err)
		}
		s.conds = 0
		s.WriteString(") AS c")
		if r.kind == relManyToMany {
			s.WriteString(" INNER JOIN ")
			s.WriteString(r.pivot.qname)
			s.WriteString(" AS p ON p.")
			s.WriteString(r.pivot.rkey)
			s.WriteString(" = c.")
			s.WriteString(t.q(idColumn))
		}
		s.WriteString(" WHERE ")
		return writeIDsIn(s, key, keys, w.args)
	}
	if count {
		s.WriteString("SELECT ")
		s.WriteString(key)
		s.WriteString(", COUNT(*)")
		args, err := from()
		if err != nil {
			return "", nil, err
		}
		s.WriteString(" GROUP BY ")
		s.WriteString(key)
		return s.String(), args, nil
	}
	if r.limit < 1 {
		s.WriteString("SELECT ")
		writeCols(s, "c.", t.cols)
		s.WriteString(", ")
		s.WriteString(key)
		s.WriteString(" AS " + relKeyAlias)
		args, err := from()
		if err != nil {
			return "", nil, err
		}
		s.WriteString(" ORDER BY ")
		writeOrder(s, "c.", rq)
		return s.String(), args, nil
	}
	s.WriteString("SELECT ")
	writeCols(s, "w.", t.cols)
	s.WriteString(", w." + relKeyAlias + " FROM (SELECT ")
	writeCols(s, "c.", t.cols)
	s.WriteString(", ")
	s.WriteString(key)
	s.WriteString(" AS " + relKeyAlias + ", ROW_NUMBER() OVER (PARTITION BY ")
	s.WriteString(key)
	s.WriteString(" ORDER BY ")
	writeOrder(s, "c.", rq)
	s.WriteString(") AS " + relRowNum)
	args, err := from()
	if err != nil {
		return "", nil, err
	}
	s.WriteString(") AS w WHERE w." + relRowNum + " <= ")
	s.bind()
	args = append(args, r.limit)
	s.WriteString(" ORDER BY ")
	writeOrder(s, "w.", rq)
	return s.String(), args, nil
}

// writeCols writes cols, each qualified by qual.
func writeCols(s *sqlBuf, qual string, cols []column) {
	for i, c := range cols {
		if i > 0 {
			s.WriteString(", ")
		}
		s.WriteString(qual)
		s.WriteString(c.quoted)
	}
}

// writeOrder writes q's sort keys qualified by qual, then id ascending
// unless a key is on id.
func writeOrder[R any](s *sqlBuf, qual string, q Query[R]) {
	t := q.t
	hasID := false
	for i, o := range q.order {
		if i > 0 {
			s.WriteString(", ")
		}
		s.WriteString(qual)
		s.WriteString(t.cols[o.i].quoted)
		if o.desc {
			s.WriteString(" DESC")
		} else {
			s.WriteString(" ASC")
		}
		hasID = hasID || t.cols[o.i].name == idColumn
	}
	if !hasID {
		if len(q.order) > 0 {
			s.WriteString(", ")
		}
		s.WriteString(qual)
		s.WriteString(t.q(idColumn))
		s.WriteString(" ASC")
	}
}

// writeKeyIn writes "expr IN (keys)", binding keys as one parameter as In
// does, and returns args with it.
func writeKeyIn(s *sqlBuf, expr string, keys []any, args []any) ([]any, error) {
	arg, kind, err := inArg(s.d, keys)
	if err != nil {
		return nil, fmt.Errorf("repo: relation keys: %w", err)
	}
	writeInArg(s, expr, kind)
	return append(args, arg), nil
}

// writeIDsIn is writeKeyIn of ids, which it binds without boxing each.
func writeIDsIn(s *sqlBuf, expr string, ids []int64, args []any) ([]any, error) {
	arg, err := inCopy(ids).arg(s.d)
	if err != nil {
		return nil, fmt.Errorf("repo: relation keys: %w", err)
	}
	writeInArg(s, expr, inInt)
	return append(args, arg), nil
}

// writeInArg writes "expr IN (the list bound next)", a list of values of
// kind.
func writeInArg(s *sqlBuf, expr string, kind inKind) {
	s.WriteString(expr)
	switch s.d {
	case db.Postgres:
		s.WriteString(" = ANY(")
		s.bind()
		s.WriteByte(')')
	case db.MySQL:
		s.WriteString(" IN (SELECT j.v FROM JSON_TABLE(")
		s.bind()
		s.WriteString(", '$[*]' COLUMNS (v ")
		s.WriteString(mysqlJSONType[kind])
		s.WriteString(" PATH '$')) AS j)")
	default:
		s.WriteString(" IN (SELECT value FROM json_each(")
		s.bind()
		s.WriteString("))")
	}
}

// relCounts is the Loader of a relation's counts (WithCount).
type relCounts[T, R any] struct{ r Relation[T, R] }

// Counts returns the Loader that fills the relation's Count field
// (CountInto), for LoadMissing; Query.WithCount takes the relation itself.
func (r Relation[T, R]) Counts() Loader[T] { return relCounts[T, R]{r} }

func (r Relation[T, R]) counts() Loader[T] { return relCounts[T, R]{r} }

func (c relCounts[T, R]) loaderErr() error {
	if err := c.r.Err(); err != nil {
		return err
	}
	if c.r.count == nil {
		return fmt.Errorf("repo: %s: WithCount of a relation without a Count field (see Relation.CountInto)", c.r.name())
	}
	return nil
}

func (c relCounts[T, R]) load(ctx context.Context, q db.Querier, rows []T) error {
	return c.loadRows(ctx, q, rows, false)
}

func (c relCounts[T, R]) loadMissing(ctx context.Context, q db.Querier, rows []T) error {
	return c.loadRows(ctx, q, rows, true)
}

// loadRows fills the counts of rows (only where not loaded when missing is
// set) with one grouped statement.
func (c relCounts[T, R]) loadRows(ctx context.Context, q db.Querier, rows []T, missing bool) error {
	if err := c.loaderErr(); err != nil {
		return err
	}
	r := c.r
	var skip func(*T) bool
	if missing {
		skip = func(p *T) bool { return r.count(p).loaded }
	}
	set := r.collect(rows, skip, func(p *T) { r.count(p).Set(0) })
	if len(set.rows) == 0 {
		return nil
	}
	text, args, err := r.loadSQL(set.keys, true)
	if err != nil {
		return err
	}
	rs, err := q.QueryxContext(ctx, text, args...)
	if err != nil {
		return r.to.wrap("count "+r.name()+":", err)
	}
	defer rs.Close()
	counts := make([]int64, len(set.keys))
	for rs.Next() {
		var k, n int64
		if err := rs.Scan(&k, &n); err != nil {
			return r.to.wrap("count "+r.name()+":", err)
		}
		if slot, ok := set.slots[k]; ok {
			counts[slot] = n
		}
	}
	if err := rs.Err(); err != nil {
		return r.to.wrap("count "+r.name()+":", err)
	}
	for _, rs := range set.rows {
		r.count(&rows[rs.row]).Set(counts[rs.slot])
	}
	return nil
}
