package repo_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/jmoiron/sqlx"
)

// fzRow is the row of FuzzQuery's table: a column of each kind, nullable
// and not.
type fzRow struct {
	ID int64      `db:"id"`
	N  int64      `db:"n"`
	NN *int64     `db:"nn"`
	S  string     `db:"s"`
	NS *string    `db:"ns"`
	F  float64    `db:"f"`
	B  bool       `db:"b"`
	T  time.Time  `db:"t"`
	NT *time.Time `db:"nt"`
}

func (fzRow) TableName() string { return "fz_rows" }

// fzDDL creates fz_rows on SQLite.
const fzDDL = `CREATE TABLE fz_rows (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, nn INTEGER NULL,
	s TEXT NOT NULL, ns TEXT NULL, f REAL NOT NULL, b BOOLEAN NOT NULL, t TIMESTAMP NOT NULL, nt TIMESTAMP NULL)`

// fzRowCount is how many rows the dataset holds.
const fzRowCount = 60

// FuzzQuery builds a random query from the input (a predicate tree over
// every operator and column kind, sort keys, a limit and an offset), runs
// All, Count and Exists on a fixed SQLite dataset, and checks them against
// the same tree evaluated in Go with SQL's three-valued logic, NULLs sorting
// first ascending, and SQLite's LIKE (ASCII letters case-insensitive, _ one
// character, \ the escape).
func FuzzQuery(f *testing.F) {
	x, _ := testdb.Open(f, "sqlite:"+filepath.Join(f.TempDir(), "fuzz.db"))
	data := fzSeedData(f, x)
	tbl, err := repo.NewTable[fzRow](db.SQLite)
	if err != nil {
		f.Fatal(err)
	}
	cols := fzColumns(tbl)
	// Every operator on every column, with varied value bytes.
	for op := range fzOps {
		for c := range cols {
			f.Add([]byte{1, 0, byte(op), byte(c), byte(3 * op), byte(c + 7), 4, 2, 9, 1, byte(c), 1, 3})
		}
	}
	// Nesting, several Wheres, and paging.
	f.Add([]byte{3, 1, opAnd, 2, opOr, 2, opNot, opIn, 1, 3, 1, 5, 9, opIsNull, 2, opLt, 1, 5, opStartsWith, 0, 1, 0, 2, 2, 1, 0, 3, 3, 5, 7})
	f.Add([]byte{2, 0, opNot, opNotIn, 1, 2, 3, 4, opNot, opOr, 0, 2, 3, 4, 1, 4, 0, 3, 1, 20, 5})
	f.Add([]byte{1, 0, opLikePattern, 1, 6, 1, 2, 3, 4, 5, 6, 7, 0})
	// The LIKE family on the strings that tell escaping and case folding
	// apart: wildcards and backslashes taken literally, ASCII letters folded
	// and no others.
	for _, c := range []struct {
		op byte
		s  string
	}{
		{opLike, "a_c"}, {opLike, "a%c"}, {opLike, `a\c`}, {opLike, "abc"}, {opLike, "É"}, {opLike, "STRASSE"},
		{opContains, "%"}, {opContains, "_"}, {opContains, `\`}, {opContains, "'"}, {opStartsWith, "A"},
		{opStartsWith, "50_50"}, {opEndsWith, `\`}, {opEndsWith, "%"}, {opEndsWith, "ab"},
	} {
		i := slices.Index(fzPalette, c.s)
		if i < 0 {
			f.Fatalf("%q is not in the palette", c.s)
		}
		f.Add([]byte{1, 0, c.op, 0, 0, byte(i)})
		f.Add([]byte{1, 0, c.op, 1, 0, byte(i), 2, 1, 0})
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		fzCheck(t, x, tbl, cols, data, &fzReader{b: in})
	})
}

// fzCheck builds one query from r and checks what it returns.
func fzCheck(t *testing.T, x *sqlx.DB, tbl *repo.Table[fzRow], cols []*fzCol, data []fzRow, r *fzReader) {
	ctx := context.Background()
	q := tbl.On(x).Query()
	var where []fzNode
	nWhere, split := int(r.byte()%4), r.byte()&1 == 1
	for range nWhere {
		where = append(where, fzPred(r, cols, 0))
	}
	var descs []string
	var ps []repo.Predicate[fzRow]
	mayErr := false
	for _, n := range where {
		descs = append(descs, n.desc)
		mayErr = mayErr || n.mayErr
		if split {
			q = q.Where(n.p)
		} else {
			ps = append(ps, n.p)
		}
	}
	q = q.Where(ps...)
	type key struct {
		c    *fzCol
		desc bool
	}
	var keys []key
	for range int(r.byte() % 4) {
		k := key{cols[int(r.byte())%len(cols)], r.byte()&1 == 1}
		keys = append(keys, k)
		if k.desc {
			q = q.OrderBy(k.c.desc)
		} else {
			q = q.OrderBy(k.c.asc)
		}
	}
	limit, offset := -1, 0
	flags := r.byte()
	if flags&1 == 1 {
		limit = int(r.byte() % 70)
		q = q.Limit(limit)
	}
	if flags&2 == 2 {
		offset = int(r.byte() % 70)
		q = q.Offset(offset)
	}

	var match []fzRow
	for i := range data {
		ok := true
		for _, n := range where {
			ok = ok && n.eval(&data[i]) == fzTrue
		}
		if ok {
			match = append(match, data[i])
		}
	}
	slices.SortStableFunc(match, func(a, b fzRow) int {
		for _, k := range keys {
			c := fzCompareNullsFirst(k.c.key(&a), k.c.key(&b))
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return fzCmpInt(a.ID, b.ID)
	})
	want := fzIDs(match)
	wantCount := int64(len(want))
	want = want[min(offset, len(want)):]
	if limit >= 0 {
		want = want[:min(limit, len(want))]
	}

	query, args, _ := q.ToSQL()
	what := fmt.Sprintf("where %s, order %v, limit %d, offset %d\nSQL %s\nargs %#v",
		strings.Join(descs, " AND "), fzKeyNames(keys, func(k key) (string, bool) { return k.c.name, k.desc }),
		limit, offset, query, args)
	got, err := q.All(ctx)
	if err != nil {
		if mayErr {
			return // an In on a time column, which SQLite cannot bind
		}
		t.Fatalf("%s\nAll: %v", what, err)
	}
	if gotIDs := fzIDs(got); !slices.Equal(gotIDs, want) {
		t.Fatalf("%s\nAll: ids %v\nwant     %v", what, gotIDs, want)
	}
	for _, g := range got {
		if !fzSameRow(g, data[g.ID-1]) {
			t.Fatalf("%s\nAll: row %d is %+v, stored %+v", what, g.ID, g, data[g.ID-1])
		}
	}
	n, err := q.Count(ctx)
	if err != nil || n != wantCount {
		t.Fatalf("%s\nCount: %d, %v; want %d", what, n, err, wantCount)
	}
	ok, err := q.Exists(ctx)
	if err != nil || ok != (wantCount > 0) {
		t.Fatalf("%s\nExists: %v, %v; want %v", what, ok, err, wantCount > 0)
	}
}

func fzKeyNames[K any](keys []K, f func(K) (string, bool)) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		name, desc := f(k)
		if desc {
			name += " DESC"
		}
		out[i] = name
	}
	return out
}

func fzIDs(rows []fzRow) []int64 {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids
}

// fzSameRow reports whether a read row holds what was stored.
func fzSameRow(a, b fzRow) bool {
	eqp := func(x, y *int64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	eqs := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	eqt := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	return a.ID == b.ID && a.N == b.N && eqp(a.NN, b.NN) && a.S == b.S && eqs(a.NS, b.NS) &&
		(a.F == b.F) && a.B == b.B && a.T.Equal(b.T) && eqt(a.NT, b.NT)
}

// fzSeedData fills fz_rows with fzRowCount rows drawn from the value
// palettes by a fixed seed, and returns them in id order.
func fzSeedData(tb testing.TB, x *sqlx.DB) []fzRow {
	tb.Helper()
	ctx := context.Background()
	if _, err := x.ExecContext(ctx, fzDDL); err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(17, 42))
	pick := func(n int) byte { return byte(rng.IntN(n)) }
	rows := make([]fzRow, fzRowCount)
	for i := range rows {
		// Draw the values from the same generators the queries use, fed
		// with random bytes.
		r := &fzReader{b: []byte{pick(256), pick(256), pick(256), pick(256), pick(256), pick(256)}}
		row := fzRow{
			ID: int64(i + 1),
			N:  fzGenInt(r),
			S:  fzPalette[rng.IntN(len(fzPalette))],
			F:  fzFloats[rng.IntN(len(fzFloats))],
			B:  rng.IntN(2) == 1,
			T:  fzGenTime(r),
		}
		if rng.IntN(4) != 0 {
			row.NN = fzPtr(int64(rng.IntN(12) - 3))
		}
		if rng.IntN(4) != 0 {
			row.NS = fzPtr(fzPalette[rng.IntN(len(fzPalette))])
		}
		if rng.IntN(3) != 0 {
			row.NT = fzPtr(fzGenTime(r))
		}
		rows[i] = row
		if _, err := x.ExecContext(ctx, "INSERT INTO fz_rows (id, n, nn, s, ns, f, b, t, nt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			row.ID, row.N, row.NN, row.S, row.NS, row.F, row.B, row.T, row.NT); err != nil {
			tb.Fatal(err)
		}
	}
	return rows
}

func fzPtr[V any](v V) *V { return &v }

// The operators FuzzQuery draws; those before opAnd are leaves.
const (
	opEq = iota
	opNe
	opLt
	opLe
	opGt
	opGe
	opBetween
	opIsNull
	opNotNull
	opIn
	opNotIn
	opLike
	opContains
	opStartsWith
	opEndsWith
	opLikePattern
	opAnd
	opOr
	opNot
	fzOps // how many there are
)

// fzReader hands out the fuzz input a byte at a time, then zeros.
type fzReader struct {
	b []byte
	i int
}

func (r *fzReader) byte() byte {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return r.b[r.i-1]
}

// fzTri is a truth value of SQL's three-valued logic.
type fzTri uint8

const (
	fzFalse fzTri = iota
	fzTrue
	fzNull
)

func fzBool(b bool) fzTri {
	if b {
		return fzTrue
	}
	return fzFalse
}

// fzVal is a column's value in the model: an integer (ints, bools, times
// as Unix seconds), a float or a string, or NULL.
type fzVal struct {
	null bool
	k    byte // 'i', 'f', 's'
	i    int64
	f    float64
	s    string
}

func (v fzVal) String() string {
	switch {
	case v.null:
		return "NULL"
	case v.k == 'f':
		return fmt.Sprint(v.f)
	case v.k == 's':
		return fmt.Sprintf("%q", v.s)
	}
	return fmt.Sprint(v.i)
}

func fzCmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// fzCompare compares two non-NULL values of a column as SQLite does: by
// number, or by bytes for text (the BINARY collation).
func fzCompare(a, b fzVal) int {
	switch a.k {
	case 'f':
		switch {
		case a.f < b.f:
			return -1
		case a.f > b.f:
			return 1
		}
		return 0
	case 's':
		return strings.Compare(a.s, b.s)
	}
	return fzCmpInt(a.i, b.i)
}

// fzCompareNullsFirst is fzCompare with NULL before every value, as SQLite
// sorts ascending.
func fzCompareNullsFirst(a, b fzVal) int {
	switch {
	case a.null && b.null:
		return 0
	case a.null:
		return -1
	case b.null:
		return 1
	}
	return fzCompare(a, b)
}

// fzNode is a predicate and its model: eval gives its truth value on a
// row; mayErr says that the query may fail instead (an In on a time column,
// which SQLite cannot bind).
type fzNode struct {
	p      repo.Predicate[fzRow]
	eval   func(*fzRow) fzTri
	desc   string
	mayErr bool
}

// fzCol is a column of fz_rows with its value generator and model.
type fzCol struct {
	name      string
	str       bool
	key       func(*fzRow) fzVal
	leaf      func(op int, r *fzReader) fzNode
	asc, desc repo.Ordering[fzRow]
}

// fzNewCol makes the fzCol of c: get reads the field, val models a value,
// gen draws a non-nil value; a nullable column also draws nil for Eq and Ne.
func fzNewCol[V any](c repo.Column[fzRow, V], get func(*fzRow) V, val func(V) fzVal, gen func(*fzReader) V,
	nullable, isTime bool) *fzCol {
	name := c.Name()
	key := func(row *fzRow) fzVal { return val(get(row)) }
	fc := &fzCol{name: name, key: key, asc: c.Asc(), desc: c.Desc()}
	fc.str = !val(gen(&fzReader{})).null && val(gen(&fzReader{})).k == 's'
	cmp := func(p repo.Predicate[fzRow], op string, v fzVal, ok func(int) bool) fzNode {
		return fzNode{p: p, desc: name + " " + op + " " + v.String(), eval: func(row *fzRow) fzTri {
			rv := key(row)
			if rv.null {
				return fzNull
			}
			return fzBool(ok(fzCompare(rv, v)))
		}}
	}
	isNull := func(p repo.Predicate[fzRow], neg bool) fzNode {
		desc := name + " IS NULL"
		if neg {
			desc = name + " IS NOT NULL"
		}
		return fzNode{p: p, desc: desc, eval: func(row *fzRow) fzTri { return fzBool(key(row).null != neg) }}
	}
	like := func(p repo.Predicate[fzRow], pattern string) fzNode {
		return fzNode{p: p, desc: fmt.Sprintf("%s LIKE %q", name, pattern), eval: func(row *fzRow) fzTri {
			rv := key(row)
			if rv.null {
				return fzNull
			}
			return fzBool(fzLike(pattern, rv.s))
		}}
	}
	fc.leaf = func(op int, r *fzReader) fzNode {
		switch op {
		case opEq, opNe:
			v := gen(r)
			if nullable && r.byte()%4 == 0 {
				var zero V
				v = zero
			}
			if val(v).null {
				if op == opEq {
					return isNull(c.Eq(v), false)
				}
				return isNull(c.Ne(v), true)
			}
			if op == opEq {
				return cmp(c.Eq(v), "=", val(v), func(x int) bool { return x == 0 })
			}
			return cmp(c.Ne(v), "<>", val(v), func(x int) bool { return x != 0 })
		case opLt:
			v := gen(r)
			return cmp(c.Lt(v), "<", val(v), func(x int) bool { return x < 0 })
		case opLe:
			v := gen(r)
			return cmp(c.Le(v), "<=", val(v), func(x int) bool { return x <= 0 })
		case opGt:
			v := gen(r)
			return cmp(c.Gt(v), ">", val(v), func(x int) bool { return x > 0 })
		case opGe:
			v := gen(r)
			return cmp(c.Ge(v), ">=", val(v), func(x int) bool { return x >= 0 })
		case opBetween:
			lo, hi := gen(r), gen(r)
			vlo, vhi := val(lo), val(hi)
			return fzNode{p: c.Between(lo, hi), desc: fmt.Sprintf("%s BETWEEN %s AND %s", name, vlo, vhi),
				eval: func(row *fzRow) fzTri {
					rv := key(row)
					if rv.null {
						return fzNull
					}
					return fzBool(fzCompare(rv, vlo) >= 0 && fzCompare(rv, vhi) <= 0)
				}}
		case opIsNull:
			return isNull(c.IsNull(), false)
		case opNotNull:
			return isNull(c.NotNull(), true)
		case opIn, opNotIn:
			vs := make([]V, r.byte()%6)
			vals := make([]fzVal, len(vs))
			for i := range vs {
				vs[i] = gen(r)
				vals[i] = val(vs[i])
			}
			neg := op == opNotIn
			p, word := c.In(vs...), "IN"
			if neg {
				p, word = c.NotIn(vs...), "NOT IN"
			}
			return fzNode{p: p, desc: fmt.Sprintf("%s %s %v", name, word, vals), mayErr: isTime && len(vs) > 0,
				eval: func(row *fzRow) fzTri {
					if len(vals) == 0 {
						return fzBool(neg)
					}
					rv := key(row)
					if rv.null {
						return fzNull
					}
					found := slices.ContainsFunc(vals, func(v fzVal) bool { return fzCompare(rv, v) == 0 })
					return fzBool(found != neg)
				}}
		case opLike:
			s := fzGenString(r)
			return like(c.Like(s), fzEscape(s))
		case opContains:
			s := fzGenString(r)
			return like(c.Contains(s), "%"+fzEscape(s)+"%")
		case opStartsWith:
			s := fzGenString(r)
			return like(c.StartsWith(s), fzEscape(s)+"%")
		case opEndsWith:
			s := fzGenString(r)
			return like(c.EndsWith(s), "%"+fzEscape(s))
		default: // opLikePattern
			p := fzGenPattern(r)
			return like(c.LikePattern(p), p)
		}
	}
	return fc
}

// fzColumns returns fz_rows' columns, the string ones first.
func fzColumns(t *repo.Table[fzRow]) []*fzCol {
	intVal := func(v int64) fzVal { return fzVal{k: 'i', i: v} }
	strVal := func(v string) fzVal { return fzVal{k: 's', s: v} }
	timeVal := func(v time.Time) fzVal { return fzVal{k: 'i', i: v.Unix()} }
	nullable := func(f func(*fzReader) int64) func(*fzReader) *int64 {
		return func(r *fzReader) *int64 { return fzPtr(f(r)) }
	}
	return []*fzCol{
		fzNewCol(repo.MustCol(t, func(r *fzRow) *string { return &r.S }), func(r *fzRow) string { return r.S },
			strVal, fzGenString, false, false),
		fzNewCol(repo.MustCol(t, func(r *fzRow) **string { return &r.NS }), func(r *fzRow) *string { return r.NS },
			fzNullable(strVal), func(r *fzReader) *string { return fzPtr(fzGenString(r)) }, true, false),
		fzNewCol(repo.MustCol(t, func(r *fzRow) *int64 { return &r.ID }), func(r *fzRow) int64 { return r.ID },
			intVal, func(r *fzReader) int64 { return int64(r.byte() % (fzRowCount + 3)) }, false, false),
		fzNewCol(repo.MustCol(t, func(r *fzRow) *int64 { return &r.N }), func(r *fzRow) int64 { return r.N },
			intVal, fzGenInt, false, false),
		fzNewCol(repo.MustCol(t, func(r *fzRow) **int64 { return &r.NN }), func(r *fzRow) *int64 { return r.NN },
			fzNullable(intVal), nullable(fzGenInt), true, false),
		fzNewCol(repo.MustCol(t, func(r *fzRow) *float64 { return &r.F }), func(r *fzRow) float64 { return r.F },
			func(v float64) fzVal { return fzVal{k: 'f', f: v} },
			func(r *fzReader) float64 { return fzFloats[int(r.byte())%len(fzFloats)] }, false, false),
		fzNewCol(repo.MustCol(t, func(r *fzRow) *bool { return &r.B }), func(r *fzRow) bool { return r.B },
			func(v bool) fzVal {
				if v {
					return intVal(1)
				}
				return intVal(0)
			},
			func(r *fzReader) bool { return r.byte()&1 == 1 }, false, false),
		fzNewCol(repo.MustCol(t, func(r *fzRow) *time.Time { return &r.T }), func(r *fzRow) time.Time { return r.T },
			timeVal, fzGenTime, false, true),
		fzNewCol(repo.MustCol(t, func(r *fzRow) **time.Time { return &r.NT }), func(r *fzRow) *time.Time { return r.NT },
			fzNullable(timeVal), func(r *fzReader) *time.Time { return fzPtr(fzGenTime(r)) }, true, true),
	}
}

// fzNullable models a pointer: NULL when nil.
func fzNullable[V any](val func(V) fzVal) func(*V) fzVal {
	return func(p *V) fzVal {
		if p == nil {
			return fzVal{null: true}
		}
		return val(*p)
	}
}

// fzPred draws a predicate: a leaf on a column, or And, Or, Not of
// predicates drawn in turn (to a depth of 3).
func fzPred(r *fzReader, cols []*fzCol, depth int) fzNode {
	op := int(r.byte())
	if depth >= 3 {
		op %= opAnd
	} else {
		op %= fzOps
	}
	switch op {
	case opAnd, opOr:
		kids := make([]fzNode, r.byte()%4)
		ps := make([]repo.Predicate[fzRow], len(kids))
		descs := make([]string, len(kids))
		n := fzNode{}
		for i := range kids {
			kids[i] = fzPred(r, cols, depth+1)
			ps[i], descs[i] = kids[i].p, kids[i].desc
			n.mayErr = n.mayErr || kids[i].mayErr
		}
		and := op == opAnd
		if and {
			n.p, n.desc = repo.And(ps...), "AND("+strings.Join(descs, ", ")+")"
		} else {
			n.p, n.desc = repo.Or(ps...), "OR("+strings.Join(descs, ", ")+")"
		}
		n.eval = func(row *fzRow) fzTri {
			// AND: false wins, then NULL; OR: true wins, then NULL.
			win, out := fzFalse, fzTrue
			if !and {
				win, out = fzTrue, fzFalse
			}
			for _, k := range kids {
				switch v := k.eval(row); v {
				case win:
					return win
				case fzNull:
					out = fzNull
				}
			}
			return out
		}
		return n
	case opNot:
		k := fzPred(r, cols, depth+1)
		return fzNode{p: repo.Not(k.p), desc: "NOT(" + k.desc + ")", mayErr: k.mayErr, eval: func(row *fzRow) fzTri {
			switch k.eval(row) {
			case fzTrue:
				return fzFalse
			case fzFalse:
				return fzTrue
			}
			return fzNull
		}}
	}
	if op >= opLike {
		return cols[int(r.byte())%2].leaf(op, r) // the string columns
	}
	return cols[int(r.byte())%len(cols)].leaf(op, r)
}

// fzPalette holds the dataset's strings: LIKE's wildcards and escape,
// quotes, case pairs in and out of ASCII, and multi-byte characters.
var fzPalette = []string{
	"", "a", "A", "abc", "ABC", "aBc", "a%c", "a_c", `a\c`, "100%", "50_50", "it's", `say "hi"`, `back\slash\`,
	"é", "É", "Straße", "STRASSE", "ｆｕｌｌ", "😀 smile", "naïve", " lead", "trail ", "%", "_", `\`, "'",
	"x'; DROP TABLE fz_rows; --", "日本語", "a\nb", "A\tB", "ab", "aB", "Ab",
}

// fzRunes are the characters drawn strings are made of.
var fzRunes = []rune{'a', 'A', 'b', 'B', 'c', '%', '_', '\\', '\'', '"', 'é', 'É', 'ß', 'S', 'ｆ', '😀', ' ', '日', '-', ';'}

// fzFloats are the float column's values.
var fzFloats = []float64{-2.5, -1, math.Copysign(0, -1), 0, 0.1, 0.2, 0.30000000000000004, 1.0 / 3, 1, 1.5, 2,
	1e-7, 123.456, 1e15, -1e300, 1e300}

// fzGenInt draws a small integer, or now and then an extreme.
func fzGenInt(r *fzReader) int64 {
	b := r.byte()
	if b >= 240 {
		return [...]int64{math.MinInt64, math.MaxInt64, 1000, -1000}[b%4]
	}
	return int64(b%16) - 3
}

// fzGenTime draws a whole second in UTC from a grid of 36.
func fzGenTime(r *fzReader) time.Time {
	b := int(r.byte())
	return time.Date(2024, 1, 1+b%12, (b/12)%3, 0, 0, 0, time.UTC)
}

// fzGenString draws a string of the palette, a piece of one, or one made
// of fzRunes.
func fzGenString(r *fzReader) string {
	switch r.byte() % 4 {
	case 0, 1:
		return fzPalette[int(r.byte())%len(fzPalette)]
	case 2:
		rs := []rune(fzPalette[int(r.byte())%len(fzPalette)])
		i := int(r.byte()) % (len(rs) + 1)
		j := i + int(r.byte())%(len(rs)-i+1)
		return string(rs[i:j])
	}
	rs := make([]rune, r.byte()%5)
	for i := range rs {
		rs[i] = fzRunes[int(r.byte())%len(fzRunes)]
	}
	return string(rs)
}

// fzGenPattern draws a well-formed LIKE pattern: wildcards, and
// characters escaped when they must be.
func fzGenPattern(r *fzReader) string {
	var b strings.Builder
	for range r.byte() % 6 {
		switch x := r.byte() % 8; x {
		case 0:
			b.WriteByte('%')
		case 1:
			b.WriteByte('_')
		case 2:
			b.WriteString(fzEscape(fzGenString(r)))
		default:
			b.WriteString(fzEscape(string(fzRunes[int(r.byte())%len(fzRunes)])))
		}
	}
	return b.String()
}

// fzEscape escapes \, % and _ with a backslash.
func fzEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c == '\\' || c == '%' || c == '_' {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// fzLike reports whether s matches pattern under SQLite's LIKE with ESCAPE
// '\': % any run of characters, _ one character, \ makes the next one
// literal, and letters compare case-insensitively in ASCII only.
func fzLike(pattern, s string) bool {
	type tok struct {
		any, one bool
		c        rune
	}
	var toks []tok
	pr := []rune(pattern)
	for i := 0; i < len(pr); i++ {
		switch c := pr[i]; {
		case c == '\\' && i+1 < len(pr):
			i++
			toks = append(toks, tok{c: pr[i]})
		case c == '%':
			toks = append(toks, tok{any: true})
		case c == '_':
			toks = append(toks, tok{one: true})
		default:
			toks = append(toks, tok{c: c})
		}
	}
	rs := []rune(s)
	// ok[j]: toks[:i] matches rs[:j], for the i of the loop.
	ok := make([]bool, len(rs)+1)
	ok[0] = true
	for _, t := range toks {
		next := make([]bool, len(rs)+1)
		for j := range next {
			switch {
			case t.any:
				next[j] = ok[j] || (j > 0 && next[j-1])
			case j == 0:
			case t.one:
				next[j] = ok[j-1]
			default:
				next[j] = ok[j-1] && fzFold(t.c) == fzFold(rs[j-1])
			}
		}
		ok = next
	}
	return ok[len(rs)]
}

// fzFold lowers an ASCII letter; other characters are left as they are.
func fzFold(c rune) rune {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
