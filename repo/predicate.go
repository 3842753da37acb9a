package repo

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/fasttrack-go/fasttrack/db"
)

// Predicate is a condition on T's rows, made from a Column (Eq, In,
// Contains, ...) or by combining predicates (And, Or, Not). It is an
// immutable value: reuse it in as many queries as you like, from any
// goroutine. Its column names come from the table's metadata and its values
// are always bound as parameters, never written into the SQL text.
//
// The zero Predicate is not a condition: a query using it fails.
type Predicate[T any] struct{ n *pnode }

// predKind is the kind of a predicate node.
type predKind uint8

const (
	pCmp     predKind = iota + 1 // col op ?
	pNull                        // col IS NULL, col IS NOT NULL
	pIn                          // col IN (values), col NOT IN (values)
	pBetween                     // col BETWEEN ? AND ?
	pLike                        // col LIKE ? ESCAPE '\' (MySQL: ESCAPE CHAR(92))
	pAnd
	pOr
	pNot
	pExists // EXISTS (subquery), NOT EXISTS (subquery)
	pInSub  // col IN (SELECT ...), and its NULL-safe negation
)

// aggFn is the aggregate a node's column is wrapped in (Having).
type aggFn uint8

const (
	aggNone  aggFn = iota
	aggCount       // COUNT(*)
	aggCountCol
	aggSum
	aggAvg
	aggMin
	aggMax
)

// aggSQL is each aggregate's function name.
var aggSQL = [...]string{aggCount: "COUNT", aggCountCol: "COUNT", aggSum: "SUM", aggAvg: "AVG", aggMin: "MIN", aggMax: "MAX"}

// pnode is a predicate's tree, shared by the predicates and queries that use
// it and never changed once made.
type pnode struct {
	kind predKind
	neg  bool  // pNull: IS NOT NULL; pIn, pInSub: NOT IN; pExists: NOT EXISTS
	ci   bool  // pLike: case-insensitive (ILike)
	agg  aggFn // pCmp, pBetween: the column is in this aggregate (Having only)
	col  int
	op   string // pCmp: the operator
	vals []any  // pCmp, pLike: one value; pBetween: two; pIn: its inList
	kids []*pnode
	sub  subquery // pExists, pInSub
	err  error
}

// errPred returns a predicate that fails a query with err.
func errPred[T any](err error) Predicate[T] { return Predicate[T]{&pnode{err: err}} }

// colPred checks c and returns a node on its column, or the error's node.
func colPred[T, V any](c Column[T, V], n *pnode) Predicate[T] {
	if err := c.Err(); err != nil {
		return errPred[T](err)
	}
	n.col = c.i
	return Predicate[T]{n}
}

// isNull reports whether v is nil to the database: a nil pointer, or a
// driver.Valuer whose value is nil.
func isNull(v any) bool {
	if v == nil {
		return true
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return true
	}
	if dv, ok := v.(driver.Valuer); ok {
		x, err := dv.Value()
		return err == nil && x == nil
	}
	return false
}

func (c Column[T, V]) cmp(op string, v V, nullOp string) Predicate[T] {
	av := any(v) // boxed once, for isNull and for the node
	if isNull(av) {
		if nullOp == "" {
			return errPred[T](fmt.Errorf("repo: %s %s with a null value: use IsNull or NotNull", c.name, op))
		}
		return colPred(c, &pnode{kind: pNull, neg: nullOp == "IS NOT NULL"})
	}
	if err := c.Err(); err != nil {
		return errPred[T](err)
	}
	return Predicate[T]{newLeaf(pCmp, c.i, op, av)}
}

// leafNode is a node on one column with room for its values (one or two),
// made in one allocation: vals is a slice of v.
type leafNode struct {
	n pnode
	v [2]any
}

// newLeaf returns a node of kind on column col whose values are vs (one or
// two).
func newLeaf(kind predKind, col int, op string, vs ...any) *pnode {
	l := &leafNode{n: pnode{kind: kind, col: col, op: op}}
	k := copy(l.v[:], vs)
	l.n.vals = l.v[:k:k]
	return &l.n
}

// Eq is "column = v"; a nil v (a nil pointer, or a driver.Valuer whose value
// is nil) gives "column IS NULL".
func (c Column[T, V]) Eq(v V) Predicate[T] { return c.cmp("=", v, "IS NULL") }

// Ne is "column <> v"; a nil v gives "column IS NOT NULL". As in SQL, a row
// whose column is NULL is not "<> v": combine with IsNull to include it.
func (c Column[T, V]) Ne(v V) Predicate[T] { return c.cmp("<>", v, "IS NOT NULL") }

