package repo

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/fasttrack-go/fasttrack/db"
)

// Page limits.
const (
	// DefaultLimit is the page size of a Page or KeysetPage whose Limit is
	// zero.
	DefaultLimit = 20
	// MaxLimit is the largest page: a larger Limit is lowered to MaxLimit
	// (not rejected), so that a client cannot ask for a whole table.
	MaxLimit = 100
)

// CreateMany batches: at most maxBatchRows rows and maxBatchParams bound
// values per INSERT (PostgreSQL and MySQL allow 65535 parameters, SQLite
// 32766).
const (
	maxBatchRows   = 500
	maxBatchParams = 30000
)

// idColumn is the primary key's column.
const idColumn = "id"

// column is one mapped field.
type column struct {
	name   string
	quoted string
	// index is the field's path from T, as for reflect.Value.FieldByIndex.
	index []int
	// viaPtr: the path crosses an embedded pointer, which may be nil.
	viaPtr bool
	// plainInt: the field is of type int, int8, int16, int32 or int64
	// (not a named type, which may be a driver.Valuer): its value is bound
	// as an int64, which Go boxes without allocating for small values.
	plainInt bool
}

// embed locates an embedded Timestamps, SoftDelete or Versioned.
type embed struct {
	index []int
	ok    bool
}

// hookSet tells which model events *T implements.
type hookSet struct {
	beforeCreate, afterCreate, beforeUpdate, afterUpdate, beforeDelete, afterDelete bool
}

// statements are the texts that depend on whether soft-deleted rows are
// included: [0] skips them, [1] includes them (WithTrashed). Without
// SoftDelete both are the same.
type statements struct {
	find, exists, count, all, update string
	// findBy and firstBy are indexed like Table.cols.
	findBy, firstBy []string
}

// Table is T's precompiled mapping for one dialect: table name, columns, and
// every statement's text, built once by NewTable. It holds no connection and
// is safe for concurrent use: build it once (an Fx singleton) and call On
// for each Querier.
//
// T is a struct. Its columns are its exported fields, named by their db tag
// (db:"-" skips a field; options after a comma are ignored) or else by the
// snake_case of the field name (db.SnakeCase, the pool mapper's rule).
// Embedded structs are flattened, as sqlx does; an embedded struct must not
// have a db tag other than "-". A relation holder (Many, One, Count) is not
// a column. The primary key is the column id, an
// integer field (int, int32 or int64) the database generates. Embedding
// Timestamps, SoftDelete or Versioned turns on their behaviour.
type Table[T any] struct {
	d          db.Dialect
	name       string
	qname      string
	cols       []column
	names      []string
	byName     map[string]int
	selectList string
	id         []int
	idViaPtr   bool
	insert     []int // columns INSERT writes: all but id
	update     []int // columns UPDATE binds: all but id, created_at, deleted_at, version
	ts, sd, vr embed
	hooks      hookSet

	insertOne  string
	many       string // a full batch, with manySuffix
	manyRows   string // a full batch, without manySuffix
	manyEnds   []int  // manyRows[:manyEnds[k-1]] holds the first k rows
	manySuffix string
	batchRows  int
	st         [2]statements
	softDel    string
	hardDel    string
	restore    string

	// sdNode is the soft-delete scope, deleted_at IS NULL (nil without
	// SoftDelete); gs holds the global scopes AddScope registers.
	sdNode pnode
	gs     tableScopes
	// shapes caches the text of Query statements by shape.
	shapes shapeCache
}

// Types recognised by embedding.
var (
	timestampsType = reflect.TypeFor[Timestamps]()
	softDeleteType = reflect.TypeFor[SoftDelete]()
	versionedType  = reflect.TypeFor[Versioned]()
	holderType     = reflect.TypeFor[holder]()
)

