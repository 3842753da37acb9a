package repo

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/fasttrack-go/fasttrack/db"
)

// Query is a SELECT on T's table, built from typed columns and predicates:
//
//	age := repo.MustCol(userTable, func(u *User) *int { return &u.Age })
//	name := repo.MustCol(userTable, func(u *User) *string { return &u.Name })
//	adults, err := userTable.On(tx).Query().
//		Where(age.Ge(18), repo.Or(name.StartsWith("A"), name.In("Bob", "Eve"))).
//		OrderBy(name.Asc()).
//		Limit(50).
//		All(ctx)
//
// A Query is an immutable value: every method returns a new Query and leaves
// its receiver as it was, so a base query can be kept (in a struct field, a
// package of scopes) and extended differently by many goroutines at once.
// Where always ANDs with the conditions already there.
//
// Soft-deleted rows are left out when T embeds SoftDelete, as by Base's
// reads, unless the query is WithTrashed (or comes from a WithTrashed Base);
// the table's other global scopes (Table.AddScope) apply too, unless the
// query lifts them with Without. Every statement of a query applies them:
// All, First, One, Count, Exists, Page, Keyset, Chunks, Update, Delete and
// ForceDelete.
//
// A mistake in the building (a Column that Col could not resolve, a
// negative Limit, a zero Predicate, an In value a database cannot bind)
// is kept in the query and returned by ToSQL and by every method that runs
// it, before anything is sent.
type Query[T any] struct {
	q       db.Querier
	t       *Table[T]
	where   []pnode
	order   []Ordering[T]
	limit   int // < 0: none
	offset  int
	trashed bool
	without []string // global scopes lifted
	lock    lockMode
	with    []eagerLoad[T] // relations loaded into the rows read (relation.go)
	err     error
}

// Query returns a query of every row of t, with no Querier: ToSQL renders it,
// and On gives it one to run on. Build base queries once with it.
func (t *Table[T]) Query() Query[T] { return Query[T]{t: t, limit: -1} }

// Query returns a query of every row of b's table, run on b.Q; it includes
// soft-deleted rows when b is WithTrashed.
func (b Base[T]) Query() Query[T] {
	return Query[T]{q: b.Q, t: b.Table, limit: -1, trashed: b.withTrashed}
}

// On returns the query run on q instead: a pool, a transaction or the
// request's *db.Tx, of the table's dialect.
func (q Query[T]) On(x db.Querier) Query[T] {
	q.q = x
	return q
}

// Where returns the query with every p ANDed to its conditions.
func (q Query[T]) Where(ps ...Predicate[T]) Query[T] {
	if len(ps) == 0 {
		return q
	}
	where := make([]pnode, len(q.where)+len(ps))
	copy(where, q.where)
	for i := range ps {
		where[len(q.where)+i] = ps[i].n
	}
	q.where = where
	return q
}

// OrderBy returns the query with os added to its sort keys, after those it
// has. The rows are always sorted, with id ascending as the last key unless
// a key is on id: a query without OrderBy is sorted by id.
func (q Query[T]) OrderBy(os ...Ordering[T]) Query[T] {
	if len(os) == 0 {
		return q
	}
	if len(q.order) == 0 && len(os) == 1 && os[0].self != nil {
		q.order = os[0].self[:] // the Column's, shared: its capacity of 1 makes an append copy
		return q
	}
	q.order = append(slices.Clip(q.order), os...)
	return q
}

// Limit returns the query that returns at most n rows; a negative n is an
// ErrInvalidQuery when the query is rendered. There is no cap: use
// PageLimit on a client's page size.
func (q Query[T]) Limit(n int) Query[T] {
	if n < 0 && q.err == nil {
		q.err = &QueryError{Op: "limit", Detail: "the limit must not be negative, got " + strconv.Itoa(n)}
	}
	q.limit = n
	return q
}

// Offset returns the query that skips the first n rows; a negative n is an
// ErrInvalidQuery when the query is rendered.
func (q Query[T]) Offset(n int) Query[T] {
	if n < 0 && q.err == nil {
		q.err = &QueryError{Op: "offset", Detail: "the offset must not be negative, got " + strconv.Itoa(n)}
	}
	q.offset = n
	return q
}

