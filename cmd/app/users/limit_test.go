package users_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/fasttest"
	"github.com/fasttrack-go/fasttrack/repo"
)

// noGoText fails when a response body holds text meant for a log: a Go
// package's error prefix or a sentinel's words.
func noGoText(t *testing.T, body []byte) {
	t.Helper()
	for _, s := range []string{"repo:", "users:", "db:", "json:", "strconv", "%!"} {
		if bytes.Contains(body, []byte(s)) {
			t.Errorf("the body holds %q: %s", s, body)
		}
	}
}

// TestHTTPLimitCapped: a limit above 100, however large, gives pages of
// 100 users and answers "limit": 100, with offsets and with cursors alike;
// zero, a negative limit and anything but a whole number are 400, naming
// the parameter, before any SQL.
func TestHTTPLimitCapped(t *testing.T) {
	const total = users.MaxLimit + 5
	eachDB(t, func(t *testing.T, e *env) {
		clearUsers(t, e)
		var ids []int64
		for _, u := range e.createMany(t, total) {
			ids = append(ids, u.ID)
		}
		offsetCases := []struct {
			query    url.Values
			from, to int
			limit    int
			offset   int
		}{
			{vals("limit", "100"), 0, 100, 100, 0},
			{vals("limit", "101"), 0, 100, 100, 0},
			{vals("limit", "1000"), 0, 100, 100, 0},
			{vals("limit", "+1000"), 0, 100, 100, 0},
			{vals("limit", "9223372036854775807"), 0, 100, 100, 0},
			{vals("limit", "99999999999999999999999999"), 0, 100, 100, 0},
			{vals("limit", "1000", "offset", "100"), 100, total, 100, 100},
			{vals("limit", "1000", "sort", "-id"), 0, 100, 100, 0},
		}
		for _, tc := range offsetCases {
			read(t, e, tc.query.Encode(), func(t *testing.T) {
				l := getList(t, e, tc.query)
				want := ids[tc.from:tc.to]
				if tc.query.Get("sort") == "-id" {
					want = slices.Clone(ids)
					slices.Reverse(want)
					want = want[tc.from:tc.to]
				}
				if got := idsOf(l.Users); !slices.Equal(got, want) {
					t.Errorf("%d users %v, want %d", len(got), got, len(want))
				}
				if l.Limit != tc.limit || l.Offset != tc.offset || l.Total != total {
					t.Errorf("limit %d offset %d total %d, want %d %d %d", l.Limit, l.Offset, l.Total, tc.limit, tc.offset, total)
				}
			})
		}
		read(t, e, "cursor pages of limit=1000 hold 100 users", func(t *testing.T) {
			pages := walk(t, e, "1000")
			var sizes []int
			var got []int64
			for _, p := range pages {
				sizes = append(sizes, len(p))
				got = append(got, p...)
			}
			if !slices.Equal(sizes, []int{100, 5}) || !slices.Equal(got, ids) {
				t.Errorf("page sizes %v (%d users), want [100 5] and every user once", sizes, len(got))
			}
		})

		const msg = "must be a whole number of at least 1; more than 100 gives 100"
		for _, v := range []string{"0", "-1", "-100", "-99999999999999999999", "", "abc", "1.5", "1e3", "0x10", "100abc", " 5"} {
			for _, cursor := range []bool{false, true} {
				q := vals("limit", v)
				if cursor {
					q.Set("cursor", "")
				}
				read(t, e, "bad "+q.Encode(), func(t *testing.T) {
					resp := untouched(t, e.app, func() fasttest.Response {
						return e.app.Do(t, http.MethodGet, "/users?"+q.Encode(), nil)
					})
					p := wantProblem(t, resp, http.StatusBadRequest)
					if p.Detail != "invalid query parameter limit" || !slices.Equal(p.Errors, []api.FieldError{{Field: "limit", Message: msg}}) {
						t.Errorf("detail %q, errors %+v", p.Detail, p.Errors)
					}
					noGoText(t, resp.Body)
				})
			}
		}
	})
}