// NewTable builds T's mapping and statements for dialect d. It fails when T
// is not a struct, has no integer id column, maps two fields to one column,
// has no column besides id, or when d is not a supported dialect.
//
// The table name is what T's (or *T's) TableName() string method returns,
// called once on a zero T; without the method it is the snake_case of T's
// type name, not pluralised (User → "user", OrderLine → "order_line"). A
// name with dots is schema-qualified: each part is quoted on its own.
func NewTable[T any](d db.Dialect) (*Table[T], error) {
	typ := reflect.TypeFor[T]()
	switch d {
	case db.SQLite, db.Postgres, db.MySQL:
	default:
		return nil, fmt.Errorf("repo: table of %s: unknown dialect %q", typ, d)
	}
	if typ.Kind() != reflect.Struct {
		return nil, fmt.Errorf("repo: table of %s: the model must be a struct type, not %s", typ, typ.Kind())
	}
	t := &Table[T]{d: d, byName: map[string]int{}}
	if err := t.walk(typ, nil, false, map[reflect.Type]bool{}); err != nil {
		return nil, fmt.Errorf("repo: table of %s: %w", typ, err)
	}
	name, err := tableName[T](typ)
	if err != nil {
		return nil, fmt.Errorf("repo: table of %s: %w", typ, err)
	}
	t.name = name
	t.qname = quoteName(d, name)

	idx, ok := t.byName[idColumn]
	if !ok {
		return nil, fmt.Errorf("repo: table of %s: no id column (a field named ID or tagged db:\"id\")", typ)
	}
	idField := typ.FieldByIndex(t.cols[idx].index)
	switch idField.Type.Kind() {
	case reflect.Int, reflect.Int32, reflect.Int64:
	default:
		return nil, fmt.Errorf("repo: table of %s: id field %s is %s; it must be int, int32 or int64", typ, idField.Name, idField.Type)
	}
	t.id, t.idViaPtr = t.cols[idx].index, t.cols[idx].viaPtr
	if len(t.cols) < 2 {
		return nil, fmt.Errorf("repo: table of %s: no column besides id", typ)
	}

	for i, c := range t.cols {
		t.names = append(t.names, c.name)
		if c.name == idColumn {
			continue
		}
		t.insert = append(t.insert, i)
		switch {
		case t.ts.ok && c.name == "created_at",
			t.sd.ok && c.name == "deleted_at",
			t.vr.ok && c.name == "version":
			continue
		}
		t.update = append(t.update, i)
	}
	p := reflect.TypeFor[*T]()
	if t.sd.ok {
		t.sdNode = pnode{kind: pNull, col: int32(t.byName["deleted_at"])}
	}
	t.hooks = hookSet{
		beforeCreate: p.Implements(reflect.TypeFor[BeforeCreator]()),
		afterCreate:  p.Implements(reflect.TypeFor[AfterCreator]()),
		beforeUpdate: p.Implements(reflect.TypeFor[BeforeUpdater]()),
		afterUpdate:  p.Implements(reflect.TypeFor[AfterUpdater]()),
		beforeDelete: p.Implements(reflect.TypeFor[BeforeDeleter]()),
		afterDelete:  p.Implements(reflect.TypeFor[AfterDeleter]()),
	}
	t.build()
	return t, nil
}

