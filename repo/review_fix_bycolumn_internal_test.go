package repo

import (
	"slices"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
)

// TestByColumnNilReturnsScopeArgs renders FindBy's IS NULL statement on a
// table with a global scope binding a value, as FindBy does when the scope
// is registered after it checked for scopes: the statement's parameters
// and the arguments returned agree.
func TestByColumnNilReturnsScopeArgs(t *testing.T) {
	tb, err := NewTable[note](db.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	title := MustCol(tb, func(n *note) *string { return &n.Title })
	if err := tb.AddScope("tenant", title.Eq("acme")); err != nil {
		t.Fatal(err)
	}
	b := tb.On(nil)
	for _, tail := range []string{"", " LIMIT 1"} {
		text, args, err := b.byColumn(tb, "prebuilt", "title", nil, tail)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(text, "$"); n != len(args) || !slices.Equal(args, []any{"acme"}) {
			t.Errorf("%s\n%d parameters, args %v; want one, acme", text, n, args)
		}
		if !strings.Contains(text, `"title" IS NULL`) {
			t.Errorf("%s: no IS NULL", text)
		}
	}
}
