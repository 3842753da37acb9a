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

// relKind is the kind of a Relation.
type relKind uint8

const (
	relBelongsTo relKind = iota + 1
	relHasOne
	relHasMany
	relManyToMany
)

var relKindName = [...]string{relBelongsTo: "belongs-to", relHasOne: "has-one", relHasMany: "has-many", relManyToMany: "many-to-many"}

// Pivot names the table of a many-to-many relation and its two key
// columns: Key holds the id of the relation's own rows, RelatedKey the id
// of the related rows. Columns are its other columns, which Attach and Sync
// may write. The pivot needs a unique key on (Key, RelatedKey), which makes
// Attach idempotent. Names are quoted for the dialect, never spliced.
type Pivot struct {
	Table      string
	Key        string
	RelatedKey string
	Columns    []string
}

// pivotSpec is a Pivot, quoted for a dialect.
type pivotSpec struct {
	name, qname string
	key, rkey   string // quoted
	cols        []string
	qcols       []string
}

// Relation is a relation of T's rows to R's rows, declared once next to
// the tables by BelongsTo, HasOne, HasMany or ManyToMany, and loaded by
// Query.With and LoadMissing into a holder field of T (One or Many). It is
// an immutable value, safe for concurrent use: Where, OrderBy, Limit,
// With, WithTrashed and Without return a relation whose loaded side is
// constrained, and leave the declared one as it was.
//
// The related rows are those of a query of R's table, so its soft delete
// and global scopes apply to them (With, WithCount, Has, WhereHas,
// DoesntHave) unless the relation lifts them with WithTrashed or Without.
//
// A relation joins on ids: a foreign key column (an integer, a pointer to
// one, or a nullable integer such as sql.NullInt64) holds the id of the
// other table's row. A mistake in the declaration (a Column that Col could
// not resolve, a nil field accessor, tables of different dialects) is kept
// in the relation and returned by Err and by every query that uses it.
type Relation[T, R any] struct {
	kind  relKind
	from  *Table[T]
	to    *Table[R]
	fk    int // the foreign key's column: of T for BelongsTo, of R for HasOne and HasMany; -1 for ManyToMany
	pivot *pivotSpec
	one   func(*T) *One[R]
	many  func(*T) *Many[R]
	count func(*T) *Count
	q     Query[R] // the loaded side's conditions, order and nested loads
	limit int      // per row of T; 0: none
	err   error
}

// BelongsTo declares that each row of from holds, in fk, the id of a row
// of to (a post belongs to its author): With fills field with that row, or
// nil when fk is null or no row of to (that the relation's query keeps)
// has that id.
//
//	postAuthor := repo.BelongsTo(postTable, userTable, postUserID, func(p *Post) *repo.One[User] { return &p.Author })
func BelongsTo[T, R, K any](from *Table[T], to *Table[R], fk Column[T, K], field func(*T) *One[R]) Relation[T, R] {
	r := newRelation(relBelongsTo, from, to)
	r.one = field
	r.fk = fk.i
	r.check(fk.Err(), field != nil, reflect.TypeFor[K]())
	return r
}

// HasOne declares that a row of to holds, in fk, the id of a row of from
// (a user has one profile): With fills field with the first such row in
// the relation's order (by id unless OrderBy says otherwise), or nil.
func HasOne[T, R, K any](from *Table[T], to *Table[R], fk Column[R, K], field func(*T) *One[R]) Relation[T, R] {
	r := newRelation(relHasOne, from, to)
	r.one = field
	r.fk = fk.i
	r.check(fk.Err(), field != nil, reflect.TypeFor[K]())
	return r
}

// HasMany declares that rows of to hold, in fk, the id of a row of from (a
// user has many posts): With fills field with them, in the relation's
// order (by id unless OrderBy says otherwise), an empty slice when there
// is none.
//
//	userPosts := repo.HasMany(userTable, postTable, postUserID, func(u *User) *repo.Many[Post] { return &u.Posts })
func HasMany[T, R, K any](from *Table[T], to *Table[R], fk Column[R, K], field func(*T) *Many[R]) Relation[T, R] {
	r := newRelation(relHasMany, from, to)
	r.many = field
	r.fk = fk.i
	r.check(fk.Err(), field != nil, reflect.TypeFor[K]())
	return r
}

