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
type Predicate[T any] struct{ n pnode }

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

// cmpOp is the operator of a pCmp node.
type cmpOp uint8

const (
	opEq cmpOp = iota + 1
	opNe
	opLt
	opLe
	opGt
	opGe
	opLike // a Filter's LIKE: the caller's pattern, no ESCAPE clause
)

// opSQL is each operator's SQL.
var opSQL = [...]string{opEq: "=", opNe: "<>", opLt: "<", opLe: "<=", opGt: ">", opGe: ">=", opLike: "LIKE"}

// opOf returns the operator written sql ("=", "<>", ...), or 0.
func opOf(sql string) cmpOp {
	for i, s := range opSQL {
		if s == sql && s != "" {
			return cmpOp(i)
		}
	}
	return 0
}

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

// nodeFlags are a node's boolean options.
type nodeFlags uint8

const (
	fNeg nodeFlags = 1 << iota // pNull: IS NOT NULL; pIn, pInSub: NOT IN; pExists: NOT EXISTS
	fCI                        // pLike: case-insensitive (ILike)
)

// pnode is one node of a predicate's tree: a small value (32 bytes) that
// Predicate, Query and And/Or hold by value, so that a leaf costs no
// allocation of its own and a Where of several leaves one slice. What a
// node refers to (its children, subquery, In list, values) is shared by
// the copies and never changed once made.
type pnode struct {
	col   int32 // the column's index; -1 for Exists
	kind  predKind
	op    cmpOp // pCmp
	agg   aggFn // pCmp, pBetween: the column is in this aggregate (Having only)
	flags nodeFlags
	// v: pCmp, pLike: the value; pBetween: the lower end; pIn: its
	// inList.
	v any
	// x: pAnd, pOr, pNot: the children; pBetween: the upper end; pExists,
	// pInSub: the subquery; a failed predicate (kind 0): its error. nil
	// otherwise.
	x *pext
}

// pext is the part of a node that few nodes have.
type pext struct {
	kids []pnode
	hi   any // pBetween: the upper end
	sub  subquery
	err  error
}

func (n *pnode) neg() bool { return n.flags&fNeg != 0 }

func (n *pnode) ci() bool { return n.flags&fCI != 0 }

// kids returns the children of an And, Or or Not node.
func (n *pnode) kids() []pnode {
	if n.x == nil {
		return nil
	}
	return n.x.kids
}

// err returns the error of a failed predicate's node, or nil.
func (n *pnode) err() error {
	if n.x == nil {
		return nil
	}
	return n.x.err
}

// negIf returns fNeg when neg is set.
func negIf(neg bool) nodeFlags {
	if neg {
		return fNeg
	}
	return 0
}

// errPred returns a predicate that fails a query with err.
func errPred[T any](err error) Predicate[T] { return Predicate[T]{pnode{x: &pext{err: err}}} }

// colPred checks c and returns node n on its column, or the error's node.
func colPred[T, V any](c Column[T, V], n pnode) Predicate[T] {
	if err := c.Err(); err != nil {
		return errPred[T](err)
	}
	n.col = int32(c.i)
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

func (c Column[T, V]) cmp(op cmpOp, v V, nullNeg, nullOK bool) Predicate[T] {
	av := any(v) // boxed once, for isNull and for the node
	if !c.notNull && isNull(av) {
		if !nullOK {
			return errPred[T](fmt.Errorf("repo: %s %s with a null value: use IsNull or NotNull", c.name, opSQL[op]))
		}
		return colPred(c, pnode{kind: pNull, flags: negIf(nullNeg)})
	}
	if err := c.Err(); err != nil {
		return errPred[T](err)
	}
	return Predicate[T]{pnode{kind: pCmp, col: int32(c.i), op: op, v: av}}
}

// Eq is "column = v"; a nil v (a nil pointer, or a driver.Valuer whose value
// is nil) gives "column IS NULL".
func (c Column[T, V]) Eq(v V) Predicate[T] { return c.cmp(opEq, v, false, true) }

// Ne is "column <> v"; a nil v gives "column IS NOT NULL". As in SQL, a row
// whose column is NULL is not "<> v": combine with IsNull to include it.
func (c Column[T, V]) Ne(v V) Predicate[T] { return c.cmp(opNe, v, true, true) }

// Lt is "column < v"; a nil v is an error.
func (c Column[T, V]) Lt(v V) Predicate[T] { return c.cmp(opLt, v, false, false) }

// Le is "column <= v"; a nil v is an error.
func (c Column[T, V]) Le(v V) Predicate[T] { return c.cmp(opLe, v, false, false) }

// Gt is "column > v"; a nil v is an error.
func (c Column[T, V]) Gt(v V) Predicate[T] { return c.cmp(opGt, v, false, false) }

// Ge is "column >= v"; a nil v is an error.
func (c Column[T, V]) Ge(v V) Predicate[T] { return c.cmp(opGe, v, false, false) }

// Between is "column BETWEEN lo AND hi", both ends included; a nil end is an
// error.
func (c Column[T, V]) Between(lo, hi V) Predicate[T] {
	alo, ahi := any(lo), any(hi)
	if !c.notNull && (isNull(alo) || isNull(ahi)) {
		return errPred[T](fmt.Errorf("repo: %s BETWEEN with a null end", c.name))
	}
	if err := c.Err(); err != nil {
		return errPred[T](err)
	}
	return Predicate[T]{pnode{kind: pBetween, col: int32(c.i), v: alo, x: &pext{hi: ahi}}}
}

// IsNull is "column IS NULL".
func (c Column[T, V]) IsNull() Predicate[T] { return colPred(c, pnode{kind: pNull}) }

// NotNull is "column IS NOT NULL".
func (c Column[T, V]) NotNull() Predicate[T] { return colPred(c, pnode{kind: pNull, flags: fNeg}) }

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
	n := pnode{kind: pLike, col: int32(c.i), v: likePattern(pre, s, post, escape)}
	if ci {
		n.flags = fCI
	}
	return Predicate[T]{n}
}