// TestHTTPSortDetail: a sort that names an unknown column, names one twice
// or has an empty name is 400 with a detail written for the client — the
// column given and the sortable columns — and never the repository's
// error text; the parameter sort is named in errors.
func TestHTTPSortDetail(t *testing.T) {
	const (
		sortable = "sortable: id, name, email, is_active, created_at, updated_at"
		rule     = "must be sortable columns separated by commas, each at most once, with - for descending order"
	)
	cases := []struct {
		sort   string
		detail string
	}{
		{"password", `unknown sort column "password"; ` + sortable},
		{"-password", `unknown sort column "password"; ` + sortable},
		{"name,-secret", `unknown sort column "secret"; ` + sortable},
		{"NAME", `unknown sort column "NAME"; ` + sortable},
		{"users.name", `unknown sort column "users.name"; ` + sortable},
		{"name;drop", `unknown sort column "name;drop"; ` + sortable},
		{"name desc", `unknown sort column "name desc"; ` + sortable},
		{"--name", `unknown sort column "-name"; ` + sortable},
		{"na\x00me", `unknown sort column "na\x00me"; ` + sortable},
		{"\xff", `unknown sort column "\xff"; ` + sortable},
		{"name,-name", `sort column "name" is given twice`},
		{",", "empty sort column name; " + sortable},
		{"-", "empty sort column name; " + sortable},
		{"name,", "empty sort column name; " + sortable},
	}
	eachDB(t, func(t *testing.T, e *env) {
		for _, tc := range cases {
			read(t, e, "sort="+tc.sort, func(t *testing.T) {
				q := vals("sort", tc.sort)
				resp := untouched(t, e.app, func() fasttest.Response {
					return e.app.Do(t, http.MethodGet, "/users?"+q.Encode(), nil)
				})
				p := wantProblem(t, resp, http.StatusBadRequest)
				if p.Detail != tc.detail {
					t.Errorf("detail\n%s\nwant\n%s", p.Detail, tc.detail)
				}
				if !slices.Equal(p.Errors, []api.FieldError{{Field: "sort", Message: rule}}) {
					t.Errorf("errors %+v, want the parameter sort", p.Errors)
				}
				noGoText(t, resp.Body)
			})
		}
	})
}

// TestRepositoryListPageSize: Repository.List reads its page as repo.Page
// does — 0 means the default, more than MaxLimit means MaxLimit — and a
// negative limit or offset, or a sort of an unknown column, is a
// *repo.QueryError whose Detail is for a client; nothing is sent then.
func TestRepositoryListPageSize(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		clearUsers(t, e)
		e.createMany(t, users.MaxLimit+5)
		for _, tc := range []struct {
			limit, want int
		}{{0, users.DefaultLimit}, {1, 1}, {users.MaxLimit, users.MaxLimit}, {users.MaxLimit + 1, users.MaxLimit}, {1 << 40, users.MaxLimit}} {
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				got, total, err := r.List(ctx, users.Query{}, repo.Page{Limit: tc.limit})
				if err != nil || len(got) != tc.want || total != users.MaxLimit+5 {
					t.Errorf("List limit %d: %d users of %d, %v; want %d", tc.limit, len(got), total, err, tc.want)
				}
				return nil
			})
		}
		for _, tc := range []struct {
			page   repo.Page
			detail string
		}{
			{repo.Page{Limit: -1}, "the limit must not be negative, got -1"},
			{repo.Page{Offset: -3}, "the offset must not be negative, got -3"},
			{repo.Page{Sort: []repo.Order{{Column: "password"}}}, `unknown sort column "password"; sortable: id, name, email, is_active, created_at, updated_at`},
		} {
			begins, stmts := e.app.Count.Begins.Load(), e.app.Count.Statements.Load()
			e.withRepo(t, func(ctx context.Context, r *users.Repository) error {
				_, _, err := r.List(ctx, users.Query{}, tc.page)
				var qe *repo.QueryError
				if !errors.As(err, &qe) || qe.Detail != tc.detail || !errors.Is(err, repo.ErrInvalidQuery) {
					t.Errorf("List %+v: %v, want a QueryError %q", tc.page, err, tc.detail)
				}
				return nil
			})
			if b, s := e.app.Count.Begins.Load()-begins, e.app.Count.Statements.Load()-stmts; b != 0 || s != 0 {
				t.Errorf("List %+v sent %d BEGIN and %d statements", tc.page, b, s)
			}
		}
	})
}
