package repo_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/fasttrack-go/fasttrack/repo"
)

func TestCreateMany(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, users := setup(t, d, u)
		r := users.On(x)

		rec := &recorder{driver: x.DriverName()}
		must(t, users.On(rec).CreateMany(bg, nil))
		must(t, users.On(rec).CreateMany(bg, []*User{}))
		if len(rec.Calls()) != 0 {
			t.Fatalf("CreateMany of nothing sent %q", rec.Calls())
		}
		if err := r.CreateMany(bg, []*User{newUser(0), nil}); err == nil {
			t.Fatal("CreateMany with a nil model: no error")
		}

		one := []*User{newUser(0)}
		must(t, r.CreateMany(bg, one))
		if one[0].ID <= 0 {
			t.Fatalf("id %d", one[0].ID)
		}

		const n = 1200 // three batches: 500, 500, 200
		ms := make([]*User, n)
		for i := range ms {
			ms[i] = newUser(i + 1)
			if i%3 == 0 {
				ms[i].Nick = ptr(fmt.Sprint("nick", i))
			}
		}
		must(t, r.CreateMany(bg, ms))
		seen := map[int64]bool{one[0].ID: true}
		for i, m := range ms {
			if m.ID <= 0 || seen[m.ID] {
				t.Fatalf("row %d: id %d not set or not distinct", i, m.ID)
			}
			seen[m.ID] = true
			got, err := r.FindOrFail(bg, m.ID)
			must(t, err)
			if !sameUser(*got, *m) {
				t.Fatalf("row %d: stored %+v, want %+v", i, got, m)
			}
		}
		if got := countRows(t, x, d, "users"); got != n+1 {
			t.Fatalf("%d rows, want %d", got, n+1)
		}

		// On the pool, batches run in one transaction: a duplicate in the
		// last batch leaves nothing of the first ones.
		more := make([]*User, 1100)
		for i := range more {
			more[i] = newUser(5000 + i)
		}
		more[1050].Email = ms[0].Email
		if err := r.CreateMany(bg, more); !errors.Is(err, repo.ErrConflict) {
			t.Fatalf("CreateMany with a duplicate: %v", err)
		}
		if more[0].ID != 0 {
			t.Fatalf("failed CreateMany set id %d", more[0].ID)
		}
		if got := countRows(t, x, d, "users"); got != n+1 {
			t.Fatalf("failed CreateMany left %d rows, want %d", got, n+1)
		}

		// In a transaction.
		inTxRows := []*User{newUser(9001), newUser(9002)}
		must(t, inTx(bg, x, func(tx *db.Tx) error { return users.On(tx).CreateMany(bg, inTxRows) }))
		if inTxRows[1].ID <= inTxRows[0].ID {
			t.Fatalf("ids %d, %d", inTxRows[0].ID, inTxRows[1].ID)
		}
		got, err := r.FindOrFail(bg, inTxRows[1].ID)
		must(t, err)
		if got.Email != inTxRows[1].Email {
			t.Fatalf("got %+v", got)
		}
	})
}

// seed inserts n users numbered 1…n (age i, nick set on even ones).
func seed(t *testing.T, r repo.Base[User], n int) []*User {
	t.Helper()
	ms := make([]*User, n)
	for i := range ms {
		ms[i] = newUser(i + 1)
		if (i+1)%2 == 0 {
			ms[i].Nick = ptr("even")
		}
	}
	must(t, r.CreateMany(bg, ms))
	return ms
}