// ManyToMany declares that rows of from and rows of to are paired by the
// rows of the pivot table (users and teams, paired by team_users): With
// fills field with the rows of to paired with each row of from, in the
// relation's order. Each level of With costs one statement, a join of the
// pivot and the related rows.
func ManyToMany[T, R any](from *Table[T], to *Table[R], pivot Pivot, field func(*T) *Many[R]) Relation[T, R] {
	r := newRelation(relManyToMany, from, to)
	r.many = field
	r.fk = -1
	if r.err == nil {
		r.pivot, r.err = newPivot(from.d, pivot)
	}
	r.check(nil, field != nil, nil)
	return r
}

// newRelation starts a relation of kind k.
func newRelation[T, R any](k relKind, from *Table[T], to *Table[R]) Relation[T, R] {
	r := Relation[T, R]{kind: k, from: from, to: to, fk: -1}
	switch {
	case from == nil || to == nil:
		r.err = fmt.Errorf("repo: %s relation of %s to %s: nil table", relKindName[k], reflect.TypeFor[T](), reflect.TypeFor[R]())
	case from.d != to.d:
		r.err = fmt.Errorf("repo: %s relation %s to %s: tables built for %s and %s", relKindName[k], from.name, to.name, from.d, to.d)
	default:
		r.q = to.Query()
	}
	return r
}

// check records the declaration's first error.
func (r *Relation[T, R]) check(colErr error, hasField bool, keyType reflect.Type) {
	if r.err != nil {
		return
	}
	switch {
	case colErr != nil:
		r.err = fmt.Errorf("repo: %s: foreign key: %w", r.name(), colErr)
	case !hasField:
		r.err = fmt.Errorf("repo: %s: nil field accessor", r.name())
	case keyType != nil && !isKeyType(keyType):
		r.err = fmt.Errorf("repo: %s: foreign key of type %s: it must hold an integer id (an integer, a pointer to one, or a nullable integer)", r.name(), keyType)
	}
	if r.err == nil {
		r.err = r.checkField()
	}
}

// checkField checks that the holder accessor returns a field of its
// argument.
func (r *Relation[T, R]) checkField() error {
	switch {
	case r.one != nil:
		return checkFieldOf(r.name(), "field accessor", r.one)
	case r.many != nil:
		return checkFieldOf(r.name(), "field accessor", r.many)
	}
	return nil
}

// checkFieldOf checks that field, an accessor (what) of relation name,
// returns the address of a field of its argument, without panicking.
func checkFieldOf[T, F any](name, what string, field func(*T) *F) (err error) {
	probe := new(T)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("repo: %s: the %s panicked: %v", name, what, p)
		}
	}()
	at := uintptr(unsafe.Pointer(field(probe)))
	base := uintptr(unsafe.Pointer(probe))
	if at < base || at+unsafe.Sizeof(*new(F)) > base+unsafe.Sizeof(*probe) {
		return fmt.Errorf("repo: %s: the %s must return the address of a field of its argument", name, what)
	}
	return nil
}

// isKeyType reports whether a foreign key of type t can hold an id.
func isKeyType(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	case reflect.Pointer:
		return isKeyType(t.Elem())
	}
	return t.Implements(reflect.TypeFor[driver.Valuer]())
}

// keyOf returns the id held by v, a foreign key's field; ok is false when
// it is null.
func keyOf(v reflect.Value) (id int64, ok bool) {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(v.Uint()), true
	case reflect.Pointer:
		if v.IsNil() {
			return 0, false
		}
		return keyOf(v.Elem())
	}
	if dv, isV := v.Interface().(driver.Valuer); isV {
		x, err := dv.Value()
		if err != nil || x == nil {
			return 0, false
		}
		return keyOf(reflect.ValueOf(x))
	}
	return 0, false
}

