package repo_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
)

// TestQueryErrorDetail: every query the repository rejects before sending
// SQL is a *QueryError whose Detail is the exact sentence for a client —
// the value given and what is accepted, with no "repo:" prefix, no table
// name and no Go syntax beyond quoting — while Error keeps the operation
// and the table for the log. Nothing is sent.
func TestQueryErrorDetail(t *testing.T) {
	const columns = "id, email, name, age, nick, created_at, updated_at"
	cols := []string{"id", "email", "name", "age", "nick", "created_at", "updated_at"}
	ops := []string{"=", "<>", "<", "<=", ">", ">=", "LIKE"}
	long := strings.Repeat("x", 63) + "é" + strings.Repeat("y", 10) // "é" straddles byte 64
	cases := []struct {
		name    string
		run     func(r repo.Base[User]) error
		op      string
		table   string
		column  string
		allowed []string
		detail  string
	}{
		{"ParseSort unknown column", func(r repo.Base[User]) error { _, err := r.Table.ParseSort("name,-password"); return err },
			"sort", "users", "password", cols, `unknown sort column "password"; sortable: ` + columns},
		{"ParseSort column of another case", func(r repo.Base[User]) error { _, err := r.Table.ParseSort("Name"); return err },
			"sort", "users", "Name", cols, `unknown sort column "Name"; sortable: ` + columns},
		{"ParseSort empty name", func(r repo.Base[User]) error { _, err := r.Table.ParseSort("name,"); return err },
			"sort", "users", "", cols, "empty sort column name; sortable: " + columns},
		{"ParseSort lone dash", func(r repo.Base[User]) error { _, err := r.Table.ParseSort("-"); return err },
			"sort", "users", "", cols, "empty sort column name; sortable: " + columns},
		{"ParseSort column twice", func(r repo.Base[User]) error { _, err := r.Table.ParseSort("name,-name"); return err },
			"sort", "users", "name", nil, `sort column "name" is given twice`},
		{"ParseSort control characters are escaped", func(r repo.Base[User]) error { _, err := r.Table.ParseSort("na\nme\x00"); return err },
			"sort", "users", "na\nme\x00", cols, `unknown sort column "na\nme\x00"; sortable: ` + columns},
		{"ParseSort a long name is cut", func(r repo.Base[User]) error { _, err := r.Table.ParseSort(long); return err },
			"sort", "users", long, cols, `unknown sort column "` + strings.Repeat("x", 63) + `"…; sortable: ` + columns},
		{"CheckSort", func(r repo.Base[User]) error {
			return r.Table.CheckSort([]repo.Order{{Column: "id"}, {Column: "secret"}})
		},
			"sort", "users", "secret", cols, `unknown sort column "secret"; sortable: ` + columns},
		{"All unknown sort column", func(r repo.Base[User]) error {
			_, err := r.All(bg, repo.Page{Sort: []repo.Order{{Column: "id; DROP TABLE t"}}})
			return err
		}, "sort", "users", "id; DROP TABLE t", cols, `unknown sort column "id; DROP TABLE t"; sortable: ` + columns},
		{"All unknown filter column", func(r repo.Base[User]) error {
			_, err := r.All(bg, repo.Page{Filters: []repo.Filter{{Column: "secret", Value: 1}}})
			return err
		}, "filter", "users", "secret", cols, `unknown filter column "secret"; filterable: ` + columns},
		{"Count unknown operator", func(r repo.Base[User]) error {
			_, err := r.Count(bg, repo.Filter{Column: "name", Op: "= 1 OR 1=1 --", Value: 1})
			return err
		}, "filter", "users", "name", ops, `unknown filter operator "= 1 OR 1=1 --" on column "name"; operators: =, <>, <, <=, >, >=, LIKE`},
		{"Keyset null value with <", func(r repo.Base[User]) error {
			_, _, err := r.Keyset(bg, repo.KeysetPage{Filters: []repo.Filter{{Column: "nick", Op: "<"}}})
			return err
		}, "filter", "users", "nick", nil, `filter on column "nick": a null value needs = or <>, not <`},
		{"FindBy unknown column", func(r repo.Base[User]) error { _, err := r.FindBy(bg, "Email", "a"); return err },
			"find by", "users", "Email", cols, `unknown column "Email"; columns: ` + columns},
		{"FirstBy unknown column", func(r repo.Base[User]) error { _, err := r.FirstBy(bg, "password", "a"); return err },
			"first by", "users", "password", cols, `unknown column "password"; columns: ` + columns},
		{"All negative limit", func(r repo.Base[User]) error { _, err := r.All(bg, repo.Page{Limit: -1}); return err },
			"page", "", "", nil, "the limit must not be negative, got -1"},
		{"Keyset negative limit", func(r repo.Base[User]) error {
			_, _, err := r.Keyset(bg, repo.KeysetPage{Limit: -7})
			return err
		}, "page", "", "", nil, "the limit must not be negative, got -7"},
		{"All negative offset", func(r repo.Base[User]) error { _, err := r.All(bg, repo.Page{Offset: -5}); return err },
			"page", "users", "", nil, "the offset must not be negative, got -5"},
	}
	rec := &recorder{driver: "sqlite"}
	r := mustTable[User](t, db.SQLite).On(rec)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(r)
			if !errors.Is(err, repo.ErrInvalidQuery) {
				t.Fatalf("%v is not ErrInvalidQuery", err)
			}
			var qe *repo.QueryError
			if !errors.As(err, &qe) {
				t.Fatalf("%v (%T) is not a *QueryError", err, err)
			}
			if qe.Detail != tc.detail {
				t.Errorf("Detail\n%s\nwant\n%s", qe.Detail, tc.detail)
			}
			if qe.Op != tc.op || qe.Table != tc.table || qe.Column != tc.column || !slices.Equal(qe.Allowed, tc.allowed) {
				t.Errorf("Op %q Table %q Column %q Allowed %q; want %q %q %q %q",
					qe.Op, qe.Table, qe.Column, qe.Allowed, tc.op, tc.table, tc.column, tc.allowed)
			}
			if strings.Contains(qe.Detail, "repo") || strings.Contains(qe.Detail, "users") {
				t.Errorf("Detail %q names the package or the table", qe.Detail)
			}
			wantLog := "repo: " + tc.op
			if tc.table != "" {
				wantLog += " " + tc.table
			}
			wantLog += ": " + tc.detail + ": repo: invalid query"
			if err.Error() != wantLog {
				t.Errorf("Error()\n%s\nwant\n%s", err.Error(), wantLog)
			}
		})
	}
	if calls := rec.Calls(); len(calls) != 0 {
		t.Fatalf("statements sent: %q", calls)
	}
}