// Lt is "column < v"; a nil v is an error.
func (c Column[T, V]) Lt(v V) Predicate[T] { return c.cmp("<", v, "") }

// Le is "column <= v"; a nil v is an error.
func (c Column[T, V]) Le(v V) Predicate[T] { return c.cmp("<=", v, "") }

// Gt is "column > v"; a nil v is an error.
func (c Column[T, V]) Gt(v V) Predicate[T] { return c.cmp(">", v, "") }

// Ge is "column >= v"; a nil v is an error.
func (c Column[T, V]) Ge(v V) Predicate[T] { return c.cmp(">=", v, "") }

// Between is "column BETWEEN lo AND hi", both ends included; a nil end is an
// error.
func (c Column[T, V]) Between(lo, hi V) Predicate[T] {
	alo, ahi := any(lo), any(hi)
	if isNull(alo) || isNull(ahi) {
		return errPred[T](fmt.Errorf("repo: %s BETWEEN with a null end", c.name))
	}
	if err := c.Err(); err != nil {
		return errPred[T](err)
	}
	return Predicate[T]{newLeaf(pBetween, c.i, "", alo, ahi)}
}

// IsNull is "column IS NULL".
func (c Column[T, V]) IsNull() Predicate[T] { return colPred(c, &pnode{kind: pNull}) }

// NotNull is "column IS NOT NULL".
func (c Column[T, V]) NotNull() Predicate[T] { return colPred(c, &pnode{kind: pNull, neg: true}) }

// In is "column IN (vs...)", with the whole list bound as ONE parameter, so
// that any number of values works on every database and the SQL text does
// not depend on how many there are: "= ANY($1)" with an array on
// PostgreSQL, a JSON array read by json_each on SQLite and by JSON_TABLE on
// MySQL/MariaDB (10.6 or later). An empty list matches no row.
//
// Values are converted as database/sql converts arguments (driver.Valuer,
// named types). On SQLite and MySQL they must be integers, floats, booleans
// or strings (valid UTF-8); a time or a byte slice is an error there, and a
// nil value is an error everywhere (use IsNull).
func (c Column[T, V]) In(vs ...V) Predicate[T] { return c.in(false, vs) }

// NotIn is "column NOT IN (vs...)", bound as In binds; an empty list matches
// every row. As in SQL, a row whose column is NULL matches only the empty
// list.
func (c Column[T, V]) NotIn(vs ...V) Predicate[T] { return c.in(true, vs) }

// Like is "column LIKE s" matching s literally: the % and _ in s are
// escaped, so it is an equality under LIKE's rules (the database's
// collation: case-insensitive on MySQL's default collations and, for ASCII,
// on SQLite; case-sensitive on PostgreSQL). Contains, StartsWith and
// EndsWith add the wildcards; LikePattern leaves the caller's. The column
// must be a string (or *string) field; otherwise the predicate is an error.
func (c Column[T, V]) Like(s string) Predicate[T] { return c.like("", s, "", true, false) }

// Contains is "column LIKE %s%", s matched literally (its % and _ escaped).
func (c Column[T, V]) Contains(s string) Predicate[T] { return c.like("%", s, "%", true, false) }

// StartsWith is "column LIKE s%", s matched literally.
func (c Column[T, V]) StartsWith(s string) Predicate[T] { return c.like("", s, "%", true, false) }

// EndsWith is "column LIKE %s", s matched literally.
func (c Column[T, V]) EndsWith(s string) Predicate[T] { return c.like("%", s, "", true, false) }

// LikePattern is "column LIKE pattern" with the caller's pattern as given: %
// and _ are wildcards and a backslash escapes the next character, on every
// database (the statement says ESCAPE '\'; on MySQL ESCAPE CHAR(92), a
// backslash whether or not sql_mode has NO_BACKSLASH_ESCAPES). The pattern
// is still bound, never written into the SQL; use it for patterns built in
// code, and Contains or StartsWith for a user's text.
func (c Column[T, V]) LikePattern(pattern string) Predicate[T] {
	return c.like("", pattern, "", false, false)
}

// ILike is Like ignoring case: "column ILIKE s" on PostgreSQL, "LOWER(column)
// LIKE LOWER(s)" on SQLite and MySQL, with the % and _ in s escaped. Which
// letters fold is each database's rule, not Go's: PostgreSQL folds by the
// column's collation (only ASCII letters under the "C" collation); MySQL and
// MariaDB fold by the column's character set (not at all for binary strings
// such as VARBINARY or BLOB); SQLite's lower() folds only the ASCII letters
// A-Z unless the ICU extension is loaded, so "É" and "é" differ there.
func (c Column[T, V]) ILike(s string) Predicate[T] { return c.like("", s, "", true, true) }