func ids(us []User) []int64 {
	out := make([]int64, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func TestAll(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		_, users := setup(t, d, u)
		r := users.On(openDB(t, u))
		ms := seed(t, r, 130)
		all := make([]int64, len(ms))
		for i, m := range ms {
			all[i] = m.ID
		}

		page, err := r.All(bg, repo.Page{})
		must(t, err)
		if !slices.Equal(ids(page), all[:repo.DefaultLimit]) {
			t.Fatalf("default page: %v", ids(page))
		}
		page, err = r.All(bg, repo.Page{Limit: 1000})
		must(t, err)
		if !slices.Equal(ids(page), all[:repo.MaxLimit]) {
			t.Fatalf("limit 1000 gave %d rows, want %d", len(page), repo.MaxLimit)
		}
		page, err = r.All(bg, repo.Page{Limit: 5, Offset: 10})
		must(t, err)
		if !slices.Equal(ids(page), all[10:15]) {
			t.Fatalf("offset 10: %v", ids(page))
		}
		page, err = r.All(bg, repo.Page{Limit: 50, Offset: 120})
		must(t, err)
		if !slices.Equal(ids(page), all[120:]) {
			t.Fatalf("last page: %v", ids(page))
		}

		page, err = r.All(bg, repo.Page{Limit: 3, Sort: []repo.Order{{Column: "age", Desc: true}}})
		must(t, err)
		if !slices.Equal(ids(page), []int64{all[129], all[128], all[127]}) {
			t.Fatalf("age desc: %v", ids(page))
		}
		page, err = r.All(bg, repo.Page{Limit: 3, Offset: 1, Sort: []repo.Order{{Column: "name"}}})
		must(t, err)
		if !slices.Equal(ids(page), all[1:4]) {
			t.Fatalf("name asc: %v", ids(page))
		}
		// Ties are broken by id.
		page, err = r.All(bg, repo.Page{Limit: 4, Sort: []repo.Order{{Column: "nick", Desc: true}}, Filters: []repo.Filter{{Column: "nick", Op: "<>", Value: nil}}})
		must(t, err)
		if !slices.Equal(ids(page), []int64{all[1], all[3], all[5], all[7]}) {
			t.Fatalf("ties: %v", ids(page))
		}
		sort, err := users.ParseSort("-age,name")
		must(t, err)
		page, err = r.All(bg, repo.Page{Limit: 2, Sort: sort})
		must(t, err)
		if !slices.Equal(ids(page), []int64{all[129], all[128]}) {
			t.Fatalf("ParseSort: %v", ids(page))
		}

		var odd []int64 // rows with a NULL nick
		for i := 0; i < len(all); i += 2 {
			odd = append(odd, all[i])
		}
		filters := []struct {
			f    repo.Filter
			want []int64
		}{
			{repo.Filter{Column: "age", Value: 7}, all[6:7]},
			{repo.Filter{Column: "age", Op: "=", Value: 7}, all[6:7]},
			{repo.Filter{Column: "age", Op: "<>", Value: 7}, slices.Concat(all[:6], all[7:101])},
			{repo.Filter{Column: "age", Op: "<", Value: 4}, all[0:3]},
			{repo.Filter{Column: "age", Op: "<=", Value: 4}, all[0:4]},
			{repo.Filter{Column: "age", Op: ">", Value: 127}, all[127:]},
			{repo.Filter{Column: "age", Op: ">=", Value: 127}, all[126:]},
			{repo.Filter{Column: "email", Op: "LIKE", Value: "u001_@%"}, all[9:19]},
			{repo.Filter{Column: "nick", Value: nil}, odd},
			{repo.Filter{Column: "nick", Value: "even"}, slices.DeleteFunc(slices.Clone(all), func(id int64) bool { return slices.Contains(odd, id) })},
		}
		for _, c := range filters {
			page, err := r.All(bg, repo.Page{Limit: 100, Filters: []repo.Filter{c.f}})
			must(t, err)
			if got := ids(page); !slices.Equal(got, c.want) {
				t.Errorf("filter %+v: %v, want %v", c.f, got, c.want)
			}
			n, err := r.Count(bg, c.f)
			must(t, err)
			if c.f.Op != "<>" && n != int64(len(c.want)) {
				t.Errorf("Count(%+v) = %d, want %d", c.f, n, len(c.want))
			}
		}
		page, err = r.All(bg, repo.Page{Filters: []repo.Filter{{Column: "age", Op: "<>", Value: 1}, {Column: "age", Op: "<", Value: 4}}})
		must(t, err)
		if !slices.Equal(ids(page), all[1:3]) {
			t.Fatalf("two filters: %v", ids(page))
		}
	})
}