// WithTrashed returns the query that includes soft-deleted rows: it lifts
// the SoftDeleteScope, as Without(SoftDeleteScope) does. Without SoftDelete
// it changes nothing.
func (q Query[T]) WithTrashed() Query[T] {
	q.trashed = true
	return q
}

// check returns the query's first error.
func (q Query[T]) check() error {
	if q.t == nil {
		return errors.New("repo: query: no Table (use Table.Query or Base.Query)")
	}
	if q.err != nil {
		return fmt.Errorf("repo: query %s: %w", q.t.name, q.err)
	}
	for i := range q.where {
		if err := checkPred(&q.where[i]); err != nil {
			return fmt.Errorf("repo: query %s: %w", q.t.name, err)
		}
	}
	for _, o := range q.order {
		if !o.ok {
			return fmt.Errorf("repo: query %s: a zero Ordering (not made by Column.Asc or Desc) is used", q.t.name)
		}
		if o.err != nil {
			return fmt.Errorf("repo: query %s: %w", q.t.name, o.err)
		}
	}
	return nil
}

// stmt kinds.
const (
	stmtSelect = iota
	stmtCount
	stmtExists
)

// render writes the statement of kind k.
func (q Query[T]) render(k int) (string, []any, error) {
	if err := q.check(); err != nil {
		return "", nil, err
	}
	if err := q.checkLock(k); err != nil {
		return "", nil, err
	}
	t := q.t
	scopes := t.scopes()
	var kb [shapeKeyMax]byte
	key, cacheable := q.shapeKey(kb[:0], k, scopes)
	if cacheable {
		if c, ok := t.shapes.get(key); ok {
			args, err := q.shapeArgs(make([]any, 0, c.nargs), k, scopes)
			if err != nil {
				return "", nil, err
			}
			return c.text, args, nil
		}
	}
	text, args, err := q.renderText(k, scopes)
	if err == nil && cacheable {
		t.shapes.put(key, cachedSQL{text: text, nargs: len(args)})
	}
	return text, args, err
}

// renderText writes the statement of kind k, with the global scopes read
// by render.
func (q Query[T]) renderText(k int, scopes []namedScope) (string, []any, error) {
	t := q.t
	s := t.newBuf()
	switch k {
	case stmtSelect:
		t.selectFrom(s)
	case stmtCount:
		s.WriteString("SELECT COUNT(*) FROM ")
		s.WriteString(t.qname)
	case stmtExists:
		s.WriteString("SELECT 1 FROM ")
		s.WriteString(t.qname)
	}
	w := predWriter{s: s, cols: t.cols}
	if err := q.writeWhereWith(&w, q.trashed, scopes); err != nil {
		return "", nil, err
	}
	switch k {
	case stmtExists:
		s.WriteString(" LIMIT 1")
		q.writeLock(s)
	case stmtSelect:
		s.WriteString(" ORDER BY ")
		writeOrder(s, "", q)
		switch {
		case q.limit >= 0:
			s.WriteString(" LIMIT ")
			w.bind(q.limit)
		case q.offset > 0 && t.d == db.SQLite:
			s.WriteString(" LIMIT -1") // SQLite needs a LIMIT before OFFSET
		case q.offset > 0 && t.d == db.MySQL:
			s.WriteString(" LIMIT 18446744073709551615") // MySQL's documented "no limit"
		}
		if q.offset > 0 {
			s.WriteString(" OFFSET ")
			w.bind(q.offset)
		}
		q.writeLock(s)
	}
	return s.String(), w.args, nil
}

// ToSQL returns the SELECT that All runs and its arguments, for logs and
// tests; the same shape of query (the same predicates on the same columns,
// whatever their values and however many values an In has) gives the same
// text.
func (q Query[T]) ToSQL() (string, []any, error) { return q.render(stmtSelect) }

// prepRun checks that q can run.
func (q Query[T]) prepRun(op string) error {
	if q.t == nil {
		return fmt.Errorf("repo: %s: query has no Table (use Table.Query or Base.Query)", op)
	}
	if q.q == nil {
		return fmt.Errorf("repo: %s %s: query has no Querier (use Query.On or Base.Query)", op, q.t.name)
	}
	if d := db.DialectOf(q.q); d != q.t.d {
		return fmt.Errorf("repo: %s %s: table built for %s, used on a %s querier", op, q.t.name, q.t.d, d)
	}
	return nil
}