// walk maps the fields of st, found at prefix from T.
func (t *Table[T]) walk(st reflect.Type, prefix []int, viaPtr bool, visiting map[reflect.Type]bool) error {
	if visiting[st] {
		return fmt.Errorf("%s embeds itself", st)
	}
	visiting[st] = true
	defer delete(visiting, st)
	for i := range st.NumField() {
		f := st.Field(i)
		tag := f.Tag.Get("db")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || f.Type.Implements(holderType) {
			continue // not a column: skipped, or a relation holder (Many, One, Count)
		}
		index := append(slices.Clip(prefix), i)
		if f.Anonymous {
			ft, ptr := f.Type, false
			if ft.Kind() == reflect.Pointer {
				ft, ptr = ft.Elem(), true
			}
			if ft.Kind() == reflect.Struct {
				if name != "" {
					return fmt.Errorf("embedded field %s has db tag %q: embedded structs are flattened; remove the tag, or skip the field with db:\"-\"", f.Name, tag)
				}
				if ptr && !f.IsExported() {
					return fmt.Errorf("embedded field %s is an unexported pointer, which cannot be filled; embed the struct by value", f.Name)
				}
				switch ft {
				case timestampsType:
					t.ts = embed{index: index, ok: true}
				case softDeleteType:
					t.sd = embed{index: index, ok: true}
				case versionedType:
					t.vr = embed{index: index, ok: true}
				}
				if err := t.walk(ft, index, viaPtr || ptr, visiting); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = db.SnakeCase(f.Name)
		}
		if _, dup := t.byName[name]; dup {
			return fmt.Errorf("two fields map to column %q", name)
		}
		t.byName[name] = len(t.cols)
		plainInt := false
		switch f.Type {
		case reflect.TypeFor[int](), reflect.TypeFor[int8](), reflect.TypeFor[int16](), reflect.TypeFor[int32](), reflect.TypeFor[int64]():
			plainInt = true
		}
		t.cols = append(t.cols, column{name: name, quoted: t.d.Quote(name), index: index, viaPtr: viaPtr, plainInt: plainInt})
	}
	return nil
}

// tableName returns the name from a TableName method, or typ's snake_case.
func tableName[T any](typ reflect.Type) (string, error) {
	type namer interface{ TableName() string }
	var zero T
	var name string
	if n, ok := any(zero).(namer); ok {
		name = n.TableName()
	} else if n, ok := any(&zero).(namer); ok {
		name = n.TableName()
	} else {
		base, _, _ := strings.Cut(typ.Name(), "[") // a generic type's name holds its type arguments
		if base == "" {
			return "", errors.New("an unnamed struct type needs a TableName method")
		}
		name = db.SnakeCase(base)
	}
	if name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return "", fmt.Errorf("invalid table name %q", name)
	}
	return name, nil
}

// quoteName quotes a table name, each dot-separated part on its own.
func quoteName(d db.Dialect, name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = d.Quote(p)
	}
	return strings.Join(parts, ".")
}

// On returns the repository of T over q: a *sqlx.DB, a *sqlx.Tx or a
// *db.Tx of t's dialect.
func (t *Table[T]) On(q db.Querier) Base[T] { return Base[T]{Q: q, Table: t} }

// Name returns the table's name, unquoted.
func (t *Table[T]) Name() string { return t.name }

// QuotedName returns the table's name quoted for the dialect, for custom
// queries.
func (t *Table[T]) QuotedName() string { return t.qname }

// Columns returns the column names in field order, id included.
func (t *Table[T]) Columns() []string { return slices.Clone(t.names) }

// SelectList returns every column, quoted and separated by commas, for the
// SELECT of a custom query that scans into T.
func (t *Table[T]) SelectList() string { return t.selectList }

// Dialect returns the dialect the statements were built for.
func (t *Table[T]) Dialect() db.Dialect { return t.d }

// HasColumn reports whether name is one of T's columns.
func (t *Table[T]) HasColumn(name string) bool {
	_, ok := t.byName[name]
	return ok
}

// SoftDeletes reports whether T embeds SoftDelete.
func (t *Table[T]) SoftDeletes() bool { return t.sd.ok }

// Versioned reports whether T embeds Versioned.
func (t *Table[T]) Versioned() bool { return t.vr.ok }

// Timestamped reports whether T embeds Timestamps.
func (t *Table[T]) Timestamped() bool { return t.ts.ok }

// sqlBuf writes a statement, numbering bind parameters in the dialect's
// style. Identifiers may hold '?' (they are quoted): placeholders are
// written as such rather than found again later by a Rebind.
type sqlBuf struct {
	strings.Builder
	d     db.Dialect
	n     int
	conds int
}

// bind writes the next placeholder.
func (s *sqlBuf) bind() {
	s.n++
	if s.d == db.Postgres {
		s.WriteByte('$')
		var b [20]byte
		s.Write(appendInt(b[:0], s.n))
	} else {
		s.WriteByte('?')
	}
}

