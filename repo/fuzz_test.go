package repo_test

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
)

// FuzzParseSort parses any sort parameter of the users table: it never
// panics; what it accepts names distinct columns of the table, once per
// comma-separated part, reads back the same when written out again, and
// passes All's checks; what it rejects is ErrInvalidQuery.
func FuzzParseSort(f *testing.F) {
	users := mustTable[User](f, db.SQLite)
	rec := &recorder{driver: "sqlite"}
	for _, s := range []string{
		"", " ", "name", "-name", "name,-created_at", " email , -age ", "id,-id",
		"name,name", "-", ",", "name,", "--name", "nope", "Name", "-created_at,updated_at,nick,id",
		"name\t,\n-age", "\u00a0name", "name;age",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		orders, err := users.ParseSort(s)
		if err != nil {
			if !errors.Is(err, repo.ErrInvalidQuery) {
				t.Fatalf("ParseSort(%q): error %v is not ErrInvalidQuery", s, err)
			}
			if orders != nil {
				t.Fatalf("ParseSort(%q) = %v with error %v", s, orders, err)
			}
			return
		}
		if strings.TrimSpace(s) == "" {
			if orders != nil {
				t.Fatalf("ParseSort(%q) = %v, want no order", s, orders)
			}
			return
		}
		if n := strings.Count(s, ",") + 1; len(orders) != n {
			t.Fatalf("ParseSort(%q) = %v: %d orders for %d parts", s, orders, len(orders), n)
		}
		seen := map[string]bool{}
		parts := make([]string, len(orders))
		for i, o := range orders {
			if !users.HasColumn(o.Column) {
				t.Fatalf("ParseSort(%q) = %v: %q is not a column of %v", s, orders, o.Column, users.Columns())
			}
			if seen[o.Column] {
				t.Fatalf("ParseSort(%q) = %v: column %q twice", s, orders, o.Column)
			}
			seen[o.Column] = true
			parts[i] = o.Column
			if o.Desc {
				parts[i] = "-" + o.Column
			}
		}
		again, err := users.ParseSort(strings.Join(parts, ","))
		if err != nil || len(again) != len(orders) {
			t.Fatalf("ParseSort(%q) = %v, but its text %q reads %v, %v", s, orders, strings.Join(parts, ","), again, err)
		}
		for i := range again {
			if again[i] != orders[i] {
				t.Fatalf("ParseSort(%q) = %v, but its text %q reads %v", s, orders, strings.Join(parts, ","), again)
			}
		}
		// All takes the order: the recorder's "no database" is the only error.
		if _, err := users.On(rec).All(bg, repo.Page{Sort: orders}); !errors.Is(err, errRecorder) {
			t.Fatalf("All with the sort of %q: %v, want the recorder's error", s, err)
		}
	})
}

// cursorID decodes a cursor as the package documents it (base64url of
// "ft1:" and the decimal id, in its canonical form).
func cursorID(c string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	digits, ok := strings.CutPrefix(string(b), "ft1:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || strconv.FormatInt(id, 10) != digits {
		return 0, false
	}
	return id, true
}