// newPivot checks and quotes p.
func newPivot(d db.Dialect, p Pivot) (*pivotSpec, error) {
	switch {
	case p.Table == "" || p.Key == "" || p.RelatedKey == "":
		return nil, errors.New("repo: many-to-many relation: the pivot needs a Table, a Key and a RelatedKey")
	case p.Key == p.RelatedKey:
		return nil, fmt.Errorf("repo: many-to-many relation: pivot %s: Key and RelatedKey are both %q", p.Table, p.Key)
	}
	if strings.HasPrefix(p.Table, ".") || strings.HasSuffix(p.Table, ".") || strings.Contains(p.Table, "..") {
		return nil, fmt.Errorf("repo: many-to-many relation: invalid pivot table name %q", p.Table)
	}
	s := &pivotSpec{name: p.Table, qname: quoteName(d, p.Table), key: d.Quote(p.Key), rkey: d.Quote(p.RelatedKey)}
	seen := map[string]bool{p.Key: true, p.RelatedKey: true}
	for _, c := range p.Columns {
		if c == "" || seen[c] {
			return nil, fmt.Errorf("repo: many-to-many relation: pivot %s: column %q is empty or repeated", p.Table, c)
		}
		seen[c] = true
		s.cols = append(s.cols, c)
		s.qcols = append(s.qcols, d.Quote(c))
	}
	return s, nil
}

// name names the relation in errors.
func (r Relation[T, R]) name() string {
	if r.from == nil || r.to == nil {
		return relKindName[r.kind] + " relation"
	}
	return relKindName[r.kind] + " relation " + r.from.name + " to " + r.to.name
}

// Err returns the error met declaring or constraining the relation, or
// nil: a mistake in the declaration, a Limit below 1, a zero Predicate or
// Ordering given to Where or OrderBy, or the error of a relation given to
// With or WithCount.
func (r Relation[T, R]) Err() error {
	if r.kind == 0 {
		return errors.New("repo: a zero Relation (not made by BelongsTo, HasOne, HasMany or ManyToMany) is used")
	}
	if r.err != nil {
		return r.err
	}
	if err := r.q.check(); err != nil {
		return fmt.Errorf("repo: %s: %w", r.name(), err)
	}
	return nil
}

func (r Relation[T, R]) loaderErr() error { return r.Err() }

// Where returns the relation whose loaded (and counted, and tested) related
// rows are only those for which every p holds.
func (r Relation[T, R]) Where(ps ...Predicate[R]) Relation[T, R] {
	r.q = r.q.Where(ps...)
	return r
}

// OrderBy returns the relation whose related rows are loaded in this order
// (then by id), for each row of T.
func (r Relation[T, R]) OrderBy(os ...Ordering[R]) Relation[T, R] {
	r.q = r.q.OrderBy(os...)
	return r
}

// Limit returns the relation that loads at most n related rows for each row
// of T, the first in the relation's order: one statement still, numbering
// each row's related rows with ROW_NUMBER() OVER (PARTITION BY ...).
// n < 1 is an error.
func (r Relation[T, R]) Limit(n int) Relation[T, R] {
	if n < 1 && r.err == nil {
		r.err = fmt.Errorf("repo: %s: the per-row limit must be at least 1, got %d", r.name(), n)
	}
	r.limit = n
	return r
}

// With returns the relation that also loads rels into the related rows: the
// next level, one statement per relation.
func (r Relation[T, R]) With(rels ...Loader[R]) Relation[T, R] {
	r.q = r.q.With(rels...)
	return r
}

// WithCount returns the relation that also fills the counts of rels into
// the related rows.
func (r Relation[T, R]) WithCount(rels ...CountLoader[R]) Relation[T, R] {
	r.q = r.q.WithCount(rels...)
	return r
}

// WithTrashed returns the relation whose related rows include soft-deleted
// ones.
func (r Relation[T, R]) WithTrashed() Relation[T, R] {
	r.q = r.q.WithTrashed()
	return r
}

// Without returns the relation whose related rows are not filtered by the
// named global scopes of R's table (Query.Without).
func (r Relation[T, R]) Without(names ...string) Relation[T, R] {
	r.q = r.q.Without(names...)
	return r
}

// CountInto returns the relation whose count WithCount fills into field, a
// Count field of T. A nil field, or one that does not return the address
// of a field of its argument, is an error of the relation.
func (r Relation[T, R]) CountInto(field func(*T) *Count) Relation[T, R] {
	if r.err == nil {
		if field == nil {
			r.err = fmt.Errorf("repo: %s: nil count field accessor", r.name())
		} else {
			r.err = checkFieldOf(r.name(), "count field accessor", field)
		}
	}
	r.count = field
	return r
}
