package repo

import (
	"database/sql/driver"
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
)

type (
	namedInt    int64
	valuerStr   string
	decimalLike int64
)

func (v valuerStr) Value() (driver.Value, error) { return "v:" + string(v), nil }

func (decimalLike) Decompose([]byte) (byte, bool, []byte, int32) { return 0, false, nil, 0 }

// TestInConvOf checks which column types In copies as they are and which
// it converts value by value as database/sql does (a Valuer, a decimal,
// a pointer, an interface, a type of another size).
func TestInConvOf(t *testing.T) {
	for name, tc := range map[string]struct{ got, want inConv }{
		"int64":       {inConvOf[int64](), inConvInt64},
		"int":         {inConvOf[int](), inConvInt64},
		"named int64": {inConvOf[namedInt](), inConvInt64},
		"float64":     {inConvOf[float64](), inConvFloat64},
		"bool":        {inConvOf[bool](), inConvBool},
		"string":      {inConvOf[string](), inConvString},
		"int32":       {inConvOf[int32](), inConvEach},
		"uint64":      {inConvOf[uint64](), inConvEach},
		"*int64":      {inConvOf[*int64](), inConvEach},
		"any":         {inConvOf[any](), inConvEach},
		"Valuer":      {inConvOf[valuerStr](), inConvEach},
		"decimal":     {inConvOf[decimalLike](), inConvEach},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %d, want %d", name, tc.got, tc.want)
		}
	}
	// A Valuer's own conversion is used.
	arg, _, err := inArg(db.Postgres, []any{"v:a"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := inConvert([]valuerStr{"a"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := n.arg(db.Postgres); !reflect.DeepEqual(got, arg) {
		t.Fatalf("a Valuer's list is %v, want %v", got, arg)
	}
}

// TestInJSONArray checks the JSON array that binds an In list on SQLite
// and MySQL: it decodes to the very values, whatever bytes the strings
// hold and however large the numbers.
func TestInJSONArray(t *testing.T) {
	strs := []string{"", "plain", `"`, `\`, `\"`, "\x00", "\x1f", "\t\n\r\b\f", "\x7f", "<>&", "\u2028\u2029", "é", "🦫", `["a"]`}
	for c := range 0x20 {
		strs = append(strs, string(rune(c))+"x")
	}
	floats := []float64{0, math.Copysign(0, -1), 0.1, 1e21, 1e-7, 5e-324, math.MaxFloat64, -123456789.125}
	ints := []int64{math.MinInt64, -1, 0, 1, math.MaxInt64}
	for _, d := range []db.Dialect{db.SQLite, db.MySQL} {
		var gotS []string
		decode(t, d, inCopy(strs), &gotS)
		if !reflect.DeepEqual(gotS, strs) {
			t.Errorf("%s: strings %q, want %q", d, gotS, strs)
		}
		var gotF []float64
		decode(t, d, inCopy(floats), &gotF)
		if !reflect.DeepEqual(gotF, floats) {
			t.Errorf("%s: floats %v, want %v", d, gotF, floats)
		}
		var gotI []int64
		decode(t, d, inCopy(ints), &gotI)
		if !reflect.DeepEqual(gotI, ints) {
			t.Errorf("%s: ints %v, want %v", d, gotI, ints)
		}
		var gotB []int
		decode(t, d, inCopy([]bool{true, false}), &gotB)
		if !reflect.DeepEqual(gotB, []int{1, 0}) {
			t.Errorf("%s: bools %v, want [1 0]", d, gotB)
		}
	}
}

// decode decodes the JSON array of In list l on d into out.
func decode(t *testing.T, d db.Dialect, l inList, out any) {
	t.Helper()
	arg, err := l.arg(d)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := arg.(string)
	if !ok {
		t.Fatalf("%s: the argument is a %T, want a string", d, arg)
	}
	if err := json.Unmarshal([]byte(s), out); err != nil {
		t.Fatalf("%s: %s: %v", d, s, err)
	}
}