// TestQueryErrorAllowedIsACopy: changing a QueryError's Allowed does not
// change the table's columns.
func TestQueryErrorAllowedIsACopy(t *testing.T) {
	users := mustTable[User](t, db.SQLite)
	_, err := users.ParseSort("nope")
	var qe *repo.QueryError
	if !errors.As(err, &qe) || len(qe.Allowed) == 0 {
		t.Fatalf("ParseSort(nope): %v", err)
	}
	qe.Allowed[0] = "changed"
	if cols := users.Columns(); cols[0] != "id" {
		t.Fatalf("Columns() = %q after changing an error's Allowed", cols)
	}
}

// TestPageSizeCapped: a page size over MaxLimit is lowered to MaxLimit, by
// All and by Keyset alike, on every database; a negative one is an error.
func TestPageSizeCapped(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, users := setup(t, d, u)
		r := users.On(x)
		ms := seed(t, r, repo.MaxLimit+30)
		all := make([]int64, len(ms))
		for i, m := range ms {
			all[i] = m.ID
		}
		for _, limit := range []int{repo.MaxLimit + 1, 1000, 1 << 40} {
			page, err := r.All(bg, repo.Page{Limit: limit})
			must(t, err)
			if !slices.Equal(ids(page), all[:repo.MaxLimit]) {
				t.Errorf("All limit %d: %d rows, want the first %d", limit, len(page), repo.MaxLimit)
			}
			page, next, err := r.Keyset(bg, repo.KeysetPage{Limit: limit})
			must(t, err)
			if !slices.Equal(ids(page), all[:repo.MaxLimit]) || next == "" {
				t.Fatalf("Keyset limit %d: %d rows, next %q; want the first %d and a next page", limit, len(page), next, repo.MaxLimit)
			}
			page, next, err = r.Keyset(bg, repo.KeysetPage{Limit: limit, After: next})
			must(t, err)
			if !slices.Equal(ids(page), all[repo.MaxLimit:]) || next != "" {
				t.Errorf("Keyset limit %d, second page: %d rows, next %q; want the last 30 and no next page", limit, len(page), next)
			}
		}
	})
}
