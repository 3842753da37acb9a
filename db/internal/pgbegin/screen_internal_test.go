package pgbegin

import (
	"fmt"
	"testing"
)

// screen keeps unsafeSQL's verdict per statement text, gives the same
// verdict from it, and keeps at most maxVerdicts of them.
func TestScreenRemembersVerdicts(t *testing.T) {
	c := &pgConn{}
	for _, tc := range []struct {
		query string
		quick bool
	}{
		{`SELECT "id", "name" FROM "users" WHERE "id" = $1`, true},
		{`INSERT INTO tmp VALUES (1)`, false},
		{`SELECT pg_notify('c', 'x')`, false},
		{`SELECT "id" FROM "transactions"`, true},
	} {
		for round := range 2 { // the second round answers from the verdicts kept
			c.quick = true
			c.screen(tc.query)
			if c.quick != tc.quick {
				t.Fatalf("round %d: %q left quick %v, want %v", round, tc.query, c.quick, tc.quick)
			}
		}
	}
	c.quick = true
	for i := range 3 * maxVerdicts {
		c.screen(fmt.Sprintf("SELECT %d", i))
	}
	if n := len(c.unsafe); n > maxVerdicts {
		t.Fatalf("%d verdicts kept, want at most %d", n, maxVerdicts)
	}
	c.quick = false
	c.screen("INSERT INTO never_screened VALUES (1)")
	if _, ok := c.unsafe["INSERT INTO never_screened VALUES (1)"]; ok {
		t.Fatal("a transaction that already waits screened its statement")
	}
}

// BenchmarkScreen is the cost of screening a statement already seen.
func BenchmarkScreen(b *testing.B) {
	c := &pgConn{}
	q := `SELECT "id", "name", "email", "is_active", "created_at", "updated_at" FROM "users" WHERE "id" = $1`
	for b.Loop() {
		c.quick = true
		c.screen(q)
	}
}
