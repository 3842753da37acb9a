package users_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/repo"
)

// mustColumns resolves the users columns of table.
func mustColumns(t testing.TB, table *repo.Table[users.User]) *users.Columns {
	t.Helper()
	cols, err := users.NewColumns(table)
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

// setCreated sets the created_at of the user id, as the repository writes
// times (UTC).
func setCreated(t *testing.T, e *env, id int64, at time.Time) {
	t.Helper()
	if _, err := e.app.DB.Exec(e.app.DB.Rebind("UPDATE users SET created_at = ? WHERE id = ?"), at.UTC(), id); err != nil {
		t.Fatal(err)
	}
}

// joinIDs writes ids as the ids parameter takes them.
func joinIDs(ids ...int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

// filterFixture is the users of TestHTTPListFilters: emails of a domain, of
// its subdomain, of a domain that ends like it and of another, created at
// known instants one microsecond apart at the start.
var filterFixture = []struct {
	name, email string
	active      bool
	created     string
}{
	{"Ada", "ada@example.com", true, "2024-01-01T10:00:00Z"},             // 0
	{"Bob", "BOB@Example.COM", false, "2024-01-01T10:00:00.000001Z"},     // 1: stored lower-cased
	{"Carol", "carol@mail.example.com", true, "2024-02-01T00:00:00Z"},    // 2
	{"Dave", "dave@notexample.com", false, "2024-03-01T00:00:00Z"},       // 3
	{"Eve", "eve@example.org", true, "2024-04-01T00:00:00.123456+02:00"}, // 4
	{"Bobby", "bobby@example.com", true, "2024-05-01T00:00:00.5-07:00"},  // 5
}

// TestHTTPListFilters: GET /users filters by ids (a list, duplicates
// allowed), created_after and created_before (strict bounds, to the
// microsecond whatever fraction the client sends, in any time zone) and
// email_domain (the exact domain, ignoring case); the filters AND with one
// another and with q, active, sort, limit and offset, and total counts every
// match. Bad values are 400 naming the parameter, before any SQL.
func TestHTTPListFilters(t *testing.T) {
	type listCase struct {
		name  string
		query string // raw, as a client sends it
		want  []int  // fixture indexes, in order
		total int64  // -1: len(want)
	}
	eachDB(t, func(t *testing.T, e *env) {
		clearUsers(t, e)
		var ids []int64
		for _, f := range filterFixture {
			u := addUser(t, e, f.name, f.email, f.active)
			at, err := time.Parse(time.RFC3339Nano, f.created)
			if err != nil {
				t.Fatal(err)
			}
			setCreated(t, e, u.ID, at)
			ids = append(ids, u.ID)
		}
		esc := url.QueryEscape
		missing := ids[len(ids)-1] + 1000
		many := make([]int64, users.MaxIDs) // the cap, with duplicates and ids of no user
		for i := range many {
			many[i] = missing + int64(i%500)
		}
		many[7], many[900] = ids[3], ids[3]
		cases := []listCase{
			{"created_after is strict", "created_after=2024-01-01T10:00:00Z", []int{1, 2, 3, 4, 5}, -1},
			{"created_after a nanosecond before", "created_after=2024-01-01T09:59:59.999999999Z", []int{0, 1, 2, 3, 4, 5}, -1},
			{"created_after half a microsecond after", "created_after=2024-01-01T10:00:00.0000005Z", []int{1, 2, 3, 4, 5}, -1},
			{"created_after in another zone", "created_after=" + esc("2024-01-01T12:00:00+02:00"), []int{1, 2, 3, 4, 5}, -1},
			{"created_after with an unencoded +", "created_after=2024-01-01T12:00:00+02:00", []int{1, 2, 3, 4, 5}, -1},
			{"created_after a zone's instant", "created_after=2024-04-01T00:00:00.123456%2B02:00", []int{5}, -1},
			{"created_after a microsecond before a zone's instant", "created_after=2024-03-31T22:00:00.123455Z", []int{4, 5}, -1},
			{"created_before is strict", "created_before=2024-01-01T10:00:00.000001Z", []int{0}, -1},
			{"created_before half a microsecond after", "created_before=2024-01-01T10:00:00.0000005Z", []int{0}, -1},
			{"created_before the first", "created_before=2024-01-01T10:00:00Z", nil, -1},
			{"created_before a fraction in a zone", "created_before=2024-05-01T07:00:00.500001Z", []int{0, 1, 2, 3, 4, 5}, -1},
			{"created_before a zone's instant", "created_before=2024-05-01T07:00:00.5Z", []int{0, 1, 2, 3, 4}, -1},
			{"created between", "created_after=2024-01-15T00:00:00Z&created_before=2024-03-15T00:00:00Z", []int{2, 3}, -1},
			{"created_after later than created_before", "created_after=2024-03-15T00:00:00Z&created_before=2024-01-15T00:00:00Z", nil, -1},
			{"created_after long ago", "created_after=0001-01-01T00:00:00.000001Z", []int{0, 1, 2, 3, 4, 5}, -1},
			{"created_before far ahead", "created_before=9999-12-31T23:59:59.999999Z", []int{0, 1, 2, 3, 4, 5}, -1},
			{"ids", "ids=" + joinIDs(ids[4], ids[1]), []int{1, 4}, -1},
			{"ids one", "ids=" + joinIDs(ids[2]), []int{2}, -1},
			{"ids with duplicates and spaces", "ids=" + esc(fmt.Sprintf(" %d, %d ,%d,%d", ids[0], ids[2], ids[0], ids[0])), []int{0, 2}, -1},
			{"ids repeated", "ids=" + joinIDs(ids[3]) + "&ids=" + joinIDs(ids[5], ids[0]), []int{0, 3, 5}, -1},
			{"ids of no user", "ids=" + joinIDs(missing, missing+1), nil, -1},
			{"ids at the cap", "ids=" + joinIDs(many...), []int{3}, -1},
			{"email_domain", "email_domain=example.com", []int{0, 1, 5}, -1},
			{"email_domain ignores case", "email_domain=ExAmPlE.CoM", []int{0, 1, 5}, -1},
			{"email_domain of a subdomain", "email_domain=mail.example.com", []int{2}, -1},
			{"email_domain is not a suffix of the domain", "email_domain=ample.com", nil, -1},
			{"email_domain is the whole domain", "email_domain=example", nil, -1},
			{"email_domain and active", "email_domain=example.com&active=true", []int{0, 5}, -1},
			{"email_domain and q", "email_domain=example.com&q=BOB", []int{1, 5}, -1},
			{"ids and created_after", "ids=" + joinIDs(ids[0], ids[2], ids[4]) + "&created_after=2024-01-15T00:00:00Z", []int{2, 4}, -1},
			{"all four", "ids=" + joinIDs(ids[0], ids[1], ids[2], ids[5]) + "&email_domain=EXAMPLE.com&created_after=2024-01-01T10:00:00Z&created_before=2024-05-01T07:00:00Z", []int{1}, -1},
			{"email_domain sorted", "email_domain=example.com&sort=-created_at", []int{5, 1, 0}, -1},
			{"created_after sorted by name", "created_after=2024-01-01T10:00:00Z&sort=name", []int{1, 5, 2, 3, 4}, -1},
			{"sort=-updated_at,created_at with ids", "ids=" + joinIDs(ids[0], ids[1]) + "&sort=-updated_at,created_at", []int{1, 0}, -1},
			{"email_domain first page", "email_domain=example.com&limit=2", []int{0, 1}, 3},
			{"email_domain second page", "email_domain=example.com&limit=2&offset=2", []int{5}, 3},
			{"email_domain past the end", "email_domain=example.com&offset=3", nil, 3},
			{"ids paged and sorted", "ids=" + joinIDs(ids...) + "&sort=-id&limit=2&offset=1", []int{4, 3}, 6},
			{"created_after paged", "created_after=2024-01-15T00:00:00Z&limit=1&offset=3", []int{5}, 4},
		}
		for _, tc := range cases {
			read(t, e, tc.name, func(t *testing.T) {
				resp := e.app.Do(t, http.MethodGet, "/users?"+tc.query, nil)
				if resp.Status != http.StatusOK {
					t.Fatalf("GET /users?%s: %d %s", tc.query, resp.Status, resp.Body)
				}
				var l listBody
				strictDecode(t, resp.Body, &l)
				want := []int64{}
				for _, i := range tc.want {
					want = append(want, ids[i])
				}
				total := tc.total
				if total < 0 {
					total = int64(len(want))
				}
				if got := idsOf(l.Users); !slices.Equal(got, want) || l.Total != total {
					t.Errorf("GET /users?%s: ids %v (total %d), want %v (total %d)", tc.query, got, l.Total, want, total)
				}
			})
		}
		if n := countUsers(t, e); n != int64(len(filterFixture)) {
			t.Errorf("%d rows after the list requests, want %d", n, len(filterFixture))
		}
	})
}

// TestHTTPListFilterErrors: a bad ids, created_after, created_before or
// email_domain is 400 problem+json naming the parameter, and nothing is sent
// to the database; a cursor page takes none of them.
func TestHTTPListFilterErrors(t *testing.T) {
	over := make([]int64, users.MaxIDs+1)
	for i := range over {
		over[i] = 1
	}
	cases := []struct {
		name, query, field string
	}{
		{"ids empty", "ids=", "ids"},
		{"ids not a number", "ids=a", "ids"},
		{"ids empty element", "ids=1,,2", "ids"},
		{"ids trailing comma", "ids=1,", "ids"},
		{"ids zero", "ids=0", "ids"},
		{"ids negative", "ids=-1", "ids"},
		{"ids with a sign", "ids=%2B1", "ids"},
		{"ids fraction", "ids=1.5", "ids"},
		{"ids past int64", "ids=99999999999999999999", "ids"},
		{"ids with SQL", "ids=" + url.QueryEscape("1) OR (1=1"), "ids"},
		{"ids past the cap", "ids=" + joinIDs(over...), "ids"},
		{"ids past the cap over two parameters", "ids=" + joinIDs(over[1:]...) + "&ids=1", "ids"},
		{"ids bad in the second parameter", "ids=1&ids=x", "ids"},
		{"created_after empty", "created_after=", "created_after"},
		{"created_after a date", "created_after=2024-01-01", "created_after"},
		{"created_after without a zone", "created_after=2024-01-01T10:00:00", "created_after"},
		{"created_after a Unix time", "created_after=1704103200", "created_after"},
		{"created_after words", "created_after=yesterday", "created_after"},
		{"created_after with SQL", "created_after=" + url.QueryEscape("' OR 1=1 --"), "created_after"},
		{"created_after the zero time", "created_after=0001-01-01T00:00:00Z", "created_after"},
		{"created_after past year 9999 in UTC", "created_after=" + url.QueryEscape("9999-12-31T23:00:00-02:00"), "created_after"},
		{"created_after twice", "created_after=2024-01-01T10:00:00Z&created_after=2024-01-02T10:00:00Z", "created_after"},
		{"created_before empty", "created_before=", "created_before"},
		{"created_before a month", "created_before=2024-13-01T00:00:00Z", "created_before"},
		{"created_before before year 1 in UTC", "created_before=" + url.QueryEscape("0001-01-01T00:30:00+01:00"), "created_before"},
		{"created_before twice", "created_before=2024-01-01T10:00:00Z&created_before=2024-01-01T10:00:00Z", "created_before"},
		{"email_domain empty", "email_domain=", "email_domain"},
		{"email_domain with @", "email_domain=" + url.QueryEscape("@example.com"), "email_domain"},
		{"email_domain an email", "email_domain=" + url.QueryEscape("a@example.com"), "email_domain"},
		{"email_domain NUL", "email_domain=a%00b", "email_domain"},
		{"email_domain not UTF-8", "email_domain=%FF.com", "email_domain"},
		{"email_domain twice", "email_domain=a.com&email_domain=b.com", "email_domain"},
		{"a bad filter beside good ones", "email_domain=example.com&ids=1&created_before=soon", "created_before"},
		{"cursor with ids", "cursor=&ids=1", ""},
		{"cursor with created_after", "cursor=&created_after=2024-01-01T10:00:00Z", ""},
		{"cursor with created_before", "cursor=&created_before=2024-01-01T10:00:00Z", ""},
		{"cursor with email_domain", "cursor=&email_domain=example.com", ""},
	}
	eachDB(t, func(t *testing.T, e *env) {
		addUser(t, e, "Ada", "ada@example.com", true)
		for _, tc := range cases {
			read(t, e, tc.name, func(t *testing.T) {
				resp := untouched(t, e.app, func() fasttest.Response {
					return e.app.Do(t, http.MethodGet, "/users?"+tc.query, nil)
				})
				p := wantProblem(t, resp, http.StatusBadRequest)
				if tc.field != "" {
					if msg, ok := fieldsOf(t, p)[tc.field]; !ok || len(p.Errors) != 1 || p.Detail != "invalid query parameter "+tc.field {
						t.Errorf("problem %+v, want the parameter %s alone", p, tc.field)
					} else {
						t.Logf("%s: %s", tc.field, msg)
					}
				}
				noGoText(t, resp.Body)
			})
		}
	})
}

// TestHTTPListEmailDomainLiteral: email_domain is data: LIKE's % and _, a
// backslash and SQL are matched literally, each only by the email that ends
// with exactly it.
func TestHTTPListEmailDomainLiteral(t *testing.T) {
	emails := []string{
		"u0@a%b.test",      // 0
		"u1@axb.test",      // 1
		"u2@a_b.test",      // 2
		"u3@ayb.test",      // 3
		`u4@a\b.test`,      // 4
		"u5@ab.test",       // 5
		"u6@%",             // 6
		"u7@_",             // 7
		"u8@x",             // 8
		"u9@' or 1=1 --",   // 9
		"u10@x' or 1=1 --", // 10
		`u11@\%`,           // 11
		"u12@example.com",  // 12
	}
	cases := []struct {
		domain string
		want   []int
	}{
		{"a%b.test", []int{0}},
		{"a_b.test", []int{2}},
		{`a\b.test`, []int{4}},
		{"%", []int{6}},
		{"_", []int{7}},
		{"%%", nil},
		{`\%`, []int{11}},
		{`\`, nil},
		{"' OR 1=1 --", []int{9}},
		{"' or 1=1 --", []int{9}},
		{"example.com' OR '1'='1", nil},
		{"example.com\" OR \"\"=\"", nil},
		{"example.com; DROP TABLE users; --", nil},
		{"*", nil},
		{"[a-z]b.test", nil},
	}
	eachDB(t, func(t *testing.T, e *env) {
		var ids []int64
		for i, m := range emails {
			ids = append(ids, addUser(t, e, fmt.Sprintf("User %d", i), m, true).ID)
		}
		for _, tc := range cases {
			read(t, e, "email_domain="+tc.domain, func(t *testing.T) {
				l := getList(t, e, vals("email_domain", tc.domain))
				want := []int64{}
				for _, i := range tc.want {
					want = append(want, ids[i])
				}
				if got := idsOf(l.Users); !slices.Equal(got, want) || l.Total != int64(len(want)) {
					t.Errorf("email_domain=%q: ids %v (total %d), want %v", tc.domain, got, l.Total, want)
				}
			})
		}
		if n := countUsers(t, e); n != int64(len(emails)) {
			t.Errorf("%d rows, want %d", n, len(emails))
		}
	})
}

// TestRepositoryListFilters: Repository.List with a non-nil, empty IDs
// keeps no user; a page past the last match answers the total without
// reading rows (one statement fewer than a page inside).
func TestRepositoryListFilters(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		clearUsers(t, e)
		e.createMany(t, 3)
		list := func(q users.Query, page repo.Page) (n int, total int64, stmts int64) {
			before := e.app.Count.Statements.Load()
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				got, tot, err := r.List(ctx, q, page)
				n, total = len(got), tot
				return err
			})
			return n, total, e.app.Count.Statements.Load() - before
		}
		if n, total, _ := list(users.Query{IDs: []int64{}}, repo.Page{}); n != 0 || total != 0 {
			t.Errorf("empty IDs: %d users of %d, want none", n, total)
		}
		if n, total, _ := list(users.Query{}, repo.Page{}); n != 3 || total != 3 {
			t.Errorf("nil IDs: %d users of %d, want 3", n, total)
		}
		_, _, inside := list(users.Query{}, repo.Page{Offset: 2})
		n, total, past := list(users.Query{}, repo.Page{Offset: 3})
		if n != 0 || total != 3 || past != inside-1 {
			t.Errorf("offset past the end: %d users of %d in %d statements; want 0 of 3 in %d", n, total, past, inside-1)
		}
	})
}