// All returns the rows of the query, in its order; an empty, non-nil slice
// when there is none.
func (q Query[T]) All(ctx context.Context) ([]T, error) {
	if err := q.prepRun("query all"); err != nil {
		return nil, err
	}
	query, args, err := q.render(stmtSelect)
	if err != nil {
		return nil, err
	}
	out := []T{}
	if err := q.reader(ctx).SelectContext(ctx, &out, query, args...); err != nil {
		return nil, q.t.wrap("query all", err)
	}
	if err := q.loadWith(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// First returns the query's first row in its order (its Offset applies, its
// Limit does not), or ErrNotFound when it has none.
func (q Query[T]) First(ctx context.Context) (*T, error) {
	if err := q.prepRun("query first"); err != nil {
		return nil, err
	}
	q.limit = 1
	query, args, err := q.render(stmtSelect)
	if err != nil {
		return nil, err
	}
	m := new(T)
	if err := q.reader(ctx).GetContext(ctx, m, query, args...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("repo: query first %s: %w", q.t.name, ErrNotFound)
		}
		return nil, q.t.wrap("query first", err)
	}
	if err := q.loadWith(ctx, unsafe.Slice(m, 1)); err != nil {
		return nil, err
	}
	return m, nil
}

// Count returns how many rows match the query's conditions; its order,
// Limit and Offset are ignored.
func (q Query[T]) Count(ctx context.Context) (int64, error) {
	if err := q.prepRun("query count"); err != nil {
		return 0, err
	}
	query, args, err := q.render(stmtCount)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := q.reader(ctx).GetContext(ctx, &n, query, args...); err != nil {
		return 0, q.t.wrap("query count", err)
	}
	return n, nil
}

// Exists reports whether some row matches the query's conditions; its
// order, Limit and Offset are ignored.
func (q Query[T]) Exists(ctx context.Context) (bool, error) {
	if err := q.prepRun("query exists"); err != nil {
		return false, err
	}
	query, args, err := q.render(stmtExists)
	if err != nil {
		return false, err
	}
	var one int
	if err := q.reader(ctx).GetContext(ctx, &one, query, args...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return false, q.t.wrap("query exists", err)
	}
	return true, nil
}

// The cache of statement texts by shape. The shape of a Query is what its
// text depends on, and not its values: the statement's kind, the
// predicate trees (kinds, columns, operators, how many children, whether an
// In list is empty and, on MySQL, the kind of its values), the sort keys,
// whether a Limit and an Offset are set, the lock, and the global scopes
// applied. render encodes it into a key on the stack, and a query of a
// shape seen before only collects its arguments, in the order the text
// binds them.
const (
	shapeKeyMax    = 256  // longer keys are not cached
	shapeCacheSize = 1024 // shapes kept per table; later ones are rendered each time
)

// cachedSQL is the text of one shape and how many arguments it binds.
type cachedSQL struct {
	text  string
	nargs int
}

// shapeCache maps shape keys to texts. Readers load the map without a
// lock; a new shape replaces it with a copy (shapes are few and stable).
type shapeCache struct {
	mu sync.Mutex
	m  atomic.Pointer[map[string]cachedSQL]
}

// get returns the text of the shape key.
func (c *shapeCache) get(key []byte) (cachedSQL, bool) {
	m := c.m.Load()
	if m == nil {
		return cachedSQL{}, false
	}
	v, ok := (*m)[string(key)]
	return v, ok
}

// put records the text of the shape key, unless the cache is full.
func (c *shapeCache) put(key []byte, v cachedSQL) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	var m map[string]cachedSQL
	if old == nil {
		m = map[string]cachedSQL{}
	} else {
		if _, ok := (*old)[string(key)]; ok || len(*old) >= shapeCacheSize {
			return
		}
		m = make(map[string]cachedSQL, len(*old)+1)
		maps.Copy(m, *old)
	}
	m[string(key)] = v
	c.m.Store(&m)
}