// ILikePattern is LikePattern ignoring case, as ILike folds it: the
// caller's % and _ are wildcards and a backslash escapes.
func (c Column[T, V]) ILikePattern(pattern string) Predicate[T] {
	return c.like("", pattern, "", false, true)
}

// like returns the LIKE node of the pattern pre+s+post, s escaped when
// escape is set; ci: ignoring case.
func (c Column[T, V]) like(pre, s, post string, escape, ci bool) Predicate[T] {
	if c.Err() == nil && !c.str {
		return errPred[T](fmt.Errorf("repo: LIKE on column %s of type %s: only string columns", c.name, reflect.TypeFor[V]()))
	}
	if err := c.Err(); err != nil {
		return errPred[T](err)
	}
	n := newLike(pre, s, post, escape)
	n.col, n.ci = c.i, ci
	return Predicate[T]{n}
}

// likeInline is the longest pattern a LIKE node holds in its own
// allocation.
const likeInline = 32

// likeNode is a LIKE node, with room for a short pattern.
type likeNode struct {
	n   pnode
	v   [1]any
	buf [likeInline]byte
}

// newLike returns a LIKE node of the pattern pre+s+post, s escaped when
// escape is set (as EscapeLike does).
func newLike(pre, s, post string, escape bool) *pnode {
	l := &likeNode{n: pnode{kind: pLike}}
	size := len(pre) + len(s) + len(post)
	if escape {
		for i := range len(s) {
			if isLikeSpecial(s[i]) {
				size++
			}
		}
	}
	var b []byte
	if size <= likeInline {
		b = l.buf[:0:size]
	} else {
		b = make([]byte, 0, size)
	}
	b = appendLike(b, pre, s, post, escape)
	// The pattern's bytes are written here and never after.
	pattern := unsafe.String(unsafe.SliceData(b), len(b))
	l.v[0] = pattern
	l.n.vals = l.v[:]
	return &l.n
}

// appendLike appends pre+s+post to b, s escaped when escape is set.
func appendLike(b []byte, pre, s, post string, escape bool) []byte {
	b = append(b, pre...)
	if escape {
		for i := range len(s) {
			if isLikeSpecial(s[i]) {
				b = append(b, '\\')
			}
			b = append(b, s[i])
		}
	} else {
		b = append(b, s...)
	}
	return append(b, post...)
}

// isLikeSpecial reports whether c is escaped in a LIKE pattern.
func isLikeSpecial(c byte) bool { return c == '\\' || c == '%' || c == '_' }