func TestParseSort(t *testing.T) {
	users := mustTable[User](t, db.SQLite)
	cases := []struct {
		in   string
		want []repo.Order
		ok   bool
	}{
		{"", nil, true},
		{"name", []repo.Order{{Column: "name"}}, true},
		{"name,-created_at", []repo.Order{{Column: "name"}, {Column: "created_at", Desc: true}}, true},
		{" -age , id ", []repo.Order{{Column: "age", Desc: true}, {Column: "id"}}, true},
		{"Name", nil, false},
		{"password", nil, false},
		{"name,", nil, false},
		{"-", nil, false},
		{"name,-name", nil, false},
		{"name; DROP TABLE users", nil, false},
	}
	for _, c := range cases {
		got, err := users.ParseSort(c.in)
		if c.ok != (err == nil) || !slices.Equal(got, c.want) {
			t.Errorf("ParseSort(%q) = %v, %v", c.in, got, err)
		}
		if err != nil && !errors.Is(err, repo.ErrInvalidQuery) {
			t.Errorf("ParseSort(%q): %v is not ErrInvalidQuery", c.in, err)
		}
	}
}

func TestKeyset(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d db.Dialect, u string) {
		x, users := setup(t, d, u)
		r := users.On(x)
		ms := seed(t, r, 53)
		var all []int64
		for _, m := range ms {
			all = append(all, m.ID)
		}
		walk := func(p repo.KeysetPage) (got []int64, pages int) {
			t.Helper()
			for {
				page, next, err := r.Keyset(bg, p)
				must(t, err)
				got = append(got, ids(page)...)
				pages++
				if next == "" {
					return got, pages
				}
				if pages > 100 {
					t.Fatal("endless keyset walk")
				}
				p.After = next
			}
		}
		got, pages := walk(repo.KeysetPage{Limit: 10})
		if !slices.Equal(got, all) || pages != 6 {
			t.Fatalf("ascending walk: %d pages, %v", pages, got)
		}
		got, pages = walk(repo.KeysetPage{Limit: 10, Desc: true})
		desc := slices.Clone(all)
		slices.Reverse(desc)
		if !slices.Equal(got, desc) || pages != 6 {
			t.Fatalf("descending walk: %d pages, %v", pages, got)
		}
		got, _ = walk(repo.KeysetPage{}) // default limit
		if !slices.Equal(got, all) {
			t.Fatalf("default-limit walk: %v", got)
		}
		// A walk whose last page is full ends without an empty page.
		got, pages = walk(repo.KeysetPage{Limit: 5, Filters: []repo.Filter{{Column: "age", Op: "<=", Value: 20}}})
		if !slices.Equal(got, all[:20]) || pages != 4 {
			t.Fatalf("filtered walk: %d pages, %v", pages, got)
		}

		bad := []string{
			"garbage!",
			"bm9wZQ", // "nope"
			base64.RawURLEncoding.EncodeToString([]byte("ft1:abc")),
			base64.RawURLEncoding.EncodeToString([]byte("ft1:+5")),
			base64.RawURLEncoding.EncodeToString([]byte("ft1:05")),
			base64.RawURLEncoding.EncodeToString([]byte("ft2:5")),
			base64.RawURLEncoding.EncodeToString([]byte("5")),
			base64.StdEncoding.EncodeToString([]byte("ft1:5")), // padded
		}
		for _, c := range bad {
			if _, _, err := r.Keyset(bg, repo.KeysetPage{After: c}); !errors.Is(err, repo.ErrBadCursor) {
				t.Errorf("cursor %q: %v", c, err)
			}
		}
	})
}