// shapeKey appends q's shape for a statement of kind k to key; ok is false
// when the query is not cached (a lifted global scope, a predicate kind
// the cache does not know, or a key longer than shapeKeyMax).
func (q Query[T]) shapeKey(key []byte, k int, scopes []namedScope) (_ []byte, ok bool) {
	if len(q.without) > 0 {
		return key, false
	}
	key = append(key, byte(k), byte(q.lock), boolByte(q.trashed), boolByte(q.limit >= 0), boolByte(q.offset > 0))
	key = binary.AppendUvarint(key, uint64(len(q.order)))
	for _, o := range q.order {
		key = binary.AppendUvarint(key, uint64(o.i)<<1|uint64(boolByte(o.desc)))
	}
	key = binary.AppendUvarint(key, uint64(len(scopes)))
	for i := range scopes {
		if key, ok = shapeOf(key, q.t.d, &scopes[i].n); !ok {
			return key, false
		}
	}
	key = binary.AppendUvarint(key, uint64(len(q.where)))
	for i := range q.where {
		if key, ok = shapeOf(key, q.t.d, &q.where[i]); !ok {
			return key, false
		}
	}
	return key, len(key) <= shapeKeyMax
}

// shapeOf appends the shape of n's tree to key.
func shapeOf(key []byte, d db.Dialect, n *pnode) (_ []byte, ok bool) {
	switch n.kind {
	case pCmp, pNull, pIn, pBetween, pLike, pAnd, pOr, pNot:
	default:
		return key, false // subqueries: rendered each time
	}
	if n.agg != aggNone || len(key) > shapeKeyMax {
		return key, false
	}
	key = append(key, byte(n.kind), byte(n.flags), byte(n.op))
	key = binary.AppendUvarint(key, uint64(uint32(n.col)))
	if n.kind == pIn {
		kind := byte(0xff) // empty: 1 = 0 or 1 = 1
		if list := inListOf(n); list.size() > 0 && d == db.MySQL {
			kind = byte(list.kind()) // the JSON_TABLE column type
		} else if list.size() > 0 {
			kind = 0
		}
		key = append(key, kind)
	}
	kids := n.kids()
	key = binary.AppendUvarint(key, uint64(len(kids)))
	for i := range kids {
		if key, ok = shapeOf(key, d, &kids[i]); !ok {
			return key, false
		}
	}
	return key, true
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// shapeArgs appends q's arguments for a statement of kind k, in the order
// renderText binds them, to args.
func (q Query[T]) shapeArgs(args []any, k int, scopes []namedScope) ([]any, error) {
	var err error
	for i := range scopes {
		s := &scopes[i]
		if args, err = nodeArgs(args, q.t.d, q.t.cols, &s.n); err != nil {
			return nil, fmt.Errorf("repo: query %s: scope %q: %w", q.t.name, s.name, err)
		}
	}
	for i := range q.where {
		if args, err = nodeArgs(args, q.t.d, q.t.cols, &q.where[i]); err != nil {
			return nil, fmt.Errorf("repo: query %s: %w", q.t.name, err)
		}
	}
	if k == stmtSelect {
		if q.limit >= 0 {
			args = append(args, q.limit)
		}
		if q.offset > 0 {
			args = append(args, q.offset)
		}
	}
	return args, nil
}

// nodeArgs appends the arguments of n's tree, on a table of dialect d and
// columns cols, as predWriter.write binds them.
func nodeArgs(args []any, d db.Dialect, cols []column, n *pnode) ([]any, error) {
	switch n.kind {
	case pCmp, pLike:
		args = append(args, n.v)
	case pBetween:
		args = append(args, n.v, n.x.hi)
	case pIn:
		if list := inListOf(n); list.size() > 0 {
			arg, err := list.arg(d)
			if err != nil {
				return nil, fmt.Errorf("repo: %s IN: %w", cols[n.col].name, err)
			}
			args = append(args, arg)
		}
	case pAnd, pOr, pNot:
		var err error
		kids := n.kids()
		for i := range kids {
			if args, err = nodeArgs(args, d, cols, &kids[i]); err != nil {
				return nil, err
			}
		}
	}
	return args, nil
}