// FuzzKeysetCursor asks Keyset for the page after any cursor, on an
// in-memory SQLite table of 25 users and on a Querier that answers nothing:
// it never panics and succeeds or fails with ErrBadCursor (sending nothing
// then); the rows follow the cursor's id; a next cursor it returns is
// accepted again and leads past the page.
func FuzzKeysetCursor(f *testing.F) {
	const rows = 25
	x := openDB(f, "sqlite::memory:")
	createTable(f, x, db.SQLite, "users", userCols...)
	users := mustTable[User](f, db.SQLite)
	r := users.On(x)
	for i := range rows {
		if err := r.Create(bg, newUser(i+1)); err != nil {
			f.Fatal(err)
		}
	}
	for _, s := range []struct {
		after string
		limit uint8
		desc  bool
	}{
		{"", 0, false},
		{"ZnQxOjM", 5, false},                        // ft1:3
		{"ZnQxOjM", 5, true},                         // ft1:3, descending
		{"ZnQxOjA", 30, false},                       // ft1:0
		{"ZnQxOi0x", 1, true},                        // ft1:-1
		{"ZnQxOjkyMjMzNzIwMzY4NTQ3NzU4MDc", 3, true}, // ft1:9223372036854775807
		{"ZnQxOjkyMjMzNzIwMzY4NTQ3NzU4MDg", 3, true}, // ft1:9223372036854775808, out of range
		{"ZnQxOjAz", 2, false},                       // ft1:03, not canonical
		{"ZnQxOisz", 2, false},                       // ft1:+3
		{"ZnQyOjM", 2, false},                        // ft2:3
		{"ZnQxOg", 2, false},                         // ft1:
		{"ZnQxOjM=", 2, false},                       // padded
		{"ZnQx\nOjM", 2, false},                      // a newline, which base64 skips
		{"3", 200, false},
		{"!!", 0, false},
	} {
		f.Add(s.after, s.limit, s.desc)
	}
	f.Fuzz(func(t *testing.T, after string, limit uint8, desc bool) {
		p := repo.KeysetPage{After: after, Limit: int(limit), Desc: desc}
		want := int(limit)
		switch {
		case want == 0:
			want = repo.DefaultLimit
		case want > repo.MaxLimit:
			want = repo.MaxLimit
		}

		// A Querier that answers nothing: a bad cursor sends nothing.
		rec := &recorder{driver: "sqlite"}
		_, _, err := users.On(rec).Keyset(bg, p)
		switch {
		case errors.Is(err, repo.ErrBadCursor):
			if calls := rec.Calls(); len(calls) != 0 {
				t.Fatalf("Keyset after %q: bad cursor, but sent %q", after, calls)
			}
		case errors.Is(err, errRecorder):
		default:
			t.Fatalf("Keyset after %q on the recorder: %v, want ErrBadCursor or the recorder's error", after, err)
		}

		page, next, err := r.Keyset(bg, p)
		id, valid := cursorID(after)
		if after == "" {
			valid = true
		}
		if err != nil {
			if !errors.Is(err, repo.ErrBadCursor) {
				t.Fatalf("Keyset after %q: %v, want nil or ErrBadCursor", after, err)
			}
			if valid {
				t.Fatalf("Keyset after %q (id %d): %v", after, id, err)
			}
			return
		}
		if !valid {
			t.Fatalf("Keyset accepted %q, which is not a cursor", after)
		}
		if len(page) > want {
			t.Fatalf("Keyset after %q, limit %d: %d rows", after, limit, len(page))
		}
		for i, u := range page {
			if after != "" && (!desc && u.ID <= id || desc && u.ID >= id) {
				t.Fatalf("Keyset after %q (id %d, desc %v): row %d", after, id, desc, u.ID)
			}
			if i > 0 && (!desc && u.ID <= page[i-1].ID || desc && u.ID >= page[i-1].ID) {
				t.Fatalf("Keyset after %q (desc %v): rows out of order: %d then %d", after, desc, page[i-1].ID, u.ID)
			}
		}
		if next == "" {
			return
		}
		if len(page) != want {
			t.Fatalf("Keyset after %q, limit %d: next cursor %q after %d rows", after, limit, next, len(page))
		}
		last := page[len(page)-1].ID
		if got, ok := cursorID(next); !ok || got != last {
			t.Fatalf("Keyset after %q: next cursor %q reads %d, %v; want the last row's id %d", after, next, got, ok, last)
		}
		more, _, err := r.Keyset(bg, repo.KeysetPage{After: next, Limit: int(limit), Desc: desc})
		if err != nil {
			t.Fatalf("Keyset rejects its own next cursor %q: %v", next, err)
		}
		if len(more) == 0 {
			t.Fatalf("Keyset after %q gave next cursor %q, but the page after it is empty", after, next)
		}
		for _, u := range more {
			if !desc && u.ID <= last || desc && u.ID >= last {
				t.Fatalf("the page after next cursor %q (id %d, desc %v) has row %d", next, last, desc, u.ID)
			}
		}
	})
}