// likePattern returns the LIKE pattern pre+s+post, s escaped when escape
// is set (as EscapeLike does).
func likePattern(pre, s, post string, escape bool) string {
	size := len(pre) + len(s) + len(post)
	if escape {
		for i := range len(s) {
			if isLikeSpecial(s[i]) {
				size++
			}
		}
	}
	b := appendLike(make([]byte, 0, size), pre, s, post, escape)
	// The pattern's bytes are written here and never after.
	return unsafe.String(unsafe.SliceData(b), len(b))
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
	e := &pext{kids: make([]pnode, len(ps))}
	for i, p := range ps {
		e.kids[i] = p.n
	}
	return Predicate[T]{pnode{kind: kind, x: e}}
}

// And is true when every p is; And() with no predicate is true.
func And[T any](ps ...Predicate[T]) Predicate[T] { return combine(pAnd, ps) }

// Or is true when some p is; Or() with no predicate is false.
func Or[T any](ps ...Predicate[T]) Predicate[T] { return combine(pOr, ps) }

// Not is true when p is false. As in SQL, NOT of a comparison with NULL is
// not true either.
func Not[T any](p Predicate[T]) Predicate[T] {
	return Predicate[T]{pnode{kind: pNot, x: &pext{kids: []pnode{p.n}}}}
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
	if n.kind == 0 {
		if err := n.err(); err != nil {
			return err
		}
		return errZeroPredicate
	}
	if n.agg != aggNone && !having {
		return errAggInWhere
	}
	if n.x == nil {
		return nil
	}
	if n.x.sub != nil {
		if err := n.x.sub.check(); err != nil {
			return err
		}
	}
	for i := range n.x.kids {
		if err := checkNode(&n.x.kids[i], having); err != nil {
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
		s.WriteString(opSQL[n.op])
		s.WriteByte(' ')
		w.bind(n.v)
	case pNull:
		s.WriteString(w.cols[n.col].quoted)
		if n.neg() {
			s.WriteString(" IS NOT NULL")
		} else {
			s.WriteString(" IS NULL")
		}
	case pBetween:
		w.colRef(n)
		s.WriteString(" BETWEEN ")
		w.bind(n.v)
		s.WriteString(" AND ")
		w.bind(n.x.hi)
	case pLike:
		switch {
		case !n.ci():
			s.WriteString(w.cols[n.col].quoted)
			s.WriteString(" LIKE ")
			w.bind(n.v)
		case s.d == db.Postgres:
			s.WriteString(w.cols[n.col].quoted)
			s.WriteString(" ILIKE ")
			w.bind(n.v)
		default:
			s.WriteString("LOWER(")
			s.WriteString(w.cols[n.col].quoted)
			s.WriteString(") LIKE LOWER(")
			w.bind(n.v)
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
		kids := n.kids()
		if len(kids) == 0 {
			if n.kind == pAnd {
				s.WriteString("1 = 1")
			} else {
				s.WriteString("1 = 0")
			}
			return nil
		}
		if len(kids) == 1 {
			return w.write(&kids[0])
		}
		sep := " AND "
		if n.kind == pOr {
			sep = " OR "
		}
		s.WriteByte('(')
		for i := range kids {
			if i > 0 {
				s.WriteString(sep)
			}
			if err := w.write(&kids[i]); err != nil {
				return err
			}
		}
		s.WriteByte(')')
	case pNot:
		s.WriteString("NOT (")
		if err := w.write(&n.x.kids[0]); err != nil {
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
	writeExpr(w.s, "", w.cols, exprSpec{col: int(n.col), agg: n.agg})
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
		if n.neg() {
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
		if n.neg() {
			s.WriteString(" <> ALL(")
		} else {
			s.WriteString(" = ANY(")
		}
		w.bind(arg)
		s.WriteByte(')')
		return nil
	case db.MySQL:
		s.WriteString(col.quoted)
		if n.neg() {
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
		if n.neg() {
			s.WriteString(" NOT")
		}
		s.WriteString(" IN (SELECT value FROM json_each(")
		w.bind(arg)
		s.WriteString("))")
		return nil
	}
}
