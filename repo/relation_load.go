package repo

import (
	"context"
	"fmt"
	"reflect"

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
	rows    []int   // indices in the rows given
	rowKeys []int64 // the key of each
	keys    []any   // distinct keys, as int64
}

// collect returns the rows to load (all, or those where skip is false);
// none is called on those whose key is null.
func (r Relation[T, R]) collect(rows []T, skip func(*T) bool, none func(*T)) rowSet {
	var s rowSet
	seen := make(map[int64]struct{}, len(rows))
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
		s.rows = append(s.rows, i)
		s.rowKeys = append(s.rowKeys, k)
		if _, dup := seen[k]; !dup {
			seen[k] = struct{}{}
			s.keys = append(s.keys, k)
		}
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
	related, keys, err := r.fetch(ctx, q, set.keys)
	if err != nil {
		return err
	}
	groups := make(map[int64][]int, len(set.keys))
	for j, k := range keys {
		groups[k] = append(groups[k], j)
	}
	for n, i := range set.rows {
		p := &rows[i]
		g := groups[set.rowKeys[n]]
		if r.one != nil {
			if len(g) == 0 {
				r.one(p).Set(nil)
			} else {
				r.one(p).Set(&related[g[0]])
			}
			continue
		}
		out := make([]R, len(g))
		for x, j := range g {
			out[x] = related[j]
		}
		r.many(p).Set(out)
	}
	return nil
}

// fetch runs the relation's statement for keys and returns the related
// rows, each with the key it relates to, with their own relations loaded.
func (r Relation[T, R]) fetch(ctx context.Context, q db.Querier, keys []any) ([]R, []int64, error) {
	text, args, err := r.loadSQL(keys, false)
	if err != nil {
		return nil, nil, err
	}
	t := r.to
	rs, err := q.QueryxContext(ctx, text, args...)
	if err != nil {
		return nil, nil, t.wrap("load "+r.name()+":", err)
	}
	defer rs.Close()
	var related []R
	var relKeys []int64
	dests := make([]any, len(t.cols)+1)
	var key int64
	dests[len(t.cols)] = &key
	for rs.Next() {
		related = append(related, *new(R))
		v := reflect.ValueOf(&related[len(related)-1]).Elem()
		for i := range t.cols {
			f, _ := fieldAt(v, t.cols[i].index, true)
			dests[i] = f.Addr().Interface()
		}
		if err := rs.Scan(dests...); err != nil {
			return nil, nil, t.wrap("load "+r.name()+":", err)
		}
		relKeys = append(relKeys, key)
	}
	if err := rs.Err(); err != nil {
		return nil, nil, t.wrap("load "+r.name()+":", err)
	}
	if err := rs.Close(); err != nil {
		return nil, nil, t.wrap("load "+r.name()+":", err)
	}
	if related == nil {
		related = []R{}
	}
	if err := r.q.On(q).loadWith(ctx, related); err != nil {
		return nil, nil, err
	}
	return related, relKeys, nil
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
func (r Relation[T, R]) loadSQL(keys []any, count bool) (string, []any, error) {
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
		return writeKeyIn(s, key, keys, w.args)
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
	return append(args, arg), nil
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
	counts := make(map[int64]int64, len(set.keys))
	for rs.Next() {
		var k, n int64
		if err := rs.Scan(&k, &n); err != nil {
			return r.to.wrap("count "+r.name()+":", err)
		}
		counts[k] = n
	}
	if err := rs.Err(); err != nil {
		return r.to.wrap("count "+r.name()+":", err)
	}
	for n, i := range set.rows {
		r.count(&rows[i]).Set(counts[set.rowKeys[n]])
	}
	return nil
}