// cond starts a condition of the WHERE clause.
func (s *sqlBuf) cond() {
	if s.conds == 0 {
		s.WriteString(" WHERE ")
	} else {
		s.WriteString(" AND ")
	}
	s.conds++
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// q quotes a column of the table by name (a name known to be valid).
func (t *Table[T]) q(name string) string { return t.cols[t.byName[name]].quoted }

// live writes the soft-delete condition unless trashed rows are wanted.
func (t *Table[T]) live(s *sqlBuf, trashed bool) {
	if t.sd.ok && !trashed {
		s.cond()
		s.WriteString(t.q("deleted_at"))
		s.WriteString(" IS NULL")
	}
}

// selectFrom writes SELECT <columns> FROM <table>.
func (t *Table[T]) selectFrom(s *sqlBuf) {
	s.WriteString("SELECT ")
	s.WriteString(t.selectList)
	s.WriteString(" FROM ")
	s.WriteString(t.qname)
}

// newBuf returns a buffer for a statement of t.
func (t *Table[T]) newBuf() *sqlBuf {
	s := &sqlBuf{d: t.d}
	s.Grow(64 + len(t.selectList) + len(t.qname))
	return s
}

// build writes every fixed statement.
func (t *Table[T]) build() {
	qs := make([]string, len(t.cols))
	for i, c := range t.cols {
		qs[i] = c.quoted
	}
	t.selectList = strings.Join(qs, ", ")
	qid := t.q(idColumn)

	// INSERT, one row and batches.
	s := t.newBuf()
	s.WriteString("INSERT INTO ")
	s.WriteString(t.qname)
	s.WriteString(" (")
	for i, c := range t.insert {
		if i > 0 {
			s.WriteString(", ")
		}
		s.WriteString(t.cols[c].quoted)
	}
	s.WriteString(") VALUES ")
	if t.d.SupportsReturning() {
		t.manySuffix = " RETURNING " + qid
	}
	t.batchRows = max(1, min(maxBatchRows, maxBatchParams/len(t.insert)))
	for r := range t.batchRows {
		if r > 0 {
			s.WriteString(", ")
		}
		s.WriteByte('(')
		for i := range t.insert {
			if i > 0 {
				s.WriteString(", ")
			}
			s.bind()
		}
		s.WriteByte(')')
		t.manyEnds = append(t.manyEnds, s.Len())
		if r == 0 {
			t.insertOne = s.String() + t.manySuffix
		}
	}
	t.manyRows = s.String()
	t.many = t.manyRows + t.manySuffix

	for tr := range 2 {
		trashed := tr == 1
		st := &t.st[tr]

		s = t.newBuf()
		t.selectFrom(s)
		s.cond()
		s.WriteString(qid)
		s.WriteString(" = ")
		s.bind()
		t.live(s, trashed)
		st.find = s.String()

		s = t.newBuf()
		s.WriteString("SELECT 1 FROM ")
		s.WriteString(t.qname)
		s.cond()
		s.WriteString(qid)
		s.WriteString(" = ")
		s.bind()
		t.live(s, trashed)
		st.exists = s.String()

		s = t.newBuf()
		s.WriteString("SELECT COUNT(*) FROM ")
		s.WriteString(t.qname)
		t.live(s, trashed)
		st.count = s.String()

		s = t.newBuf()
		t.selectFrom(s)
		t.live(s, trashed)
		s.WriteString(" ORDER BY ")
		s.WriteString(qid)
		s.WriteString(" ASC LIMIT ")
		s.bind()
		s.WriteString(" OFFSET ")
		s.bind()
		st.all = s.String()

		s = t.newBuf()
		s.WriteString("UPDATE ")
		s.WriteString(t.qname)
		s.WriteString(" SET ")
		for i, c := range t.update {
			if i > 0 {
				s.WriteString(", ")
			}
			s.WriteString(t.cols[c].quoted)
			s.WriteString(" = ")
			s.bind()
		}
		if t.vr.ok {
			v := t.q("version")
			s.WriteString(", ")
			s.WriteString(v)
			s.WriteString(" = ")
			s.WriteString(v)
			s.WriteString(" + 1")
		}
		s.cond()
		s.WriteString(qid)
		s.WriteString(" = ")
		s.bind()
		if t.vr.ok {
			s.cond()
			s.WriteString(t.q("version"))
			s.WriteString(" = ")
			s.bind()
		}
		t.live(s, trashed)
		st.update = s.String()

		st.findBy = make([]string, len(t.cols))
		st.firstBy = make([]string, len(t.cols))
		for i, c := range t.cols {
			s = t.newBuf()
			t.selectFrom(s)
			s.cond()
			s.WriteString(c.quoted)
			s.WriteString(" = ")
			s.bind()
			t.live(s, trashed)
			s.WriteString(" ORDER BY ")
			s.WriteString(qid)
			st.findBy[i] = s.String()
			st.firstBy[i] = st.findBy[i] + " LIMIT 1"
		}
	}

	s = t.newBuf()
	s.WriteString("DELETE FROM ")
	s.WriteString(t.qname)
	s.cond()
	s.WriteString(qid)
	s.WriteString(" = ")
	s.bind()
	t.hardDel = s.String()

	if t.sd.ok {
		del := t.q("deleted_at")
		s = t.newBuf()
		s.WriteString("UPDATE ")
		s.WriteString(t.qname)
		s.WriteString(" SET ")
		s.WriteString(del)
		s.WriteString(" = ")
		s.bind()
		s.cond()
		s.WriteString(qid)
		s.WriteString(" = ")
		s.bind()
		s.cond()
		s.WriteString(del)
		s.WriteString(" IS NULL")
		t.softDel = s.String()

		s = t.newBuf()
		s.WriteString("UPDATE ")
		s.WriteString(t.qname)
		s.WriteString(" SET ")
		s.WriteString(del)
		s.WriteString(" = NULL")
		s.cond()
		s.WriteString(qid)
		s.WriteString(" = ")
		s.bind()
		s.cond()
		s.WriteString(del)
		s.WriteString(" IS NOT NULL")
		t.restore = s.String()
	}
}

// fieldAt returns the field at index in v, an addressable T. A nil embedded
// pointer on the way is allocated when alloc is set; otherwise ok is false.
func fieldAt(v reflect.Value, index []int, alloc bool) (f reflect.Value, ok bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !alloc {
					return reflect.Value{}, false
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

// appendArgs appends the values of the columns cols of v.
func (t *Table[T]) appendArgs(args []any, v reflect.Value, cols []int) []any {
	for _, i := range cols {
		c := &t.cols[i]
		var f reflect.Value
		if !c.viaPtr {
			f = v.FieldByIndex(c.index)
		} else if fp, ok := fieldAt(v, c.index, false); ok {
			f = fp
		} else {
			args = append(args, nil)
			continue
		}
		if c.plainInt {
			args = append(args, f.Int())
		} else {
			args = append(args, f.Interface())
		}
	}
	return args
}

// idOf returns the id of v, an addressable T.
func (t *Table[T]) idOf(v reflect.Value) int64 {
	if !t.idViaPtr {
		return v.FieldByIndex(t.id).Int()
	}
	if f, ok := fieldAt(v, t.id, false); ok {
		return f.Int()
	}
	return 0
}

// idDest returns a pointer to the id field of v, an addressable T, to scan
// the new id into.
func (t *Table[T]) idDest(v reflect.Value) any {
	f, _ := fieldAt(v, t.id, true)
	return f.Addr().Interface()
}

// setID sets the id of v, an addressable T.
func (t *Table[T]) setID(v reflect.Value, id int64) {
	f, _ := fieldAt(v, t.id, true)
	f.SetInt(id)
}

// embedded returns a pointer to the embedded E at e in v, an addressable T,
// allocating it (or a nil embedded pointer on its way) when alloc is set;
// nil when it is behind a nil pointer and alloc is not set.
func embedded[E any](v reflect.Value, e embed, alloc bool) *E {
	f, ok := fieldAt(v, e.index, alloc)
	if !ok {
		return nil
	}
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			if !alloc {
				return nil
			}
			f.Set(reflect.New(f.Type().Elem()))
		}
		return f.Interface().(*E)
	}
	return f.Addr().Interface().(*E)
}