// EscapeLike escapes s for a LIKE pattern whose escape character is a
// backslash (as LikePattern's): each \, % and _ gets a backslash before it.
func EscapeLike(s string) string {
	if !strings.ContainsAny(s, `\%_`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := range len(s) {
		switch s[i] {
		case '\\', '%', '_':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// combine makes an And or Or node of ps.
func combine[T any](kind predKind, ps []Predicate[T]) Predicate[T] {
	kids := make([]*pnode, len(ps))
	for i, p := range ps {
		kids[i] = p.n
	}
	return Predicate[T]{&pnode{kind: kind, kids: kids}}
}

// And is true when every p is; And() with no predicate is true.
func And[T any](ps ...Predicate[T]) Predicate[T] { return combine(pAnd, ps) }

// Or is true when some p is; Or() with no predicate is false.
func Or[T any](ps ...Predicate[T]) Predicate[T] { return combine(pOr, ps) }

// Not is true when p is false. As in SQL, NOT of a comparison with NULL is
// not true either.
func Not[T any](p Predicate[T]) Predicate[T] {
	return Predicate[T]{&pnode{kind: pNot, kids: []*pnode{p.n}}}
}

// predWriter renders predicates into a statement.
type predWriter struct {
	s    *sqlBuf
	cols []column
	args []any
	// depth is how many subqueries the writer is inside of.
	depth int
}

// errZeroPredicate is the error of a Predicate not made by this package.
var errZeroPredicate = errors.New("repo: a zero Predicate (not made by a Column, And, Or or Not) is used")

// errAggInWhere is the error of an aggregate's predicate outside Having.
var errAggInWhere = errors.New("repo: a predicate on an aggregate (CountAll, SumOf, ...) is used outside Grouped.Having")

// checkPred returns the first error in n's tree, a condition of a WHERE: a
// predicate on an aggregate is an error there.
func checkPred(n *pnode) error { return checkNode(n, false) }

// checkNode returns the first error in n's tree; aggregates are allowed
// when having is set.
func checkNode(n *pnode, having bool) error {
	if n == nil {
		return errZeroPredicate
	}
	if n.err != nil {
		return n.err
	}
	if n.agg != aggNone && !having {
		return errAggInWhere
	}
	if n.sub != nil {
		if err := n.sub.check(); err != nil {
			return err
		}
	}
	for _, k := range n.kids {
		if err := checkNode(k, having); err != nil {
			return err
		}
	}
	return nil
}

// write renders n, whose tree checkPred passed.
func (w *predWriter) write(n *pnode) error {
	s := w.s
	switch n.kind {
	case pCmp:
		w.colRef(n)
		s.WriteByte(' ')
		s.WriteString(n.op)
		s.WriteByte(' ')
		w.bind(n.vals[0])
	case pNull:
		s.WriteString(w.cols[n.col].quoted)
		if n.neg {
			s.WriteString(" IS NOT NULL")
		} else {
			s.WriteString(" IS NULL")
		}
	case pBetween:
		w.colRef(n)
		s.WriteString(" BETWEEN ")
		w.bind(n.vals[0])
		s.WriteString(" AND ")
		w.bind(n.vals[1])
	case pLike:
		switch {
		case !n.ci:
			s.WriteString(w.cols[n.col].quoted)
			s.WriteString(" LIKE ")
			w.bind(n.vals[0])
		case s.d == db.Postgres:
			s.WriteString(w.cols[n.col].quoted)
			s.WriteString(" ILIKE ")
			w.bind(n.vals[0])
		default:
			s.WriteString("LOWER(")
			s.WriteString(w.cols[n.col].quoted)
			s.WriteString(") LIKE LOWER(")
			w.bind(n.vals[0])
			s.WriteByte(')')
		}
		if s.d == db.MySQL {
			// A backslash, whatever sql_mode: the literal '\\' is two
			// characters under NO_BACKSLASH_ESCAPES, and '\' unterminated
			// without it.
			s.WriteString(" ESCAPE CHAR(92)")
		} else {
			s.WriteString(` ESCAPE '\'`)
		}
	case pIn:
		return w.in(n)
	case pExists, pInSub:
		return w.subquery(n)
	case pAnd, pOr:
		if len(n.kids) == 0 {
			if n.kind == pAnd {
				s.WriteString("1 = 1")
			} else {
				s.WriteString("1 = 0")
			}
			return nil
		}
		if len(n.kids) == 1 {
			return w.write(n.kids[0])
		}
		sep := " AND "
		if n.kind == pOr {
			sep = " OR "
		}
		s.WriteByte('(')
		for i, k := range n.kids {
			if i > 0 {
				s.WriteString(sep)
			}
			if err := w.write(k); err != nil {
				return err
			}
		}
		s.WriteByte(')')
	case pNot:
		s.WriteString("NOT (")
		if err := w.write(n.kids[0]); err != nil {
			return err
		}
		s.WriteByte(')')
	default:
		return errZeroPredicate
	}
	return nil
}

// colRef writes n's column, inside its aggregate if it has one.
func (w *predWriter) colRef(n *pnode) {
	writeExpr(w.s, "", w.cols, exprSpec{col: n.col, agg: n.agg})
}

// bind writes a placeholder for v.
func (w *predWriter) bind(v any) {
	w.s.bind()
	w.args = append(w.args, v)
}

// in writes an In or NotIn node.
func (w *predWriter) in(n *pnode) error {
	s := w.s
	col := &w.cols[n.col]
	list := inListOf(n)
	if list.size() == 0 {
		if n.neg {
			s.WriteString("1 = 1")
		} else {
			s.WriteString("1 = 0")
		}
		return nil
	}
	kind := list.kind()
	arg, err := list.arg(s.d)
	if err != nil {
		return fmt.Errorf("repo: %s IN: %w", col.name, err)
	}
	switch s.d {
	case db.Postgres:
		s.WriteString(col.quoted)
		if n.neg {
			s.WriteString(" <> ALL(")
		} else {
			s.WriteString(" = ANY(")
		}
		w.bind(arg)
		s.WriteByte(')')
		return nil
	case db.MySQL:
		s.WriteString(col.quoted)
		if n.neg {
			s.WriteString(" NOT")
		}
		s.WriteString(" IN (SELECT j.v FROM JSON_TABLE(")
		w.bind(arg)
		s.WriteString(", '$[*]' COLUMNS (v ")
		s.WriteString(mysqlJSONType[kind])
		s.WriteString(" PATH '$')) AS j)")
		return nil
	default:
		s.WriteString(col.quoted)
		if n.neg {
			s.WriteString(" NOT")
		}
		s.WriteString(" IN (SELECT value FROM json_each(")
		w.bind(arg)
		s.WriteString("))")
		return nil
	}
}
