package repo

import (
	"database/sql"
	"database/sql/driver"
	"reflect"
	"testing"
	"unsafe"

	"github.com/fasttrack-go/fasttrack/db"
)

// nullValuer is a Valuer by pointer only: its values are not Valuers.
type nullValuer string

func (*nullValuer) Value() (driver.Value, error) { return nil, nil }

// TestNotNullOf checks which column types skip the null test of Eq, Ne,
// the comparisons and Between: only those none of whose values isNull
// reports null.
func TestNotNullOf(t *testing.T) {
	for _, tc := range []struct {
		typ  reflect.Type
		zero any
		want bool
	}{
		{reflect.TypeFor[string](), "", true},
		{reflect.TypeFor[int](), 0, true},
		{reflect.TypeFor[[]byte](), []byte(nil), true},
		{reflect.TypeFor[nullValuer](), nullValuer(""), true},
		{reflect.TypeFor[*string](), (*string)(nil), false},
		{reflect.TypeFor[sql.NullString](), sql.NullString{}, false},
		{reflect.TypeFor[any](), nil, false},
	} {
		if got := notNullOf(tc.typ); got != tc.want {
			t.Errorf("notNullOf(%s) = %v, want %v", tc.typ, got, tc.want)
		}
		if notNullOf(tc.typ) && isNull(tc.zero) {
			t.Errorf("%s: notNullOf, but isNull(%#v)", tc.typ, tc.zero)
		}
	}
}

// TestEqNullValues checks that a comparison with a null value gives IS
// NULL (Eq), IS NOT NULL (Ne) or an error (Lt, Between), for a nil pointer
// and a Valuer whose value is nil, and a comparison otherwise.
func TestEqNullValues(t *testing.T) {
	type row struct {
		ID   int64          `db:"id"`
		Name string         `db:"name"`
		Note *string        `db:"note"`
		Code sql.NullString `db:"code"`
	}
	tb, err := NewTable[row](db.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	name := MustCol(tb, func(r *row) *string { return &r.Name })
	note := MustCol(tb, func(r *row) **string { return &r.Note })
	code := MustCol(tb, func(r *row) *sql.NullString { return &r.Code })
	kind := func(p Predicate[row]) predKind {
		t.Helper()
		if err := checkPred(&p.n); err != nil {
			return 0
		}
		return p.n.kind
	}
	for desc, tc := range map[string]struct {
		p    Predicate[row]
		want predKind
		neg  bool
	}{
		"string eq":          {name.Eq(""), pCmp, false},
		"nil pointer eq":     {note.Eq(nil), pNull, false},
		"nil pointer ne":     {note.Ne(nil), pNull, true},
		"pointer eq":         {note.Eq(new(string)), pCmp, false},
		"null valuer eq":     {code.Eq(sql.NullString{}), pNull, false},
		"null valuer ne":     {code.Ne(sql.NullString{}), pNull, true},
		"valid valuer eq":    {code.Eq(sql.NullString{Valid: true}), pCmp, false},
		"nil pointer lt":     {note.Lt(nil), 0, false},
		"null valuer ge":     {code.Ge(sql.NullString{}), 0, false},
		"null valuer range":  {code.Between(sql.NullString{}, sql.NullString{Valid: true}), 0, false},
		"string range":       {name.Between("a", "b"), pBetween, false},
		"nil pointer range":  {note.Between(new(string), nil), 0, false},
		"valid valuer range": {code.Between(sql.NullString{Valid: true}, sql.NullString{Valid: true}), pBetween, false},
	} {
		if got := kind(tc.p); got != tc.want || tc.p.n.neg() != tc.neg {
			t.Errorf("%s: kind %d neg %v, want %d neg %v", desc, got, tc.p.n.neg(), tc.want, tc.neg)
		}
	}
}

// TestPnodeSize pins the size of a predicate node, which Predicate, Query
// and And/Or hold by value: a field added to it costs every Where.
func TestPnodeSize(t *testing.T) {
	// A header of 8 bytes, an interface and a pointer.
	want := 8 + 3*unsafe.Sizeof(uintptr(0))
	if size := unsafe.Sizeof(pnode{}); size != want {
		t.Fatalf("pnode is %d bytes, want %d", size, want)
	}
}
